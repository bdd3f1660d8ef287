/** What the admin commands open: the server's configuration, its store and master-key provider. */
import { loadConfig, type ServerConfig } from '../config/index.js';
import { openMasterKeyProvider } from '../hsm/index.js';
import type { MasterKeyProvider } from '../hsm/types.js';
import { createLogger, type Logger } from '../log.js';
import { openStore } from '../store/index.js';
import type { ObjectStore } from '../store/types.js';
import { type ParsedArgs, stringOption } from './args.js';

/** The configuration as `start` would load it, with --data-dir and (where a command takes it) --store. */
export function configOf(args: ParsedArgs): ServerConfig {
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

/** Operational log on stderr at warn: the command's own output is the progress and the summary. */
export function quietLog(): Logger {
  return createLogger({ level: 'warn' });
}

/** Runs `fn` with the store and the master-key provider open, and closes both. */
export async function withStoreAndProvider<T>(
  config: ServerConfig,
  opts: {
    log: Logger;
    /** default: the configured provider (openMasterKeyProvider) */
    openProvider?: (config: ServerConfig, log: Logger) => Promise<MasterKeyProvider>;
  },
  fn: (store: ObjectStore, provider: MasterKeyProvider) => Promise<T>,
): Promise<T> {
  const { log, openProvider = (c, l) => openMasterKeyProvider(c.hsm, l) } = opts;
  const store = await openStore(config.store.uri, { database: config.store.database, log });
  try {
    const provider = await openProvider(config, log);
    try {
      return await fn(store, provider);
    } finally {
      await provider.close();
    }
  } finally {
    await store.close();
  }
}
