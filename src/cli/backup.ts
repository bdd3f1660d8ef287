import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import type { ServerConfig } from '../config/index.js';
import { openMasterKeyProvider, openSoftwareProvider } from '../hsm/index.js';
import type { MasterKeyProvider } from '../hsm/types.js';
import type { Logger } from '../log.js';
import { type BackupProgress, exportStore, importStore } from '../store/backup.js';
import { type ParsedArgs, stringOption, UsageError } from './args.js';
import { configOf, quietLog, withStoreAndProvider } from './context.js';
import type { CliIo } from './io.js';

/**
 * The configured master-key provider. Never a new software key file: an
 * export authenticated (or a restore checked) under a key made up on the spot
 * would be useless.
 */
function openProvider(config: ServerConfig, log: Logger): Promise<MasterKeyProvider> {
  if (config.hsm.provider === 'software')
    return openSoftwareProvider(config.hsm.keyFile, { create: false, log });
  return openMasterKeyProvider(config.hsm, log);
}

/** A one-line progress bar on stderr, redrawn in place; end() finishes the line. */
function progressBar(io: CliIo): { update: (p: BackupProgress) => void; end: () => void } {
  let drawn = false;
  return {
    update: (p) => {
      const width = 30;
      const ratio = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
      const filled = Math.round(ratio * width);
      io.err(
        `\r${p.phase.padEnd(7)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total}`,
      );
      drawn = true;
    },
    end: () => {
      if (drawn) io.err('\n');
      drawn = false;
    },
  };
}

/**
 * `kmip-server backup --out FILE`: a logical export of the store, complete in
 * its KEKs whatever runs meanwhile, authenticated under the master key (see
 * src/store/backup.ts). Object secrets stay sealed; restoring needs the same
 * master key. Written to FILE.partial, renamed to FILE when complete; a
 * failure leaves neither.
 */
export async function backupCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const out = stringOption(args, 'out');
  if (out === undefined) throw new UsageError('backup needs --out FILE');
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const config = configOf(args);
  const bar = progressBar(io);
  const tmp = `${out}.partial`;
  return withStoreAndProvider(config, { log: quietLog(), openProvider }, async (store, provider) => {
    const file = createWriteStream(tmp, { mode: 0o600 });
    // a write error ends the export through exportStore's or finished()'s rejection, never as an unhandled event
    file.on('error', () => undefined);
    let counts: Awaited<ReturnType<typeof exportStore>>;
    try {
      counts = await exportStore(store, file, { provider, progress: bar.update });
      file.end();
      await finished(file);
      await rename(tmp, out);
    } catch (e: unknown) {
      bar.end();
      // closed first: a stream still opening its file would create it after the rm
      if (!file.closed) {
        const closed = new Promise<void>((resolve) => file.once('close', () => resolve()));
        file.destroy();
        await closed;
      }
      await rm(tmp, { force: true });
      throw e;
    }
    bar.end();
    io.out(
      `backup written to ${out}: ${counts.objects} objects, ${counts.keks} KEKs, ${counts.audit} audit records\n`,
    );
    return 0;
  });
}

/**
 * `kmip-server restore FILE [--allow-unauthenticated]`: into an empty store
 * only, all or nothing. The whole file is verified (authentication under the
 * master key, structure, completeness) before anything is written; a failed
 * write is undone; after a crash, running it again finishes the job.
 */
export async function restoreCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const [file, ...extra] = args.positionals;
  if (file === undefined || extra.length > 0) throw new UsageError('restore needs exactly one FILE');
  const allowUnauthenticated = args.options.get('allow-unauthenticated') === true;
  const config = configOf(args);
  const bar = progressBar(io);
  return withStoreAndProvider(config, { log: quietLog(), openProvider }, async (store, provider) => {
    let counts: Awaited<ReturnType<typeof importStore>>;
    try {
      counts = await importStore(store, () => createReadStream(file), {
        provider,
        progress: bar.update,
        allowUnauthenticated,
        notice: (m) => {
          bar.end();
          io.err(`${m}\n`);
        },
      });
    } finally {
      bar.end();
    }
    io.out(`restored ${counts.objects} objects, ${counts.keks} KEKs, ${counts.audit} audit records\n`);
    return 0;
  });
}
