/** Bounded caches of the SQLite store's read connection. */

import type Database from 'better-sqlite3';
import type { ObjectRecord } from '../types.js';

/** Decoded objects kept for repeated Gets (see SqliteStore.get): a few MB. */
const RECENT_MAX = 16_384;
const STATEMENT_CACHE = 128;

/** Adds `key` to an insertion-ordered map, first dropping its oldest entry when `max` are held. */
function setBounded<K, V>(map: Map<K, V>, max: number, key: K, value: V): void {
  if (map.size >= max) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  map.set(key, value);
}

/**
 * Records of recent Gets without their index fields, valid while the objects
 * file's PRAGMA data_version is the one they were filed under.
 */
export class RecentRecords {
  readonly #records = new Map<string, ObjectRecord>();
  #version = -1;

  /**
   * PRAGMA data_version changes with every commit to the objects file by any other
   * connection (the writer thread's, another worker's), never with the audit file's:
   * while it holds, the decoded record is current. Read it before the row, so a commit
   * in between can only make the cached record newer than the version it is filed under.
   */
  validate(dataVersion: number | undefined): void {
    if (dataVersion === this.#version) return;
    this.#records.clear();
    this.#version = dataVersion ?? -1;
  }

  get(id: string): ObjectRecord | undefined {
    return this.#records.get(id);
  }

  add(record: ObjectRecord): void {
    setBounded(this.#records, RECENT_MAX, record.id, record);
  }
}

/** Prepared Locate/Count statements by SQL text (their WHERE differs by filter shape). */
export class StatementCache {
  readonly #statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  get(sql: string): Database.Statement {
    let stmt = this.#statements.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql);
      setBounded(this.#statements, STATEMENT_CACHE, sql, stmt);
    }
    return stmt;
  }
}
