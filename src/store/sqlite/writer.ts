/**
 * The write side of the SQLite store: one connection that group-commits
 * batches of writes, each write in its own savepoint. It runs in a worker
 * thread (writer-thread.ts), so that statement execution and the COMMIT's
 * fsync do not hold the server's event loop; reads stay on the main thread's
 * connection (WAL: readers see only committed transactions).
 */
import type Database from 'better-sqlite3';
import {
  type AuditRecord,
  DuplicateIdError,
  type KekRecord,
  NotFoundError,
  type ObjectRecord,
  storeErrorCode,
  VersionConflictError,
  type WriteOp,
} from '../types.js';
import { AUDIT_SCHEMA, attachAuditFile } from './schema.js';

/** One queued write; the unit that succeeds or fails on its own within a batch. */
export type WriterJob =
  | { readonly kind: 'insert'; readonly record: ObjectRecord }
  | { readonly kind: 'update'; readonly record: ObjectRecord; readonly expectedVersion: number }
  | { readonly kind: 'audit'; readonly record: AuditRecord }
  | { readonly kind: 'atomic'; readonly ops: readonly WriteOp[] }
  | { readonly kind: 'kek'; readonly kek: KekRecord }
  | {
      readonly kind: 'undoRestore';
      readonly objectIds: readonly string[];
      readonly kekIds: readonly string[];
      readonly auditAfter: number;
    };

/**
 * A batch as handed to the writer. Audit-only jobs (appendAudit, and the audit
 * trail's atomic() of audit records: nearly every write under load) travel as
 * flat field values rather than job objects: a postMessage clones a flat array
 * of primitives for about 60 % of the main-thread CPU that the nested
 * { kind, ops: [{ kind, record: { …, detail } }] } graph costs.
 */
export interface WriterBatch {
  /** per job, in order: the job, or the number of audit records (taken in order from `audit`) it appends */
  readonly jobs: readonly (WriterJob | number)[];
  /** AUDIT_FIELDS values per record: at, actor ?? null, operation, objectId ?? null, outcome, detail */
  readonly audit: readonly AuditField[];
}

type AuditField = number | string | null | AuditRecord['detail'];
const AUDIT_FIELDS = 6;

function pushAudit(audit: AuditField[], a: AuditRecord): void {
  // detail stays an object: cloning it costs less main-thread CPU than a JSON.stringify here,
  // and the writer's JSON.stringify of the clone is the same text as before
  audit.push(a.at, a.actor ?? null, a.operation, a.objectId ?? null, a.outcome, a.detail);
}

/** The wire form of a batch (WriterBatch); the jobs' semantics (one savepoint each, order) are unchanged. */
export function encodeBatch(jobs: readonly WriterJob[]): WriterBatch {
  const out: (WriterJob | number)[] = [];
  const audit: AuditField[] = [];
  for (const job of jobs) {
    if (job.kind === 'audit') {
      pushAudit(audit, job.record);
      out.push(1);
    } else if (job.kind === 'atomic' && job.ops.every((op) => op.kind === 'audit')) {
      for (const op of job.ops) pushAudit(audit, op.record);
      out.push(job.ops.length);
    } else out.push(job);
  }
  return { jobs: out, audit };
}

/** An error crossing the thread boundary (class identity does not survive a postMessage). */
export interface WriterError {
  readonly code?: string;
  readonly range?: boolean;
  readonly message: string;
}

/** Outcome of one batch: one entry per job (null = written), or the transaction failed as a whole. */
export type BatchResult =
  | { readonly committed: true; readonly outcomes: readonly (WriterError | null)[] }
  | { readonly committed: false; readonly error: WriterError };

export type ToWriter =
  | ({ readonly type: 'batch'; readonly id: number } & WriterBatch)
  | { readonly type: 'close' };

export type FromWriter =
  | { readonly type: 'ready' }
  | { readonly type: 'open-failed'; readonly error: WriterError }
  | ({ readonly type: 'done'; readonly id: number } & BatchResult)
  | { readonly type: 'closed' };

export interface WriterData {
  readonly file: string;
  /** the audit trail's file (schema.ts, auditFileFor), attached as `audit` */
  readonly auditFile: string;
  readonly busyTimeoutMs: number;
}

export function toWriterError(e: unknown): WriterError {
  const message = e instanceof Error ? e.message : String(e);
  const code =
    storeErrorCode(e) ?? (typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined);
  return {
    message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(e instanceof RangeError ? { range: true } : {}),
  };
}

/** The objects row's columns after its id, in the order of insertObject and updateObject. */
function objectColumns(r: ObjectRecord): unknown[] {
  return [
    r.version,
    r.objectType,
    r.state,
    r.owner ?? null,
    r.algorithm ?? null,
    r.length ?? null,
    r.createdAt,
    r.updatedAt,
    r.tombstoned ? 1 : 0,
    blob(r.attributes),
    r.sealed?.kekId ?? null,
    r.sealed === undefined ? null : blob(r.sealed.nonce),
    r.sealed === undefined ? null : blob(r.sealed.ciphertext),
  ];
}

/** Buffer view over a Uint8Array without copying (better-sqlite3 binds Buffers as BLOBs). */
function blob(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** Attachment and pragmas of the write connection: see openSqliteStore for why each is set. */
export function configureWriteConnection(db: Database.Database, auditFile: string): void {
  attachAuditFile(db, auditFile);
  // synchronous and cache_size are per schema: the audit file gets its own
  db.pragma('synchronous = FULL');
  db.pragma(`${AUDIT_SCHEMA}.synchronous = FULL`);
  db.pragma('foreign_keys = ON');
  db.pragma('cache_size = -65536');
  db.pragma(`${AUDIT_SCHEMA}.cache_size = -16384`);
  db.pragma('temp_store = MEMORY');
  db.pragma('wal_autocheckpoint = 10000');
}

export class BatchWriter {
  readonly #db: Database.Database;
  readonly #s: ReturnType<typeof prepare>;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#s = prepare(db);
  }

  /** One transaction for the whole batch; a failing job rolls back to its savepoint only. */
  run(batch: WriterBatch): BatchResult {
    const outcomes: (WriterError | null)[] = [];
    const { jobs, audit } = batch;
    let next = 0;
    try {
      this.#s.begin.run();
      for (const job of jobs) {
        this.#s.savepoint.run();
        // advanced before the job runs: a failing job must not shift where the next one's values start
        const from = next;
        if (typeof job === 'number') next += job * AUDIT_FIELDS;
        try {
          if (typeof job === 'number') this.#auditRows(audit, from, next);
          else this.#apply(job);
          this.#s.release.run();
          outcomes.push(null);
        } catch (e) {
          this.#s.rollbackTo.run();
          this.#s.release.run();
          outcomes.push(toWriterError(e));
        }
      }
      this.#s.commit.run();
      return { committed: true, outcomes };
    } catch (e) {
      // the transaction itself failed (I/O error, disk full, lock timeout): nothing was committed
      try {
        if (this.#db.inTransaction) this.#s.rollback.run();
      } catch {
        // the original error is the one to report
      }
      return { committed: false, error: toWriterError(e) };
    }
  }

  #apply(job: WriterJob): void {
    switch (job.kind) {
      case 'insert':
        this.#insert(job.record);
        return;
      case 'update':
        this.#update(job.record, job.expectedVersion);
        return;
      case 'audit':
        this.#audit(job.record);
        return;
      case 'kek': {
        const k = job.kek;
        this.#s.putKek.run(k.id, k.masterKeyId, blob(k.wrapped), k.createdAt, k.active ? 1 : 0);
        return;
      }
      case 'undoRestore':
        // index rows go with their object (ON DELETE CASCADE)
        for (const id of job.objectIds) this.#s.deleteObject.run(id);
        for (const id of job.kekIds) this.#s.deleteKek.run(id);
        this.#s.deleteAuditAfter.run(job.auditAfter);
        return;
      case 'atomic':
        for (const op of job.ops) {
          if (op.kind === 'insert') this.#insert(op.record);
          else if (op.kind === 'update') this.#update(op.record, op.expectedVersion);
          else this.#audit(op.record);
        }
    }
  }

  #insert(r: ObjectRecord): void {
    if (this.#s.exists.get(r.id) !== undefined) throw new DuplicateIdError(`object ${r.id} already exists`);
    const { lastInsertRowid } = this.#s.insertObject.run(r.id, ...objectColumns(r));
    this.#insertIndexRows(Number(lastInsertRowid), r);
  }

  #update(r: ObjectRecord, expectedVersion: number): void {
    // conditional UPDATE: the version check holds across connections and processes
    const updated = this.#s.updateObject.get(...objectColumns(r), r.id, expectedVersion);
    if (updated === undefined) {
      const current = this.#s.exists.get(r.id);
      if (current === undefined) throw new NotFoundError(`object ${r.id} not found`);
      throw new VersionConflictError(
        `object ${r.id} is at version ${current.version}, not ${expectedVersion}`,
      );
    }
    const { seq } = updated;
    this.#s.deleteNames.run(seq);
    this.#s.deleteGroups.run(seq);
    this.#s.deleteDates.run(seq);
    this.#s.deleteCustom.run(seq);
    this.#insertIndexRows(seq, r);
  }

  #insertIndexRows(seq: number, r: ObjectRecord): void {
    for (const [i, name] of r.names.entries()) this.#s.insertName.run(seq, i, name);
    for (const [i, grp] of r.objectGroups.entries()) this.#s.insertGroup.run(seq, i, grp);
    for (const [field, value] of Object.entries(r.dates)) this.#s.insertDate.run(seq, field, value);
    for (const [name, values] of Object.entries(r.custom))
      for (const [i, value] of values.entries()) this.#s.insertCustom.run(seq, name, i, value);
  }

  #auditRows(audit: readonly AuditField[], from: number, to: number): void {
    if (to > audit.length) throw new RangeError('the batch holds fewer audit values than its jobs name');
    for (let i = from; i < to; i += AUDIT_FIELDS)
      this.#s.insertAudit.run(
        audit[i],
        audit[i + 1],
        audit[i + 2],
        audit[i + 3],
        audit[i + 4],
        JSON.stringify(audit[i + 5]),
      );
  }

  #audit(a: AuditRecord): void {
    this.#s.insertAudit.run(
      a.at,
      a.actor ?? null,
      a.operation,
      a.objectId ?? null,
      a.outcome,
      JSON.stringify(a.detail),
    );
  }
}

function prepare(db: Database.Database) {
  const p = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
  return {
    begin: p('BEGIN IMMEDIATE'),
    commit: p('COMMIT'),
    rollback: p('ROLLBACK'),
    savepoint: p('SAVEPOINT op'),
    release: p('RELEASE op'),
    rollbackTo: p('ROLLBACK TO op'),
    exists: p<{ version: number }>('SELECT version FROM objects WHERE id = ?'),
    insertObject: p(
      `INSERT INTO objects (id, version, object_type, state, owner, algorithm, length, created_at, updated_at,
         tombstoned, attributes, sealed_kek, sealed_nonce, sealed_ct)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    updateObject: p<{ seq: number }>(
      `UPDATE objects SET version = ?, object_type = ?, state = ?, owner = ?, algorithm = ?, length = ?,
         created_at = ?, updated_at = ?, tombstoned = ?, attributes = ?, sealed_kek = ?, sealed_nonce = ?,
         sealed_ct = ?
       WHERE id = ? AND version = ?
       RETURNING seq`,
    ),
    deleteNames: p('DELETE FROM object_names WHERE oid = ?'),
    deleteGroups: p('DELETE FROM object_groups WHERE oid = ?'),
    deleteDates: p('DELETE FROM object_dates WHERE oid = ?'),
    deleteCustom: p('DELETE FROM object_custom WHERE oid = ?'),
    insertName: p('INSERT INTO object_names (oid, pos, name) VALUES (?, ?, ?)'),
    insertGroup: p('INSERT INTO object_groups (oid, pos, grp) VALUES (?, ?, ?)'),
    insertDate: p('INSERT INTO object_dates (oid, field, value) VALUES (?, ?, ?)'),
    insertCustom: p('INSERT INTO object_custom (oid, name, pos, value) VALUES (?, ?, ?, ?)'),
    insertAudit: p(
      `INSERT INTO ${AUDIT_SCHEMA}.audit (at, actor, operation, object_id, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    deleteObject: p('DELETE FROM objects WHERE id = ?'),
    deleteKek: p('DELETE FROM keks WHERE id = ?'),
    deleteAuditAfter: p(`DELETE FROM ${AUDIT_SCHEMA}.audit WHERE seq > ?`),
    putKek: p(
      `INSERT INTO keks (id, master_key_id, wrapped, created_at, active) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET master_key_id = excluded.master_key_id, wrapped = excluded.wrapped,
         created_at = excluded.created_at, active = excluded.active`,
    ),
  };
}
