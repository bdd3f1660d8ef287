/**
 * The MongoDB backend against a real FerretDB (built by .ci/run; a missing
 * binary fails the suite, it never skips): the shared contract, then what
 * only this backend has — several nodes on one database, batched audit
 * appends (seq ranges), an outage and recovery, and atomic() writes
 * interrupted half-way.
 */

import { expect } from 'chai';
import { Binary, MongoClient, ObjectId } from 'mongodb';
import { openMongoStore } from '../../src/store/mongo/index.js';
import { MONGO_SCHEMA_VERSION, type MongoStore } from '../../src/store/mongo/store.js';
import {
  type AuditRecord,
  type ObjectRecord,
  type ObjectStore,
  storeErrorCode,
  VersionConflictError,
  type WriteOp,
} from '../../src/store/types.js';
import { type FerretDb, startFerretDb } from '../helpers/ferretdb.js';
import { storeContract } from './contract.js';
import { collect, expectStoreError, freshDb, rec } from './fixtures.js';

describe('store/mongo (FerretDB)', function () {
  this.timeout(60_000);
  let ferret: FerretDb;

  before(async () => {
    ferret = await startFerretDb();
  });
  after(async () => {
    await ferret?.stop();
  });

  storeContract('mongodb (FerretDB)', async () => {
    const database = freshDb();
    const store = await openMongoStore(ferret.uri, { database });
    return {
      store,
      async cleanup() {
        await store.close();
        const client = new MongoClient(ferret.uri);
        try {
          await client.db(database).dropDatabase();
        } finally {
          await client.close();
        }
      },
    };
  });

  describe('schema versions', () => {
    it('records the schema version at open and refuses a database from a newer server', async () => {
      const database = freshDb();
      const store = await openMongoStore(ferret.uri, { database });
      await store.close();
      const client = new MongoClient(ferret.uri);
      try {
        const meta = client.db(database).collection<{ _id: string; version: number }>('meta');
        expect((await meta.findOne({ _id: 'schema' }))?.version).to.equal(MONGO_SCHEMA_VERSION);
        await meta.updateOne({ _id: 'schema' }, { $set: { version: MONGO_SCHEMA_VERSION + 1 } });
        await expectStoreError(openMongoStore(ferret.uri, { database }), 'ERR_STORE_UNAVAILABLE');
        await client.db(database).dropDatabase();
      } finally {
        await client.close();
      }
    });
  });

  describe('records and Locate', () => {
    let store: ObjectStore;
    before(async () => {
      store = await openMongoStore(ferret.uri, { database: freshDb() });
    });
    after(async () => {
      await store.close();
    });

    it('round-trips a record exactly, absent optionals included', async () => {
      const a = rec('rt-1');
      const b = rec('rt-2', {
        owner: undefined,
        algorithm: undefined,
        length: undefined,
        sealed: undefined,
        names: [],
        objectGroups: [],
        dates: {},
        custom: { 'x-empty': [], 'weird.name$': ['a', 'b'] },
      });
      await store.insert(a);
      await store.insert(b);
      expect(await store.get('rt-1')).to.deep.equal(a);
      expect(await store.get('rt-2')).to.deep.equal(b);
      expect(await store.get('nope')).to.equal(undefined);
      await expectStoreError(store.insert(a), 'ERR_STORE_DUPLICATE_ID');
    });

    it('updates with optimistic concurrency', async () => {
      const a = rec('up-1');
      await store.insert(a);
      await store.update({ ...a, version: 2, state: 'Active' }, 1);
      await expectStoreError(store.update({ ...a, version: 2 }, 1), 'ERR_STORE_VERSION_CONFLICT');
      await expectStoreError(store.update(rec('up-missing', { version: 2 }), 1), 'ERR_STORE_NOT_FOUND');
      expect((await store.get('up-1'))?.state).to.equal('Active');
    });

    it('locates on every filter, in creation order, with paging', async () => {
      const s = await openMongoStore(ferret.uri, { database: freshDb() });
      try {
        await s.insert(rec('l1', { names: ['n1', 'shared'], dates: { ActivationDate: 100 } }));
        await s.insert(
          rec('l2', {
            names: ['shared'],
            state: 'Active',
            algorithm: 'RSA',
            length: 2048,
            owner: 'bob',
            objectGroups: ['g2'],
            dates: { ActivationDate: 200, DestroyDate: 5 },
            custom: { 'x-app': ['billing'], 'x-env': ['prod'] },
          }),
        );
        await s.insert(rec('l3', { tombstoned: true, names: ['shared'] }));
        await s.insert(rec('l0', { createdAt: 1, names: ['shared'] }));
        expect(await s.locate({})).to.deep.equal(['l1', 'l2', 'l0']);
        expect(await s.locate({ includeTombstoned: true })).to.deep.equal(['l1', 'l2', 'l3', 'l0']);
        expect(await s.locate({ name: 'shared' }, { offset: 1, limit: 1 })).to.deep.equal(['l2']);
        expect(await s.locate({ name: 'n1' })).to.deep.equal(['l1']);
        expect(await s.locate({ state: 'Active' })).to.deep.equal(['l2']);
        expect(await s.locate({ algorithm: 'RSA', length: 2048 })).to.deep.equal(['l2']);
        expect(await s.locate({ owner: 'bob' })).to.deep.equal(['l2']);
        expect(await s.locate({ objectGroup: 'g2' })).to.deep.equal(['l2']);
        expect(await s.locate({ objectType: 'SymmetricKey' })).to.have.length(3);
        expect(await s.locate({ dates: [{ field: 'ActivationDate', from: 150 }] })).to.deep.equal(['l2']);
        expect(await s.locate({ dates: [{ field: 'ActivationDate', to: 150 }] })).to.deep.equal(['l1']);
        expect(await s.locate({ dates: [{ field: 'ActivationDate' }] })).to.deep.equal(['l1', 'l2']);
        expect(
          await s.locate({
            dates: [
              { field: 'ActivationDate', from: 0 },
              { field: 'DestroyDate', to: 5 },
            ],
          }),
        ).to.deep.equal(['l2']);
        expect(await s.locate({ custom: [{ name: 'x-app', value: 'billing' }] })).to.deep.equal(['l2']);
        expect(
          await s.locate({
            custom: [
              { name: 'x-app', value: 'billing' },
              { name: 'x-env', value: 'dev' },
            ],
          }),
        ).to.deep.equal([]);
        expect(await s.count({ name: 'shared' })).to.equal(3);
        expect(await s.count({ name: 'shared', includeTombstoned: true })).to.equal(4);
        expect((await collect(s.iterate({ batchSize: 2 }))).map((r) => r.id)).to.deep.equal([
          'l1',
          'l2',
          'l3',
          'l0',
        ]);
      } finally {
        await s.close();
      }
    });

    it('keeps KEKs and an ordered audit trail', async () => {
      const kek = {
        id: 'kek-1',
        masterKeyId: 'mk-1',
        wrapped: new Uint8Array([9, 9]),
        createdAt: 5,
        active: true,
      };
      await store.putKek(kek);
      await store.putKek({ ...kek, id: 'kek-0', createdAt: 1, active: false });
      expect(await store.getKek('kek-1')).to.deep.equal(kek);
      expect((await store.listKeks()).map((k) => k.id)).to.deep.equal(['kek-0', 'kek-1']);
      for (let i = 0; i < 3; i++) {
        await store.appendAudit({
          at: i,
          actor: 'alice',
          operation: 'Get',
          objectId: undefined,
          outcome: 'Success',
          detail: { i: String(i) },
        });
      }
      const all = await collect(store.readAudit());
      expect(all.map((a) => a.detail.i)).to.deep.equal(['0', '1', '2']);
      const tail = await collect(store.readAudit({ after: all[0]?.seq ?? 0, limit: 1 }));
      expect(tail.map((a) => a.detail.i)).to.deep.equal(['1']);
    });
  });

  describe('several nodes on one database', () => {
    let a: ObjectStore;
    let b: ObjectStore;
    before(async () => {
      const database = freshDb();
      a = await openMongoStore(ferret.uri, { database });
      b = await openMongoStore(ferret.uri, { database });
    });
    after(async () => {
      await a.close();
      await b.close();
    });

    it('sees an object created through A through B at once', async () => {
      await a.insert(rec('n-1'));
      expect((await b.get('n-1'))?.id).to.equal('n-1');
      expect(await b.locate({ name: 'name-n-1' })).to.deep.equal(['n-1']);
      await expectStoreError(b.insert(rec('n-1')), 'ERR_STORE_DUPLICATE_ID');
    });

    it('loses no update when A and B change one object concurrently (retry on conflict)', async () => {
      await a.insert(rec('n-2', { names: [] }));
      const addName = async (s: ObjectStore, name: string) => {
        for (;;) {
          const cur = await s.get('n-2');
          if (!cur) throw new Error('vanished');
          try {
            await s.update({ ...cur, version: cur.version + 1, names: [...cur.names, name] }, cur.version);
            return;
          } catch (err: unknown) {
            if (!(err instanceof VersionConflictError)) throw err;
          }
        }
      };
      const work: Promise<void>[] = [];
      for (let i = 0; i < 10; i++) {
        work.push(addName(a, `a${i}`), addName(b, `b${i}`));
      }
      await Promise.all(work);
      const final = await b.get('n-2');
      expect(final?.version).to.equal(21);
      expect([...(final?.names ?? [])].sort()).to.have.length(20);
    });

    it('interleaves atomic() writes through A with plain updates through B, losing nothing', async () => {
      await a.insert(rec('n-3', { names: [] }));
      const change = async (s: ObjectStore, name: string, viaAtomic: boolean) => {
        for (let attempt = 0; attempt < 200; attempt++) {
          const cur = await s.get('n-3');
          if (!cur) throw new Error('vanished');
          const next = { ...cur, version: cur.version + 1, names: [...cur.names, name] };
          try {
            if (viaAtomic) {
              await s.atomic([
                { kind: 'update', record: next, expectedVersion: cur.version },
                {
                  kind: 'audit',
                  record: {
                    at: 0,
                    actor: 'a',
                    operation: 'Modify',
                    objectId: 'n-3',
                    outcome: name,
                    detail: {},
                  },
                },
              ]);
            } else {
              await s.update(next, cur.version);
            }
            return;
          } catch (err: unknown) {
            if (!(err instanceof VersionConflictError)) throw err;
          }
        }
        throw new Error('too many conflicts');
      };
      const work: Promise<void>[] = [];
      for (let i = 0; i < 8; i++) work.push(change(a, `atomic${i}`, true), change(b, `plain${i}`, false));
      await Promise.all(work);
      const final = await a.get('n-3');
      expect(final?.version).to.equal(17);
      expect(final?.names).to.have.length(16);
      const audited = (await collect(b.readAudit())).filter((r) => r.objectId === 'n-3');
      expect(audited.map((r) => r.outcome).sort()).to.deep.equal(
        [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `atomic${i}`),
      );
    });

    it('orders creations per node and numbers audit records uniquely across nodes', async () => {
      for (let i = 0; i < 5; i++) await a.insert(rec(`ord-a${i}`, { objectGroups: ['ord'] }));
      const ids = await b.locate({ objectGroup: 'ord' });
      expect(ids).to.deep.equal([0, 1, 2, 3, 4].map((i) => `ord-a${i}`));
      const audit = (s: ObjectStore, i: number) =>
        s.appendAudit({
          at: i,
          actor: undefined,
          operation: 'Locate',
          objectId: undefined,
          outcome: 'Success',
          detail: {},
        });
      await Promise.all([0, 1, 2, 3, 4, 5].map((i) => audit(i % 2 ? a : b, i)));
      const seqs = (await collect(a.readAudit())).map((r) => r.seq);
      expect(new Set(seqs).size).to.equal(seqs.length);
      expect(seqs).to.deep.equal([...seqs].sort((x, y) => x - y));
    });
  });

  describe('audit appends', () => {
    let database: string;
    let store: ObjectStore;
    let raw: MongoClient;
    const auditRec = (tag: string, i: number): AuditRecord => ({
      at: i,
      actor: 'bob',
      operation: 'Get',
      objectId: `obj-${tag}`,
      outcome: 'Success',
      detail: { tag, i: String(i) },
    });
    const batch = (tag: string, n: number): WriteOp[] =>
      Array.from({ length: n }, (_, i) => ({ kind: 'audit', record: auditRec(tag, i) }) as const);
    const counter = () => raw.db(database).collection<{ _id: string; seq: number }>('counters');
    const seqsOf = async (tag: string) =>
      (await collect(store.readAudit())).filter((r) => r.detail.tag === tag).map((r) => r.seq);

    before(async () => {
      database = freshDb();
      store = await openMongoStore(ferret.uri, { database });
      raw = new MongoClient(ferret.uri);
      await raw.connect();
    });
    after(async () => {
      await store.close();
      await raw.close();
    });

    it('writes an audit-only atomic() in order under consecutive seqs, without a journal', async () => {
      const db = raw.db(database);
      const txnsBefore = await db.collection('txns').countDocuments();
      await store.atomic(batch('b1', 7));
      const all = (await collect(store.readAudit())).filter((r) => r.detail.tag === 'b1');
      expect(all.map((r) => r.detail.i)).to.deep.equal(['0', '1', '2', '3', '4', '5', '6']);
      const first = all[0]?.seq ?? 0;
      expect(all.map((r) => r.seq)).to.deep.equal(all.map((_, i) => first + i));
      expect(await db.collection('txns').countDocuments()).to.equal(txnsBefore);
      expect(await db.collection('audit').countDocuments({ txn: { $type: 'string' } })).to.equal(0);
      expect((await counter().findOne({ _id: 'audit' }))?.seq).to.equal(first + 6);
      const last = await store.lastAudit?.();
      expect(last?.detail).to.deep.equal({ tag: 'b1', i: '6' });
    });

    it('numbers the rest of a batch again after a seq collision part-way, in order', async () => {
      // a seq taken by another node's write under FerretDB's non-atomic $inc
      const c = (await counter().findOne({ _id: 'audit' }))?.seq ?? 0;
      await raw
        .db(database)
        .collection('audit')
        .insertOne({
          _id: new ObjectId(),
          seq: c + 3,
          at: 0,
          actor: null,
          operation: 'Other',
          objectId: null,
          outcome: 'Success',
          detail: { tag: 'other' },
        });
      await store.atomic(batch('b2', 5));
      const seqs = await seqsOf('b2');
      expect(seqs).to.have.length(5);
      expect(seqs).to.deep.equal([...seqs].sort((x, y) => x - y));
      expect(seqs.slice(0, 2)).to.deep.equal([c + 1, c + 2]);
      expect(seqs[2]).to.be.greaterThan(c + 3);
      const tags = (await collect(store.readAudit({ after: c }))).map(
        (r) => `${r.detail.tag}${r.detail.i ?? ''}`,
      );
      expect(tags).to.deep.equal(['b20', 'b21', 'other', 'b22', 'b23', 'b24']);
    });

    it('never numbers below what it already wrote when the counter goes back', async () => {
      // a gap of reserved, never written seqs (a node died between $inc and insert) ...
      await counter().updateOne({ _id: 'audit' }, { $inc: { seq: 10 } });
      await store.atomic(batch('b3', 1));
      const [high] = await seqsOf('b3');
      // ... and a racing $inc on FerretDB writing back an older value
      await counter().updateOne({ _id: 'audit' }, { $set: { seq: (high ?? 0) - 8 } });
      await store.atomic(batch('b4', 2));
      const later = await seqsOf('b4');
      expect(later).to.have.length(2);
      expect(later[0]).to.be.greaterThan(high ?? Number.POSITIVE_INFINITY);
      const all = (await collect(store.readAudit())).map((r) => r.seq);
      expect(new Set(all).size).to.equal(all.length);
    });

    it('gives two nodes appending batches concurrently unique seqs, each node in its own order', async () => {
      const other = await openMongoStore(ferret.uri, { database });
      try {
        const run = async (s: ObjectStore, tag: string) => {
          for (let k = 0; k < 6; k++) await s.atomic(batch(`${tag}${k}`, 1 + (k % 4)));
        };
        await Promise.all([run(store, 'x'), run(other, 'y'), run(store, 'z')]);
        const all = await collect(other.readAudit());
        const seqs = all.map((r) => r.seq);
        expect(new Set(seqs).size).to.equal(seqs.length);
        for (const tag of ['x', 'y', 'z']) {
          const mine = all.filter((r) => r.detail.tag?.startsWith(tag));
          expect(mine).to.have.length(1 + 2 + 3 + 4 + 1 + 2);
          // every batch whole and in order, batches in the order they were appended
          const order = mine.map((r) => `${r.detail.tag}:${r.detail.i}`);
          const want = [0, 1, 2, 3, 4, 5].flatMap((k) =>
            Array.from({ length: 1 + (k % 4) }, (_, i) => `${tag}${k}:${i}`),
          );
          expect(order).to.deep.equal(want);
        }
      } finally {
        await other.close();
      }
    });
  });

  describe('atomic() without transactions', () => {
    let database: string;
    let store: ObjectStore;
    let raw: MongoClient;
    before(async () => {
      database = freshDb();
      store = await openMongoStore(ferret.uri, { database, txnTimeoutMs: 1000 });
      raw = new MongoClient(ferret.uri);
      await raw.connect();
    });
    after(async () => {
      await store.close();
      await raw.close();
    });

    it('applies insert + update + audit together', async () => {
      await store.insert(rec('at-old'));
      await store.atomic([
        { kind: 'insert', record: rec('at-new') },
        { kind: 'update', record: rec('at-old', { version: 2, state: 'Deactivated' }), expectedVersion: 1 },
        {
          kind: 'audit',
          record: {
            at: 1,
            actor: 'a',
            operation: 'ReKey',
            objectId: 'at-old',
            outcome: 'Success',
            detail: {},
          },
        },
      ]);
      expect((await store.get('at-old'))?.state).to.equal('Deactivated');
      expect(await store.get('at-new')).to.deep.equal(rec('at-new'));
      expect((await collect(store.readAudit())).map((r) => r.operation)).to.include('ReKey');
      const markers = await raw
        .db(database)
        .collection('objects')
        .countDocuments({ txn: { $exists: true } });
      expect(markers).to.equal(0);
      expect(await raw.db(database).collection('txns').countDocuments({})).to.equal(0);
    });

    it('fails whole, leaving nothing, on a stale version or a duplicate', async () => {
      await store.insert(rec('at-x'));
      await expectStoreError(
        store.atomic([
          { kind: 'insert', record: rec('at-y') },
          { kind: 'update', record: rec('at-x', { version: 6 }), expectedVersion: 5 },
        ]),
        'ERR_STORE_VERSION_CONFLICT',
      );
      await expectStoreError(
        store.atomic([
          { kind: 'insert', record: rec('at-y') },
          { kind: 'insert', record: rec('at-x') },
        ]),
        'ERR_STORE_DUPLICATE_ID',
      );
      expect(await store.get('at-y')).to.equal(undefined);
      expect((await store.get('at-x'))?.version).to.equal(1);
    });

    it('guards conditional updates with claims on FerretDB, taking over a dead claim', async () => {
      expect((store as MongoStore).capabilities.atomicConditionalUpdate).to.equal(false);
      await store.insert(rec('cl-1'));
      const claims = raw.db(database).collection('claims');
      await claims.insertOne({ _id: 'cl-1#1' as unknown as ObjectId, at: Date.now() });
      await expectStoreError(store.update(rec('cl-1', { version: 2 }), 1), 'ERR_STORE_VERSION_CONFLICT');
      await claims.updateOne({ _id: 'cl-1#1' as unknown as ObjectId }, { $set: { at: Date.now() - 60_000 } });
      await store.update(rec('cl-1', { version: 2, state: 'Active' }), 1);
      expect((await store.get('cl-1'))?.state).to.equal('Active');
      expect(await claims.countDocuments({})).to.equal(0);
    });

    // What a writer that died between its journal and its commit leaves behind.
    async function plantHalfWrite(state: 'pending' | 'committed', n: number): Promise<string> {
      const db = raw.db(database);
      const txn = new ObjectId().toHexString();
      const old = `hw-old-${n}`;
      const neu = `hw-new-${n}`;
      await store.insert(rec(old, { objectGroups: [`hw${n}`] }));
      await db
        .collection('txns')
        .insertOne({ _id: txn as unknown as ObjectId, at: Date.now(), objects: [old, neu] });
      if (state === 'committed') {
        const outcome = { _id: txn as unknown as ObjectId, outcome: 'commit', at: Date.now() };
        await db.collection('txn_outcomes').insertOne(outcome);
      }
      const objects = db.collection('objects');
      const before = await objects.findOne({ _id: old as unknown as ObjectId });
      if (!before) throw new Error('planted record missing');
      const { _id, seq, ...image } = before;
      await objects.updateOne(
        { _id: old as unknown as ObjectId },
        { $set: { version: 2, state: 'Active', objectGroups: [`hw${n}`, 'changed'], txn, pre: image } },
      );
      await objects.insertOne({
        ...image,
        _id: neu as unknown as ObjectId,
        seq: new ObjectId(),
        objectGroups: [`hw${n}`],
        attributes: new Binary(new Uint8Array([1])),
        txn,
        pre: null,
      });
      return txn;
    }

    it('hides an uncommitted write from readers, then rolls it back once stale', async () => {
      await plantHalfWrite('pending', 1);
      expect(await store.get('hw-new-1')).to.equal(undefined);
      expect((await store.get('hw-old-1'))?.state).to.equal('PreActive');
      expect(await store.locate({ objectGroup: 'hw1' })).to.deep.equal(['hw-old-1']);
      expect(await store.locate({ objectGroup: 'changed' })).to.deep.equal([]);
      expect(await store.count({ objectGroup: 'hw1' })).to.equal(1);
      await expectStoreError(store.update(rec('hw-old-1', { version: 2 }), 1), 'ERR_STORE_VERSION_CONFLICT');
      await new Promise((r) => setTimeout(r, 1100));
      // past the timeout the writer is presumed dead: the reader rolls it back
      expect(await store.get('hw-old-1')).to.deep.include({ version: 1, state: 'PreActive' });
      expect(
        await raw
          .db(database)
          .collection('objects')
          .findOne({ _id: 'hw-new-1' as unknown as ObjectId }),
      ).to.equal(null);
      await store.update(rec('hw-old-1', { version: 2, objectGroups: ['hw1'] }), 1);
    });

    it('shows a committed write whole and finishes it at the next open', async () => {
      await plantHalfWrite('committed', 2);
      expect((await store.get('hw-old-2'))?.state).to.equal('Active');
      expect((await store.get('hw-new-2'))?.id).to.equal('hw-new-2');
      expect(await store.locate({ objectGroup: 'hw2' })).to.deep.equal(['hw-old-2', 'hw-new-2']);
      const again = await openMongoStore(ferret.uri, { database });
      await again.close();
      const db = raw.db(database);
      expect(await db.collection('txns').countDocuments({})).to.equal(0);
      expect(await db.collection('txn_outcomes').countDocuments({ outcome: 'commit' })).to.equal(0);
      expect(
        await db
          .collection('objects')
          .find({ txn: { $exists: true } })
          .project({ _id: 1, txn: 1 })
          .toArray(),
      ).to.deep.equal([]);
    });
  });

  describe('storage outage', () => {
    it('fails fast with StoreUnavailableError while down and recovers without reopening', async function () {
      this.timeout(90_000);
      const store = await openMongoStore(ferret.uri, { database: freshDb() });
      try {
        await store.insert(rec('out-1'));
        ferret.kill();
        const t0 = Date.now();
        await expectStoreError(store.get('out-1'), 'ERR_STORE_UNAVAILABLE');
        await expectStoreError(store.insert(rec('out-2')), 'ERR_STORE_UNAVAILABLE');
        expect(Date.now() - t0).to.be.below(10_000);
        await ferret.restart();
        let got: ObjectRecord | undefined;
        for (let i = 0; i < 50 && got === undefined; i++) {
          try {
            got = await store.get('out-1');
          } catch (err: unknown) {
            if (storeErrorCode(err) !== 'ERR_STORE_UNAVAILABLE') throw err;
            await new Promise((r) => setTimeout(r, 200));
          }
        }
        expect(got?.id).to.equal('out-1');
        await store.insert(rec('out-2'));
        expect((await store.get('out-2'))?.id).to.equal('out-2');
      } finally {
        await store.close();
      }
    });
  });
});
