/**
 * MongoDB backend: `openMongoStore('mongodb://…')`. Production wants a
 * MongoDB 6+ replica set (or sharded cluster); tests use FerretDB. See
 * docs/mongodb.md.
 */

import { MongoClient } from 'mongodb';
import { type Logger, silentLogger } from '../../log.js';
import type { ObjectStore } from '../types.js';
import { mapMongoError } from './errors.js';
import { MongoStore } from './store.js';

export interface MongoStoreOptions {
  /** database name; default: the one in the URI, else 'kmip' */
  database?: string;
  log?: Logger;
  /** an atomic() write pending longer than this is presumed dead and rolled back (default 30 s) */
  txnTimeoutMs?: number;
  /** how long a request waits for a usable server before StoreUnavailableError (default 2 s) */
  serverSelectionTimeoutMS?: number;
}

export async function openMongoStore(uri: string, opts: MongoStoreOptions = {}): Promise<ObjectStore> {
  const log = opts.log ?? silentLogger;
  const client = new MongoClient(uri, {
    appName: 'kmip-server',
    // fail fast while the database is down rather than hang a KMIP request
    serverSelectionTimeoutMS: opts.serverSelectionTimeoutMS ?? 2000,
    connectTimeoutMS: 2000,
    socketTimeoutMS: 30_000,
    // acknowledged only once a majority has it in its journal; read what a majority has
    writeConcern: { w: 'majority', j: true },
    readConcern: { level: 'majority' },
    readPreference: 'primary',
  });
  try {
    await client.connect();
    const store = new MongoStore(client, client.db(opts.database ?? databaseFromUri(uri) ?? 'kmip'), {
      log,
      txnTimeoutMs: opts.txnTimeoutMs ?? 30_000,
    });
    await store.init();
    return store;
  } catch (err: unknown) {
    await client.close().catch(() => undefined);
    throw mapMongoError(err, 'open');
  }
}

function databaseFromUri(uri: string): string | undefined {
  const m = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]+)/.exec(uri);
  const name = m?.[1];
  return name ? decodeURIComponent(name) : undefined;
}
