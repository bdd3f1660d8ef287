/**
 * What the access-control commands share: the configured server's store
 * seen as access records, the officer proof (--cert/--key, checked against
 * tls.ca and tls.crl), which tenants the officer may act for, dual control
 * of the command's own change, and the audit trail every decision goes to.
 */
import { readFile } from 'node:fs/promises';
import { AuditKind } from '../audit/chain.js';
import { AuditTrail } from '../audit/trail.js';
import { DualControl, payloadDigest } from '../auth/dual-control.js';
import { isReservedName, RESERVED_PREFIX } from '../auth/identity.js';
import { loadOfficer, type Officer } from '../auth/officer.js';
import { AccessRecords } from '../auth/records.js';
import { AccessState } from '../auth/state.js';
import { officerActsFor } from '../auth/tenancy.js';
import type { DualControlOperation } from '../config/auth.js';
import type { ServerConfig } from '../config/index.js';
import { openMasterKeyProvider } from '../hsm/index.js';
import type { Logger } from '../log.js';
import { openStore } from '../store/index.js';
import { Sealer } from '../store/sealing.js';
import type { ObjectStore } from '../store/types.js';
import { type ParsedArgs, stringOption, UsageError } from './args.js';
import { configOf, quietLog } from './context.js';
import type { CliIo } from './io.js';

export const ACCESS_FLAGS = {
  config: 'string',
  'data-dir': 'string',
  cert: 'string',
  key: 'string',
} as const;

export interface AccessAdmin {
  readonly config: ServerConfig;
  readonly store: ObjectStore;
  readonly state: AccessState;
  readonly dualControl: DualControl;
  readonly caPem: string;
  /** tls.crl, when configured */
  readonly crlPem: string | undefined;
  readonly log: Logger;
  /** the Sealer (KEKs under the master key), opened on first use and closed with the command */
  sealer(): Promise<Sealer>;
  /**
   * Writes an administrative record to the audit trail (its own hash-chained,
   * sealed segment, closed with the command), so `audit verify` accepts it.
   */
  audit(record: AdminAuditRecord): Promise<void>;
}

export interface AdminAuditRecord {
  readonly actor: string;
  /** e.g. 'grants add', 'approvals approve' */
  readonly operation: string;
  readonly objectId?: string;
  /** 'Success', or 'Pending' when dual control recorded a request instead */
  readonly outcome: string;
  /** the tenant concerned ('' or absent: service-wide) */
  readonly tenant?: string;
  readonly detail?: Readonly<Record<string, string>>;
}

export async function withAccess<T>(args: ParsedArgs, fn: (a: AccessAdmin) => Promise<T>): Promise<T> {
  const config = configOf(args);
  const log = quietLog();
  const caPem = await readFile(config.tls.ca, 'utf8');
  const crlPem = config.tls.crl === undefined ? undefined : await readFile(config.tls.crl, 'utf8');
  const store = await openStore(config.store.uri, { database: config.store.database, log });
  // Closed in reverse order of opening: trail (final seal), sealer, provider, store.
  const closers: (() => Promise<void>)[] = [() => store.close()];
  try {
    const records = new AccessRecords(store);
    const state = new AccessState(config.auth, records, 0);
    const dualControl = new DualControl({
      config: config.auth.dualControl,
      records,
      caPem,
      ...(crlPem === undefined ? {} : { crlPem }),
      identityFrom: config.auth.identityFrom,
      isOfficer: async (identity, tenant) =>
        officerActsFor((await state.snapshot()).identities.get(identity), tenant),
    });
    let sealer: Promise<Sealer> | undefined;
    const openSealer = async (): Promise<Sealer> => {
      const provider = await openMasterKeyProvider(config.hsm, log);
      closers.push(() => provider.close());
      const s = await Sealer.open(store, provider, { log });
      closers.push(async () => s.close());
      return s;
    };
    let trail: Promise<AuditTrail> | undefined;
    const openTrail = async (actor: string): Promise<AuditTrail> => {
      sealer ??= openSealer();
      const t = await AuditTrail.open({
        store,
        sealer: await sealer,
        anchorFile: config.audit.anchorFile,
        actor: `cli:${actor}`,
        log,
      });
      closers.push(() => t.close());
      return t;
    };
    const audit = async (r: AdminAuditRecord): Promise<void> => {
      trail ??= openTrail(r.actor);
      await (await trail).append({
        at: Date.now(),
        actor: r.actor,
        operation: r.operation,
        objectId: r.objectId,
        outcome: r.outcome,
        detail: {
          kind: AuditKind.Admin,
          ...(r.tenant === undefined || r.tenant === '' ? {} : { tenant: r.tenant }),
          ...r.detail,
        },
      });
    };
    const admin: AccessAdmin = {
      config,
      store,
      state,
      dualControl,
      caPem,
      crlPem,
      log,
      sealer: () => {
        sealer ??= openSealer();
        return sealer;
      },
      audit,
    };
    const result = await fn(admin);
    const failed = await closeAll(closers);
    if (failed !== undefined) throw failed.error;
    return result;
  } catch (e: unknown) {
    await closeAll(closers);
    throw e;
  }
}

/** Runs (once) every closer, newest first; the first error, if any. */
async function closeAll(closers: (() => Promise<void>)[]): Promise<{ error: unknown } | undefined> {
  let failed: { error: unknown } | undefined;
  for (const close of closers.splice(0).reverse()) {
    try {
      await close();
    } catch (e: unknown) {
      failed ??= { error: e };
    }
  }
  return failed;
}

/**
 * Refuses a tenant or identity name in the server's reserved namespace
 * (kmip-server:…): objects owned under it would be the server's own, which
 * the server trusts (e.g. the issuing CA Certify signs with).
 */
export function refuseReservedNames(what: string, ...names: readonly (string | undefined)[]): void {
  const reserved = names.find(isReservedName);
  if (reserved !== undefined) {
    throw new UsageError(
      `${what} ${reserved}: names starting with ${RESERVED_PREFIX} are reserved for the server's own objects`,
    );
  }
}

/** The officer running the command, proven by --cert and --key (signature over a fresh challenge). */
export async function officerOf(args: ParsedArgs, a: AccessAdmin): Promise<Officer> {
  const cert = stringOption(args, 'cert');
  const key = stringOption(args, 'key');
  if (cert === undefined || key === undefined)
    throw new UsageError('this command needs --cert and --key of a security officer certificate');
  const officer = loadOfficer(
    await readFile(cert, 'utf8'),
    await readFile(key, 'utf8'),
    a.caPem,
    a.config.auth.identityFrom,
    new Date(),
    a.crlPem,
  );
  refuseReservedNames('officer identity', officer.identity);
  const entry = (await a.state.snapshot()).identities.get(officer.identity);
  if (entry?.roles.includes('security-officer') !== true)
    throw new Error(`${officer.identity} is not a security officer`);
  return officer;
}

/** Refuses unless `officer` may act for each tenant ('' : a service-wide change, global officers only). */
export async function requireActsFor(
  a: AccessAdmin,
  officer: { identity: string },
  ...tenants: string[]
): Promise<void> {
  const entry = (await a.state.snapshot()).identities.get(officer.identity);
  for (const t of tenants) {
    if (!officerActsFor(entry, t)) {
      throw new Error(
        t === ''
          ? `${officer.identity} is a tenant security officer; this change needs a security officer of the service (no auth.identities.${officer.identity}.tenants list)`
          : `${officer.identity} is not a security officer for tenant ${t}`,
      );
    }
  }
}

/** A command's go-ahead: `change` runs its state change and gives a used approval back if that fails. */
export interface CliApproval {
  change<T>(fn: () => Promise<T>): Promise<T>;
}

const NOTHING_TO_GIVE_BACK: CliApproval = { change: (fn) => fn() };

/**
 * Dual control of a command's own change: a go-ahead when it may proceed
 * (not configured, or approved), false otherwise after printing the pending
 * approval id. An approval is spent only by a change that succeeds.
 */
export async function cliApproved(
  a: AccessAdmin,
  io: CliIo,
  rule: DualControlOperation,
  action: string,
  requester: { identity: string },
  params: unknown,
  tenant = '',
): Promise<CliApproval | false> {
  if (!a.dualControl.requires(rule)) return NOTHING_TO_GIVE_BACK;
  const result = await a.dualControl.authorize({
    rule,
    action,
    requester: requester.identity,
    tenant,
    digest: payloadDigest(JSON.stringify(params)),
    summary: `${action} ${JSON.stringify(params)} by ${requester.identity}`,
  });
  if (result.allowed) {
    const { release } = result;
    return {
      async change(fn) {
        try {
          return await fn();
        } catch (e: unknown) {
          await release().catch(() => undefined);
          throw e;
        }
      },
    };
  }
  if (result.created) {
    await a.audit({
      actor: requester.identity,
      operation: action,
      outcome: 'Pending',
      tenant,
      detail: { approvalId: result.request.id, params: JSON.stringify(params) },
    });
  }
  const n = a.dualControl.approvalsNeeded;
  io.err(
    `dual control: ${action} needs ${n} officer approvals; pending approval id ${result.request.id} ` +
      `(${result.approvals} of ${n}); run the same command again once approved\n`,
  );
  return false;
}

/**
 * For commands outside this module (`master-key rotate`): true when the
 * action needs no dual control, or the officer given by --cert/--key has an
 * approved request for it (used up now); otherwise prints the pending id.
 */
export async function cliActionApproved(
  args: ParsedArgs,
  io: CliIo,
  rule: DualControlOperation,
  action: string,
  params: unknown,
): Promise<boolean> {
  if (!configOf(args).auth.dualControl.operations.includes(rule)) return true;
  return withAccess(args, async (a) => {
    const officer = await officerOf(args, a);
    await requireActsFor(a, officer, '');
    return (await cliApproved(a, io, rule, action, officer, params)) !== false;
  });
}
