/**
 * Which tenants an identity's administrative roles cover. A key
 * administrator administers the keys of its `tenant` and of the tenants its
 * identity lists in `tenants` ('*': all). A security officer acts for every
 * tenant (the service team) unless its identity lists `tenants`: then it is
 * a tenant security officer, acting only for `tenant` and those listed, and
 * never for service-wide changes (tenants add, master-key rotate).
 */
import { ALL_TENANTS, type IdentityConfig } from '../config/auth.js';
import { SYSTEM_OWNER_PREFIX } from '../kmip/model/service.js';

type Entry = Pick<IdentityConfig, 'tenant' | 'roles' | 'tenants'>;

/** May this identity administer (as key-administrator) the objects of `tenant`? */
export function administers(entry: Entry | undefined, tenant: string | undefined): boolean {
  if (entry === undefined || tenant === undefined || tenant.startsWith(SYSTEM_OWNER_PREFIX)) return false;
  if (!entry.roles.includes('key-administrator')) return false;
  return (
    tenant === entry.tenant ||
    entry.tenants?.includes(ALL_TENANTS) === true ||
    entry.tenants?.includes(tenant) === true
  );
}

/** The tenants other than its own whose keys the identity administers (all of `known` for '*'). */
export function administeredTenants(entry: Entry | undefined, known: Iterable<string>): string[] {
  if (entry === undefined || !entry.roles.includes('key-administrator') || entry.tenants === undefined)
    return [];
  const all = entry.tenants.includes(ALL_TENANTS) ? [...known] : entry.tenants;
  return [...new Set(all)].filter((t) => t !== entry.tenant && !t.startsWith(SYSTEM_OWNER_PREFIX));
}

/** A security officer for every tenant and for service-wide changes. */
export function isGlobalOfficer(entry: Entry | undefined): boolean {
  if (entry?.roles.includes('security-officer') !== true) return false;
  return entry.tenants === undefined || entry.tenants.includes(ALL_TENANTS);
}

/**
 * May this security officer act for `tenant`? '' names a service-wide
 * change (tenants add, master-key rotate), for global officers only.
 */
export function officerActsFor(entry: Entry | undefined, tenant: string): boolean {
  if (entry?.roles.includes('security-officer') !== true) return false;
  if (isGlobalOfficer(entry)) return true;
  return tenant !== '' && (tenant === entry.tenant || entry.tenants?.includes(tenant) === true);
}
