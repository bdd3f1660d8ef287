/**
 * Opening a SQLite store: its files and their modes, the read connection's
 * pragmas, migrations, and the writer (see openSqliteStore in store.ts).
 */

import { chmod, mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { type Logger, silentLogger } from '../../log.js';
import { StoreUnavailableError } from '../types.js';
import {
  AUDIT_FILE_SINCE,
  AUDIT_SCHEMA,
  attachAuditFile,
  auditFileFor,
  migrate,
  SchemaTooNewError,
  schemaVersion,
} from './schema.js';
import { configureWriteConnection } from './writer.js';
import { inlineWriter, startWriterThread, type WriterHandle } from './writer-host.js';

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

/** What an opened store is made of, handed to the constructor. */
export interface SqliteParts {
  /** the read connection, the audit file attached */
  readonly db: Database.Database;
  readonly file: string;
  readonly auditFile: string;
  readonly log: Logger;
  readonly writer: WriterHandle;
}

/** Creates `file` if missing, mode 0600 either way. */
export async function createPrivateFile(file: string): Promise<void> {
  const fh = await open(file, 'a', 0o600);
  await fh.close();
  await chmod(file, 0o600);
}

/**
 * Opens the files and connections of the store in `file` and builds the store
 * from them; on any failure closes what it opened and fails with
 * StoreUnavailableError.
 */
export async function openSqlite<T>(
  file: string,
  opts: SqliteStoreOptions,
  build: (parts: SqliteParts) => T,
): Promise<T> {
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
    return build({ db, file: abs, auditFile: auditAbs, log, writer });
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
