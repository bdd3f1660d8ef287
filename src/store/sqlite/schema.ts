import path from 'node:path';
import type Database from 'better-sqlite3';

/**
 * Schema migrations, applied in order at open inside one transaction; the
 * number applied is `meta.schema_version`. Never edit a released migration:
 * append a new one.
 */
export type Migration = (db: Database.Database) => void;

export const MIGRATIONS: readonly Migration[] = [
  // 1: the initial schema.
  (db) => {
    db.exec(`
      CREATE TABLE objects (
        -- creation order; AUTOINCREMENT never reuses a value, and an INTEGER
        -- PRIMARY KEY survives VACUUM (a bare rowid may be renumbered)
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        id           TEXT    NOT NULL UNIQUE,
        version      INTEGER NOT NULL,
        object_type  TEXT    NOT NULL,
        state        TEXT    NOT NULL,
        owner        TEXT,
        algorithm    TEXT,
        length       INTEGER,
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL,
        tombstoned   INTEGER NOT NULL,
        attributes   BLOB    NOT NULL,
        sealed_kek   TEXT,
        sealed_nonce BLOB,
        sealed_ct    BLOB
      );
      -- (column, seq): an equality filter walks its index already in creation order
      CREATE INDEX objects_type ON objects (object_type, seq);
      CREATE INDEX objects_state ON objects (state, seq);
      CREATE INDEX objects_owner ON objects (owner, seq);
      CREATE INDEX objects_algorithm ON objects (algorithm, seq);
      CREATE INDEX objects_length ON objects (length, seq);

      -- Locate side tables, one row per value. Keyed by the object's seq, not its
      -- text id: an integer key appends where a random UUID would dirty a random
      -- page of every index on every insert, and the indexes are half the size.
      CREATE TABLE object_names (
        oid  INTEGER NOT NULL REFERENCES objects (seq) ON DELETE CASCADE,
        pos  INTEGER NOT NULL,
        name TEXT    NOT NULL,
        PRIMARY KEY (oid, pos)
      );
      CREATE INDEX object_names_name ON object_names (name, oid);

      CREATE TABLE object_groups (
        oid INTEGER NOT NULL REFERENCES objects (seq) ON DELETE CASCADE,
        pos INTEGER NOT NULL,
        grp TEXT    NOT NULL,
        PRIMARY KEY (oid, pos)
      );
      CREATE INDEX object_groups_grp ON object_groups (grp, oid);

      CREATE TABLE object_dates (
        oid   INTEGER NOT NULL REFERENCES objects (seq) ON DELETE CASCADE,
        field TEXT    NOT NULL,
        value NUMERIC NOT NULL,
        PRIMARY KEY (oid, field)
      );
      CREATE INDEX object_dates_field ON object_dates (field, value, oid);

      CREATE TABLE object_custom (
        oid   INTEGER NOT NULL REFERENCES objects (seq) ON DELETE CASCADE,
        name  TEXT    NOT NULL,
        pos   INTEGER NOT NULL,
        value TEXT    NOT NULL,
        PRIMARY KEY (oid, name, pos)
      );
      CREATE INDEX object_custom_name ON object_custom (name, value, oid);

      CREATE TABLE audit (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        at        INTEGER NOT NULL,
        actor     TEXT,
        operation TEXT    NOT NULL,
        object_id TEXT,
        outcome   TEXT    NOT NULL,
        detail    TEXT    NOT NULL -- JSON object
      );

      CREATE TABLE keks (
        id            TEXT    PRIMARY KEY,
        master_key_id TEXT    NOT NULL,
        wrapped       BLOB    NOT NULL,
        created_at    INTEGER NOT NULL,
        active        INTEGER NOT NULL
      );
    `);
  },
  // 2: "who used this key" reads the audit trail by object (DESIGN.md, audit).
  (db) => {
    db.exec('CREATE INDEX audit_object ON audit (object_id, seq)');
  },
  // 3: the audit trail moves to its own file, attached as `audit` (see
  // auditFileFor). migrate() copied the rows there in a transaction of their
  // own before this one; the old table goes only once every row is there.
  (db) => {
    if (!hasTable(db, 'main', 'audit')) return;
    const missing = db
      .prepare(
        'SELECT count(*) FROM main.audit m WHERE NOT EXISTS (SELECT 1 FROM audit.audit a WHERE a.seq = m.seq)',
      )
      .pluck()
      .get();
    if (missing !== 0) throw new Error(`${String(missing)} audit record(s) not copied to the audit file`);
    db.exec("DROP TABLE main.audit; DELETE FROM main.sqlite_sequence WHERE name = 'audit'");
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
}

/** The schema version recorded in the file; 0 for a new file. */
export function schemaVersion(db: Database.Database): number {
  db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  const row = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").get();
  return row === undefined ? 0 : Number(row.value);
}

/** Schema name of the attached audit file. */
export const AUDIT_SCHEMA = 'audit';

/** Version of the audit file's own schema, kept in its `PRAGMA user_version`. */
export const AUDIT_FILE_VERSION = 1;

/** First schema version whose audit table lives in the audit file. */
export const AUDIT_FILE_SINCE = 3;

/**
 * The audit trail's file beside the main one: `/x/kmip.db` → `/x/kmip-audit.db`.
 * Its own file, because in WAL mode every commit to a file makes the other
 * connections drop their whole page cache for it at their next read: with the
 * audit rows (one per request) in the objects' file, every Get re-read its pages.
 */
export function auditFileFor(file: string): string {
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}-audit${ext}`;
}

/** Attaches the audit file as schema `audit` (outside any transaction, as SQLite requires). */
export function attachAuditFile(db: Database.Database, auditFile: string): void {
  db.prepare(`ATTACH DATABASE ? AS ${AUDIT_SCHEMA}`).run(auditFile);
}

function hasTable(db: Database.Database, schema: 'main' | typeof AUDIT_SCHEMA, table: string): boolean {
  return (
    db.prepare(`SELECT 1 FROM ${schema}.sqlite_master WHERE type = 'table' AND name = ?`).get(table) !==
    undefined
  );
}

/**
 * Creates the audit file's table (same columns, seq semantics and index as the
 * old main-file table) and copies an old main-file `audit` table into it, in a
 * transaction that changes only the audit file. Cross-file commits in WAL mode
 * are atomic per file only, so the old table is dropped later, by migration 3
 * in a transaction of its own: a crash in between leaves both copies, and the
 * rerun's INSERT OR IGNORE by seq adds nothing twice.
 */
function prepareAuditFile(db: Database.Database): void {
  db.transaction(() => {
    const version = Number(db.pragma(`${AUDIT_SCHEMA}.user_version`, { simple: true }));
    if (version > AUDIT_FILE_VERSION)
      throw new SchemaTooNewError(
        `audit file schema version ${version} is newer than this server supports (${AUDIT_FILE_VERSION})`,
      );
    db.exec(`
      CREATE TABLE IF NOT EXISTS ${AUDIT_SCHEMA}.audit (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        at        INTEGER NOT NULL,
        actor     TEXT,
        operation TEXT    NOT NULL,
        object_id TEXT,
        outcome   TEXT    NOT NULL,
        detail    TEXT    NOT NULL -- JSON object
      );
      CREATE INDEX IF NOT EXISTS ${AUDIT_SCHEMA}.audit_object ON audit (object_id, seq);
    `);
    if (version !== AUDIT_FILE_VERSION) db.pragma(`${AUDIT_SCHEMA}.user_version = ${AUDIT_FILE_VERSION}`);
    if (!hasTable(db, 'main', 'audit')) return;
    db.exec(`
      INSERT OR IGNORE INTO ${AUDIT_SCHEMA}.audit (seq, at, actor, operation, object_id, outcome, detail)
        SELECT seq, at, actor, operation, object_id, outcome, detail FROM main.audit ORDER BY seq;
    `);
    // AUTOINCREMENT never reuses a seq, not even one deleted from the end of the old table
    const high = db.prepare("SELECT seq FROM main.sqlite_sequence WHERE name = 'audit'").pluck().get();
    if (typeof high === 'number') {
      db.prepare(`UPDATE ${AUDIT_SCHEMA}.sqlite_sequence SET seq = max(seq, ?) WHERE name = 'audit'`).run(
        high,
      );
      db.prepare(
        `INSERT INTO ${AUDIT_SCHEMA}.sqlite_sequence (name, seq)
           SELECT 'audit', ? WHERE NOT EXISTS (SELECT 1 FROM ${AUDIT_SCHEMA}.sqlite_sequence WHERE name = 'audit')`,
      ).run(high);
    }
  }).immediate();
}

/**
 * Brings the file to `target` (default: the latest) in one transaction, so a
 * crash mid-way leaves the old version intact. Returns the versions crossed.
 * From version 3 on, the audit file must be attached (attachAuditFile): its
 * table is created, and old rows moved, first (see prepareAuditFile).
 */
export function migrate(db: Database.Database, target = SCHEMA_VERSION): { from: number; to: number } {
  // (a file from a newer server is refused below, untouched)
  if (target >= AUDIT_FILE_SINCE && schemaVersion(db) <= SCHEMA_VERSION) prepareAuditFile(db);
  return db
    .transaction(() => {
      const from = schemaVersion(db);
      if (from > SCHEMA_VERSION)
        throw new SchemaTooNewError(
          `database schema version ${from} is newer than this server supports (${SCHEMA_VERSION})`,
        );
      for (let v = from; v < target; v++) MIGRATIONS[v]?.(db);
      const to = Math.max(from, target);
      db.prepare(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      ).run(String(to));
      return { from, to };
    })
    .immediate();
}
