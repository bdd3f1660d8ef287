/**
 * The MongoDB ObjectStore. One document per managed object in `objects`,
 * optimistic concurrency on `version`, no multi-document transactions, so the
 * same code runs on a replica set, a sharded cluster and FerretDB.
 *
 * Conditional writes. On MongoDB `updateOne({_id, version})` is atomic. On
 * FerretDB 1.24 it is not (the handler reads, then writes by _id, with no
 * compare-and-set), so there a writer first claims the transition by
 * inserting `claims/<id>#<version>` — an insert on a unique _id is atomic on
 * both — and deletes the claim once its write is done. The capability is
 * detected once at open (buildInfo.ferretdbVersion).
 *
 * atomic() without transactions (see docs/mongodb.md):
 *  1. check every op up front, folding several ops on one id into one write:
 *     a failure here leaves nothing behind;
 *  2. insert a journal {_id: txn, objects: [ids]} in `txns`;
 *  3. write each object marked `txn: <txn>`; an update keeps the image it
 *     replaced in `pre`, an insert has `pre: null`; audit records are marked too;
 *  4. commit: insert `txn_outcomes/<txn> = commit`. The single point at which
 *     everything becomes visible. A helper that finds the journal stale
 *     inserts `abort` instead; the unique _id lets only one of them win;
 *  5. clear the markers, delete the journal, delete the outcome.
 * Readers resolve a marked document: outcome commit → the document, otherwise
 * its `pre` image (nothing for an insert). Stale journals (older than
 * txnTimeoutMs) are rolled back, committed ones rolled forward, at open and
 * lazily by whichever reader meets them. A committed write's journal and
 * outcome outlive its markers, and abort outcomes are kept for an hour, so a
 * marker with neither journal nor outcome belongs to a write that never
 * committed and is undone.
 *
 * An atomic() of audit records only (the audit trail's writes) skips the
 * journal: one $inc reserves the batch's seqs, one ordered insertMany writes
 * it (insertAudit).
 */

import {
  type Collection,
  type CollectionOptions,
  type Db,
  type Document,
  type IndexDescription,
  MongoBulkWriteError,
  type MongoClient,
  MongoServerError,
  ObjectId,
  type WithId,
} from 'mongodb';
import type { Logger } from '../../log.js';
import {
  type AuditRecord,
  DuplicateIdError,
  type KekRecord,
  type LocateFilter,
  type LocatePage,
  NotFoundError,
  type ObjectRecord,
  type ObjectStore,
  StoreUnavailableError,
  VersionConflictError,
  type WriteOp,
} from '../types.js';
import { DatabaseClock } from './clock.js';
import {
  type AuditDoc,
  fromAuditDoc,
  fromImage,
  fromKekDoc,
  imageOf,
  indexedDateFields,
  type KekDoc,
  type ObjectDoc,
  type ObjectImage,
  seqGenerator,
  toAuditDoc,
  toImage,
  toKekDoc,
} from './documents.js';
import { mapMongoError } from './errors.js';
import { buildQuery, matches } from './query.js';

interface TxnDoc {
  _id: string;
  /** ms since the epoch on the writing node */
  at: number;
  objects: string[];
}

interface OutcomeDoc {
  _id: string;
  outcome: 'commit' | 'abort';
  at: number;
}

interface ClaimDoc {
  _id: string;
  at: number;
}

interface CounterDoc {
  _id: string;
  seq: number;
}

/** How a reader sees a transaction marker. */
type Resolution = 'committed' | 'uncommitted' | 'gone';

const MARKED = { $type: 'string' } as const;
const UNMARKED = { $exists: false } as const;
const DUPLICATE_KEY = 11000;
const ABORT_OUTCOME_TTL_MS = 3_600_000;

const isDuplicate = (err: unknown): boolean => err instanceof MongoServerError && err.code === DUPLICATE_KEY;

export interface MongoStoreConfig {
  log: Logger;
  /** a pending atomic() (or a claim) older than this is presumed dead and undone by others */
  txnTimeoutMs: number;
}

/** What the server guarantees, detected at open. */
export interface MongoCapabilities {
  /** updateOne with a filter is an atomic compare-and-set (MongoDB yes, FerretDB 1.x no) */
  atomicConditionalUpdate: boolean;
}

/** One object's writes inside an atomic(), folded. */
interface Planned {
  id: string;
  /** the stored document before, undefined for an insert */
  base: WithId<ObjectDoc> | undefined;
  final: ObjectRecord;
}

export class MongoStore implements ObjectStore {
  readonly kind = 'mongodb' as const;
  private readonly objects: Collection<ObjectDoc>;
  private readonly audit: Collection<AuditDoc>;
  private readonly keks: Collection<KekDoc>;
  private readonly txns: Collection<TxnDoc>;
  private readonly outcomes: Collection<OutcomeDoc>;
  private readonly claims: Collection<ClaimDoc>;
  private readonly counters: Collection<CounterDoc>;
  private readonly nextSeq = seqGenerator();
  private readonly inflight = new Set<Promise<unknown>>();
  /** the highest audit seq this node wrote or read as the last one: its next records go above it */
  private auditFloor = 0;
  private closed = false;
  private caps: MongoCapabilities = { atomicConditionalUpdate: true };
  private readonly clock: DatabaseClock;
  /** re-reads the database clock and settles what dead writers left, for nodes that never restart */
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
    private readonly config: MongoStoreConfig,
  ) {
    // Set per collection as well: a readConcernLevel in the URI would otherwise win.
    const o: CollectionOptions = {
      writeConcern: { w: 'majority', journal: true },
      readConcern: { level: 'majority' },
      readPreference: 'primary',
    };
    this.objects = db.collection<ObjectDoc>('objects', o);
    this.audit = db.collection<AuditDoc>('audit', o);
    this.keks = db.collection<KekDoc>('keks', o);
    this.txns = db.collection<TxnDoc>('txns', o);
    this.outcomes = db.collection<OutcomeDoc>('txn_outcomes', o);
    this.claims = db.collection<ClaimDoc>('claims', o);
    this.counters = db.collection<CounterDoc>('counters', o);
    this.clock = new DatabaseClock(db);
  }

  get capabilities(): MongoCapabilities {
    return this.caps;
  }

  /** Detects the server, applies schema migrations, settles what crashed writers left. */
  async init(): Promise<void> {
    await this.run('open', async () => {
      const info = await this.db.admin().command({ buildInfo: 1 });
      this.caps = { atomicConditionalUpdate: info.ferretdbVersion === undefined };
      const meta = this.db.collection<{ _id: string; version: number }>('meta');
      const current = (await meta.findOne({ _id: 'schema' }))?.version ?? 0;
      if (current > MONGO_SCHEMA_VERSION) {
        throw new StoreUnavailableError(
          `the database has schema version ${current}, newer than this server's ${MONGO_SCHEMA_VERSION}: upgrade kmip-server`,
        );
      }
      // Migrations are idempotent, so nodes starting together may both run them.
      for (let v = current + 1; v <= MONGO_SCHEMA_VERSION; v++) await MONGO_MIGRATIONS[v - 1]?.call(this);
      if (current < MONGO_SCHEMA_VERSION) {
        await meta.updateOne(
          { _id: 'schema' },
          { $max: { version: MONGO_SCHEMA_VERSION } },
          { upsert: true },
        );
      }
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

  /** Schema version 1: the collections' indexes. */
  async migrateIndexes(): Promise<void> {
    {
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
      await ensureIndexes(this.objects, [
        // not unique: a sharded collection allows unique indexes only on its shard key
        { key: { seq: 1 }, name: 'seq_1' },
        { key: { txn: 1 }, name: 'txn_1', sparse: true },
        ...single.map((f) => ({ key: { [f]: 1 }, name: `${f}_1` })),
      ]);
      await ensureIndexes(this.audit, [
        { key: { seq: 1 }, name: 'seq_1', unique: true },
        { key: { txn: 1 }, name: 'txn_1', sparse: true },
      ]);
      await ensureIndexes(this.keks, [{ key: { createdAt: 1 }, name: 'createdAt_1' }]);
    }
  }

  get(id: string): Promise<ObjectRecord | undefined> {
    return this.run('get', async () => {
      const doc = await this.objects.findOne({ _id: id });
      return this.visible(doc, new Map());
    });
  }

  insert(record: ObjectRecord): Promise<void> {
    return this.run('insert', async () => {
      await this.objects.insertOne({ _id: record.id, seq: this.nextSeq(), ...toImage(record) });
    });
  }

  update(record: ObjectRecord, expectedVersion: number): Promise<void> {
    return this.run('update', async () => {
      checkNextVersion(record, expectedVersion);
      await this.withClaim(record.id, expectedVersion, async () => {
        for (let attempt = 0; ; attempt++) {
          const res = await this.objects.updateOne(
            { _id: record.id, version: expectedVersion, txn: UNMARKED },
            { $set: toImage(record) },
          );
          if (res.matchedCount === 1) return;
          const doc = await this.objects.findOne({ _id: record.id });
          if (doc === null) throw new NotFoundError(`object ${record.id} not found`);
          if (typeof doc.txn !== 'string' || attempt >= 3) {
            throw new VersionConflictError(
              `object ${record.id} changed (expected version ${expectedVersion})`,
            );
          }
          // Marked by an atomic() write: a committed or dead one is settled here and
          // the update retried; one still in flight owns the document for now.
          const r = await this.resolve(doc.txn, new Map(), true);
          if (r === 'uncommitted') {
            throw new VersionConflictError(`object ${record.id} is being changed`);
          }
          if (r === 'gone') await this.repairOrphan(doc);
        }
      });
    });
  }

  locate(filter: LocateFilter, page: LocatePage = {}): Promise<string[]> {
    return this.run('locate', async () => {
      const offset = Math.max(0, page.offset ?? 0);
      const limit = page.limit;
      if (limit !== undefined && limit <= 0) return [];
      let cursor = this.objects
        .find(buildQuery(filter), { projection: { _id: 1, txn: 1 } })
        .sort({ seq: 1 })
        .skip(offset);
      if (limit !== undefined) cursor = cursor.limit(limit);
      const fast = await cursor.toArray();
      // Checked after the query: an atomic() that began before it is seen here.
      if (!fast.some((d) => typeof d.txn === 'string') && !(await this.atomicInFlight())) {
        return fast.map((d) => d._id);
      }
      return this.locateSlow(filter, offset, limit);
    });
  }

  count(filter: LocateFilter): Promise<number> {
    return this.run('count', async () => {
      let n = await this.objects.countDocuments(buildQuery(filter));
      if (!(await this.atomicInFlight())) return n;
      const marked = await this.objects.find(this.markedQuery(filter)).toArray();
      const cache = new Map<string, Resolution>();
      for (const doc of marked) {
        const counted = matches(filter, doc);
        const img = await this.visibleImage(doc, cache);
        const visible = img !== undefined && matches(filter, img);
        n += (visible ? 1 : 0) - (counted ? 1 : 0);
      }
      return n;
    });
  }

  async *iterate(opts: { batchSize?: number } = {}): AsyncIterable<ObjectRecord> {
    this.assertOpen('iterate');
    const cursor = this.objects
      .find({})
      .sort({ seq: 1 })
      .batchSize(Math.max(1, opts.batchSize ?? 500));
    const cache = new Map<string, Resolution>();
    try {
      for (;;) {
        const rec = await this.run('iterate', async () => {
          for (;;) {
            const doc = await cursor.next();
            if (doc === null) return null;
            const r = await this.visible(doc, cache);
            if (r !== undefined) return r;
          }
        });
        if (rec === null) return;
        yield rec;
      }
    } finally {
      await cursor.close().catch(() => undefined);
    }
  }

  appendAudit(record: AuditRecord): Promise<void> {
    return this.run('appendAudit', () => this.insertAudit([record], null));
  }

  async *readAudit(
    opts: { after?: number; limit?: number } = {},
  ): AsyncIterable<AuditRecord & { readonly seq: number }> {
    this.assertOpen('readAudit');
    const limit = opts.limit ?? Number.POSITIVE_INFINITY;
    if (limit <= 0) return;
    const query: Document = opts.after === undefined ? {} : { seq: { $gt: opts.after } };
    const cursor = this.audit.find(query).sort({ seq: 1 }).batchSize(500);
    const cache = new Map<string, Resolution>();
    let yielded = 0;
    try {
      while (yielded < limit) {
        const doc = await this.run('readAudit', async () => {
          for (;;) {
            const d = await cursor.next();
            if (d === null) return null;
            if (await this.auditVisible(d, cache)) return d;
          }
        });
        if (doc === null) return;
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
      const cache = new Map<string, Resolution>();
      // newest first, skipping records of an atomic() write not (yet) committed
      const cursor = this.audit.find({}).sort({ seq: -1 }).batchSize(16);
      try {
        for (;;) {
          const d = await cursor.next();
          if (d === null) return undefined;
          if (await this.auditVisible(d, cache)) {
            // a segment opened after this links to it, so its records must be numbered above it
            this.auditFloor = Math.max(this.auditFloor, d.seq);
            return fromAuditDoc(d);
          }
        }
      } finally {
        await cursor.close().catch(() => undefined);
      }
    });
  }

  atomic(ops: readonly WriteOp[]): Promise<void> {
    if (ops.length > 0 && ops.every((op) => op.kind === 'audit')) {
      // Audit only (the audit trail's flushes): no journal, see insertAudit.
      return this.run('atomic', () => this.insertAudit(auditRecords(ops), null));
    }
    return this.run('atomic', () => this.atomicWrite(ops));
  }

  putKek(kek: KekRecord): Promise<void> {
    return this.run('putKek', async () => {
      await this.keks.replaceOne({ _id: kek.id }, toKekDoc(kek), { upsert: true });
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
        await this.objects.deleteMany({ _id: { $in: written.objectIds.slice(i, i + CHUNK) } });
      for (let i = 0; i < written.kekIds.length; i += CHUNK)
        await this.keks.deleteMany({ _id: { $in: written.kekIds.slice(i, i + CHUNK) } });
      await this.audit.deleteMany({ seq: { $gt: written.auditAfter } });
    });
  }

  getKek(id: string): Promise<KekRecord | undefined> {
    return this.run('getKek', async () => {
      const d = await this.keks.findOne({ _id: id });
      return d === null ? undefined : fromKekDoc(d);
    });
  }

  listKeks(): Promise<KekRecord[]> {
    return this.run('listKeks', async () => {
      const all = await this.keks.find({}).sort({ createdAt: 1, _id: 1 }).toArray();
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

  /** Settles stale journals, orphaned markers and old abort outcomes. */
  async recover(): Promise<void> {
    const cache = new Map<string, Resolution>();
    for (const j of await this.txns.find({}).toArray()) {
      // committed ones are finished at once (idempotent if their writer is at it too)
      const outcome = await this.outcomes.findOne({ _id: j._id });
      if (outcome?.outcome === 'commit') await this.rollForward(j._id);
      else await this.resolve(j._id, cache, true);
    }
    for (const doc of await this.objects.find({ txn: MARKED }).toArray()) {
      if (typeof doc.txn === 'string' && (await this.resolve(doc.txn, cache, false)) === 'gone') {
        await this.repairOrphan(doc);
      }
    }
    for (const d of await this.audit.find({ txn: MARKED }).toArray()) {
      if (typeof d.txn === 'string' && (await this.resolve(d.txn, cache, false)) === 'gone') {
        await this.audit.deleteOne({ _id: d._id, txn: d.txn });
      }
    }
    await this.outcomes.deleteMany({
      outcome: 'abort',
      at: { $lt: this.clock.now() - ABORT_OUTCOME_TTL_MS },
    });
    // claims of writers that died holding them: nobody contends for them again to find them stale
    await this.claims.deleteMany({ at: { $lt: this.clock.now() - this.config.txnTimeoutMs } });
  }

  // --- internals ---

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

  private isStale(at: number): boolean {
    return this.clock.now() - at > this.config.txnTimeoutMs;
  }

  /** Whether any atomic() has a journal; marked documents exist only then (or after a crash). */
  private async atomicInFlight(): Promise<boolean> {
    return (await this.txns.findOne({}, { projection: { _id: 1 } })) !== null;
  }

  /**
   * Runs `write` holding the right to move `id` on from `version`. A no-op
   * where conditional updates are atomic; on FerretDB the unique claim
   * document makes concurrent writers at one version lose with a conflict.
   */
  private async withClaim<T>(id: string, version: number, write: () => Promise<T>): Promise<T> {
    if (this.caps.atomicConditionalUpdate) return write();
    const claimId = `${id}#${version}`;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.claims.insertOne({ _id: claimId, at: this.clock.now() });
        break;
      } catch (err: unknown) {
        if (!isDuplicate(err)) throw err;
        const held = await this.claims.findOne({ _id: claimId });
        if (attempt === 0 && held !== null && this.isStale(held.at)) {
          // its writer died holding it
          await this.claims.deleteOne({ _id: claimId, at: held.at });
          continue;
        }
        if (attempt === 0 && held === null) continue;
        throw new VersionConflictError(`object ${id} is being changed (version ${version})`);
      }
    }
    try {
      return await write();
    } finally {
      await this.claims.deleteOne({ _id: claimId }).catch(() => undefined);
    }
  }

  private markedQuery(filter: LocateFilter): Document {
    return { txn: MARKED, $or: [buildQuery(filter), buildQuery(filter, 'pre.')] };
  }

  /** Objects matching the filter, resolving each marked document, paged here. */
  private async locateSlow(
    filter: LocateFilter,
    offset: number,
    limit: number | undefined,
  ): Promise<string[]> {
    const q = buildQuery(filter);
    const cursor = this.objects
      .find({ $or: [{ txn: UNMARKED, ...q }, this.markedQuery(filter)] })
      .sort({ seq: 1 })
      .batchSize(200);
    const cache = new Map<string, Resolution>();
    const ids: string[] = [];
    let skipped = 0;
    try {
      for await (const doc of cursor) {
        if (typeof doc.txn === 'string') {
          const img = await this.visibleImage(doc, cache);
          if (img === undefined || !matches(filter, img)) continue;
        }
        if (skipped < offset) {
          skipped++;
          continue;
        }
        ids.push(doc._id);
        if (limit !== undefined && ids.length >= limit) break;
      }
    } finally {
      await cursor.close().catch(() => undefined);
    }
    return ids;
  }

  private async visible(
    doc: WithId<ObjectDoc> | null,
    cache: Map<string, Resolution>,
  ): Promise<ObjectRecord | undefined> {
    if (doc === null) return undefined;
    const img = await this.visibleImage(doc, cache);
    return img === undefined ? undefined : fromImage(doc._id, img);
  }

  /** The image a reader sees of a document: itself, its pre-image, or nothing. */
  private async visibleImage(
    doc: WithId<ObjectDoc>,
    cache: Map<string, Resolution>,
  ): Promise<ObjectImage | undefined> {
    let current: WithId<ObjectDoc> | null = doc;
    for (let attempt = 0; attempt < 3 && current !== null; attempt++) {
      const txn = current.txn;
      if (typeof txn !== 'string') return current;
      const r = await this.resolve(txn, cache, true);
      if (r === 'committed') return current;
      if (r === 'uncommitted') return current.pre ?? undefined;
      // Neither journal nor outcome: the marker was cleared meanwhile, or it is an orphan.
      current = await this.objects.findOne({ _id: current._id });
      if (current !== null && current.txn === txn) {
        await this.repairOrphan(current);
        current = await this.objects.findOne({ _id: current._id });
      }
    }
    if (current === null) return undefined;
    return typeof current.txn === 'string' ? (current.pre ?? undefined) : current;
  }

  private async auditVisible(d: AuditDoc, cache: Map<string, Resolution>): Promise<boolean> {
    if (typeof d.txn !== 'string') return true;
    const r = await this.resolve(d.txn, cache, true);
    if (r === 'committed') return true;
    if (r === 'uncommitted') return false;
    const again = await this.audit.findOne({ _id: d._id });
    return again !== null && typeof again.txn !== 'string';
  }

  /**
   * What a transaction marker means now. With `settle`, a stale journal is
   * finished: rolled forward if committed, else aborted and rolled back.
   */
  private async resolve(txn: string, cache: Map<string, Resolution>, settle: boolean): Promise<Resolution> {
    const known = cache.get(txn);
    if (known !== undefined) return known;
    const outcome = await this.outcomes.findOne({ _id: txn });
    let r: Resolution;
    if (outcome?.outcome === 'commit') {
      r = 'committed';
      if (settle && this.isStale(outcome.at)) await this.rollForward(txn);
    } else {
      const j = await this.txns.findOne({ _id: txn });
      if (j === null) {
        r = outcome === null ? 'gone' : 'uncommitted';
      } else if (settle && this.isStale(j.at)) {
        r = (await this.rollBack(txn)) ? 'uncommitted' : 'committed';
      } else {
        r = 'uncommitted';
      }
    }
    if (r !== 'gone') cache.set(txn, r);
    return r;
  }

  /** A marker without journal or outcome: its write never committed, so undo it. */
  private async repairOrphan(doc: WithId<ObjectDoc>): Promise<void> {
    const txn = doc.txn;
    if (typeof txn !== 'string') return;
    const outcome = await this.outcomes.findOne({ _id: txn });
    if (outcome?.outcome === 'commit') {
      await this.objects.updateOne({ _id: doc._id, txn }, { $unset: { txn: '', pre: '' } });
      return;
    }
    if (outcome === null && (await this.txns.findOne({ _id: txn })) !== null) return;
    this.config.log.warn('mongo store: undoing an unfinished atomic write', { objectId: doc._id });
    await this.undoObject(doc._id, txn);
  }

  private async undoObject(id: string, txn: string): Promise<void> {
    const doc = await this.objects.findOne({ _id: id, txn });
    if (doc === null) return;
    if (doc.pre) {
      await this.objects.updateOne(
        { _id: id, txn },
        { $set: imageOf(doc.pre), $unset: { txn: '', pre: '' } },
      );
    } else {
      await this.objects.deleteOne({ _id: id, txn });
    }
  }

  private async markedIds(txn: string): Promise<string[]> {
    const j = await this.txns.findOne({ _id: txn });
    if (j !== null) return j.objects;
    const docs = await this.objects.find({ txn }, { projection: { _id: 1 } }).toArray();
    return docs.map((d) => d._id);
  }

  private async rollForward(txn: string): Promise<void> {
    const ids = await this.markedIds(txn);
    await this.objects.updateMany({ _id: { $in: ids }, txn }, { $unset: { txn: '', pre: '' } });
    await this.audit.updateMany({ txn }, { $unset: { txn: '' } });
    await this.txns.deleteOne({ _id: txn });
    await this.outcomes.deleteOne({ _id: txn, outcome: 'commit' });
  }

  /** Aborts and undoes a write; false when it had committed (then it is rolled forward). */
  private async rollBack(txn: string): Promise<boolean> {
    try {
      await this.outcomes.insertOne({ _id: txn, outcome: 'abort', at: this.clock.now() });
    } catch (err: unknown) {
      if (!isDuplicate(err)) throw err;
      const o = await this.outcomes.findOne({ _id: txn });
      if (o?.outcome === 'commit') {
        await this.rollForward(txn);
        return false;
      }
    }
    for (const id of await this.markedIds(txn)) await this.undoObject(id, txn);
    await this.audit.deleteMany({ txn });
    await this.txns.deleteOne({ _id: txn });
    return true;
  }

  /**
   * Appends audit records in order: one `$inc` by n reserves seqs for all of
   * them, one ordered insertMany writes them. A failure part-way leaves a
   * prefix of the records (each document whole) and loses the rest, never a
   * record out of order; an unwritten reserved seq is a gap, which readers and
   * `audit verify` ignore (verify checks each segment's own numbering, `n`).
   * On FerretDB `$inc` is not atomic: two nodes may get overlapping ranges;
   * the unique seq index refuses the second insert and the rest is numbered
   * again. A range that is not above what this node already wrote or linked
   * to (the counter went back under such a race) is not used either.
   */
  private async insertAudit(records: readonly AuditRecord[], txn: string | null): Promise<void> {
    let rest = records;
    for (let attempt = 0; rest.length > 0; attempt++) {
      const first = await this.reserveAuditSeqs(rest.length);
      try {
        await this.audit.insertMany(
          rest.map((r, i) => toAuditDoc(r, first + i, txn)),
          { ordered: true },
        );
        this.auditFloor = Math.max(this.auditFloor, first + rest.length - 1);
        return;
      } catch (err: unknown) {
        const written = insertedBeforeDuplicate(err);
        if (written === undefined || attempt >= 100) throw err;
        if (written > 0) this.auditFloor = Math.max(this.auditFloor, first + written - 1);
        rest = rest.slice(written);
      }
    }
  }

  /** The first of `n` fresh audit seqs, all above auditFloor. */
  private async reserveAuditSeqs(n: number): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const c = await this.counters
        .findOneAndUpdate({ _id: 'audit' }, { $inc: { seq: n } }, { upsert: true, returnDocument: 'after' })
        .catch((err: unknown) => {
          if (isDuplicate(err) && attempt < 100) return undefined; // two first appends both upserting
          throw err;
        });
      if (c === undefined || c === null) continue;
      const first = c.seq - n + 1;
      if (first > this.auditFloor) return first;
      if (attempt >= 100) throw new StoreUnavailableError('the audit counter keeps going back');
      await this.counters.updateOne({ _id: 'audit' }, { $max: { seq: this.auditFloor } });
    }
  }

  /** Folds the ops per object, checking each against the state the previous ones leave. */
  private async plan(ops: readonly WriteOp[]): Promise<Planned[]> {
    const ids = [...new Set(ops.flatMap((op) => (op.kind === 'audit' ? [] : [op.record.id])))];
    const stored = await this.objects.find({ _id: { $in: ids } }).toArray();
    const byId = new Map(stored.map((d) => [d._id, d]));
    const cache = new Map<string, Resolution>();
    const plans = new Map<string, Planned & { version: number | undefined }>();
    for (const op of ops) {
      if (op.kind === 'audit') continue;
      const id = op.record.id;
      let p = plans.get(id);
      if (p === undefined) {
        const doc = byId.get(id);
        if (doc !== undefined && typeof doc.txn === 'string') {
          const img = await this.visibleImage(doc, cache);
          if (img !== undefined || op.kind === 'update') {
            throw new VersionConflictError(`object ${id} is being changed`);
          }
        }
        p = { id, base: doc, final: op.record, version: doc?.version };
        plans.set(id, p);
      }
      if (op.kind === 'insert') {
        if (p.version !== undefined) throw new DuplicateIdError(`object ${id} already exists`);
      } else {
        checkNextVersion(op.record, op.expectedVersion);
        if (p.version === undefined) throw new NotFoundError(`object ${id} not found`);
        if (p.version !== op.expectedVersion) {
          throw new VersionConflictError(`object ${id} changed (expected version ${op.expectedVersion})`);
        }
      }
      p.final = op.record;
      p.version = op.record.version;
    }
    return [...plans.values()].map(({ id, base, final }) => ({ id, base, final }));
  }

  private async atomicWrite(ops: readonly WriteOp[]): Promise<void> {
    if (ops.length === 0) return;
    // 1. up-front checks: nothing is written when one fails
    const plans = await this.plan(ops);

    // 2. journal
    const txn = new ObjectId().toHexString();
    await this.txns.insertOne({ _id: txn, at: this.clock.now(), objects: plans.map((p) => p.id) });

    // 3. apply, marked; 4. commit
    try {
      for (const p of plans) {
        const base = p.base;
        if (base === undefined) {
          await this.objects.insertOne({
            _id: p.id,
            seq: this.nextSeq(),
            ...toImage(p.final),
            txn,
            pre: null,
          });
          continue;
        }
        await this.withClaim(p.id, base.version, async () => {
          const res = await this.objects.updateOne(
            { _id: p.id, version: base.version, txn: UNMARKED },
            { $set: { ...toImage(p.final), txn, pre: imageOf(base) } },
          );
          if (res.matchedCount !== 1) {
            throw new VersionConflictError(`object ${p.id} changed during the atomic write`);
          }
        });
      }
      const audit = auditRecords(ops);
      if (audit.length > 0) await this.insertAudit(audit, txn);
      try {
        await this.outcomes.insertOne({ _id: txn, outcome: 'commit', at: this.clock.now() });
      } catch (err: unknown) {
        if (!isDuplicate(err)) throw err;
        throw new StoreUnavailableError('atomic write outlived its timeout and was rolled back');
      }
    } catch (err: unknown) {
      const undone = await this.rollBack(txn).catch((e: unknown) => {
        this.config.log.warn('mongo store: rollback of an atomic write failed; recovery will finish it', {
          error: e instanceof Error ? e.message : String(e),
        });
        return true;
      });
      // the commit reached the server although its reply did not: it happened
      if (!undone) return;
      throw err;
    }

    // 5. committed: tidy up; a failure here only delays the tidying
    await this.rollForward(txn).catch((e: unknown) => {
      this.config.log.warn('mongo store: atomic write committed; marker cleanup deferred', {
        error: e instanceof Error ? e.message : String(e),
      });
    });
  }
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

function auditRecords(ops: readonly WriteOp[]): AuditRecord[] {
  return ops.flatMap((op) => (op.kind === 'audit' ? [op.record] : []));
}

/**
 * How many documents an ordered insertMany wrote before it stopped at a
 * duplicate key; undefined for any other failure (nothing known, or a write
 * concern error: then not even the written ones are acknowledged).
 */
function insertedBeforeDuplicate(err: unknown): number | undefined {
  if (!(err instanceof MongoBulkWriteError)) return undefined;
  if (err.result.getWriteConcernError() !== undefined) return undefined;
  const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  const first = errors[0];
  if (errors.length !== 1 || first === undefined || first.code !== DUPLICATE_KEY) return undefined;
  return first.index === err.insertedCount ? first.index : undefined;
}

function checkNextVersion(record: ObjectRecord, expectedVersion: number): void {
  if (record.version !== expectedVersion + 1) {
    throw new VersionConflictError(
      `object ${record.id}: new version ${record.version} is not ${expectedVersion} + 1`,
    );
  }
}

/**
 * Schema migrations, applied in order at open and recorded in `meta.schema`.
 * Each must be idempotent: several nodes may start at once.
 */
export const MONGO_SCHEMA_VERSION = 1;
const MONGO_MIGRATIONS: readonly ((this: MongoStore) => Promise<void>)[] = [
  MongoStore.prototype.migrateIndexes,
];
