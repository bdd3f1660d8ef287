/**
 * Schema of a MongoDB store: the server's capabilities, the collections'
 * indexes, and the migrations recorded in `meta.schema`.
 */

import { type Collection, type Db, type Document, type IndexDescription, MongoServerError } from 'mongodb';
import { StoreUnavailableError } from '../types.js';
import type { MongoCollections } from './collections.js';
import { indexedDateFields } from './documents.js';

/** What the server guarantees, detected at open. */
export interface MongoCapabilities {
  /** updateOne with a filter is an atomic compare-and-set (MongoDB yes, FerretDB 1.x no) */
  atomicConditionalUpdate: boolean;
}

export async function detectCapabilities(db: Db): Promise<MongoCapabilities> {
  const info = await db.admin().command({ buildInfo: 1 });
  return { atomicConditionalUpdate: info.ferretdbVersion === undefined };
}

/**
 * Schema migrations, applied in order at open and recorded in `meta.schema`.
 * Each must be idempotent: several nodes may start at once.
 */
export const MONGO_SCHEMA_VERSION = 1;
const MONGO_MIGRATIONS: readonly ((c: MongoCollections) => Promise<void>)[] = [migrateIndexes];

/** Refuses a database from a newer server, applies the missing migrations. */
export async function applySchema(db: Db, collections: MongoCollections): Promise<void> {
  const meta = db.collection<{ _id: string; version: number }>('meta');
  const current = (await meta.findOne({ _id: 'schema' }))?.version ?? 0;
  if (current > MONGO_SCHEMA_VERSION) {
    throw new StoreUnavailableError(
      `the database has schema version ${current}, newer than this server's ${MONGO_SCHEMA_VERSION}: upgrade kmip-server`,
    );
  }
  // Migrations are idempotent, so nodes starting together may both run them.
  for (let v = current + 1; v <= MONGO_SCHEMA_VERSION; v++) await MONGO_MIGRATIONS[v - 1]?.(collections);
  if (current < MONGO_SCHEMA_VERSION) {
    await meta.updateOne({ _id: 'schema' }, { $max: { version: MONGO_SCHEMA_VERSION } }, { upsert: true });
  }
}

/** Schema version 1: the collections' indexes. */
export async function migrateIndexes(c: MongoCollections): Promise<void> {
  const single = [
    'names',
    'objectGroups',
    'objectType',
    'state',
    'algorithm',
    'length',
    'owner',
    'tombstoned',
    'custom',
    ...indexedDateFields.map((f) => `dates.${f}`),
  ];
  await ensureIndexes(c.objects, [
    // not unique: a sharded collection allows unique indexes only on its shard key
    { key: { seq: 1 }, name: 'seq_1' },
    { key: { txn: 1 }, name: 'txn_1', sparse: true },
    ...single.map((f) => ({ key: { [f]: 1 }, name: `${f}_1` })),
  ]);
  await ensureIndexes(c.audit, [
    { key: { seq: 1 }, name: 'seq_1', unique: true },
    { key: { txn: 1 }, name: 'txn_1', sparse: true },
  ]);
  await ensureIndexes(c.keks, [{ key: { createdAt: 1 }, name: 'createdAt_1' }]);
}

/**
 * Creates the missing indexes one at a time: FerretDB 1.24 drops the
 * connection (a server-side panic) when one createIndexes command repeats
 * several indexes that already exist.
 */
async function ensureIndexes<T extends Document>(
  coll: Collection<T>,
  specs: readonly IndexDescription[],
): Promise<void> {
  const existing = new Set<string>();
  try {
    for (const ix of await coll.listIndexes().toArray()) existing.add(String(ix.name));
  } catch (err: unknown) {
    // NamespaceNotFound: the collection does not exist yet
    if (!(err instanceof MongoServerError && err.code === 26)) throw err;
  }
  for (const spec of specs) {
    if (spec.name !== undefined && existing.has(spec.name)) continue;
    await coll.createIndexes([spec]);
  }
}
