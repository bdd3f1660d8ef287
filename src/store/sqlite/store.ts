import { chmod, mkdir, open, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
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
import {
  AUDIT_FILE_SINCE,
  AUDIT_SCHEMA,
  attachAuditFile,
  auditFileFor,
  migrate,
  SchemaTooNewError,
  schemaVersion,
} from './schema.js';
import {
  type BatchResult,
  BatchWriter,
  configureWriteConnection,
  encodeBatch,
  type FromWriter,
  type ToWriter,
  type WriterBatch,
  type WriterData,
  type WriterError,
  type WriterJob,
} from './writer.js';

export interface SqliteStoreOptions {
  log?: Logger;
  /** how long a write waits for a lock held by another connection (ms); default 5000 */
  busyTimeoutMs?: number;
  /**
   * 'thread' (default): writes run on their own connection in a worker thread, so
   * the COMMIT's fsync does not hold the event loop; 'inline': on the main thread.
   */
  writer?: 'thread' | 'inline';
}

/** Counters for tests and metrics. */
export interface SqliteStoreStats {
  /** write transactions committed */
  commits: number;
  /** write operations (insert, update, atomic, audit, KEK) acknowledged or failed */
  ops: number;
  /** Gets answered from the decoded records of recent Gets */
  recentHits: number;
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
  readonly job: WriterJob;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/** Where batches are written: a worker thread, or this thread (BatchWriter on a second connection). */
interface WriterHandle {
  /** writes the batch; calls back with the result (at once when inline) */
  send(batch: WriterBatch, done: (r: BatchResult) => void): void;
  close(): Promise<void>;
}

/**
 * Upper bound on operations per group-commit transaction: an inline flush holds
 * the event loop, and a bounded batch keeps that pause to a few milliseconds
 * while still sharing one fsync among many writes.
 */
const MAX_BATCH = 256;
const READ_BATCH = 256;
/** Decoded objects kept for repeated Gets (see SqliteStore.get): a few MB. */
const RECENT_MAX = 16_384;
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
    getObject: p<ObjectRow>(`SELECT ${OBJECT_COLUMNS} FROM objects WHERE id = ?`),
    dataVersion: db.prepare<[], number>('PRAGMA main.data_version').pluck(),
    objectsAfter: p<ObjectRow>(`SELECT ${OBJECT_COLUMNS} FROM objects WHERE seq > ? ORDER BY seq LIMIT ?`),
    names: p<{ name: string }>('SELECT name FROM object_names WHERE oid = ? ORDER BY pos'),
    groups: p<{ grp: string }>('SELECT grp FROM object_groups WHERE oid = ? ORDER BY pos'),
    dates: p<{ field: string; value: number }>(
      'SELECT field, value FROM object_dates WHERE oid = ? ORDER BY rowid',
    ),
    custom: p<{ name: string; value: string }>(
      'SELECT name, value FROM object_custom WHERE oid = ? ORDER BY rowid',
    ),
    auditAfter: p<AuditRow>(
      `SELECT seq, at, actor, operation, object_id, outcome, detail FROM ${AUDIT_SCHEMA}.audit WHERE seq > ? ORDER BY seq LIMIT ?`,
    ),
    lastAudit: p<AuditRow>(
      `SELECT seq, at, actor, operation, object_id, outcome, detail FROM ${AUDIT_SCHEMA}.audit ORDER BY seq DESC LIMIT 1`,
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
  readonly stats: SqliteStoreStats = { commits: 0, ops: 0, recentHits: 0 };
  readonly file: string;
  /** the audit trail's own file beside `file` (auditFileFor: kmip.db → kmip-audit.db) */
  readonly auditFile: string;

  readonly #db: Database.Database;
  readonly #log: Logger;
  readonly #writer: WriterHandle;
  #queue: Job[] = [];
  #scheduled = false;
  /** the batch being written (one at a time: the next one gathers meanwhile and shares the next fsync) */
  #inflight = false;
  #drained: (() => void) | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #backups = new Set<Promise<unknown>>();
  readonly #locateCache = new Map<string, Database.Statement>();
  readonly #s: Statements;
  /**
   * One read transaction: the object rows and their Locate index rows come
   * from the same snapshot, so every record is one committed version.
   */
  readonly #iterateBatch: (after: number, size: number) => { rows: ObjectRow[]; records: ObjectRecord[] };
  /** records of recent Gets, valid while the objects file's data_version is #recentVersion */
  readonly #recent = new Map<string, ObjectRecord>();
  #recentVersion = -1;

  /** @internal use openSqliteStore */
  constructor(db: Database.Database, file: string, auditFile: string, log: Logger, writer: WriterHandle) {
    this.#db = db;
    this.file = file;
    this.auditFile = auditFile;
    this.#log = log;
    this.#writer = writer;
    this.#s = prepareStatements(db);
    this.#iterateBatch = db.transaction((after: number, size: number) => {
      const rows = this.#s.objectsAfter.all(after, size);
      return { rows, records: rows.map((r) => this.#toRecord(r)) };
    });
  }

  // ---- reads: run directly on this connection; in WAL mode a read sees only committed transactions

  async get(id: string, opts: GetOptions = {}): Promise<ObjectRecord | undefined> {
    return this.#read('get', () => {
      const indexFields = opts.indexFields ?? true;
      if (indexFields) {
        const row = this.#s.getObject.get(id);
        return row === undefined ? undefined : this.#toRecord(row, true);
      }
      // PRAGMA data_version changes with every commit to the objects file by any other
      // connection (the writer thread's, another worker's), never with the audit file's:
      // while it holds, the decoded record is current. Read before the row, so a commit
      // in between can only make the cached record newer than the version it is filed under.
      const dataVersion = this.#s.dataVersion.get();
      if (dataVersion !== this.#recentVersion) {
        this.#recent.clear();
        this.#recentVersion = dataVersion ?? -1;
      }
      const hit = this.#recent.get(id);
      if (hit !== undefined) {
        this.stats.recentHits++;
        return hit;
      }
      const row = this.#s.getObject.get(id);
      if (row === undefined) return undefined;
      const record = this.#toRecord(row, false);
      if (this.#recent.size >= RECENT_MAX) {
        const oldest = this.#recent.keys().next();
        if (oldest.done !== true) this.#recent.delete(oldest.value);
      }
      this.#recent.set(id, record);
      return record;
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
    if (this.#queue.length > 0 || this.#inflight) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
        this.#pump();
      });
    }
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
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ job, resolve, reject });
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
      this.#pump();
    });
  }

  /** Sends the next batch of up to MAX_BATCH queued writes, unless one is being written. */
  #pump(): void {
    if (this.#inflight) return;
    const batch = this.#queue.splice(0, MAX_BATCH);
    if (batch.length === 0) {
      this.#drained?.();
      this.#drained = undefined;
      return;
    }
    this.#inflight = true;
    this.stats.ops += batch.length;
    this.#writer.send(encodeBatch(batch.map((j) => j.job)), (result) => {
      this.#inflight = false;
      this.#settle(batch, result);
      if (this.#closed) this.#pump();
      else if (this.#queue.length > 0) this.#schedule();
      else {
        this.#drained?.();
        this.#drained = undefined;
      }
    });
  }

  #settle(batch: readonly Job[], result: BatchResult): void {
    if (!result.committed) {
      // nothing was committed, so nobody in the batch may be told otherwise
      const err = this.#mapError(fromWriterError(result.error), 'commit');
      for (const job of batch) job.reject(err);
      return;
    }
    this.stats.commits++;
    batch.forEach((job, i) => {
      const outcome = result.outcomes[i];
      if (outcome === null || outcome === undefined) job.resolve();
      else job.reject(this.#mapError(fromWriterError(outcome), 'write'));
    });
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

/** The error a writer reported, as the class its code names (class identity does not cross threads). */
function fromWriterError(w: WriterError): Error {
  if (w.range === true) return new RangeError(w.message);
  switch (w.code) {
    case 'ERR_STORE_DUPLICATE_ID':
      return new DuplicateIdError(w.message);
    case 'ERR_STORE_NOT_FOUND':
      return new NotFoundError(w.message);
    case 'ERR_STORE_VERSION_CONFLICT':
      return new VersionConflictError(w.message);
    case 'ERR_STORE_UNAVAILABLE':
      return new StoreUnavailableError(w.message);
    default:
      return Object.assign(new Error(w.message), w.code === undefined ? {} : { code: w.code });
  }
}

const WRITER_THREAD = new URL(
  `./writer-thread${path.extname(fileURLToPath(import.meta.url))}`,
  import.meta.url,
);

/** tsx's ESM register API (its package exports resolve to the CommonJS build from a transpiled module). */
function tsxApi(): string {
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  return pathToFileURL(path.join(path.dirname(pkg), 'dist/esm/api/index.mjs')).href;
}

/** A worker thread running writer-thread.ts; its failure fails the pending batch and every later write. */
async function startWriterThread(
  file: string,
  auditFile: string,
  busyTimeoutMs: number,
  log: Logger,
): Promise<WriterHandle> {
  const data: WriterData = { file, auditFile, busyTimeoutMs };
  // Under tsx (tests, `node --import tsx`) the worker's loader is not inherited: register it first.
  const worker = WRITER_THREAD.pathname.endsWith('.ts')
    ? new Worker(
        `import(${JSON.stringify(tsxApi())}).then((t) => { t.register(); return import(${JSON.stringify(WRITER_THREAD.href)}); })`,
        { eval: true, workerData: data },
      )
    : new Worker(WRITER_THREAD, { workerData: data });
  const pending = new Map<number, (r: BatchResult) => void>();
  let nextId = 1;
  let dead: WriterError | undefined;
  let onClosed: (() => void) | undefined;
  const fail = (error: WriterError) => {
    dead ??= error;
    for (const done of pending.values()) done({ committed: false, error });
    pending.clear();
  };
  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: FromWriter) => {
      if (m.type === 'ready') resolve();
      else if (m.type === 'open-failed') reject(new Error(m.error.message));
      else if (m.type === 'done') {
        const done = pending.get(m.id);
        pending.delete(m.id);
        // idle: let the process exit if nothing else holds it
        if (pending.size === 0) worker.unref();
        done?.(m);
      } else onClosed?.();
    });
    worker.on('error', (e) => {
      log.error('sqlite writer thread failed', { error: e.message });
      fail({ message: e.message, code: 'ERR_STORE_UNAVAILABLE' });
      reject(e);
    });
    worker.on('exit', () => {
      fail({ message: 'the sqlite writer thread exited', code: 'ERR_STORE_UNAVAILABLE' });
      onClosed?.();
      reject(new Error('the sqlite writer thread exited'));
    });
  });
  try {
    await ready;
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  worker.unref();
  return {
    send(batch, done) {
      if (dead !== undefined) {
        done({ committed: false, error: dead });
        return;
      }
      const id = nextId++;
      pending.set(id, done);
      worker.ref();
      const m: ToWriter = { type: 'batch', id, jobs: batch.jobs, audit: batch.audit };
      worker.postMessage(m);
    },
    async close() {
      if (dead !== undefined) return;
      const closed = new Promise<void>((resolve) => {
        onClosed = resolve;
      });
      worker.ref();
      const m: ToWriter = { type: 'close' };
      worker.postMessage(m);
      await closed;
      await worker.terminate();
    },
  };
}

function inlineWriter(db: Database.Database): WriterHandle {
  const writer = new BatchWriter(db);
  return {
    send: (batch, done) => done(writer.run(batch)),
    close: async () => {
      db.close();
    },
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
 * Opens (creating if needed) the SQLite store in `file` and its audit file
 * beside it (auditFileFor: `kmip.db` → `kmip-audit.db`): directory mode 0700,
 * files mode 0600, WAL, migrations applied. Objects, KEKs and meta stay in
 * `file`; only the audit trail is in the audit file, so that the audit record
 * of every request does not invalidate the read connection's cache of `file`.
 */
export async function openSqliteStore(file: string, opts: SqliteStoreOptions = {}): Promise<SqliteStore> {
  const log = opts.log ?? silentLogger;
  const abs = path.resolve(file);
  const auditAbs = auditFileFor(abs);
  await mkdir(path.dirname(abs), { recursive: true, mode: 0o700 });
  // created here with 0600 so that the database never exists world-readable; SQLite
  // gives its -wal and -shm files the mode of the database file
  await createPrivateFile(abs);
  let db: Database.Database | undefined;
  let writer: WriterHandle | undefined;
  try {
    db = new Database(abs, { timeout: opts.busyTimeoutMs ?? 5000 });
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, not wal`);
    const version = schemaVersion(db);
    // a store that already has its audit file never gets a new, empty one: that
    // would hide a lost (or not restored) trail behind a fresh start
    if (version >= AUDIT_FILE_SINCE && !(await exists(auditAbs)))
      throw new StoreUnavailableError(
        `storage unavailable: the audit file ${auditAbs} of the SQLite store ${abs} is missing`,
      );
    await createPrivateFile(auditAbs);
    attachAuditFile(db, auditAbs);
    const auditMode = db.pragma(`${AUDIT_SCHEMA}.journal_mode = WAL`, { simple: true });
    if (auditMode !== 'wal') throw new Error(`audit journal_mode is ${String(auditMode)}, not wal`);
    if (version === 0 && hasAuditRows(db))
      throw new StoreUnavailableError(
        `storage unavailable: the audit file ${auditAbs} holds records but the SQLite store ${abs} is new`,
      );
    // WAL with synchronous=NORMAL fsyncs only at checkpoints: a commit that was
    // acknowledged can vanish on power loss. FULL fsyncs the WAL at every commit,
    // so an acknowledged write is durable; group commit pays that fsync once per batch.
    // (synchronous is per schema: the audit file gets it too)
    db.pragma('synchronous = FULL');
    db.pragma(`${AUDIT_SCHEMA}.synchronous = FULL`);
    db.pragma('foreign_keys = ON');
    // the default 2 MB page cache thrashes on random UUID index keys beyond ~10^4 objects
    db.pragma('cache_size = -65536');
    // each write's SAVEPOINT keeps a sub-journal; in memory, not in a temp file per batch
    db.pragma('temp_store = MEMORY');
    // checkpoint every ~40 MB of WAL instead of 4 MB: a hot index page rewritten by many
    // commits is copied back to the database once per checkpoint, not once per commit
    db.pragma('wal_autocheckpoint = 10000');
    const { from, to } = migrate(db);
    if (from !== to) log.info('store schema migrated', { file: abs, auditFile: auditAbs, from, to });
    const busyTimeoutMs = opts.busyTimeoutMs ?? 5000;
    if (opts.writer === 'inline') {
      const wdb = new Database(abs, { timeout: busyTimeoutMs });
      configureWriteConnection(wdb, auditAbs);
      writer = inlineWriter(wdb);
    } else writer = await startWriterThread(abs, auditAbs, busyTimeoutMs, log);
    return new SqliteStore(db, abs, auditAbs, log, writer);
  } catch (e) {
    await writer?.close().catch(() => undefined);
    db?.close();
    if (e instanceof SchemaTooNewError) throw new StoreUnavailableError(e.message);
    if (e instanceof StoreUnavailableError) throw e;
    log.debug('cannot open the sqlite store', {
      file: abs,
      error: e instanceof Error ? e.message : String(e),
    });
    throw new StoreUnavailableError(`storage unavailable: cannot open the SQLite store ${abs}`);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

function hasAuditRows(db: Database.Database): boolean {
  const table = db
    .prepare(`SELECT 1 FROM ${AUDIT_SCHEMA}.sqlite_master WHERE type = 'table' AND name = 'audit'`)
    .get();
  return table !== undefined && db.prepare(`SELECT 1 FROM ${AUDIT_SCHEMA}.audit LIMIT 1`).get() !== undefined;
}
