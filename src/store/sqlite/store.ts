import { chmod, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { type Logger, silentLogger } from '../../log.js';
import {
  type AuditRecord,
  DuplicateIdError,
  type GetOptions,
  type KekRecord,
  type LocateFilter,
  type LocatePage,
  NotFoundError,
  type ObjectRecord,
  type ObjectStore,
  StoreUnavailableError,
  storeErrorCode,
  VersionConflictError,
  type WriteOp,
} from '../types.js';
import { migrate, SchemaTooNewError } from './schema.js';

export interface SqliteStoreOptions {
  log?: Logger;
  /** how long a write waits for a lock held by another connection (ms); default 5000 */
  busyTimeoutMs?: number;
}

/** Counters for tests and metrics. */
export interface SqliteStoreStats {
  /** write transactions committed */
  commits: number;
  /** write operations (insert, update, atomic, audit, KEK) acknowledged or failed */
  ops: number;
}

interface ObjectRow {
  seq: number;
  id: string;
  version: number;
  object_type: string;
  state: string;
  owner: string | null;
  algorithm: string | null;
  length: number | null;
  created_at: number;
  updated_at: number;
  tombstoned: number;
  attributes: Buffer;
  sealed_kek: string | null;
  sealed_nonce: Buffer | null;
  sealed_ct: Buffer | null;
}

interface AuditRow {
  seq: number;
  at: number;
  actor: string | null;
  operation: string;
  object_id: string | null;
  outcome: string;
  detail: string;
}

interface KekRow {
  id: string;
  master_key_id: string;
  wrapped: Buffer;
  created_at: number;
  active: number;
}

interface Job {
  readonly run: () => void;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Upper bound on operations per group-commit transaction: better-sqlite3 is
 * synchronous, so a flush holds the event loop; a bounded batch keeps that
 * pause to a few milliseconds while still sharing one fsync among many writes.
 */
const MAX_BATCH = 256;
const READ_BATCH = 256;
const STATEMENT_CACHE = 128;

const OBJECT_COLUMNS =
  'seq, id, version, object_type, state, owner, algorithm, length, created_at, updated_at, tombstoned, attributes, sealed_kek, sealed_nonce, sealed_ct';

function bytes(b: Buffer): Uint8Array {
  // a plain Uint8Array (not a Buffer view), so records compare equal whatever the backend
  return new Uint8Array(b);
}

function checkVersion(record: ObjectRecord, expectedVersion: number): void {
  if (record.version !== expectedVersion + 1)
    throw new RangeError('record.version must be expectedVersion + 1');
}

function prepareStatements(db: Database.Database) {
  const p = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
  return {
    begin: p('BEGIN IMMEDIATE'),
    commit: p('COMMIT'),
    rollback: p('ROLLBACK'),
    savepoint: p('SAVEPOINT op'),
    release: p('RELEASE op'),
    rollbackTo: p('ROLLBACK TO op'),
    exists: p<{ version: number }>('SELECT version FROM objects WHERE id = ?'),
    getObject: p<ObjectRow>(`SELECT ${OBJECT_COLUMNS} FROM objects WHERE id = ?`),
    objectsAfter: p<ObjectRow>(`SELECT ${OBJECT_COLUMNS} FROM objects WHERE seq > ? ORDER BY seq LIMIT ?`),
    names: p<{ name: string }>('SELECT name FROM object_names WHERE oid = ? ORDER BY pos'),
    groups: p<{ grp: string }>('SELECT grp FROM object_groups WHERE oid = ? ORDER BY pos'),
    dates: p<{ field: string; value: number }>(
      'SELECT field, value FROM object_dates WHERE oid = ? ORDER BY rowid',
    ),
    custom: p<{ name: string; value: string }>(
      'SELECT name, value FROM object_custom WHERE oid = ? ORDER BY rowid',
    ),
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
      'INSERT INTO audit (at, actor, operation, object_id, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    auditAfter: p<AuditRow>(
      'SELECT seq, at, actor, operation, object_id, outcome, detail FROM audit WHERE seq > ? ORDER BY seq LIMIT ?',
    ),
    lastAudit: p<AuditRow>(
      'SELECT seq, at, actor, operation, object_id, outcome, detail FROM audit ORDER BY seq DESC LIMIT 1',
    ),
    putKek: p(
      `INSERT INTO keks (id, master_key_id, wrapped, created_at, active) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET master_key_id = excluded.master_key_id, wrapped = excluded.wrapped,
         created_at = excluded.created_at, active = excluded.active`,
    ),
    getKek: p<KekRow>('SELECT id, master_key_id, wrapped, created_at, active FROM keks WHERE id = ?'),
    listKeks: p<KekRow>(
      'SELECT id, master_key_id, wrapped, created_at, active FROM keks ORDER BY created_at, id',
    ),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

export class SqliteStore implements ObjectStore {
  readonly kind = 'sqlite' as const;
  readonly stats: SqliteStoreStats = { commits: 0, ops: 0 };
  readonly file: string;

  readonly #db: Database.Database;
  readonly #log: Logger;
  #queue: Job[] = [];
  #scheduled = false;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #backups = new Set<Promise<unknown>>();
  readonly #locateCache = new Map<string, Database.Statement>();
  readonly #s: Statements;

  constructor(db: Database.Database, file: string, log: Logger) {
    this.#db = db;
    this.file = file;
    this.#log = log;
    this.#s = prepareStatements(db);
  }

  // ---- reads: run directly; a group commit is synchronous, so a read never sees half of one

  async get(id: string, opts: GetOptions = {}): Promise<ObjectRecord | undefined> {
    return this.#read('get', () => {
      const row = this.#s.getObject.get(id);
      return row === undefined ? undefined : this.#toRecord(row, opts.indexFields ?? true);
    });
  }

  async locate(filter: LocateFilter, page: LocatePage = {}): Promise<string[]> {
    return this.#read('locate', () => {
      const { where, params } = buildWhere(filter);
      const stmt = this.#cached(`SELECT o.id FROM objects o${where} ORDER BY o.seq LIMIT ? OFFSET ?`);
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
        this.#cached(`SELECT count(*) FROM objects o${where}`)
          .pluck()
          .get(...params),
      );
    });
  }

  async *iterate(opts: { batchSize?: number } = {}): AsyncIterable<ObjectRecord> {
    const size = Math.max(1, Math.floor(opts.batchSize ?? READ_BATCH));
    let after = 0;
    for (;;) {
      const rows = this.#read('iterate', () => this.#s.objectsAfter.all(after, size));
      const records = this.#read('iterate', () => rows.map((r) => this.#toRecord(r)));
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
    return this.#write(() => this.#insert(record));
  }

  update(record: ObjectRecord, expectedVersion: number): Promise<void> {
    try {
      checkVersion(record, expectedVersion);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#write(() => this.#update(record, expectedVersion));
  }

  appendAudit(record: AuditRecord): Promise<void> {
    return this.#write(() => this.#audit(record));
  }

  atomic(ops: readonly WriteOp[]): Promise<void> {
    try {
      for (const op of ops) if (op.kind === 'update') checkVersion(op.record, op.expectedVersion);
    } catch (e) {
      return Promise.reject(e);
    }
    const list = [...ops];
    return this.#write(() => {
      for (const op of list) {
        if (op.kind === 'insert') this.#insert(op.record);
        else if (op.kind === 'update') this.#update(op.record, op.expectedVersion);
        else this.#audit(op.record);
      }
    });
  }

  putKek(kek: KekRecord): Promise<void> {
    return this.#write(() => {
      this.#s.putKek.run(
        kek.id,
        kek.masterKeyId,
        Buffer.from(kek.wrapped),
        kek.createdAt,
        kek.active ? 1 : 0,
      );
    });
  }

  /**
   * Online, consistent copy of the whole database into `destFile` (mode 0600),
   * page by page without blocking the event loop for long. Not part of
   * ObjectStore: see src/store/backup.ts for the backend-independent form.
   */
  async backup(destFile: string): Promise<void> {
    if (this.#closed) throw new StoreUnavailableError('storage unavailable: the store is closed');
    const dest = path.resolve(destFile);
    await mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
    await createPrivateFile(dest);
    const run = this.#db.backup(dest);
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

  /** For tests: the value of a PRAGMA. */
  pragma(name: 'journal_mode' | 'synchronous' | 'foreign_keys' | 'busy_timeout'): unknown {
    return this.#db.pragma(name, { simple: true });
  }

  async #close(): Promise<void> {
    this.#closed = true;
    while (this.#queue.length > 0) this.#flush();
    await Promise.allSettled([...this.#backups]);
    try {
      this.#db.close();
    } catch (e) {
      throw this.#mapError(e, 'close');
    }
  }

  #read<T>(what: string, fn: () => T): T {
    if (this.#closed) throw new StoreUnavailableError('storage unavailable: the store is closed');
    try {
      return fn();
    } catch (e) {
      throw this.#mapError(e, what);
    }
  }

  #write(run: () => void): Promise<void> {
    if (this.#closed)
      return Promise.reject(new StoreUnavailableError('storage unavailable: the store is closed'));
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ run, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: every write issued in this tick (and in the
    // I/O callbacks of this loop turn) joins the same transaction and fsync.
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  /** One transaction for up to MAX_BATCH queued writes; each write in its own savepoint. */
  #flush(): void {
    const batch = this.#queue.splice(0, MAX_BATCH);
    if (this.#queue.length > 0) this.#schedule();
    if (batch.length === 0) return;
    this.stats.ops += batch.length;
    const outcomes: unknown[] = [];
    const ok = Symbol('ok');
    try {
      this.#s.begin.run();
      for (const job of batch) {
        this.#s.savepoint.run();
        try {
          job.run();
          this.#s.release.run();
          outcomes.push(ok);
        } catch (e) {
          // only this caller's writes are undone; the others in the batch still commit
          this.#s.rollbackTo.run();
          this.#s.release.run();
          outcomes.push(e);
        }
      }
      this.#s.commit.run();
      this.stats.commits++;
    } catch (e) {
      // the transaction itself failed (I/O error, disk full, lock timeout): nothing was
      // committed, so nobody in the batch may be told otherwise
      try {
        if (this.#db.inTransaction) this.#s.rollback.run();
      } catch (rollbackError) {
        this.#log.debug('sqlite rollback failed', { error: String(rollbackError) });
      }
      const err = this.#mapError(e, 'commit');
      for (const job of batch) job.reject(err);
      return;
    }
    batch.forEach((job, i) => {
      const outcome = outcomes[i];
      if (outcome === ok) job.resolve();
      else job.reject(this.#mapError(outcome, 'write'));
    });
  }

  #insert(r: ObjectRecord): void {
    if (this.#s.exists.get(r.id) !== undefined) throw new DuplicateIdError(`object ${r.id} already exists`);
    const { lastInsertRowid } = this.#s.insertObject.run(
      r.id,
      r.version,
      r.objectType,
      r.state,
      r.owner ?? null,
      r.algorithm ?? null,
      r.length ?? null,
      r.createdAt,
      r.updatedAt,
      r.tombstoned ? 1 : 0,
      Buffer.from(r.attributes),
      r.sealed?.kekId ?? null,
      r.sealed === undefined ? null : Buffer.from(r.sealed.nonce),
      r.sealed === undefined ? null : Buffer.from(r.sealed.ciphertext),
    );
    this.#insertIndexRows(Number(lastInsertRowid), r);
  }

  #update(r: ObjectRecord, expectedVersion: number): void {
    const updated = this.#s.updateObject.get(
      r.version,
      r.objectType,
      r.state,
      r.owner ?? null,
      r.algorithm ?? null,
      r.length ?? null,
      r.createdAt,
      r.updatedAt,
      r.tombstoned ? 1 : 0,
      Buffer.from(r.attributes),
      r.sealed?.kekId ?? null,
      r.sealed === undefined ? null : Buffer.from(r.sealed.nonce),
      r.sealed === undefined ? null : Buffer.from(r.sealed.ciphertext),
      r.id,
      expectedVersion,
    );
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

  #toRecord(row: ObjectRow, indexFields = true): ObjectRecord {
    const dates: Record<string, number> = {};
    const custom: Record<string, string[]> = {};
    if (indexFields) {
      for (const d of this.#s.dates.all(row.seq)) dates[d.field] = d.value;
      for (const c of this.#s.custom.all(row.seq)) {
        const list = custom[c.name];
        if (list === undefined) custom[c.name] = [c.value];
        else list.push(c.value);
      }
    }
    return {
      id: row.id,
      version: row.version,
      objectType: row.object_type,
      state: row.state,
      owner: row.owner ?? undefined,
      names: indexFields ? this.#s.names.all(row.seq).map((n) => n.name) : [],
      objectGroups: indexFields ? this.#s.groups.all(row.seq).map((g) => g.grp) : [],
      algorithm: row.algorithm ?? undefined,
      length: row.length ?? undefined,
      dates,
      custom,
      attributes: bytes(row.attributes),
      sealed:
        row.sealed_kek === null || row.sealed_nonce === null || row.sealed_ct === null
          ? undefined
          : { kekId: row.sealed_kek, nonce: bytes(row.sealed_nonce), ciphertext: bytes(row.sealed_ct) },
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      tombstoned: row.tombstoned !== 0,
    };
  }

  #cached(sql: string): Database.Statement {
    let stmt = this.#locateCache.get(sql);
    if (stmt === undefined) {
      if (this.#locateCache.size >= STATEMENT_CACHE) {
        const oldest = this.#locateCache.keys().next();
        if (oldest.done !== true) this.#locateCache.delete(oldest.value);
      }
      stmt = this.#db.prepare(sql);
      this.#locateCache.set(sql, stmt);
    }
    return stmt;
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

/** WHERE clause for a Locate filter: fixed SQL fragments, every value a bound parameter. */
function buildWhere(filter: LocateFilter): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const column = (sql: string, value: unknown) => {
    if (value === undefined) return;
    clauses.push(sql);
    params.push(value);
  };
  if (filter.includeTombstoned !== true) clauses.push('o.tombstoned = 0');
  column('o.object_type = ?', filter.objectType);
  column('o.state = ?', filter.state);
  column('o.owner = ?', filter.owner);
  column('o.algorithm = ?', filter.algorithm);
  column('o.length = ?', filter.length);
  // `o.seq IN (subquery)`: the side-table index drives the search, so a name
  // lookup costs O(log n) however many objects there are
  column('o.seq IN (SELECT oid FROM object_names WHERE name = ?)', filter.name);
  column('o.seq IN (SELECT oid FROM object_groups WHERE grp = ?)', filter.objectGroup);
  for (const d of filter.dates ?? []) {
    let sql = 'o.seq IN (SELECT oid FROM object_dates WHERE field = ?';
    params.push(d.field);
    if (d.from !== undefined) {
      sql += ' AND value >= ?';
      params.push(d.from);
    }
    if (d.to !== undefined) {
      sql += ' AND value <= ?';
      params.push(d.to);
    }
    clauses.push(`${sql})`);
  }
  for (const c of filter.custom ?? []) {
    clauses.push('o.seq IN (SELECT oid FROM object_custom WHERE name = ? AND value = ?)');
    params.push(c.name, c.value);
  }
  return { where: clauses.length === 0 ? '' : ` WHERE ${clauses.join(' AND ')}`, params };
}

function toAudit(r: AuditRow): AuditRecord & { readonly seq: number } {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor ?? undefined,
    operation: r.operation,
    objectId: r.object_id ?? undefined,
    outcome: r.outcome,
    detail: JSON.parse(r.detail) as Record<string, string>,
  };
}

function toKek(row: KekRow): KekRecord {
  return {
    id: row.id,
    masterKeyId: row.master_key_id,
    wrapped: bytes(row.wrapped),
    createdAt: row.created_at,
    active: row.active !== 0,
  };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function createPrivateFile(file: string): Promise<void> {
  const fh = await open(file, 'a', 0o600);
  await fh.close();
  await chmod(file, 0o600);
}

/**
 * Opens (creating if needed) the SQLite store in `file`: directory mode 0700,
 * file mode 0600, WAL, migrations applied.
 */
export async function openSqliteStore(file: string, opts: SqliteStoreOptions = {}): Promise<SqliteStore> {
  const log = opts.log ?? silentLogger;
  const abs = path.resolve(file);
  await mkdir(path.dirname(abs), { recursive: true, mode: 0o700 });
  // created here with 0600 so that the database never exists world-readable; SQLite
  // gives its -wal and -shm files the mode of the database file
  await createPrivateFile(abs);
  let db: Database.Database | undefined;
  try {
    db = new Database(abs, { timeout: opts.busyTimeoutMs ?? 5000 });
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, not wal`);
    // WAL with synchronous=NORMAL fsyncs only at checkpoints: a commit that was
    // acknowledged can vanish on power loss. FULL fsyncs the WAL at every commit,
    // so an acknowledged write is durable; group commit pays that fsync once per batch.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // the default 2 MB page cache thrashes on random UUID index keys beyond ~10^4 objects
    db.pragma('cache_size = -65536');
    // each write's SAVEPOINT keeps a sub-journal; in memory, not in a temp file per batch
    db.pragma('temp_store = MEMORY');
    // checkpoint every ~40 MB of WAL instead of 4 MB: a hot index page rewritten by many
    // commits is copied back to the database once per checkpoint, not once per commit
    db.pragma('wal_autocheckpoint = 10000');
    const { from, to } = migrate(db);
    if (from !== to) log.info('store schema migrated', { file: abs, from, to });
    return new SqliteStore(db, abs, log);
  } catch (e) {
    db?.close();
    if (e instanceof SchemaTooNewError) throw new StoreUnavailableError(e.message);
    log.debug('cannot open the sqlite store', {
      file: abs,
      error: e instanceof Error ? e.message : String(e),
    });
    throw new StoreUnavailableError(`storage unavailable: cannot open the SQLite store ${abs}`);
  }
}
