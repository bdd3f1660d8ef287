import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { auditFileFor, MIGRATIONS, SCHEMA_VERSION, schemaVersion } from '../../src/store/sqlite/schema.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/store.js';
import { type ObjectRecord, storeErrorCode } from '../../src/store/types.js';
import { expectSameRecord, makeRecord } from './contract.js';
import { sqliteContract, tempDir } from './sqlite-fixtures.js';

sqliteContract('sqlite store contract');

describe('sqlite store', () => {
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

  describe('decoded records of recent Gets', () => {
    const lean = { indexFields: false } as const;
    const withoutIndex = (r: ObjectRecord): ObjectRecord => ({
      ...r,
      names: [],
      objectGroups: [],
      dates: {},
      custom: {},
    });
    let other: SqliteStore | undefined;
    afterEach(async () => {
      await other?.close();
      other = undefined;
    });

    it('answers a repeated Get from memory while only audit records are committed', async () => {
      store = await openSqliteStore(file);
      const r = makeRecord({ id: 'k1' });
      await store.insert(r);
      expectSameRecord(await store.get('k1', lean), withoutIndex(r));
      const before = store.stats.recentHits;
      await store.appendAudit({
        at: 1,
        actor: 'alice',
        operation: 'Get',
        objectId: 'k1',
        outcome: 'Success',
        detail: {},
      });
      expectSameRecord(await store.get('k1', lean), withoutIndex(r));
      expect(store.stats.recentHits).to.equal(before + 1);
    });

    it('sees a change committed by its own writer and by another process at the next Get', async () => {
      store = await openSqliteStore(file);
      other = await openSqliteStore(file);
      const v1 = makeRecord({ id: 'k2' });
      await store.insert(v1);
      expect((await store.get('k2', lean))?.version).to.equal(1);
      const v2 = { ...v1, version: 2, state: 'Active' };
      await store.update(v2, 1);
      expectSameRecord(await store.get('k2', lean), withoutIndex(v2));
      expect((await store.get('k2', lean))?.state).to.equal('Active');
      // another process (here another connection pair) changes it: no stale answer
      const v3 = { ...v2, version: 3, state: 'Deactivated' };
      await other.update(v3, 2);
      expectSameRecord(await store.get('k2', lean), withoutIndex(v3));
      const v4 = { ...v3, version: 4, tombstoned: true, sealed: undefined };
      await other.update(v4, 3);
      expect((await store.get('k2', lean))?.tombstoned).to.equal(true);
    });
  });

  it('uses WAL, synchronous FULL, foreign keys and a busy timeout', async () => {
    store = await openSqliteStore(file);
    expect(store.pragma('journal_mode')).to.equal('wal');
    expect(store.pragma('synchronous')).to.equal(2); // FULL
    expect(store.pragma('foreign_keys')).to.equal(1);
    expect(store.pragma('busy_timeout')).to.be.above(0);
  });

  it('creates the directory 0700 and the database file 0600', async () => {
    store = await openSqliteStore(file);
    await store.insert(makeRecord());
    expect((await stat(path.dirname(file))).mode & 0o777).to.equal(0o700);
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    expect((await stat(`${file}-wal`)).mode & 0o777).to.equal(0o600);
    await store.appendAudit({
      at: 1,
      actor: undefined,
      operation: 'Get',
      objectId: undefined,
      outcome: 'Success',
      detail: {},
    });
    expect((await stat(auditFileFor(file))).mode & 0o777).to.equal(0o600);
    expect((await stat(`${auditFileFor(file)}-wal`)).mode & 0o777).to.equal(0o600);
  });

  it('group-commits concurrent writes: 200 inserts in far fewer than 200 transactions', async () => {
    store = await openSqliteStore(file);
    const before = store.stats.commits;
    const records = Array.from({ length: 200 }, () => makeRecord());
    await Promise.all([
      ...records.map((r) => store?.insert(r)),
      store.appendAudit({
        at: 1,
        actor: undefined,
        operation: 'Create',
        objectId: undefined,
        outcome: 'Success',
        detail: {},
      }),
    ]);
    const commits = store.stats.commits - before;
    expect(commits).to.be.at.least(1).and.at.most(5);
    expect(await store.count({})).to.equal(200);
  });

  it('fails only the conflicting writer of a batch', async () => {
    store = await openSqliteStore(file);
    const existing = makeRecord();
    await store.insert(existing);
    const before = store.stats.commits;
    const fresh = Array.from({ length: 10 }, () => makeRecord());
    const results = await Promise.allSettled([
      store.insert(fresh[0] ?? makeRecord()),
      store.insert(existing),
      ...fresh.slice(1).map((r) => store?.insert(r)),
    ]);
    expect(store.stats.commits - before).to.equal(1);
    expect(results.map((r) => r.status)).to.deep.equal([
      'fulfilled',
      'rejected',
      ...Array(9).fill('fulfilled'),
    ]);
    const dup = results[1];
    if (dup?.status === 'rejected') expect(storeErrorCode(dup.reason)).to.equal('ERR_STORE_DUPLICATE_ID');
    expect(await store.count({})).to.equal(11);
  });

  it('keeps the event loop turning during a large burst of writes', async () => {
    store = await openSqliteStore(file);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    await Promise.all(Array.from({ length: 2000 }, () => store?.insert(makeRecord())));
    clearInterval(timer);
    // batches are bounded, so timers run between them
    expect(ticks).to.be.above(1);
    expect(store.stats.commits).to.be.at.least(2000 / 256);
  });

  it('keeps data across close and reopen', async () => {
    store = await openSqliteStore(file);
    const r = makeRecord({ names: ['durable'], custom: { 'x-a': ['b'] } });
    await store.insert(r);
    await store.putKek({
      id: 'k',
      masterKeyId: 'm',
      wrapped: new Uint8Array([1, 2]),
      createdAt: 5,
      active: true,
    });
    await store.close();
    store = await openSqliteStore(file);
    expectSameRecord(await store.get(r.id), r);
    expect(await store.locate({ name: 'durable' })).to.deep.equal([r.id]);
    expect((await store.getKek('k'))?.active).to.equal(true);
  });

  it('migrates a version 1 file to the current schema at open', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(path.dirname(file), { recursive: true });
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    expect(schemaVersion(old)).to.equal(0);
    MIGRATIONS[0]?.(old);
    old.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', '1')").run();
    old
      .prepare(
        `INSERT INTO objects (id, version, object_type, state, owner, algorithm, length, created_at, updated_at,
           tombstoned, attributes) VALUES ('legacy', 1, 'SymmetricKey', 'Active', NULL, 'AES', 128, 1, 1, 0, x'00')`,
      )
      .run();
    old.prepare("INSERT INTO object_names (oid, pos, name) VALUES (1, 0, 'old-name')").run();
    old.close();

    store = await openSqliteStore(file);
    await store.close();
    const db = new Database(file, { readonly: true });
    expect(schemaVersion(db)).to.equal(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).to.be.at.least(3);
    db.close();
    // since version 3 the audit table and its index live in the audit file
    const audit = new Database(auditFileFor(file), { readonly: true });
    const index = audit
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'audit_object'")
      .get();
    expect(index).to.not.equal(undefined);
    audit.close();

    store = await openSqliteStore(file);
    expect(await store.locate({ name: 'old-name' })).to.deep.equal(['legacy']);
    expect((await store.get('legacy'))?.length).to.equal(128);
  });

  it('refuses a file from a newer schema', async () => {
    store = await openSqliteStore(file);
    await store.close();
    store = undefined;
    const db = new Database(file);
    db.prepare("UPDATE meta SET value = '999' WHERE key = 'schema_version'").run();
    db.close();
    try {
      store = await openSqliteStore(file);
      expect.fail('opened');
    } catch (e) {
      expect(storeErrorCode(e)).to.equal('ERR_STORE_UNAVAILABLE');
      expect(String(e)).to.match(/newer/);
    }
  });

  it('reports an unusable file as StoreUnavailableError without SQL', async () => {
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(
      file,
      'this is not a database, just text that is long enough to have a header'.repeat(20),
    );
    try {
      store = await openSqliteStore(file);
      expect.fail('opened');
    } catch (e) {
      expect(storeErrorCode(e)).to.equal('ERR_STORE_UNAVAILABLE');
      expect(String(e)).to.not.match(/SQLITE|SELECT|PRAGMA/);
    }
  });

  it('backs up online into a file that opens with the same records', async () => {
    store = await openSqliteStore(file);
    const records = Array.from({ length: 50 }, (_, i) => makeRecord({ names: [`b-${i}`] }));
    await Promise.all(records.map((r) => store?.insert(r)));
    const dest = path.join(dir, 'backups', 'copy.db');
    // writes during the backup must not break it
    const during = store.insert(makeRecord());
    await store.backup(dest);
    await during;
    expect((await stat(dest)).mode & 0o777).to.equal(0o600);
    expect((await stat(auditFileFor(dest))).mode & 0o777).to.equal(0o600);
    const copy = await openSqliteStore(dest);
    try {
      for (const r of records) expectSameRecord(await copy.get(r.id), r);
      expect(await copy.locate({ name: 'b-7' })).to.deep.equal([records[7]?.id]);
      expect(await copy.count({})).to.be.within(50, 51);
    } finally {
      await copy.close();
    }
  });

  it('serves Locate by name from an index', async () => {
    store = await openSqliteStore(file);
    await store.close();
    store = undefined;
    const db = new Database(file, { readonly: true });
    const plan = db
      .prepare(
        'EXPLAIN QUERY PLAN SELECT o.id FROM objects o WHERE o.tombstoned = 0 AND o.seq IN (SELECT oid FROM object_names WHERE name = ?) ORDER BY o.seq',
      )
      .all('x') as { detail: string }[];
    db.close();
    const text = plan.map((p) => p.detail).join('\n');
    expect(text).to.match(/object_names_name/);
    expect(text).to.not.match(/SCAN o\b/);
  });
});
