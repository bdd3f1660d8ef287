/**
 * Which role may ask for which KMIP operation: separation of duties as data.
 * An identity may hold several roles; an operation is allowed when any of
 * them lists it. Operations that touch no key (Discover Versions, Query) are
 * open to every authenticated identity. Tenant and grant checks come on top:
 * a role says what kind of work an identity does, not on whose keys.
 */
import type { Role } from '../config/auth.js';
import { Operation } from '../kmip/spec/index.js';

const O = Operation;

/** Protocol housekeeping: no object, no key material. */
const EVERYONE: readonly number[] = [O.DiscoverVersions, O.Query, O.Ping, O.Poll, O.Cancel];

/**
 * Applications using keys (crypto-user): they create and register their own
 * keys and make them usable (vSphere, MongoDB, Percona, pg_tde do), read and
 * tag them, and run cryptography. They do not revoke, destroy, archive or
 * import: that is lifecycle administration. (The access layer checks an
 * Import as a Register, so they may Import a new identifier; replacing an
 * existing object is also a Destroy of it: src/auth/access.ts.)
 */
const CRYPTO_USER: readonly number[] = [
  O.Create,
  O.CreateKeyPair,
  O.Register,
  O.Activate,
  O.Locate,
  O.Check,
  O.Get,
  O.Export,
  O.GetAttributes,
  O.GetAttributeList,
  O.AddAttribute,
  O.ModifyAttribute,
  O.SetAttribute,
  O.DeleteAttribute,
  O.AdjustAttribute,
  O.ObtainLease,
  O.GetUsageAllocation,
  O.Encrypt,
  O.Decrypt,
  O.Sign,
  O.SignatureVerify,
  O.MAC,
  O.MACVerify,
  O.Hash,
  O.RNGRetrieve,
  O.RNGSeed,
  O.DeriveKey,
  O.Validate,
];

/**
 * Key administrators: the lifecycle of the keys of their tenant, but not the
 * use of their material (no Get, Export or cryptography): whoever rotates
 * and destroys keys is not whoever decrypts with them.
 */
const KEY_ADMINISTRATOR: readonly number[] = [
  O.Create,
  O.CreateKeyPair,
  O.Register,
  O.Import,
  O.ReKey,
  O.ReKeyKeyPair,
  O.Certify,
  O.ReCertify,
  O.Activate,
  O.Revoke,
  O.Destroy,
  O.Archive,
  O.Recover,
  O.Locate,
  O.Check,
  O.GetAttributes,
  O.GetAttributeList,
  O.AddAttribute,
  O.ModifyAttribute,
  O.SetAttribute,
  O.DeleteAttribute,
  O.AdjustAttribute,
  O.Validate,
];

/**
 * Security officers set policy, tenants and grants and approve requests
 * (CLI, src/cli/approvals.ts); over KMIP they only see what the server is.
 * Auditors read the audit trail (`kmip-server audit`), never keys.
 */
const SECURITY_OFFICER: readonly number[] = [];
const AUDITOR: readonly number[] = [];

export const ROLE_OPERATIONS: Readonly<Record<Role, ReadonlySet<number>>> = {
  'crypto-user': new Set([...EVERYONE, ...CRYPTO_USER]),
  'key-administrator': new Set([...EVERYONE, ...KEY_ADMINISTRATOR]),
  'security-officer': new Set([...EVERYONE, ...SECURITY_OFFICER]),
  auditor: new Set([...EVERYONE, ...AUDITOR]),
};

/** The roles that may run `operation` (to word refusals). */
export function rolesAllowing(operation: number): Role[] {
  return (Object.keys(ROLE_OPERATIONS) as Role[]).filter((r) => ROLE_OPERATIONS[r].has(operation));
}

export function mayRun(roles: readonly string[], operation: number): boolean {
  return roles.some((r) => ROLE_OPERATIONS[r as Role]?.has(operation) === true);
}
