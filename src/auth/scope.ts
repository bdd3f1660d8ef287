/**
 * The object service's view for one message (AccessScope): the caller's
 * tenant, the objects other tenants granted it, the tenants it administers.
 */
import type { IdentityConfig } from '../config/auth.js';
import type { ManagedObject } from '../kmip/model/object.js';
import { type AccessScope, SYSTEM_OWNER_PREFIX } from '../kmip/model/service.js';
import type { Principal } from '../kmip/operations/types.js';
import { enumNameOf, Operation, Tag } from '../kmip/spec/index.js';
import { ROLE_OPERATIONS } from './roles.js';
import { type AccessSnapshot, grantCovers, grantedTo } from './state.js';
import { administeredTenants, administers } from './tenancy.js';

export function opName(operation: number): string {
  return enumNameOf('Operation', operation) ?? `0x${operation.toString(16)}`;
}

function groupsOf(obj: ManagedObject): string[] {
  const out: string[] = [];
  for (const a of obj.attributes) {
    if (a.key.kind === 'standard' && a.key.tag === Tag.ObjectGroup && a.value.type === 'TextString')
      out.push(a.value.value);
  }
  return out;
}

/** Per message: the tenant, its snapshot of the policy, and the operation of the current item. */
export class TenantScope implements AccessScope {
  operation: number | undefined;
  readonly #createdSystem = new Set<string>();
  readonly #entry: IdentityConfig | undefined;

  constructor(
    readonly principal: Principal,
    readonly snapshot: AccessSnapshot,
  ) {
    this.#entry = snapshot.identities.get(principal.identity);
  }

  get owner(): string {
    return this.principal.tenant;
  }

  permits(obj: ManagedObject, write: boolean): boolean {
    if (obj.owner === this.principal.tenant) return true;
    if (obj.owner?.startsWith(SYSTEM_OWNER_PREFIX)) return !write || this.#createdSystem.has(obj.id);
    if (this.grantFor(obj) === 'granted') return true;
    return this.administers(obj.owner) && this.#adminOperation();
  }

  /** another tenant this key administrator administers (auth.identities.X.tenants) */
  administers(owner: string | undefined): boolean {
    return owner !== this.principal.tenant && administers(this.#entry, owner);
  }

  #adminOperation(): boolean {
    return this.operation !== undefined && ROLE_OPERATIONS['key-administrator'].has(this.operation);
  }

  /** What Locate lists beyond the tenant: administered tenants, and grants that name Locate. */
  foreign(): { tenants: string[]; grants: AccessSnapshot['grants'] } {
    const locateName = opName(Operation.Locate);
    return {
      tenants: administeredTenants(this.#entry, this.snapshot.tenants),
      grants: this.snapshot.grants.filter(
        (g) =>
          g.tenant !== this.principal.tenant &&
          g.operations.includes(locateName) &&
          grantedTo(g, this.principal),
      ),
    };
  }

  created(obj: ManagedObject): void {
    if (obj.owner?.startsWith(SYSTEM_OWNER_PREFIX)) this.#createdSystem.add(obj.id);
  }

  /**
   * another tenant's object: granted for the current operation (or for
   * each of `operations`, by one grant or several), granted for others
   * only, or not at all
   */
  grantFor(
    obj: ManagedObject,
    operations: readonly number[] = this.operation === undefined ? [] : [this.operation],
  ): 'granted' | 'other-operations' | 'none' {
    const target = { id: obj.id, owner: obj.owner, objectGroups: groupsOf(obj) };
    const covering = this.snapshot.grants.filter((g) => grantCovers(g, this.principal, target));
    if (covering.length === 0) return 'none';
    const names = operations.map(opName);
    return names.length > 0 && names.every((n) => covering.some((g) => g.operations.includes(n)))
      ? 'granted'
      : 'other-operations';
  }
}
