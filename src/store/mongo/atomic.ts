/**
 * Multi-document atomicity without transactions (see docs/mongodb.md), so
 * that the same code runs on a replica set, a sharded cluster and FerretDB.
 *
 * Conditional writes. On MongoDB `updateOne({_id, version})` is atomic. On
 * FerretDB 1.24 it is not (the handler reads, then writes by _id, with no
 * compare-and-set), so there a writer first claims the transition by
 * inserting `claims/<id>#<version>` — an insert on a unique _id is atomic on
 * both — and deletes the claim once its write is done. The capability is
 * detected once at open (buildInfo.ferretdbVersion).
 *
 * An atomic() write, in the steps write() runs (each also callable alone):
 *  1. plan(): check every op up front, folding several ops on one id into one
 *     write: a failure here leaves nothing behind;
 *  2. begin(): insert a journal {_id: txn, objects: [ids]} in `txns`;
 *  3. stage(): write each object marked `txn: <txn>`; an update keeps the
 *     image it replaced in `pre`, an insert has `pre: null`; audit records are
 *     marked too;
 *  4. commit(): insert `txn_outcomes/<txn> = commit`. The single point at
 *     which everything becomes visible. A helper that finds the journal stale
 *     inserts `abort` instead; the unique _id lets only one of them win;
 *  5. finish(): clear the markers, delete the journal, delete the outcome.
 * Readers resolve a marked document (visibleImage): outcome commit → the
 * document, otherwise its `pre` image (nothing for an insert). Stale journals
 * (older than txnTimeoutMs) are rolled back, committed ones rolled forward, by
 * recover() (at open and periodically) and lazily by whichever reader meets
 * them. A committed write's journal and outcome outlive its markers, and abort
 * outcomes are kept for an hour, so a marker with neither journal nor outcome
 * belongs to a write that never committed and is undone.
 *
 * Times are the database's (DatabaseClock), never a node's wall clock.
 */

import { ObjectId, type WithId } from 'mongodb';
import type { Logger } from '../../log.js';
import {
  type AuditRecord,
  DuplicateIdError,
  NotFoundError,
  type ObjectRecord,
  StoreUnavailableError,
  VersionConflictError,
  type WriteOp,
} from '../types.js';
import type { AuditAppender } from './audit.js';
import type { DatabaseClock } from './clock.js';
import { MARKED, type MongoCollections, UNMARKED } from './collections.js';
import { type AuditDoc, imageOf, type ObjectDoc, type ObjectImage, toImage } from './documents.js';
import { isDuplicate } from './errors.js';
import type { MongoCapabilities } from './schema.js';

/** How a reader sees a transaction marker. */
export type Resolution = 'committed' | 'uncommitted' | 'gone';
/** Resolutions already made during one read, by txn. */
export type ResolutionCache = Map<string, Resolution>;

/** One object's writes inside an atomic(), folded. */
export interface Planned {
  id: string;
  /** the stored document before, undefined for an insert */
  base: WithId<ObjectDoc> | undefined;
  final: ObjectRecord;
}

export interface AtomicConfig {
  log: Logger;
  /** a pending atomic() (or a claim) older than this is presumed dead and undone by others */
  txnTimeoutMs: number;
  /** creation-order keys for inserted documents (documents.ts seqGenerator) */
  nextSeq: () => ObjectId;
}

const ABORT_OUTCOME_TTL_MS = 3_600_000;

export class AtomicProtocol {
  /** set at open, once the server is known */
  capabilities: MongoCapabilities = { atomicConditionalUpdate: true };

  constructor(
    private readonly c: MongoCollections,
    private readonly clock: DatabaseClock,
    private readonly auditLog: AuditAppender,
    private readonly config: AtomicConfig,
  ) {}

  // ---- writers

  /** An atomic() write of objects (and audit records with them): all of it or none. */
  async write(ops: readonly WriteOp[]): Promise<void> {
    if (ops.length === 0) return;
    const plans = await this.plan(ops);
    const txn = await this.begin(plans);
    try {
      await this.stage(txn, plans, auditRecords(ops));
      await this.commit(txn);
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
    // committed: tidy up; a failure here only delays the tidying
    await this.finish(txn).catch((e: unknown) => {
      this.config.log.warn('mongo store: atomic write committed; marker cleanup deferred', {
        error: e instanceof Error ? e.message : String(e),
      });
    });
  }

  /** Step 1: folds the ops per object, checking each against the state the previous ones leave. */
  async plan(ops: readonly WriteOp[]): Promise<Planned[]> {
    const ids = [...new Set(ops.flatMap((op) => (op.kind === 'audit' ? [] : [op.record.id])))];
    const stored = await this.c.objects.find({ _id: { $in: ids } }).toArray();
    const byId = new Map(stored.map((d) => [d._id, d]));
    const cache: ResolutionCache = new Map();
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

  /** Step 2: the journal; returns the new write's txn id. */
  async begin(plans: readonly Planned[]): Promise<string> {
    const txn = new ObjectId().toHexString();
    await this.c.txns.insertOne({ _id: txn, at: this.clock.now(), objects: plans.map((p) => p.id) });
    return txn;
  }

  /** Step 3: every object and audit record written, marked with `txn`, invisible until commit. */
  async stage(txn: string, plans: readonly Planned[], audit: readonly AuditRecord[]): Promise<void> {
    for (const p of plans) {
      const base = p.base;
      if (base === undefined) {
        await this.c.objects.insertOne({
          _id: p.id,
          seq: this.config.nextSeq(),
          ...toImage(p.final),
          txn,
          pre: null,
        });
        continue;
      }
      await this.withClaim(p.id, base.version, async () => {
        const res = await this.c.objects.updateOne(
          { _id: p.id, version: base.version, txn: UNMARKED },
          { $set: { ...toImage(p.final), txn, pre: imageOf(base) } },
        );
        if (res.matchedCount !== 1) {
          throw new VersionConflictError(`object ${p.id} changed during the atomic write`);
        }
      });
    }
    if (audit.length > 0) await this.auditLog.append(audit, txn);
  }

  /** Step 4: the commit point; fails when a helper aborted the write first (it was stale). */
  async commit(txn: string): Promise<void> {
    try {
      await this.c.outcomes.insertOne({ _id: txn, outcome: 'commit', at: this.clock.now() });
    } catch (err: unknown) {
      if (!isDuplicate(err)) throw err;
      throw new StoreUnavailableError('atomic write outlived its timeout and was rolled back');
    }
  }

  /** Step 5 (and recovery of a committed write): clears its markers, journal and outcome. */
  async finish(txn: string): Promise<void> {
    const ids = await this.markedIds(txn);
    await this.c.objects.updateMany({ _id: { $in: ids }, txn }, { $unset: { txn: '', pre: '' } });
    await this.c.audit.updateMany({ txn }, { $unset: { txn: '' } });
    await this.c.txns.deleteOne({ _id: txn });
    await this.c.outcomes.deleteOne({ _id: txn, outcome: 'commit' });
  }

  /** Aborts and undoes a write; false when it had committed (then it is finished instead). */
  async rollBack(txn: string): Promise<boolean> {
    try {
      await this.c.outcomes.insertOne({ _id: txn, outcome: 'abort', at: this.clock.now() });
    } catch (err: unknown) {
      if (!isDuplicate(err)) throw err;
      const o = await this.c.outcomes.findOne({ _id: txn });
      if (o?.outcome === 'commit') {
        await this.finish(txn);
        return false;
      }
    }
    for (const id of await this.markedIds(txn)) await this.undoObject(id, txn);
    await this.c.audit.deleteMany({ txn });
    await this.c.txns.deleteOne({ _id: txn });
    return true;
  }

  /** A single-object update outside atomic(): conditional on the version and on no marker. */
  async update(record: ObjectRecord, expectedVersion: number): Promise<void> {
    checkNextVersion(record, expectedVersion);
    await this.withClaim(record.id, expectedVersion, async () => {
      for (let attempt = 0; ; attempt++) {
        const res = await this.c.objects.updateOne(
          { _id: record.id, version: expectedVersion, txn: UNMARKED },
          { $set: toImage(record) },
        );
        if (res.matchedCount === 1) return;
        const doc = await this.c.objects.findOne({ _id: record.id });
        if (doc === null) throw new NotFoundError(`object ${record.id} not found`);
        if (typeof doc.txn !== 'string' || attempt >= 3) {
          throw new VersionConflictError(`object ${record.id} changed (expected version ${expectedVersion})`);
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
  }

  /**
   * Runs `write` holding the right to move `id` on from `version`. A no-op
   * where conditional updates are atomic; on FerretDB the unique claim
   * document makes concurrent writers at one version lose with a conflict.
   */
  async withClaim<T>(id: string, version: number, write: () => Promise<T>): Promise<T> {
    if (this.capabilities.atomicConditionalUpdate) return write();
    const claimId = `${id}#${version}`;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.c.claims.insertOne({ _id: claimId, at: this.clock.now() });
        break;
      } catch (err: unknown) {
        if (!isDuplicate(err)) throw err;
        const held = await this.c.claims.findOne({ _id: claimId });
        if (attempt === 0 && held !== null && this.isStale(held.at)) {
          // its writer died holding it
          await this.c.claims.deleteOne({ _id: claimId, at: held.at });
          continue;
        }
        if (attempt === 0 && held === null) continue;
        throw new VersionConflictError(`object ${id} is being changed (version ${version})`);
      }
    }
    try {
      return await write();
    } finally {
      await this.c.claims.deleteOne({ _id: claimId }).catch(() => undefined);
    }
  }

  // ---- readers

  /** Whether any atomic() has a journal; marked documents exist only then (or after a crash). */
  async inFlight(): Promise<boolean> {
    return (await this.c.txns.findOne({}, { projection: { _id: 1 } })) !== null;
  }

  /** The image a reader sees of a document: itself, its pre-image, or nothing. */
  async visibleImage(doc: WithId<ObjectDoc>, cache: ResolutionCache): Promise<ObjectImage | undefined> {
    let current: WithId<ObjectDoc> | null = doc;
    for (let attempt = 0; attempt < 3 && current !== null; attempt++) {
      const txn = current.txn;
      if (typeof txn !== 'string') return current;
      const r = await this.resolve(txn, cache, true);
      if (r === 'committed') return current;
      if (r === 'uncommitted') return current.pre ?? undefined;
      // Neither journal nor outcome: the marker was cleared meanwhile, or it is an orphan.
      current = await this.c.objects.findOne({ _id: current._id });
      if (current !== null && current.txn === txn) {
        await this.repairOrphan(current);
        current = await this.c.objects.findOne({ _id: current._id });
      }
    }
    if (current === null) return undefined;
    return typeof current.txn === 'string' ? (current.pre ?? undefined) : current;
  }

  async auditVisible(d: AuditDoc, cache: ResolutionCache): Promise<boolean> {
    if (typeof d.txn !== 'string') return true;
    const r = await this.resolve(d.txn, cache, true);
    if (r === 'committed') return true;
    if (r === 'uncommitted') return false;
    const again = await this.c.audit.findOne({ _id: d._id });
    return again !== null && typeof again.txn !== 'string';
  }

  /**
   * What a transaction marker means now. With `settle`, a stale journal is
   * finished: rolled forward if committed, else aborted and rolled back.
   */
  async resolve(txn: string, cache: ResolutionCache, settle: boolean): Promise<Resolution> {
    const known = cache.get(txn);
    if (known !== undefined) return known;
    const outcome = await this.c.outcomes.findOne({ _id: txn });
    let r: Resolution;
    if (outcome?.outcome === 'commit') {
      r = 'committed';
      if (settle && this.isStale(outcome.at)) await this.finish(txn);
    } else {
      const j = await this.c.txns.findOne({ _id: txn });
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

  // ---- recovery

  /** Settles stale journals, orphaned markers, old abort outcomes and dead claims. */
  async recover(): Promise<void> {
    const cache: ResolutionCache = new Map();
    for (const j of await this.c.txns.find({}).toArray()) {
      // committed ones are finished at once (idempotent if their writer is at it too)
      const outcome = await this.c.outcomes.findOne({ _id: j._id });
      if (outcome?.outcome === 'commit') await this.finish(j._id);
      else await this.resolve(j._id, cache, true);
    }
    for (const doc of await this.c.objects.find({ txn: MARKED }).toArray()) {
      if (typeof doc.txn === 'string' && (await this.resolve(doc.txn, cache, false)) === 'gone') {
        await this.repairOrphan(doc);
      }
    }
    for (const d of await this.c.audit.find({ txn: MARKED }).toArray()) {
      if (typeof d.txn === 'string' && (await this.resolve(d.txn, cache, false)) === 'gone') {
        await this.c.audit.deleteOne({ _id: d._id, txn: d.txn });
      }
    }
    await this.c.outcomes.deleteMany({
      outcome: 'abort',
      at: { $lt: this.clock.now() - ABORT_OUTCOME_TTL_MS },
    });
    // claims of writers that died holding them: nobody contends for them again to find them stale
    await this.c.claims.deleteMany({ at: { $lt: this.clock.now() - this.config.txnTimeoutMs } });
  }

  /** A marker without journal or outcome: its write never committed, so undo it. */
  private async repairOrphan(doc: WithId<ObjectDoc>): Promise<void> {
    const txn = doc.txn;
    if (typeof txn !== 'string') return;
    const outcome = await this.c.outcomes.findOne({ _id: txn });
    if (outcome?.outcome === 'commit') {
      await this.c.objects.updateOne({ _id: doc._id, txn }, { $unset: { txn: '', pre: '' } });
      return;
    }
    if (outcome === null && (await this.c.txns.findOne({ _id: txn })) !== null) return;
    this.config.log.warn('mongo store: undoing an unfinished atomic write', { objectId: doc._id });
    await this.undoObject(doc._id, txn);
  }

  private async undoObject(id: string, txn: string): Promise<void> {
    const doc = await this.c.objects.findOne({ _id: id, txn });
    if (doc === null) return;
    if (doc.pre) {
      await this.c.objects.updateOne(
        { _id: id, txn },
        { $set: imageOf(doc.pre), $unset: { txn: '', pre: '' } },
      );
    } else {
      await this.c.objects.deleteOne({ _id: id, txn });
    }
  }

  private async markedIds(txn: string): Promise<string[]> {
    const j = await this.c.txns.findOne({ _id: txn });
    if (j !== null) return j.objects;
    const docs = await this.c.objects.find({ txn }, { projection: { _id: 1 } }).toArray();
    return docs.map((d) => d._id);
  }

  private isStale(at: number): boolean {
    return this.clock.now() - at > this.config.txnTimeoutMs;
  }
}

export function auditRecords(ops: readonly WriteOp[]): AuditRecord[] {
  return ops.flatMap((op) => (op.kind === 'audit' ? [op.record] : []));
}

function checkNextVersion(record: ObjectRecord, expectedVersion: number): void {
  if (record.version !== expectedVersion + 1) {
    throw new VersionConflictError(
      `object ${record.id}: new version ${record.version} is not ${expectedVersion} + 1`,
    );
  }
}
