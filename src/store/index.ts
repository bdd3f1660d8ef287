import path from 'node:path';
import type { Logger } from '../log.js';
import { type ObjectStore, StoreUnavailableError } from './types.js';

export * from './types.js';

export interface OpenStoreOptions {
  /** MongoDB database name (ignored for SQLite) */
  database?: string;
  log?: Logger;
}

interface MongoModule {
  openMongoStore(uri: string, opts: { database?: string; log?: Logger }): Promise<ObjectStore>;
}

/**
 * Opens the store named by `uri` (`store.uri` / `--store`): `sqlite:PATH`
 * (a relative PATH is resolved against the working directory) or a
 * `mongodb://` / `mongodb+srv://` connection string. Backends are loaded on
 * demand, so a SQLite deployment never loads the MongoDB driver.
 */
export async function openStore(uri: string, opts: OpenStoreOptions = {}): Promise<ObjectStore> {
  if (uri.startsWith('sqlite:')) {
    const file = uri.slice('sqlite:'.length);
    if (file === '') throw new TypeError('store URI sqlite: needs a file path, e.g. sqlite:data/kmip.db');
    const { openSqliteStore } = await import('./sqlite/store.js');
    return openSqliteStore(
      path.resolve(process.cwd(), file),
      opts.log === undefined ? {} : { log: opts.log },
    );
  }
  if (uri.startsWith('mongodb://') || uri.startsWith('mongodb+srv://')) {
    // a non-literal specifier: the module is optional at type-check time
    const specifier = './mongo/index.js';
    const mongo = (await import(specifier)) as MongoModule;
    if (typeof mongo.openMongoStore !== 'function')
      throw new StoreUnavailableError('storage unavailable: the MongoDB backend is not available');
    return mongo.openMongoStore(uri, {
      ...(opts.database === undefined ? {} : { database: opts.database }),
      ...(opts.log === undefined ? {} : { log: opts.log }),
    });
  }
  // never echo the URI: a mongodb:// URI may carry a password
  throw new TypeError('unsupported store URI: expected sqlite:PATH, mongodb:// or mongodb+srv://');
}
