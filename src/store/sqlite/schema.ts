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

/**
 * Brings the file to `target` (default: the latest) in one transaction, so a
 * crash mid-way leaves the old version intact. Returns the versions crossed.
 */
export function migrate(db: Database.Database, target = SCHEMA_VERSION): { from: number; to: number } {
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
