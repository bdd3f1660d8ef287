/**
 * The `auth` section: who the clients are (identities from certificates),
 * their tenant, roles and groups, an optional KMIP Credential as a second
 * factor, and which operations need dual control. Validated here, at load
 * time, like every other option; enforced by src/auth/.
 */

export const ROLES = ['security-officer', 'key-administrator', 'auditor', 'crypto-user'] as const;
export type Role = (typeof ROLES)[number];

export const IDENTITY_SOURCES = ['cn', 'san-dns', 'san-email', 'san-uri'] as const;
export type IdentitySource = (typeof IDENTITY_SOURCES)[number];

/** What `auth.dualControl.operations` may name. */
export const DUAL_CONTROL_OPERATIONS = [
  'destroy',
  'revoke-compromise',
  'export-foreign',
  'master-key-rotate',
  'grants',
  'policy',
] as const;
export type DualControlOperation = (typeof DUAL_CONTROL_OPERATIONS)[number];

/** Device credential fields (KMIP 1.1 §2.1.2 Credential Type Device); every one configured must match. */
export interface DeviceCredentialConfig {
  serialNumber?: string;
  deviceIdentifier?: string;
  networkIdentifier?: string;
  machineIdentifier?: string;
  mediaIdentifier?: string;
}

export interface IdentityConfig {
  tenant: string;
  roles: Role[];
  groups: string[];
  /** second factor: a Username and Password Credential; the password only as a scrypt hash (src/auth/password.ts) */
  credential?: { username: string; passwordHash: string };
  device?: DeviceCredentialConfig;
  /**
   * Further tenants the identity's administrative roles cover ('*': every
   * tenant): a key administrator administers their keys too; a security
   * officer with this list acts only for `tenant` and these (without it, for
   * every tenant: the service team). See src/auth/tenancy.ts.
   */
  tenants?: string[];
}

export interface DualControlConfig {
  /** M: distinct officer approvals a pending request needs */
  approvals: number;
  operations: DualControlOperation[];
  /** a pending or approved request expires after this long */
  expiryHours: number;
  /** open requests one identity may have at once (a flood of requests slows every approval check) */
  maxPendingPerIdentity?: number;
}

export interface AuthConfig {
  /** false: no access layer (one implicit tenant "default", no roles): the behaviour before auth existed */
  enabled: boolean;
  identityFrom: IdentitySource;
  tenants: string[];
  identities: Record<string, IdentityConfig>;
  dualControl: DualControlConfig;
}

/** In `tenants`: every tenant. */
export const ALL_TENANTS = '*';

/** The development PKI's client certificate (src/pki/dev-pki.ts issues CN=admin). */
export const DEV_ADMIN_IDENTITY = 'admin';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@:/+-]{0,127}$/;
const SCRYPT_HASH = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;
const DEVICE_FIELDS = [
  'serialNumber',
  'deviceIdentifier',
  'networkIdentifier',
  'machineIdentifier',
  'mediaIdentifier',
] as const;

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: unknown, where: string, problems: string[]): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !NAME.test(x))) {
    problems.push(`${where}: must be a list of names (letters, digits, . _ @ : / + -)`);
    return [];
  }
  return v as string[];
}

/** auth.tenants: a list of tenant names. */
export function checkTenants(v: unknown): string[] {
  const problems: string[] = [];
  stringList(v, 'auth.tenants', problems);
  return problems;
}

/** auth.identities: identity name → { tenant, roles, groups, credential, device }. */
export function parseIdentities(v: unknown, problems: string[]): Record<string, IdentityConfig> {
  const out: Record<string, IdentityConfig> = {};
  if (v === undefined) return out;
  if (!isMapping(v)) {
    problems.push('auth.identities: must be a mapping of identity names to { tenant, roles, groups }');
    return out;
  }
  for (const [name, raw] of Object.entries(v)) {
    const where = `auth.identities.${name}`;
    if (!NAME.test(name)) problems.push(`${where}: invalid identity name`);
    if (!isMapping(raw)) {
      problems.push(`${where}: must be a mapping with tenant and roles`);
      continue;
    }
    for (const k of Object.keys(raw)) {
      if (!['tenant', 'roles', 'groups', 'credential', 'device', 'tenants'].includes(k))
        problems.push(`${where}: unknown key '${k}'`);
    }
    const tenant = raw.tenant;
    if (typeof tenant !== 'string' || !NAME.test(tenant))
      problems.push(`${where}.tenant: must be a tenant name`);
    const roles = stringList(raw.roles, `${where}.roles`, problems);
    for (const r of roles) {
      if (!(ROLES as readonly string[]).includes(r))
        problems.push(`${where}.roles: unknown role '${r}' (roles: ${ROLES.join(', ')})`);
    }
    const identity: IdentityConfig = {
      tenant: typeof tenant === 'string' ? tenant : '',
      roles: roles.filter((r): r is Role => (ROLES as readonly string[]).includes(r)),
      groups: stringList(raw.groups, `${where}.groups`, problems),
    };
    if (raw.tenants !== undefined) {
      const list = Array.isArray(raw.tenants) ? raw.tenants.filter((t) => t !== ALL_TENANTS) : raw.tenants;
      const tenants = stringList(list, `${where}.tenants`, problems);
      if (!identity.roles.includes('key-administrator') && !identity.roles.includes('security-officer'))
        problems.push(`${where}.tenants: only for a key-administrator or security-officer`);
      identity.tenants =
        Array.isArray(raw.tenants) && raw.tenants.includes(ALL_TENANTS) ? [ALL_TENANTS] : tenants;
    }
    if (raw.credential !== undefined) {
      const c = raw.credential;
      if (!isMapping(c) || typeof c.username !== 'string' || typeof c.passwordHash !== 'string') {
        problems.push(`${where}.credential: must be { username, passwordHash }`);
      } else if (!SCRYPT_HASH.test(c.passwordHash)) {
        problems.push(
          `${where}.credential.passwordHash: must be a scrypt hash from 'kmip-server tenants hash-password'; plain passwords are refused`,
        );
      } else {
        identity.credential = { username: c.username, passwordHash: c.passwordHash };
      }
    }
    if (raw.device !== undefined) {
      const d = raw.device;
      if (!isMapping(d) || Object.keys(d).length === 0) {
        problems.push(`${where}.device: must be a mapping of ${DEVICE_FIELDS.join(', ')}`);
      } else {
        const device: DeviceCredentialConfig = {};
        for (const [k, val] of Object.entries(d)) {
          if (!(DEVICE_FIELDS as readonly string[]).includes(k) || typeof val !== 'string') {
            problems.push(`${where}.device.${k}: unknown field or not text`);
            continue;
          }
          device[k as (typeof DEVICE_FIELDS)[number]] = val;
        }
        identity.device = device;
      }
    }
    out[name] = identity;
  }
  return out;
}

export function checkIdentities(v: unknown): string[] {
  const problems: string[] = [];
  parseIdentities(v, problems);
  return problems;
}

/** auth.dualControl: { approvals, operations, expiryHours, maxPendingPerIdentity }. */
export function parseDualControl(v: unknown, problems: string[]): DualControlConfig {
  const out: DualControlConfig = {
    approvals: 2,
    operations: [],
    expiryHours: 24,
    maxPendingPerIdentity: 100,
  };
  if (v === undefined) return out;
  if (!isMapping(v)) {
    problems.push('auth.dualControl: must be a mapping { approvals, operations, expiryHours }');
    return out;
  }
  for (const k of Object.keys(v)) {
    if (!['approvals', 'operations', 'expiryHours', 'maxPendingPerIdentity'].includes(k))
      problems.push(`auth.dualControl: unknown key '${k}'`);
  }
  if (v.approvals !== undefined) {
    if (
      typeof v.approvals !== 'number' ||
      !Number.isInteger(v.approvals) ||
      v.approvals < 1 ||
      v.approvals > 16
    )
      problems.push('auth.dualControl.approvals: must be an integer from 1 to 16');
    else out.approvals = v.approvals;
  }
  if (v.expiryHours !== undefined) {
    if (
      typeof v.expiryHours !== 'number' ||
      !Number.isInteger(v.expiryHours) ||
      v.expiryHours < 1 ||
      v.expiryHours > 24 * 365
    )
      problems.push('auth.dualControl.expiryHours: must be an integer from 1 to 8760');
    else out.expiryHours = v.expiryHours;
  }
  if (v.maxPendingPerIdentity !== undefined) {
    const n = v.maxPendingPerIdentity;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 100_000)
      problems.push('auth.dualControl.maxPendingPerIdentity: must be an integer from 1 to 100000');
    else out.maxPendingPerIdentity = n;
  }
  for (const op of stringList(v.operations, 'auth.dualControl.operations', problems)) {
    if ((DUAL_CONTROL_OPERATIONS as readonly string[]).includes(op))
      out.operations.push(op as DualControlOperation);
    else
      problems.push(
        `auth.dualControl.operations: unknown operation '${op}' (one of ${DUAL_CONTROL_OPERATIONS.join(', ')})`,
      );
  }
  return out;
}

export function checkDualControl(v: unknown): string[] {
  const problems: string[] = [];
  parseDualControl(v, problems);
  return problems;
}

/**
 * The auth section from validated settings. With the development PKI, the
 * `admin` certificate is a security officer of tenant "default" unless the
 * configuration says otherwise; it also holds the key roles so that a
 * laptop setup works with one certificate (never the case in production,
 * where officers and key users are different people).
 */
export function buildAuthConfig(raw: {
  enabled: boolean;
  identityFrom: string;
  tenants: unknown;
  identities: unknown;
  dualControl: unknown;
  devPki: boolean;
}): AuthConfig {
  const ignored: string[] = [];
  const identities = parseIdentities(raw.identities, ignored);
  if (raw.devPki && identities[DEV_ADMIN_IDENTITY] === undefined) {
    identities[DEV_ADMIN_IDENTITY] = {
      tenant: 'default',
      roles: ['security-officer', 'key-administrator', 'crypto-user'],
      groups: [],
    };
  }
  const tenants = Array.isArray(raw.tenants)
    ? raw.tenants.filter((t): t is string => typeof t === 'string')
    : [];
  return {
    enabled: raw.enabled,
    identityFrom: (IDENTITY_SOURCES as readonly string[]).includes(raw.identityFrom)
      ? (raw.identityFrom as IdentitySource)
      : 'cn',
    tenants,
    identities,
    dualControl: parseDualControl(raw.dualControl, ignored),
  };
}
