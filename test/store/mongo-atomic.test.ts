/**
 * The MongoDB store's atomic() protocol (src/store/mongo/atomic.ts) driven
 * step by step against a real FerretDB: an object group abandoned after its
 * stage step or after its commit, by a writer that stops or by a child
 * process killed with SIGKILL, is never visible half-written, and recovery
 * rolls it back or forward whole.
 */

import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { type Db, MongoClient } from 'mongodb';
import type { MongoCollections } from '../../src/store/mongo/collections.js';
import { openMongoStore } from '../../src/store/mongo/index.js';
import type { ObjectStore } from '../../src/store/types.js';
import { type FerretDb, startFerretDb } from '../helpers/ferretdb.js';
import { collect, expectStoreError, freshDb, rec } from './fixtures.js';
import { groupBase, groupOps, protocolFor, stageGroup } from './mongo-atomic-group.js';

const CHILD = fileURLToPath(new URL('./mongo-atomic-child.ts', import.meta.url));
/** how long the recovering node waits before it presumes a writer dead */
const STALE_MS = 300;

describe('store/mongo atomic() protocol (FerretDB)', function () {
  this.timeout(60_000);
  let ferret: FerretDb;
  let raw: MongoClient;
  let database: string;
  let db: Db;
  /** a store that never presumes a writer dead: what any node's reads show meanwhile */
  let reader: ObjectStore;

  before(async () => {
    ferret = await startFerretDb();
    raw = new MongoClient(ferret.uri);
    await raw.connect();
  });
  after(async () => {
    await raw?.close();
    await ferret?.stop();
  });
  beforeEach(async () => {
    database = freshDb();
    reader = await openMongoStore(ferret.uri, { database, txnTimeoutMs: 60_000 });
    db = raw.db(database);
  });
  afterEach(async () => {
    await reader.close();
    await db.dropDatabase();
  });

  async function auditOperations(): Promise<string[]> {
    return (await collect(reader.readAudit())).map((a) => a.operation);
  }

  /** Readers see the group not at all: the old object as it was, the new one absent. */
  async function expectNone(prefix: string): Promise<void> {
    expect(await reader.get(`${prefix}-new`)).to.equal(undefined);
    expect(await reader.get(`${prefix}-old`)).to.deep.include({ version: 1, state: 'PreActive' });
    expect(await reader.locate({ objectGroup: prefix })).to.deep.equal([`${prefix}-old`]);
    expect(await reader.count({ objectGroup: prefix })).to.equal(1);
    expect(await auditOperations()).to.not.include(`${prefix}-op`);
  }

  /** Readers see the whole group. */
  async function expectWhole(prefix: string): Promise<void> {
    expect(await reader.get(`${prefix}-new`)).to.deep.equal(rec(`${prefix}-new`, { objectGroups: [prefix] }));
    expect(await reader.get(`${prefix}-old`)).to.deep.include({ version: 2, state: 'Active' });
    expect(await reader.locate({ objectGroup: prefix })).to.deep.equal([`${prefix}-old`, `${prefix}-new`]);
    expect(await reader.count({ objectGroup: prefix })).to.equal(2);
    expect(await auditOperations()).to.include(`${prefix}-op`);
  }

  /** Nothing of the protocol is left in the database: no marker, journal, commit outcome or claim. */
  async function expectSettled(c: MongoCollections): Promise<void> {
    expect(await c.objects.countDocuments({ txn: { $exists: true } }), 'marked objects').to.equal(0);
    expect(await c.objects.countDocuments({ pre: { $exists: true } }), 'pre images').to.equal(0);
    expect(await c.audit.countDocuments({ txn: { $type: 'string' } }), 'marked audit records').to.equal(0);
    expect(await c.txns.countDocuments({}), 'journals').to.equal(0);
    expect(await c.outcomes.countDocuments({ outcome: 'commit' }), 'commit outcomes').to.equal(0);
    expect(await c.claims.countDocuments({}), 'claims').to.equal(0);
  }

  /** The stored documents are those before the group, and the write is recorded as aborted. */
  async function expectRolledBack(c: MongoCollections, prefix: string, txn: string): Promise<void> {
    await expectSettled(c);
    expect(await c.objects.findOne({ _id: `${prefix}-new` })).to.equal(null);
    expect(await c.objects.findOne({ _id: `${prefix}-old` })).to.deep.include({
      version: 1,
      state: 'PreActive',
    });
    expect(await c.audit.countDocuments({ operation: `${prefix}-op` })).to.equal(0);
    expect((await c.outcomes.findOne({ _id: txn }))?.outcome).to.equal('abort');
  }

  async function expectRolledForward(c: MongoCollections, prefix: string): Promise<void> {
    await expectSettled(c);
    expect(await c.objects.findOne({ _id: `${prefix}-new` })).to.deep.include({ version: 1 });
    expect(await c.objects.findOne({ _id: `${prefix}-old` })).to.deep.include({
      version: 2,
      state: 'Active',
    });
    expect(await c.audit.countDocuments({ operation: `${prefix}-op` })).to.equal(1);
  }

  /** Stores the group's base object, then runs the group up to its stage step in this process. */
  async function staged(
    prefix: string,
  ): Promise<{ writer: Awaited<ReturnType<typeof protocolFor>>; txn: string }> {
    await reader.insert(groupBase(prefix));
    const writer = await protocolFor(db, 60_000);
    return { writer, txn: await stageGroup(writer.protocol, prefix) };
  }

  /** Runs the group in a child process up to `step`, then kills it with SIGKILL; returns the txn. */
  async function killedAfter(prefix: string, step: 'stage' | 'commit'): Promise<string> {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ferret.uri, database, prefix, step], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString('utf8');
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const txn = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString('utf8');
          const m = new RegExp(`^${step} ([0-9a-f]+)\\n`).exec(out);
          if (m?.[1] !== undefined) resolve(m[1]);
        });
        child.once('exit', (code, signal) =>
          reject(new Error(`the child exited (${code ?? signal}) before its ${step} step: ${err}`)),
        );
      });
      return txn;
    } finally {
      child.kill('SIGKILL');
      await exited;
      expect(child.signalCode).to.equal('SIGKILL');
    }
  }

  it('hides a group abandoned after its stage step, and recovery rolls it back whole', async () => {
    const { writer, txn } = await staged('s1');
    // staged for real: both objects and the audit record are in the database, marked
    expect(await writer.collections.objects.countDocuments({ txn })).to.equal(2);
    expect(await writer.collections.audit.countDocuments({ txn })).to.equal(1);
    await expectNone('s1');

    await sleep(STALE_MS + 100);
    const recovery = await protocolFor(db, STALE_MS);
    await recovery.protocol.recover();
    await expectRolledBack(recovery.collections, 's1', txn);
    await expectNone('s1');
    // the writer, waking up, can no longer commit
    await expectStoreError(writer.protocol.commit(txn), 'ERR_STORE_UNAVAILABLE');
    await expectNone('s1');
    await reader.update(rec('s1-old', { version: 2, objectGroups: ['s1'] }), 1);
  });

  it('shows a group abandoned after its commit whole, and recovery rolls it forward', async () => {
    const { writer, txn } = await staged('c1');
    await writer.protocol.commit(txn);
    expect(await writer.collections.objects.countDocuments({ txn })).to.equal(2);
    await expectWhole('c1');
    // an abort arriving after the commit finishes the write instead
    expect(await writer.protocol.rollBack(txn)).to.equal(false);
    await expectWhole('c1');

    const recovery = await protocolFor(db, STALE_MS);
    await recovery.protocol.recover();
    await expectRolledForward(recovery.collections, 'c1');
    await expectWhole('c1');
  });

  it('undoes a marker whose journal and outcome are gone', async () => {
    const { writer, txn } = await staged('o1');
    await writer.collections.txns.deleteOne({ _id: txn });
    await writer.protocol.recover();
    await expectSettled(writer.collections);
    expect(await writer.collections.objects.findOne({ _id: 'o1-new' })).to.equal(null);
    expect(await writer.collections.objects.findOne({ _id: 'o1-old' })).to.deep.include({ version: 1 });
    expect(await writer.collections.audit.countDocuments({ operation: 'o1-op' })).to.equal(0);
    await expectNone('o1');
  });

  it('refuses a group whose objects another group has staged', async () => {
    await staged('p1');
    const other = await protocolFor(db, 60_000);
    const [insertNew, updateOld] = groupOps('p1');
    if (insertNew === undefined || updateOld === undefined) throw new Error('groupOps changed');
    await expectStoreError(other.protocol.write([updateOld]), 'ERR_STORE_VERSION_CONFLICT');
    // the id of a staged insert is taken until that write is settled
    await expectStoreError(other.protocol.write([insertNew]), 'ERR_STORE_DUPLICATE_ID');
    await expectStoreError(reader.update(rec('p1-old', { version: 2 }), 1), 'ERR_STORE_VERSION_CONFLICT');
    await expectNone('p1');
  });

  it('rolls back a group whose writer was killed with SIGKILL after its stage step', async () => {
    await reader.insert(groupBase('k1'));
    const txn = await killedAfter('k1', 'stage');
    const c = (await protocolFor(db, STALE_MS)).collections;
    expect(await c.objects.countDocuments({ txn })).to.equal(2);
    expect(await c.txns.countDocuments({ _id: txn })).to.equal(1);
    await expectNone('k1');
    await sleep(STALE_MS + 100);
    const recovery = await protocolFor(db, STALE_MS);
    await recovery.protocol.recover();
    await expectRolledBack(recovery.collections, 'k1', txn);
    await expectNone('k1');
  });

  it('rolls forward a group whose writer was killed with SIGKILL after its commit', async () => {
    await reader.insert(groupBase('k2'));
    const txn = await killedAfter('k2', 'commit');
    const c = (await protocolFor(db, STALE_MS)).collections;
    expect(await c.objects.countDocuments({ txn })).to.equal(2);
    await expectWhole('k2');
    // a node opening the database runs the same recovery
    const opened = await openMongoStore(ferret.uri, { database, txnTimeoutMs: STALE_MS });
    await opened.close();
    await expectRolledForward(c, 'k2');
    await expectWhole('k2');
  });
});
