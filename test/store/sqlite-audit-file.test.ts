import { mkdir, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { auditFileFor, MIGRATIONS, SCHEMA_VERSION, schemaVersion } from '../../src/store/sqlite/schema.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/store.js';
import { type AuditRecord, storeErrorCode } from '../../src/store/types.js';
import { makeRecord } from './contract.js';
import { sqliteContract, tempDir } from './sqlite-fixtures.js';

function audit(n: number, objectId?: string): AuditRecord {
  return {
    at: 1_000 + n,
    actor: `actor-${n}`,
    operation: 'Get',
    objectId,
    outcome: 'Success',
    detail: { n: String(n) },
  };
}

async function collect(store: SqliteStore): Promise<(AuditRecord & { seq: number })[]> {
  const out: (AuditRecord & { seq: number })[] = [];
  for await (const a of store.readAudit()) out.push(a);
  return out;
}

function hasTable(file: string, table: string): boolean {
  const db = new Database(file, { readonly: true });
  try {
    return (
      db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined
    );
  } finally {
    db.close();
  }
}

/**
 * A data directory as a version-2 server left it: the audit table in the main
 * file, audit rows with seq 1, 2, 3 and 5 (4 deleted, the AUTOINCREMENT mark at 6).
 */
function writeOldLayout(file: string): void {
  const old = new Database(file);
  try {
    old.pragma('journal_mode = WAL');
    expect(schemaVersion(old)).to.equal(0);
    MIGRATIONS[0]?.(old);
    MIGRATIONS[1]?.(old);
    old.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', '2')").run();
    old
      .prepare(
        `INSERT INTO objects (id, version, object_type, state, owner, algorithm, length, created_at, updated_at,
           tombstoned, attributes) VALUES ('legacy', 1, 'SymmetricKey', 'Active', NULL, 'AES', 128, 1, 1, 0, x'00')`,
      )
      .run();
    const insert = old.prepare(
      'INSERT INTO audit (at, actor, operation, object_id, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (let n = 1; n <= 6; n++)
      insert.run(1_000 + n, `actor-${n}`, 'Get', 'legacy', 'Success', `{"n":"${n}"}`);
    old.prepare('DELETE FROM audit WHERE seq IN (4, 6)').run();
  } finally {
    old.close();
  }
}

const OLD_SEQS = [1, 2, 3, 5];

sqliteContract('sqlite store contract (inline writer)', { writer: 'inline' });

describe('sqlite store: audit file', () => {
  let dir: string;
  let file: string;
  let store: SqliteStore | undefined;

  beforeEach(async () => {
    dir = await tempDir();
    file = path.join(dir, 'data', 'kmip.db');
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('names the audit file after the main one', () => {
    expect(auditFileFor('/x/kmip.db')).to.equal('/x/kmip-audit.db');
    expect(auditFileFor('/x/store.sqlite3')).to.equal('/x/store-audit.sqlite3');
    expect(auditFileFor('/x.d/store')).to.equal('/x.d/store-audit');
  });

  it('keeps the audit rows in the audit file, WAL and synchronous FULL, and none in the main file', async () => {
    store = await openSqliteStore(file);
    expect(store.auditFile).to.equal(auditFileFor(file));
    expect(store.pragma('journal_mode', 'audit')).to.equal('wal');
    expect(store.pragma('synchronous', 'audit')).to.equal(2);
    await store.appendAudit(audit(1));
    await store.appendAudit(audit(2, 'some-object'));
    await store.close();
    store = undefined;
    expect(hasTable(file, 'audit')).to.equal(false);
    const db = new Database(auditFileFor(file), { readonly: true });
    try {
      const rows = db.prepare('SELECT seq, actor, object_id FROM audit ORDER BY seq').all();
      expect(rows).to.deep.equal([
        { seq: 1, actor: 'actor-1', object_id: null },
        { seq: 2, actor: 'actor-2', object_id: 'some-object' },
      ]);
      expect(db.pragma('journal_mode', { simple: true })).to.equal('wal');
    } finally {
      db.close();
    }
  });

  for (const writer of ['thread', 'inline'] as const) {
    it(`an audit-only commit leaves the main file's data_version alone (${writer} writer)`, async () => {
      // the property Get latency depends on: in WAL mode a commit by another connection
      // makes the read connection drop its page cache of that file
      store = await openSqliteStore(file, { writer });
      const r = makeRecord();
      await store.insert(r);
      const main0 = store.pragma('data_version');
      const audit0 = store.pragma('data_version', 'audit');
      await store.appendAudit(audit(1, r.id));
      await store.atomic([
        { kind: 'audit', record: audit(2) },
        { kind: 'audit', record: audit(3) },
      ]);
      expect(store.pragma('data_version')).to.equal(main0);
      expect(store.pragma('data_version', 'audit')).to.not.equal(audit0);
      await store.insert(makeRecord());
      expect(store.pragma('data_version')).to.not.equal(main0);
      expect((await collect(store)).map((a) => a.seq)).to.deep.equal([1, 2, 3]);
    });
  }

  it('migrates an old file: every audit row keeps its seq, and appends continue after the old ones', async () => {
    await mkdir(path.dirname(file), { recursive: true });
    writeOldLayout(file);
    store = await openSqliteStore(file);
    const rows = await collect(store);
    expect(rows.map((a) => a.seq)).to.deep.equal(OLD_SEQS);
    expect(rows[3]).to.deep.equal({ seq: 5, ...audit(5, 'legacy') });
    expect((await store.lastAudit())?.seq).to.equal(5);
    await store.appendAudit(audit(7));
    // AUTOINCREMENT: 6 was used (then deleted) in the old table, so the next is 7
    expect((await store.lastAudit())?.seq).to.equal(7);
    expect((await store.get('legacy'))?.length).to.equal(128);
    await store.close();
    store = undefined;
    expect(hasTable(file, 'audit')).to.equal(false);
    const db = new Database(file, { readonly: true });
    expect(schemaVersion(db)).to.equal(SCHEMA_VERSION);
    db.close();
  });

  it('reruns the move after a crash between copy and drop without duplicating or losing a row', async () => {
    await mkdir(path.dirname(file), { recursive: true });
    writeOldLayout(file);
    // the crash: the copy committed (here: part of it, the rest as well on the second
    // variant below), the main file still at version 2 with its audit table
    const crashed = new Database(file);
    crashed.prepare('ATTACH DATABASE ? AS audit').run(auditFileFor(file));
    crashed.pragma('audit.journal_mode = WAL');
    crashed.exec(`
      CREATE TABLE audit.audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT, operation TEXT NOT NULL,
        object_id TEXT, outcome TEXT NOT NULL, detail TEXT NOT NULL);
      CREATE INDEX audit.audit_object ON audit (object_id, seq);
      INSERT INTO audit.audit SELECT * FROM main.audit WHERE seq <= 2;
    `);
    crashed.close();

    store = await openSqliteStore(file);
    expect((await collect(store)).map((a) => a.seq)).to.deep.equal(OLD_SEQS);
    await store.close();
    store = undefined;
    expect(hasTable(file, 'audit')).to.equal(false);
  });

  it('reruns the move when every row was copied already', async () => {
    await mkdir(path.dirname(file), { recursive: true });
    writeOldLayout(file);
    store = await openSqliteStore(file);
    const moved = await collect(store);
    await store.close();
    store = undefined;
    // put the old state back in the main file, as if migration 3 had not committed
    writeBack(file, moved);

    store = await openSqliteStore(file);
    const rows = await collect(store);
    expect(rows).to.deep.equal(moved);
    await store.appendAudit(audit(7));
    expect((await store.lastAudit())?.seq).to.equal(7);
  });

  it('refuses to open a store whose audit file is missing', async () => {
    store = await openSqliteStore(file);
    await store.appendAudit(audit(1));
    await store.close();
    store = undefined;
    await unlink(auditFileFor(file));
    await rm(`${auditFileFor(file)}-wal`, { force: true });
    await rm(`${auditFileFor(file)}-shm`, { force: true });
    try {
      store = await openSqliteStore(file);
      expect.fail('opened');
    } catch (e) {
      expect(storeErrorCode(e)).to.equal('ERR_STORE_UNAVAILABLE');
      expect(String(e)).to.match(/audit file .* is missing/);
    }
  });

  it('refuses a non-empty audit file beside a new main file', async () => {
    store = await openSqliteStore(file);
    await store.appendAudit(audit(1));
    await store.close();
    store = undefined;
    for (const suffix of ['', '-wal', '-shm']) await rm(`${file}${suffix}`, { force: true });
    try {
      store = await openSqliteStore(file);
      expect.fail('opened');
    } catch (e) {
      expect(storeErrorCode(e)).to.equal('ERR_STORE_UNAVAILABLE');
      expect(String(e)).to.match(/holds records/);
    }
  });

  it('backs up both files online; the copy opens with the same audit rows', async () => {
    store = await openSqliteStore(file);
    const r = makeRecord();
    await store.insert(r);
    for (let n = 1; n <= 20; n++) await store.appendAudit(audit(n, r.id));
    const dest = path.join(dir, 'backups', 'copy.db');
    await store.backup(dest);
    expect((await stat(auditFileFor(dest))).mode & 0o777).to.equal(0o600);
    const original = await collect(store);
    const copy = await openSqliteStore(dest);
    try {
      expect(await collect(copy)).to.deep.equal(original);
      expect((await copy.get(r.id))?.id).to.equal(r.id);
      await copy.appendAudit(audit(21));
      expect((await copy.lastAudit())?.seq).to.equal(21);
    } finally {
      await copy.close();
    }
  });
});

/** Recreates the old main-file audit table with `rows` and sets the schema back to 2. */
function writeBack(file: string, rows: readonly (AuditRecord & { seq: number })[]): void {
  const db = new Database(file);
  try {
    db.exec(`
      CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT, operation TEXT NOT NULL,
        object_id TEXT, outcome TEXT NOT NULL, detail TEXT NOT NULL);
      CREATE INDEX audit_object ON audit (object_id, seq);
      UPDATE meta SET value = '2' WHERE key = 'schema_version';
    `);
    const insert = db.prepare(
      'INSERT INTO audit (seq, at, actor, operation, object_id, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    for (const a of rows)
      insert.run(
        a.seq,
        a.at,
        a.actor ?? null,
        a.operation,
        a.objectId ?? null,
        a.outcome,
        JSON.stringify(a.detail),
      );
  } finally {
    db.close();
  }
}
