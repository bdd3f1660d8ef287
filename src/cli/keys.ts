/**
 * Key-hierarchy administration: `master-key rotate|status`, `kek rotate`,
 * `hsm migrate`. Each runs beside live servers on the same store and HSM:
 * master-key rotation rewraps KEKs only; KEK rotation re-seals objects with
 * optimistic concurrency. Both are idempotent, so `--resume` (or simply
 * running again) finishes an interrupted run.
 */
import { userInfo } from 'node:os';
import { AuditTrail } from '../audit/trail.js';
import type { ServerConfig } from '../config/index.js';
import { openSoftwareProvider } from '../hsm/index.js';
import type { MasterKeyProvider } from '../hsm/types.js';
import { type Logger, silentLogger } from '../log.js';
import { keksByMasterKey, rewrapKeks, Sealer } from '../store/sealing.js';
import type { AuditRecord, ObjectStore } from '../store/types.js';
import { cliActionApproved } from './access-common.js';
import { intOption, type ParsedArgs, stringOption, UsageError } from './args.js';
import { configOf, quietLog, withStoreAndProvider } from './context.js';
import type { CliIo } from './io.js';

function progress(io: CliIo, label: string): (p: { done: number; total: number }) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (p.done !== p.total && now - last < 100) return;
    last = now;
    const width = 30;
    const ratio = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
    const filled = Math.round(ratio * width);
    io.err(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total}`);
  };
}

function actor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/**
 * The audit trail records the event in its own hash-chained, sealed segment
 * (src/audit/trail.ts), so `audit verify` accepts it; stdout says it too.
 */
async function audit(
  store: ObjectStore,
  provider: MasterKeyProvider,
  config: ServerConfig,
  log: Logger,
  io: CliIo,
  operation: string,
  detail: Record<string, string>,
): Promise<void> {
  const record: AuditRecord = {
    at: Date.now(),
    actor: actor(),
    operation,
    objectId: undefined,
    outcome: 'Success',
    detail,
  };
  const sealer = await Sealer.open(store, provider, { log });
  try {
    const trail = await AuditTrail.open({
      store,
      sealer,
      anchorFile: config.audit.anchorFile,
      actor: record.actor,
      log,
    });
    try {
      await trail.append(record);
    } finally {
      await trail.close();
    }
  } finally {
    await sealer.close();
  }
  const fields = Object.entries(detail)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  io.out(`audit: ${operation} by ${record.actor}: ${fields}\n`);
}

/** `kmip-server master-key status`: versions, and how many KEKs each protects. */
export async function masterKeyStatus(config: ServerConfig, io: CliIo, log: Logger): Promise<number> {
  return withStoreAndProvider(config, { log }, async (store, provider) => {
    const versions = (await provider.versions?.()) ?? [
      { masterKeyId: provider.currentKeyId, version: 0, current: true },
    ];
    const counts = await keksByMasterKey(store);
    let behind = 0;
    for (const [id, c] of counts) if (id !== provider.currentKeyId) behind += c.keks;
    io.out(`provider: ${provider.kind}\n`);
    io.out('master key versions:\n');
    for (const v of versions) {
      const c = counts.get(v.masterKeyId);
      counts.delete(v.masterKeyId);
      io.out(
        `  ${v.current ? '*' : ' '} ${v.masterKeyId}  protects ${c?.keks ?? 0} KEK(s)${c?.active ? ` (${c.active} active)` : ''}\n`,
      );
    }
    let foreign = 0;
    for (const [id, c] of counts) {
      foreign += c.keks;
      io.out(`  ! ${id}  protects ${c.keks} KEK(s), not a version of this provider\n`);
    }
    if (foreign > 0) {
      io.out(`${foreign} KEK(s) are wrapped by another provider: run "kmip-server hsm migrate"\n`);
    } else if (behind > 0) {
      io.out(
        `${behind} KEK(s) are not under the current version: run "kmip-server master-key rotate --resume"\n`,
      );
    } else {
      io.out('every KEK is wrapped by the current master key\n');
    }
    return 0;
  });
}

/** `kmip-server master-key rotate [--resume]`. */
export async function masterKeyRotate(
  config: ServerConfig,
  io: CliIo,
  log: Logger,
  resume: boolean,
): Promise<number> {
  return withStoreAndProvider(config, { log }, async (store, provider) => {
    const from = provider.currentKeyId;
    if (!resume) {
      if (provider.rotate === undefined) throw new Error(`the ${provider.kind} provider cannot rotate`);
      // Recorded before the new version exists: a rotation killed at any later point is in the trail.
      await audit(store, provider, config, log, io, 'MasterKeyRotateStart', { from });
      await provider.rotate();
      io.out(`new master key version ${provider.currentKeyId}\n`);
    } else {
      await provider.refresh?.();
    }
    const { total, rewrapped } = await rewrapKeks(store, provider, {
      onProgress: progress(io, 'rewrap'),
      log,
    });
    if (total > 0) io.err('\n');
    await audit(store, provider, config, log, io, resume ? 'MasterKeyRotateResume' : 'MasterKeyRotate', {
      from,
      to: provider.currentKeyId,
      rewrapped: String(rewrapped),
      keks: String(total),
    });
    io.out(`${rewrapped} of ${total} KEK(s) rewrapped under ${provider.currentKeyId}\n`);
    return 0;
  });
}

/** `kmip-server kek rotate [--resume] [--rate N]`. */
export async function kekRotate(
  config: ServerConfig,
  io: CliIo,
  log: Logger,
  opts: { resume: boolean; rate: number | undefined },
): Promise<number> {
  return withStoreAndProvider(config, { log }, async (store, provider) => {
    const sealer = await Sealer.open(store, provider, { log });
    const abort = new AbortController();
    const onSignal = () => abort.abort();
    process.once('SIGINT', onSignal);
    try {
      const previous = sealer.activeKekId;
      if (!opts.resume) {
        await sealer.rotateKek();
        io.out(`new key-encryption key ${sealer.activeKekId} (was ${previous})\n`);
      }
      const result = await sealer.resealAll({
        ...(opts.rate === undefined ? {} : { ratePerSecond: opts.rate }),
        onProgress: progress(io, 'reseal'),
        signal: abort.signal,
      });
      if (result.total > 0) io.err('\n');
      await audit(store, provider, config, log, io, opts.resume ? 'KekRotateResume' : 'KekRotate', {
        kek: result.kekId,
        resealed: String(result.resealed),
        objects: String(result.total),
        remaining: String(result.remaining),
        interrupted: String(abort.signal.aborted),
      });
      io.out(
        `${result.resealed} object(s) re-sealed under ${result.kekId}; ${result.skipped} needed nothing${
          result.remaining > 0 || abort.signal.aborted
            ? '; not finished: run "kmip-server kek rotate --resume"'
            : ''
        }\n`,
      );
      return result.remaining > 0 || abort.signal.aborted ? 1 : 0;
    } finally {
      process.off('SIGINT', onSignal);
      sealer.close();
    }
  });
}

/** `kmip-server hsm migrate [--from-key-file FILE]`: software master key → pkcs11. */
export async function hsmMigrate(
  config: ServerConfig,
  io: CliIo,
  log: Logger,
  fromKeyFile: string | undefined,
): Promise<number> {
  if (config.hsm.provider !== 'pkcs11') {
    throw new UsageError(
      'hsm migrate moves KEKs to the pkcs11 provider: configure hsm.provider pkcs11 first',
    );
  }
  const keyFile = fromKeyFile ?? config.hsm.keyFile;
  // silent: its development-only warning does not apply to a migration away from it
  const source = await openSoftwareProvider(keyFile, { create: false, log: silentLogger });
  try {
    return await withStoreAndProvider(config, { log }, async (store, target) => {
      const { total, rewrapped } = await rewrapKeks(store, target, {
        sources: [source],
        onProgress: progress(io, 'migrate'),
        log,
      });
      if (total > 0) io.err('\n');
      await audit(store, target, config, log, io, 'MasterKeyProviderMigrate', {
        from: 'software',
        to: target.currentKeyId,
        rewrapped: String(rewrapped),
        keks: String(total),
      });
      io.out(
        `${rewrapped} of ${total} KEK(s) moved under ${target.currentKeyId}. The software key file ${keyFile} is no longer needed by this store: back it up offline, then delete it.\n`,
      );
      return 0;
    });
  } finally {
    await source.close();
  }
}

/** Dispatches `master-key <rotate|status>`. */
export async function masterKeyCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const [sub, ...extra] = args.positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const resume = args.options.get('resume') === true;
  if (sub === 'status') {
    if (resume) throw new UsageError('--resume applies to rotate');
    return masterKeyStatus(configOf(args), io, quietLog());
  }
  if (sub === 'rotate') {
    // Dual control (auth.dualControl lists master-key-rotate): approved by officers first.
    if (!resume && !(await cliActionApproved(args, io, 'master-key-rotate', 'master-key rotate', {})))
      return 1;
    return masterKeyRotate(configOf(args), io, quietLog(), resume);
  }
  throw new UsageError('master-key needs rotate or status');
}

/** Dispatches `kek rotate`. */
export async function kekCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const [sub, ...extra] = args.positionals;
  if (sub !== 'rotate') throw new UsageError('kek needs rotate');
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const rate = intOption(args, 'rate', 1, 1_000_000);
  return kekRotate(configOf(args), io, quietLog(), { resume: args.options.get('resume') === true, rate });
}

/** Dispatches `hsm migrate`. */
export async function hsmCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const [sub, ...extra] = args.positionals;
  if (sub !== 'migrate') throw new UsageError('hsm needs migrate');
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  return hsmMigrate(configOf(args), io, quietLog(), stringOption(args, 'from-key-file'));
}
