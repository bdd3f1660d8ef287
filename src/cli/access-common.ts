/**
 * What the access-control commands share: the configured server's store
 * seen as access records, the officer proof (--cert/--key), and dual
 * control of the command's own change.
 */
import { readFile } from 'node:fs/promises';
import { DualControl, payloadDigest } from '../auth/dual-control.js';
import { loadOfficer, type Officer } from '../auth/officer.js';
import { AccessRecords } from '../auth/records.js';
import { AccessState } from '../auth/state.js';
import type { DualControlOperation } from '../config/auth.js';
import { loadConfig, type ServerConfig } from '../config/index.js';
import { createLogger } from '../log.js';
import { openStore } from '../store/index.js';
import { type ParsedArgs, stringOption, UsageError } from './args.js';
import type { CliIo } from './run.js';

export const ACCESS_FLAGS = {
  config: 'string',
  'data-dir': 'string',
  cert: 'string',
  key: 'string',
} as const;

export function configOf(args: ParsedArgs): ServerConfig {
  const dataDir = stringOption(args, 'data-dir');
  return loadConfig({
    configFile: stringOption(args, 'config'),
    overrides: dataDir === undefined ? {} : { dataDir },
  });
}

export interface AccessAdmin {
  readonly config: ServerConfig;
  readonly state: AccessState;
  readonly dualControl: DualControl;
  readonly caPem: string;
}

export async function withAccess<T>(args: ParsedArgs, fn: (a: AccessAdmin) => Promise<T>): Promise<T> {
  const config = configOf(args);
  const log = createLogger({ level: 'warn' });
  const caPem = await readFile(config.tls.ca, 'utf8');
  const store = await openStore(config.store.uri, { database: config.store.database, log });
  try {
    const records = new AccessRecords(store);
    const state = new AccessState(config.auth, records, 0);
    const dualControl = new DualControl({
      config: config.auth.dualControl,
      records,
      caPem,
      identityFrom: config.auth.identityFrom,
      isOfficer: async (identity) =>
        (await state.snapshot()).identities.get(identity)?.roles.includes('security-officer') === true,
    });
    return await fn({ config, state, dualControl, caPem });
  } finally {
    await store.close();
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
  );
  const entry = (await a.state.snapshot()).identities.get(officer.identity);
  if (entry?.roles.includes('security-officer') !== true)
    throw new Error(`${officer.identity} is not a security officer`);
  return officer;
}

/**
 * Dual control of a command's own change: true when it may go ahead (not
 * configured, or approved); otherwise it prints the pending approval id.
 */
export async function cliApproved(
  a: AccessAdmin,
  io: CliIo,
  rule: DualControlOperation,
  action: string,
  requester: { identity: string },
  params: unknown,
): Promise<boolean> {
  if (!a.dualControl.requires(rule)) return true;
  const result = await a.dualControl.authorize({
    rule,
    action,
    requester: requester.identity,
    tenant: '',
    digest: payloadDigest(JSON.stringify(params)),
    summary: `${action} ${JSON.stringify(params)} by ${requester.identity}`,
  });
  if (result.allowed) return true;
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
  return withAccess(args, async (a) => cliApproved(a, io, rule, action, await officerOf(args, a), params));
}
