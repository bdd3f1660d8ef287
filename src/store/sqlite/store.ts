/**
 * The SQLite ObjectStore. Reads run on this thread's connection (reads.ts,
 * record-cache.ts); writes are queued and group-committed (group-commit.ts)
 * by a writer on its own connection (writer-host.ts, writer.ts); opening is
 * opener.ts.
 */

import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { Logger } from '../../log.js';
import {
  type AuditRecord,
  DuplicateIdError,
  type GetOptions,
  type KekRecord,
  type LocateFilter,
  type LocatePage,
  type ObjectRecord,
  type ObjectStore,
  StoreUnavailableError,
  storeErrorCode,
  type WriteOp,
} from '../types.js';
import { GroupCommit } from './group-commit.js';
import { createPrivateFile, openSqlite, type SqliteStoreOptions } from './opener.js';
import {
  buildWhere,
  type ObjectRow,
  prepareStatements,
  type Statements,
  toAudit,
  toKek,
  toRecord,
} from './reads.js';
import { RecentRecords, StatementCache } from './record-cache.js';
import { AUDIT_SCHEMA, auditFileFor } from './schema.js';
import type { WriterJob } from './writer.js';
import type { WriterHandle } from './writer-host.js';

export type { SqliteStoreOptions } from './opener.js';

/** Counters for tests and metrics. */
export interface SqliteStoreStats {
  /** write transactions committed */
  commits: number;
  /** write operations (insert, update, atomic, audit, KEK) acknowledged or failed */
  ops: number;
  /** Gets answered from the decoded records of recent Gets */
  recentHits: number;
}

const READ_BATCH = 256;

function checkVersion(record: ObjectRecord, expectedVersion: number): void {
  if (record.version !== expectedVersion + 1)
    throw new RangeError('record.version must be expectedVersion + 1');
}

export class SqliteStore implements ObjectStore {
  readonly kind = 'sqlite' as const;
  readonly stats: SqliteStoreStats = { commits: 0, ops: 0, recentHits: 0 };
  readonly file: string;
  /** the audit trail's own file beside `file` (auditFileFor: kmip.db → kmip-audit.db) */
  readonly auditFile: string;

  readonly #db: Database.Database;
  readonly #log: Logger;
  readonly #writer: WriterHandle;
  readonly #commits: GroupCommit;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #backups = new Set<Promise<unknown>>();
  readonly #statements: StatementCache;
  readonly #s: Statements;
  /**
   * One read transaction: the object rows and their Locate index rows come
   * from the same snapshot, so every record is one committed version.
   */
  readonly #iterateBatch: (after: number, size: number) => { rows: ObjectRow[]; records: ObjectRecord[] };
  readonly #recent = new RecentRecords();

  /** @internal use openSqliteStore */
  constructor(db: Database.Database, file: string, auditFile: string, log: Logger, writer: WriterHandle) {
    this.#db = db;
    this.file = file;
    this.auditFile = auditFile;
    this.#log = log;
    this.#writer = writer;
    this.#commits = new GroupCommit(writer, this.stats, (e, what) => this.#mapError(e, what));
    this.#statements = new StatementCache(db);
    const s = prepareStatements(db);
    this.#s = s;
    this.#iterateBatch = db.transaction((after: number, size: number) => {
      const rows = s.objectsAfter.all(after, size);
      return { rows, records: rows.map((r) => toRecord(s, r)) };
    });
  }

  // ---- reads: run directly on this connection; in WAL mode a read sees only committed transactions

  async get(id: string, opts: GetOptions = {}): Promise<ObjectRecord | undefined> {
    return this.#read('get', () => {
      const indexFields = opts.indexFields ?? true;
      if (indexFields) {
        const row = this.#s.getObject.get(id);
        return row === undefined ? undefined : toRecord(this.#s, row, true);
      }
      // data_version before the row: see RecentRecords.validate
      this.#recent.validate(this.#s.dataVersion.get());
      const hit = this.#recent.get(id);
      if (hit !== undefined) {
        this.stats.recentHits++;
        return hit;
      }
      const row = this.#s.getObject.get(id);
      if (row === undefined) return undefined;
      const record = toRecord(this.#s, row, false);
      this.#recent.add(record);
      return record;
    });
  }

  async locate(filter: LocateFilter, page: LocatePage = {}): Promise<string[]> {
    return this.#read('locate', () => {
      const { where, params } = buildWhere(filter);
      const stmt = this.#statements.get(`SELECT o.id FROM objects o${where} ORDER BY o.seq LIMIT ? OFFSET ?`);
      const limit = page.limit === undefined ? -1 : Math.max(0, Math.floor(page.limit));
      const offset = Math.max(0, Math.floor(page.offset ?? 0));
      return stmt
        .pluck()
        .all(...params, limit, offset)
        .map((id) => String(id));
    });
  }

  async count(filter: LocateFilter): Promise<number> {
    return this.#read('count', () => {
      const { where, params } = buildWhere(filter);
      return Number(
        this.#statements
          .get(`SELECT count(*) FROM objects o${where}`)
          .pluck()
          .get(...params),
      );
    });
  }

  async *iterate(opts: { batchSize?: number } = {}): AsyncIterable<ObjectRecord> {
    const size = Math.max(1, Math.floor(opts.batchSize ?? READ_BATCH));
    let after = 0;
    for (;;) {
      const { rows, records } = this.#read('iterate', () => this.#iterateBatch(after, size));
      yield* records;
      const last = rows.at(-1);
      if (last === undefined || rows.length < size) return;
      after = last.seq;
      await yieldToEventLoop();
    }
  }

  async *readAudit(
    opts: { after?: number; limit?: number } = {},
  ): AsyncIterable<AuditRecord & { readonly seq: number }> {
    let after = opts.after ?? 0;
    let left = opts.limit ?? Number.POSITIVE_INFINITY;
    while (left > 0) {
      const n = Math.min(READ_BATCH, left);
      const rows = this.#read('readAudit', () => this.#s.auditAfter.all(after, n));
      for (const r of rows) yield toAudit(r);
      const last = rows.at(-1);
      if (last === undefined || rows.length < n) return;
      after = last.seq;
      left -= rows.length;
      await yieldToEventLoop();
    }
  }

  async lastAudit(): Promise<(AuditRecord & { readonly seq: number }) | undefined> {
    return this.#read('lastAudit', () => {
      const row = this.#s.lastAudit.get();
      return row === undefined ? undefined : toAudit(row);
    });
  }

  async getKek(id: string): Promise<KekRecord | undefined> {
    return this.#read('getKek', () => {
      const row = this.#s.getKek.get(id);
      return row === undefined ? undefined : toKek(row);
    });
  }

  async listKeks(): Promise<KekRecord[]> {
    return this.#read('listKeks', () => this.#s.listKeks.all().map(toKek));
  }

  // ---- writes: queued and group-committed

  insert(record: ObjectRecord): Promise<void> {
    return this.#write({ kind: 'insert', record: ownRecord(record) });
  }

  update(record: ObjectRecord, expectedVersion: number): Promise<void> {
    try {
      checkVersion(record, expectedVersion);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#write({ kind: 'update', record: ownRecord(record), expectedVersion });
  }

  appendAudit(record: AuditRecord): Promise<void> {
    return this.#write({ kind: 'audit', record });
  }

  atomic(ops: readonly WriteOp[]): Promise<void> {
    try {
      for (const op of ops) if (op.kind === 'update') checkVersion(op.record, op.expectedVersion);
    } catch (e) {
      return Promise.reject(e);
    }
    const list = ops.map((op) => (op.kind === 'audit' ? op : { ...op, record: ownRecord(op.record) }));
    return this.#write({ kind: 'atomic', ops: list });
  }

  putKek(kek: KekRecord): Promise<void> {
    return this.#write({ kind: 'kek', kek: { ...kek, wrapped: own(kek.wrapped) } });
  }

  /** One transaction: all of it or none. */
  undoRestore(written: {
    readonly objectIds: readonly string[];
    readonly kekIds: readonly string[];
    readonly auditAfter: number;
  }): Promise<void> {
    return this.#write({
      kind: 'undoRestore',
      objectIds: [...written.objectIds],
      kekIds: [...written.kekIds],
      auditAfter: written.auditAfter,
    });
  }

  /**
   * Online copy of the store into `destFile` and its audit file beside it
   * (auditFileFor(destFile)), both mode 0600, page by page without blocking the
   * event loop for long. Each file is a consistent snapshot; the audit file is
   * copied first, so that every object an audit record names (a segment's key)
   * is in the later copy of the main file. Not part of ObjectStore: see
   * src/store/backup.ts for the backend-independent form.
   */
  async backup(destFile: string): Promise<void> {
    if (this.#closed) throw new StoreUnavailableError('storage unavailable: the store is closed');
    const dest = path.resolve(destFile);
    const auditDest = auditFileFor(dest);
    await mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
    await this.#backupSchema(AUDIT_SCHEMA, auditDest);
    await this.#backupSchema('main', dest);
  }

  async #backupSchema(schema: string, dest: string): Promise<void> {
    await createPrivateFile(dest);
    // `attached` is an option of better-sqlite3's backup() that @types/better-sqlite3 lacks
    const backup = this.#db.backup as unknown as (file: string, o: { attached: string }) => Promise<unknown>;
    const run = backup.call(this.#db, dest, { attached: schema });
    this.#backups.add(run);
    try {
      await run;
    } catch (e) {
      throw this.#mapError(e, 'backup');
    } finally {
      this.#backups.delete(run);
    }
    await chmod(dest, 0o600);
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** For tests: the value of a PRAGMA on the read connection, for the main file or the audit file. */
  pragma(
    name: 'journal_mode' | 'synchronous' | 'foreign_keys' | 'busy_timeout' | 'data_version',
    schema: 'main' | typeof AUDIT_SCHEMA = 'main',
  ): unknown {
    return this.#db.pragma(`${schema}.${name}`, { simple: true });
  }

  async #close(): Promise<void> {
    this.#closed = true;
    await this.#commits.drain();
    await Promise.allSettled([...this.#backups]);
    let failure: unknown;
    try {
      await this.#writer.close();
    } catch (e) {
      failure = e;
    }
    try {
      this.#db.close();
    } catch (e) {
      failure ??= e;
    }
    if (failure !== undefined) throw this.#mapError(failure, 'close');
  }

  #read<T>(what: string, fn: () => T): T {
    if (this.#closed) throw new StoreUnavailableError('storage unavailable: the store is closed');
    try {
      return fn();
    } catch (e) {
      throw this.#mapError(e, what);
    }
  }

  #write(job: WriterJob): Promise<void> {
    if (this.#closed)
      return Promise.reject(new StoreUnavailableError('storage unavailable: the store is closed'));
    return this.#commits.push(job);
  }

  /** Store errors pass through; anything else is logged (never shown to callers: it may hold SQL). */
  #mapError(e: unknown, what: string): Error {
    if (storeErrorCode(e) !== undefined || e instanceof RangeError) return e as Error;
    const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
    const message = e instanceof Error ? e.message : String(e);
    if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
      this.#log.debug('sqlite constraint violation', { op: what, code, error: message });
      return new DuplicateIdError('an object with this identifier already exists');
    }
    if (typeof code === 'string' && code.startsWith('SQLITE_'))
      this.#log.debug('sqlite store error', { op: what, code, error: message });
    else this.#log.error('sqlite store failure', { op: what, error: message });
    return new StoreUnavailableError('storage unavailable');
  }
}

/** A copy when the view shares its ArrayBuffer (Node's pool): a postMessage clones the whole buffer. */
function own(u: Uint8Array): Uint8Array {
  return u.byteOffset === 0 && u.byteLength === u.buffer.byteLength ? u : Uint8Array.prototype.slice.call(u);
}

function ownRecord(r: ObjectRecord): ObjectRecord {
  return {
    ...r,
    attributes: own(r.attributes),
    sealed:
      r.sealed === undefined
        ? undefined
        : { kekId: r.sealed.kekId, nonce: own(r.sealed.nonce), ciphertext: own(r.sealed.ciphertext) },
  };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Opens (creating if needed) the SQLite store in `file` and its audit file
 * beside it (auditFileFor: `kmip.db` → `kmip-audit.db`): directory mode 0700,
 * files mode 0600, WAL, migrations applied. Objects, KEKs and meta stay in
 * `file`; only the audit trail is in the audit file, so that the audit record
 * of every request does not invalidate the read connection's cache of `file`.
 */
export function openSqliteStore(file: string, opts: SqliteStoreOptions = {}): Promise<SqliteStore> {
  return openSqlite(file, opts, (p) => new SqliteStore(p.db, p.file, p.auditFile, p.log, p.writer));
}
