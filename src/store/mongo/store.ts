/**
 * The MongoDB ObjectStore. One document per managed object in `objects`,
 * optimistic concurrency on `version`, no multi-document transactions, so the
 * same code runs on a replica set, a sharded cluster and FerretDB. Conditional
 * updates, atomic() and the recovery of what crashed writers left are the
 * protocol in atomic.ts; this class composes it with the reads (reads.ts),
 * the audit appends (audit.ts) and the schema (schema.ts).
 *
 * An atomic() of audit records only (the audit trail's writes) skips the
 * journal: one $inc reserves the batch's seqs, one ordered insertMany writes
 * it (AuditAppender).
 */

import type { Db, Document, FindCursor, MongoClient } from 'mongodb';
import type { Logger } from '../../log.js';
import {
  type AuditRecord,
  type KekRecord,
  type LocateFilter,
  type LocatePage,
  type ObjectRecord,
  type ObjectStore,
  StoreUnavailableError,
  type WriteOp,
} from '../types.js';
import { AtomicProtocol, auditRecords, type ResolutionCache } from './atomic.js';
import { AuditAppender } from './audit.js';
import { DatabaseClock } from './clock.js';
import { collectionsOf, type MongoCollections } from './collections.js';
import { fromAuditDoc, fromImage, fromKekDoc, seqGenerator, toImage, toKekDoc } from './documents.js';
import { mapMongoError } from './errors.js';
import { countVisible, locateIds } from './reads.js';
import { applySchema, detectCapabilities, type MongoCapabilities } from './schema.js';

export { MONGO_SCHEMA_VERSION, type MongoCapabilities } from './schema.js';

export interface MongoStoreConfig {
  log: Logger;
  /** a pending atomic() (or a claim) older than this is presumed dead and undone by others */
  txnTimeoutMs: number;
}

export class MongoStore implements ObjectStore {
  readonly kind = 'mongodb' as const;
  private readonly c: MongoCollections;
  private readonly nextSeq = seqGenerator();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly auditLog: AuditAppender;
  private readonly atomicWrites: AtomicProtocol;
  private closed = false;
  private readonly clock: DatabaseClock;
  /** re-reads the database clock and settles what dead writers left, for nodes that never restart */
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
    private readonly config: MongoStoreConfig,
  ) {
    this.c = collectionsOf(db);
    this.clock = new DatabaseClock(db);
    this.auditLog = new AuditAppender(this.c.audit, this.c.counters);
    this.atomicWrites = new AtomicProtocol(this.c, this.clock, this.auditLog, {
      log: config.log,
      txnTimeoutMs: config.txnTimeoutMs,
      nextSeq: this.nextSeq,
    });
  }

  get capabilities(): MongoCapabilities {
    return this.atomicWrites.capabilities;
  }

  /** Detects the server, applies schema migrations, settles what crashed writers left. */
  async init(): Promise<void> {
    await this.run('open', async () => {
      this.atomicWrites.capabilities = await detectCapabilities(this.db);
      await applySchema(this.db, this.c);
      await this.clock.calibrate();
      await this.recover();
    });
    this.sweeper = setInterval(
      () => {
        void this.sweep();
      },
      Math.max(1000, this.config.txnTimeoutMs),
    );
    this.sweeper.unref();
  }

  private async sweep(): Promise<void> {
    if (this.closed) return;
    try {
      await this.clock.calibrate();
      await this.recover();
    } catch (e: unknown) {
      this.config.log.debug('periodic recovery sweep failed', {
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }

  /** Settles stale journals, orphaned markers and old abort outcomes (AtomicProtocol.recover). */
  recover(): Promise<void> {
    return this.atomicWrites.recover();
  }

  get(id: string): Promise<ObjectRecord | undefined> {
    return this.run('get', async () => {
      const doc = await this.c.objects.findOne({ _id: id });
      if (doc === null) return undefined;
      const img = await this.atomicWrites.visibleImage(doc, new Map());
      return img === undefined ? undefined : fromImage(doc._id, img);
    });
  }

  insert(record: ObjectRecord): Promise<void> {
    return this.run('insert', async () => {
      await this.c.objects.insertOne({ _id: record.id, seq: this.nextSeq(), ...toImage(record) });
    });
  }

  update(record: ObjectRecord, expectedVersion: number): Promise<void> {
    return this.run('update', () => this.atomicWrites.update(record, expectedVersion));
  }

  locate(filter: LocateFilter, page: LocatePage = {}): Promise<string[]> {
    return this.run('locate', () => locateIds(this.c.objects, this.atomicWrites, filter, page));
  }

  count(filter: LocateFilter): Promise<number> {
    return this.run('count', () => countVisible(this.c.objects, this.atomicWrites, filter));
  }

  async *iterate(opts: { batchSize?: number } = {}): AsyncIterable<ObjectRecord> {
    this.assertOpen('iterate');
    const cursor = this.c.objects
      .find({})
      .sort({ seq: 1 })
      .batchSize(Math.max(1, opts.batchSize ?? 500));
    const cache: ResolutionCache = new Map();
    try {
      for (;;) {
        const rec = await this.run('iterate', () =>
          nextVisible(cursor, async (doc) => {
            const img = await this.atomicWrites.visibleImage(doc, cache);
            return img === undefined ? undefined : fromImage(doc._id, img);
          }),
        );
        if (rec === undefined) return;
        yield rec;
      }
    } finally {
      await cursor.close().catch(() => undefined);
    }
  }

  appendAudit(record: AuditRecord): Promise<void> {
    return this.run('appendAudit', () => this.auditLog.append([record], null));
  }

  async *readAudit(
    opts: { after?: number; limit?: number } = {},
  ): AsyncIterable<AuditRecord & { readonly seq: number }> {
    this.assertOpen('readAudit');
    const limit = opts.limit ?? Number.POSITIVE_INFINITY;
    if (limit <= 0) return;
    const query: Document = opts.after === undefined ? {} : { seq: { $gt: opts.after } };
    const cursor = this.c.audit.find(query).sort({ seq: 1 }).batchSize(500);
    const cache: ResolutionCache = new Map();
    let yielded = 0;
    try {
      while (yielded < limit) {
        const doc = await this.run('readAudit', () =>
          nextVisible(cursor, async (d) =>
            (await this.atomicWrites.auditVisible(d, cache)) ? d : undefined,
          ),
        );
        if (doc === undefined) return;
        yielded++;
        yield fromAuditDoc(doc);
      }
    } finally {
      await cursor.close().catch(() => undefined);
    }
  }

  async lastAudit(): Promise<(AuditRecord & { readonly seq: number }) | undefined> {
    this.assertOpen('lastAudit');
    return this.run('lastAudit', async () => {
      const cache: ResolutionCache = new Map();
      // newest first, skipping records of an atomic() write not (yet) committed
      const cursor = this.c.audit.find({}).sort({ seq: -1 }).batchSize(16);
      try {
        const d = await nextVisible(cursor, async (d) =>
          (await this.atomicWrites.auditVisible(d, cache)) ? d : undefined,
        );
        if (d === undefined) return undefined;
        // a segment opened after this links to it, so its records must be numbered above it
        this.auditLog.raiseFloor(d.seq);
        return fromAuditDoc(d);
      } finally {
        await cursor.close().catch(() => undefined);
      }
    });
  }

  atomic(ops: readonly WriteOp[]): Promise<void> {
    if (ops.length > 0 && ops.every((op) => op.kind === 'audit')) {
      // Audit only (the audit trail's flushes): no journal, see AuditAppender.
      return this.run('atomic', () => this.auditLog.append(auditRecords(ops), null));
    }
    return this.run('atomic', () => this.atomicWrites.write(ops));
  }

  putKek(kek: KekRecord): Promise<void> {
    return this.run('putKek', async () => {
      await this.c.keks.replaceOne({ _id: kek.id }, toKekDoc(kek), { upsert: true });
    });
  }

  /** Not atomic (no transactions), but idempotent: run it again after a failure. */
  undoRestore(written: {
    readonly objectIds: readonly string[];
    readonly kekIds: readonly string[];
    readonly auditAfter: number;
  }): Promise<void> {
    return this.run('undoRestore', async () => {
      const CHUNK = 1000;
      for (let i = 0; i < written.objectIds.length; i += CHUNK)
        await this.c.objects.deleteMany({ _id: { $in: written.objectIds.slice(i, i + CHUNK) } });
      for (let i = 0; i < written.kekIds.length; i += CHUNK)
        await this.c.keks.deleteMany({ _id: { $in: written.kekIds.slice(i, i + CHUNK) } });
      await this.c.audit.deleteMany({ seq: { $gt: written.auditAfter } });
    });
  }

  getKek(id: string): Promise<KekRecord | undefined> {
    return this.run('getKek', async () => {
      const d = await this.c.keks.findOne({ _id: id });
      return d === null ? undefined : fromKekDoc(d);
    });
  }

  listKeks(): Promise<KekRecord[]> {
    return this.run('listKeks', async () => {
      const all = await this.c.keks.find({}).sort({ createdAt: 1, _id: 1 }).toArray();
      return all.map(fromKekDoc);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.inflight]);
    await this.client.close();
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.assertOpen(what);
    const p = fn();
    this.inflight.add(p);
    try {
      return await p;
    } catch (err: unknown) {
      throw mapMongoError(err, what);
    } finally {
      this.inflight.delete(p);
    }
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new StoreUnavailableError(`${what}: store closed`);
  }
}

/** The next document of `cursor` that `visible` maps to something; undefined at the end. */
async function nextVisible<D, R>(
  cursor: FindCursor<D>,
  visible: (d: D) => Promise<R | undefined>,
): Promise<R | undefined> {
  for (;;) {
    const d = await cursor.next();
    if (d === null) return undefined;
    const r = await visible(d);
    if (r !== undefined) return r;
  }
}
