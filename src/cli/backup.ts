import { createReadStream, createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { loadConfig, type ServerConfig } from '../config/index.js';
import { type BackupProgress, exportStore, importStore } from '../store/backup.js';
import { openStore } from '../store/index.js';
import { type ParsedArgs, stringOption, UsageError } from './args.js';
import type { CliIo } from './run.js';

function configOf(args: ParsedArgs): ServerConfig {
  const dataDir = stringOption(args, 'data-dir');
  const store = stringOption(args, 'store');
  return loadConfig({
    configFile: stringOption(args, 'config'),
    overrides: {
      ...(dataDir === undefined ? {} : { dataDir }),
      ...(store === undefined ? {} : { store: { uri: store } }),
    },
  });
}

/** A one-line progress bar on stderr, redrawn in place. */
function progressBar(io: CliIo): (p: BackupProgress) => void {
  return (p) => {
    const width = 30;
    const ratio = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
    const filled = Math.round(ratio * width);
    io.err(
      `\r${p.phase.padEnd(7)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total}`,
    );
  };
}

/**
 * `kmip-server backup --out FILE`: a consistent logical export of the store.
 * Object secrets stay sealed (the export holds ciphertext and wrapped KEKs);
 * restoring needs the same master key.
 */
export async function backupCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const out = stringOption(args, 'out');
  if (out === undefined) throw new UsageError('backup needs --out FILE');
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const config = configOf(args);
  const store = await openStore(config.store.uri, { database: config.store.database });
  const tmp = `${out}.partial`;
  try {
    const file = createWriteStream(tmp, { mode: 0o600 });
    const counts = await exportStore(store, file, progressBar(io));
    file.end();
    await finished(file);
    await rename(tmp, out);
    io.err('\n');
    io.out(
      `backup written to ${out}: ${counts.objects} objects, ${counts.keks} KEKs, ${counts.audit} audit records\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

/** `kmip-server restore FILE`: into an empty store only. */
export async function restoreCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const [file, ...extra] = args.positionals;
  if (file === undefined || extra.length > 0) throw new UsageError('restore needs exactly one FILE');
  const config = configOf(args);
  const store = await openStore(config.store.uri, { database: config.store.database });
  try {
    const counts = await importStore(store, createReadStream(file), progressBar(io));
    io.err('\n');
    io.out(`restored ${counts.objects} objects, ${counts.keks} KEKs, ${counts.audit} audit records\n`);
    return 0;
  } finally {
    await store.close();
  }
}
