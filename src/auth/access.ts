/**
 * The access layer, plugged into the batch executor's hooks
 * (src/kmip/server/executor.ts): resolvePrincipal (identity from the
 * verified certificate, tenant, roles, groups, optional Credential as a
 * second factor), scopeServices (the object service as the tenant sees it)
 * and guards (roles, grants, dual control), in that order.
 */
import { readFileSync, statSync } from 'node:fs';
import type { AuthConfig, DualControlOperation } from '../config/auth.js';
import { KmipError } from '../kmip/errors.js';
import { holdApprovalRelease, type ItemCheck, type ItemGuard, notFound } from '../kmip/hooks.js';
import type { ManagedObject } from '../kmip/model/object.js';
import { type ObjectService, SYSTEM_OWNER_PREFIX } from '../kmip/model/service.js';
import type { ClientIdentity, OperationServices, Principal } from '../kmip/operations/types.js';
import { Operation, RevocationReasonCode, Tag } from '../kmip/spec/index.js';
import { encodeTtlv } from '../kmip/ttlv/binary.js';
import { childBoolean, childEnum, childStruct, childText } from '../kmip/ttlv/build.js';
import type { TtlvStructure } from '../kmip/ttlv/types.js';
import type { Logger } from '../log.js';
import type { ObjectStore } from '../store/types.js';
import { CredentialCheck } from './credentials.js';
import { ApprovalQuotaError, DualControl, payloadDigest } from './dual-control.js';
import { isReservedName, RESERVED_PREFIX, reservedNameOf, reservedNameRefusal } from './identity.js';
import { foreignIds, withForeignLocate } from './locate.js';
import { identityFromNames } from './officer.js';
import { AccessRecords } from './records.js';
import { mayRun, ROLE_OPERATIONS, rolesAllowing } from './roles.js';
import { opName, TenantScope } from './scope.js';
import { type AccessSnapshot, AccessState } from './state.js';
import { officerActsFor } from './tenancy.js';

export interface AccessControlOptions {
  readonly config: AuthConfig;
  readonly store: ObjectStore;
  /** the unscoped object service (to tell "another tenant's" from "absent") */
  readonly objects: ObjectService;
  /** the client CA bundle (PEM): officer approvals are verified against it */
  readonly caPem: string;
  /**
   * tls.crl: an approval signed with a revoked officer certificate counts for
   * nothing. Read when an approval is checked (rare), so a renewed CRL counts at once.
   */
  readonly crlFile?: string;
  readonly log: Logger;
  readonly clock?: () => Date;
  /** how stale the policy may be (ms); default 2000 */
  readonly cacheMs?: number;
}

const FOREIGN_EXPORT_OPERATIONS: ReadonlySet<number> = new Set([Operation.Get, Operation.Export]);

/** The file's text, reread when its modification time changes. */
function fileReader(file: string): () => string {
  let cached: { mtimeMs: number; text: string } | undefined;
  return () => {
    const { mtimeMs } = statSync(file);
    if (cached?.mtimeMs !== mtimeMs) cached = { mtimeMs, text: readFileSync(file, 'utf8') };
    return cached.text;
  };
}

/** Import with Replace Existing true (of an object that exists, as the caller checks). */
function isReplacingImport(check: ItemCheck): boolean {
  return check.operation === Operation.Import && childBoolean(check.payload, Tag.ReplaceExisting) === true;
}

export class AccessControl {
  readonly state: AccessState;
  readonly dualControl: DualControl;
  /** roles, tenant (object), dual control: for ExecutorOptions.guards, in this order */
  readonly guards: readonly ItemGuard[];
  readonly #o: AccessControlOptions;
  readonly #snapshots = new WeakMap<Principal, AccessSnapshot>();
  /** per item (its payload): the object it names, as #target read it */
  readonly #targets = new WeakMap<TtlvStructure, ManagedObject | undefined>();
  readonly #credentials: CredentialCheck;

  constructor(opts: AccessControlOptions) {
    this.#o = opts;
    this.#credentials = new CredentialCheck(opts.log);
    const records = new AccessRecords(opts.store);
    this.state = new AccessState(opts.config, records, opts.cacheMs);
    this.dualControl = new DualControl({
      config: opts.config.dualControl,
      records,
      caPem: opts.caPem,
      ...(opts.crlFile === undefined ? {} : { crlPem: fileReader(opts.crlFile) }),
      identityFrom: opts.config.identityFrom,
      isOfficer: async (identity, tenant) =>
        officerActsFor((await this.state.snapshot()).identities.get(identity), tenant),
      clock: opts.clock,
    });
    this.guards = this.guardsWith([]);
  }

  /**
   * The guards with `others` (e.g. the audit purpose policy) run after the
   * role and tenant checks and before dual control: dual control uses an
   * approval up, so it must be the last check before the operation (which
   * gives the approval back if it fails; a guard after it could not).
   */
  guardsWith(others: readonly ItemGuard[]): ItemGuard[] {
    return [
      (c) => this.#roleGuard(c),
      (c) => this.#objectGuard(c),
      ...others,
      (c) => this.#dualControlGuard(c),
    ];
  }

  readonly resolvePrincipal = async (
    client: ClientIdentity,
    authentication: TtlvStructure | undefined,
  ): Promise<Principal> => {
    const identity = identityFromNames(
      this.#o.config.identityFrom,
      client.commonName,
      client.subjectAltNames,
    );
    // The server's own namespace: a CN or SAN there would make what the client creates the server's.
    const reserved = reservedNameOf(client, identity);
    if (reserved !== undefined) throw reservedNameRefusal(reserved, client, this.#o.log);
    if (identity === undefined) {
      throw new KmipError(
        'AuthenticationNotSuccessful',
        `the client certificate has no ${this.#o.config.identityFrom} identity`,
      );
    }
    const snapshot = await this.state.snapshot();
    const entry = snapshot.identities.get(identity);
    if (entry === undefined) {
      this.#o.log.info('unknown identity refused', { identity, remoteAddress: client.remoteAddress });
      throw new KmipError('AuthenticationNotSuccessful', `identity ${identity} is not assigned to a tenant`);
    }
    if (isReservedName(entry.tenant)) {
      // Only a configuration can say so (the CLI refuses it): its objects would be the server's.
      this.#o.log.warn('identity refused: its tenant is in the server’s reserved namespace', {
        identity,
        tenant: entry.tenant,
        remoteAddress: client.remoteAddress,
      });
      throw new KmipError(
        'AuthenticationNotSuccessful',
        `identity ${identity} is assigned to tenant ${entry.tenant}: names starting with ${RESERVED_PREFIX} are reserved for the server's own objects`,
      );
    }
    await this.#credentials.check(identity, entry, authentication);
    const principal: Principal = {
      identity,
      tenant: entry.tenant,
      roles: entry.roles,
      groups: entry.groups,
    };
    this.#snapshots.set(principal, snapshot);
    return principal;
  };

  readonly scopeServices = (services: OperationServices, principal: Principal): OperationServices => {
    const snapshot = this.#snapshots.get(principal);
    // A principal not from resolvePrincipal sees nothing but its tenant, with no grants.
    const scope = new TenantScope(
      principal,
      snapshot ?? { tenants: new Set(), identities: new Map(), grants: [] },
    );
    const scoped = services.objects.scoped(scope);
    const foreign = scope.foreign();
    if (foreign.tenants.length === 0 && foreign.grants.length === 0) return { ...services, objects: scoped };
    const unscoped = this.#o.objects;
    return {
      ...services,
      objects: withForeignLocate(scoped, (filter) => foreignIds(filter, unscoped, foreign)),
    };
  };

  #scopeOf(check: ItemCheck): TenantScope | undefined {
    const scope = check.ctx.services.objects.scope;
    return scope instanceof TenantScope ? scope : undefined;
  }

  #roleGuard(check: ItemCheck): void {
    const p = check.ctx.principal;
    // Import is a Register of the object; replacing an existing one is a Destroy of it too,
    // checked by #objectGuard once the caller is known to see that object (no existence oracle).
    const operation = check.operation === Operation.Import ? Operation.Register : check.operation;
    if (mayRun(p.roles, operation)) return;
    const need = rolesAllowing(operation);
    throw new KmipError(
      'PermissionDenied',
      `${opName(check.operation)}${operation === check.operation ? '' : ` (as ${opName(operation)})`} is not allowed for ${p.identity} (roles: ${p.roles.join(', ') || 'none'}); ` +
        (need.length === 0 ? 'no role may run it' : `it needs the role ${need.join(' or ')}`),
    );
  }

  /**
   * The object the item names by its Unique Identifier, as stored (before
   * scoping), or undefined; read once per item (the object guard's read is
   * the dual-control guard's too).
   */
  async #target(check: ItemCheck): Promise<ManagedObject | undefined> {
    if (this.#targets.has(check.payload)) return this.#targets.get(check.payload);
    const id = childText(check.payload, Tag.UniqueIdentifier);
    const obj = id === undefined ? undefined : await this.#o.objects.get(id);
    this.#targets.set(check.payload, obj);
    return obj;
  }

  /**
   * The tenant check of the object the item names. An object that does not
   * exist and one the caller may not see get one answer — the same Result
   * Reason and Result Message (kmip/hooks.ts notFound) — and get it here, before
   * the operation looks at anything else of the request (a malformed
   * payload) and before dual control files a request: nothing in the answer
   * tells another tenant's object from no object.
   */
  async #objectGuard(check: ItemCheck): Promise<void> {
    const scope = this.#scopeOf(check);
    if (scope === undefined) return;
    scope.operation = check.operation;
    const id = childText(check.payload, Tag.UniqueIdentifier);
    if (id === undefined) return; // names no object: the operation answers, alike for everyone
    const obj = await this.#target(check);
    if (check.operation === Operation.Import) {
      // Import names the identifier it creates; only replacing an existing object acts on one.
      if (obj !== undefined && isReplacingImport(check)) this.#checkReplace(check, scope, obj);
      return;
    }
    if (obj === undefined) throw notFound(check.ctx, id);
    if (obj.owner === scope.owner || obj.owner?.startsWith(SYSTEM_OWNER_PREFIX)) return;
    const grant = scope.grantFor(obj);
    if (grant === 'granted') return;
    if (scope.administers(obj.owner)) {
      if (ROLE_OPERATIONS['key-administrator'].has(check.operation)) return;
      throw new KmipError(
        'PermissionDenied',
        `${opName(check.operation)} on ${obj.id}: ${check.ctx.principal.identity} administers the keys of tenant ${obj.owner ?? '?'}, it does not use them`,
      );
    }
    // Same answer as for an object that does not exist: no existence oracle.
    if (grant === 'none') throw notFound(check.ctx, id);
    throw new KmipError(
      'PermissionDenied',
      `${opName(check.operation)} on ${obj.id} is not granted to ${check.ctx.principal.identity}`,
    );
  }

  /**
   * Import with Replace Existing over `obj`: authorised as a Destroy of it
   * (the same tenant check, against the object's tenant, and the role)
   * plus a Register. The replacement keeps `obj`'s owner (ObjectService
   * createWithId), so it never moves to the caller's tenant.
   */
  #checkReplace(check: ItemCheck, scope: TenantScope, obj: ManagedObject): void {
    const p = check.ctx.principal;
    if (obj.owner?.startsWith(SYSTEM_OWNER_PREFIX)) {
      throw new KmipError(
        'PermissionDenied',
        `object ${obj.id} is the server's own and is never replaced by Import`,
      );
    }
    if (obj.owner !== scope.owner && !scope.administers(obj.owner)) {
      // A grantee needs both: Destroy (the old object goes) and Import (the caller's material comes).
      const grant = scope.grantFor(obj, [Operation.Destroy, Operation.Import]);
      if (grant === 'none') throw notFound(check.ctx, obj.id);
      if (grant === 'other-operations') {
        throw new KmipError(
          'PermissionDenied',
          `Import replacing ${obj.id} needs a grant of Destroy and Import to ${p.identity}`,
        );
      }
    }
    if (!mayRun(p.roles, Operation.Destroy)) {
      const need = rolesAllowing(Operation.Destroy).filter((r) => ROLE_OPERATIONS[r].has(Operation.Register));
      throw new KmipError(
        'PermissionDenied',
        `Import replacing ${obj.id} is a Destroy of it and a Register: not allowed for ${p.identity} ` +
          `(roles: ${p.roles.join(', ') || 'none'}); it needs the role ${need.join(' or ')}`,
      );
    }
  }

  /** The rule for an item that names an existing object the caller may act on. */
  #ruleFor(check: ItemCheck, foreign: boolean): DualControlOperation | undefined {
    const op = check.operation;
    if (op === Operation.Destroy) return 'destroy';
    // Replacing an object destroys its material: the same approval, keyed to that object.
    if (isReplacingImport(check)) return 'destroy';
    if (op === Operation.Revoke) {
      const code = childEnum(childStruct(check.payload, Tag.RevocationReason), Tag.RevocationReasonCode);
      if (code === RevocationReasonCode.KeyCompromise || code === RevocationReasonCode.CACompromise)
        return 'revoke-compromise';
    }
    if (foreign && FOREIGN_EXPORT_OPERATIONS.has(op)) return 'export-foreign';
    return undefined;
  }

  async #dualControlGuard(check: ItemCheck): Promise<void> {
    const dc = this.dualControl;
    if (this.#o.config.dualControl.operations.length === 0) return;
    // #objectGuard ran first: the object exists and the caller may act on it (or none is named).
    const obj = await this.#target(check);
    // Every rule is about an object: an item that names none fails in its operation, with nothing to approve.
    if (obj === undefined) return;
    const p = check.ctx.principal;
    const foreign = obj.owner !== p.tenant && !obj.owner?.startsWith(SYSTEM_OWNER_PREFIX);
    const rule = this.#ruleFor(check, foreign);
    if (rule === undefined || !dc.requires(rule)) return;
    const action = opName(check.operation);
    // Officers of the object's tenant decide (a key administrator may act in several).
    const tenant =
      obj.owner !== undefined && !obj.owner.startsWith(SYSTEM_OWNER_PREFIX) ? obj.owner : p.tenant;
    const replacing = check.operation === Operation.Import;
    let result: Awaited<ReturnType<DualControl['authorize']>>;
    try {
      result = await dc.authorize({
        rule,
        action,
        requester: p.identity,
        tenant,
        objectId: obj.id,
        // the whole payload: an approved Import replaces with exactly the material the officers saw
        digest: payloadDigest(encodeTtlv(check.payload)),
        summary: replacing
          ? `Import replacing ${obj.id} of tenant ${tenant} (its material and attributes) by ${p.identity} (tenant ${p.tenant})`
          : `${action} of ${obj.id} by ${p.identity} (tenant ${p.tenant})`,
      });
    } catch (e: unknown) {
      if (!(e instanceof ApprovalQuotaError)) throw e;
      // The server's policy refuses the request now (as any dual-control refusal): Permission Denied.
      this.#o.log.warn('dual control: approval request refused, quota reached', {
        identity: p.identity,
        action,
      });
      throw new KmipError(
        'PermissionDenied',
        `dual control: ${action} needs officer approvals; ${e.message}`,
      );
    }
    if (result.allowed) {
      this.#o.log.info('dual control: approved request used', { identity: p.identity, action });
      // The operation gives the approval back if it then fails (operations/index.ts).
      holdApprovalRelease(check.payload, result.release);
      return;
    }
    const r = result.request;
    throw new KmipError(
      'PermissionDenied',
      `dual control: ${action} needs ${dc.approvalsNeeded} officer approvals; ` +
        `pending approval id ${r.id} (${result.approvals} of ${dc.approvalsNeeded}); retry once approved`,
    );
  }
}
