import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import {
  DuplicateIdError,
  type LocateFilter,
  NotFoundError,
  type ObjectStore,
  storeErrorCode,
  VersionConflictError,
} from '../../src/store/types.js';
import {
  bump,
  expectRejected,
  expectSameRecord,
  makeRecord,
  type OpenedStore,
  runId,
  serial,
  useOpenedStore,
} from './contract-fixtures.js';
import { collect, expectStoreError } from './fixtures.js';

/** ObjectStore contract, objects: insert, get, update, locate, count and iterate. */
export function objectContract(open: () => Promise<OpenedStore>): void {
  describe('objects', () => {
    let store: ObjectStore;
    useOpenedStore(open, (s) => {
      store = s;
    });

    describe('insert and get', () => {
      it('round-trips every field byte-exact', async () => {
        const r = makeRecord({
          state: 'Active',
          names: ['payments', 'payments-2024'],
          objectGroups: ['prod', 'eu'],
          dates: { ActivationDate: 1_700_000_000, DeactivationDate: 1_800_000_000 },
          custom: { 'x-Team': ['red', 'blue'], 'vendor:Tier': ['gold'] },
          attributes: new Uint8Array(Array.from({ length: 256 }, (_, i) => i)),
          sealed: {
            kekId: 'kek-7',
            nonce: new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]),
            ciphertext: new Uint8Array([0, 0, 255, 128, ...randomBytes(60)]),
          },
        });
        await store.insert(r);
        expectSameRecord(await store.get(r.id), r);
      });

      it('keeps undefined optional fields undefined and empty collections empty', async () => {
        const r = makeRecord({
          owner: undefined,
          algorithm: undefined,
          length: undefined,
          sealed: undefined,
          names: [],
          objectGroups: [],
          dates: {},
          custom: {},
          attributes: new Uint8Array(0),
        });
        await store.insert(r);
        const got = await store.get(r.id);
        expectSameRecord(got, r);
        expect(got?.sealed).to.equal(undefined);
        expect(got?.owner).to.equal(undefined);
      });

      it('answers undefined for an unknown id', async () => {
        expect(await store.get('no-such-id')).to.equal(undefined);
      });

      it('returns tombstoned records', async () => {
        const r = makeRecord({ tombstoned: true, state: 'Destroyed', sealed: undefined });
        await store.insert(r);
        expectSameRecord(await store.get(r.id), r);
      });

      it('refuses a duplicate id with DuplicateIdError and keeps the first record', async () => {
        const r = makeRecord();
        await store.insert(r);
        const e = await expectStoreError(store.insert({ ...r, names: ['other'] }), 'ERR_STORE_DUPLICATE_ID');
        expect(e).to.be.instanceOf(DuplicateIdError);
        expectSameRecord(await store.get(r.id), r);
        expect(await store.locate({ name: 'other' })).to.deep.equal([]);
      });

      it('keeps Unicode names and 10,000-character custom values, and finds by them', async () => {
        const long = 'é'.repeat(5000) + '𝔘'.repeat(2500);
        const r = makeRecord({
          names: ['ключ 🔑 鍵', 'e\u0301'],
          custom: { 'x-Blob': [long], 'x-Ünïcode': ['値'] },
        });
        await store.insert(r);
        expectSameRecord(await store.get(r.id), r);
        expect(await store.locate({ name: 'ключ 🔑 鍵' })).to.deep.equal([r.id]);
        // no Unicode normalisation: 'é' precomposed is another name than e + combining acute
        expect(await store.locate({ name: 'é' })).to.deep.equal([]);
        expect(await store.locate({ custom: [{ name: 'x-Blob', value: long }] })).to.deep.equal([r.id]);
        expect(await store.locate({ custom: [{ name: 'x-Ünïcode', value: '値' }] })).to.deep.equal([r.id]);
      });
    });

    describe('update', () => {
      it('replaces the record at the expected version, re-indexing it', async () => {
        const r = makeRecord({ names: ['old'], objectGroups: ['g-old'], custom: { 'x-a': ['1'] } });
        await store.insert(r);
        const next = bump(r, {
          state: 'Active',
          names: ['new'],
          objectGroups: ['g-new'],
          dates: { ActivationDate: 42 },
          custom: { 'x-b': ['2'] },
          attributes: new Uint8Array([9, 8, 7]),
        });
        await store.update(next, 1);
        expectSameRecord(await store.get(r.id), next);
        expect(await store.locate({ name: 'old' })).to.deep.equal([]);
        expect(await store.locate({ name: 'new' })).to.deep.equal([r.id]);
        expect(await store.locate({ objectGroup: 'g-old' })).to.deep.equal([]);
        expect(await store.locate({ objectGroup: 'g-new' })).to.deep.equal([r.id]);
        expect(await store.locate({ custom: [{ name: 'x-a', value: '1' }] })).to.deep.equal([]);
        expect(await store.locate({ custom: [{ name: 'x-b', value: '2' }] })).to.deep.equal([r.id]);
        expect(await store.locate({ dates: [{ field: 'ActivationDate', from: 42, to: 42 }] })).to.deep.equal([
          r.id,
        ]);
      });

      it('removes sealed material (Destroy) and tombstones', async () => {
        const r = makeRecord({ names: ['doomed'] });
        await store.insert(r);
        const destroyed = bump(r, { state: 'Destroyed', sealed: undefined, tombstoned: true });
        await store.update(destroyed, 1);
        const got = await store.get(r.id);
        expectSameRecord(got, destroyed);
        expect(got?.sealed).to.equal(undefined);
        expect(await store.locate({ name: 'doomed' })).to.deep.equal([]);
        expect(await store.locate({ name: 'doomed', includeTombstoned: true })).to.deep.equal([r.id]);
      });

      it('rejects a stale expected version with VersionConflictError and changes nothing', async () => {
        const r = makeRecord();
        await store.insert(r);
        const v2 = bump(r, { state: 'Active' });
        await store.update(v2, 1);
        const e = await expectStoreError(
          store.update(bump(r, { state: 'Compromised' }), 1),
          'ERR_STORE_VERSION_CONFLICT',
        );
        expect(e).to.be.instanceOf(VersionConflictError);
        expectSameRecord(await store.get(r.id), v2);
      });

      it('rejects an absent record with NotFoundError', async () => {
        const r = makeRecord();
        const e = await expectStoreError(store.update(bump(r), 1), 'ERR_STORE_NOT_FOUND');
        expect(e).to.be.instanceOf(NotFoundError);
        expect(await store.get(r.id)).to.equal(undefined);
      });

      it('refuses a record whose version is not expectedVersion + 1', async () => {
        const r = makeRecord();
        await store.insert(r);
        await expectRejected(store.update({ ...r, version: 1, state: 'Active' }, 1));
        await expectRejected(store.update({ ...r, version: 3, state: 'Active' }, 1));
        expectSameRecord(await store.get(r.id), r);
      });

      it('lets exactly one of many concurrent updates at one version win', async () => {
        const r = makeRecord();
        await store.insert(r);
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) => store.update(bump(r, { state: `S${i}` }), 1)),
        );
        const won = results.flatMap((x, i) => (x.status === 'fulfilled' ? [i] : []));
        expect(won).to.have.length(1);
        for (const x of results)
          if (x.status === 'rejected')
            expect(storeErrorCode(x.reason)).to.equal('ERR_STORE_VERSION_CONFLICT');
        const got = await store.get(r.id);
        expect(got?.version).to.equal(2);
        expect(got?.state).to.equal(`S${won[0]}`);
      });

      it('loses no change under concurrent read-modify-write with retry', async () => {
        const r = makeRecord({ custom: { 'x-Counter': ['0'] } });
        await store.insert(r);
        const increment = async () => {
          for (let attempt = 0; attempt < 100; attempt++) {
            const cur = await store.get(r.id);
            if (cur === undefined) throw new Error('vanished');
            const n = Number(cur.custom['x-Counter']?.[0]);
            try {
              await store.update(bump(cur, { custom: { 'x-Counter': [String(n + 1)] } }), cur.version);
              return;
            } catch (e) {
              if (storeErrorCode(e) !== 'ERR_STORE_VERSION_CONFLICT') throw e;
            }
          }
          throw new Error('too many conflicts');
        };
        await Promise.all(Array.from({ length: 20 }, increment));
        const got = await store.get(r.id);
        expect(got?.custom['x-Counter']).to.deep.equal(['20']);
        expect(got?.version).to.equal(21);
      });

      it('keeps creation order and createdAt across updates', async () => {
        const a = makeRecord();
        const b = makeRecord();
        await store.insert(a);
        await store.insert(b);
        await store.update(bump(a, { state: 'Active' }), 1);
        expect(await store.locate({})).to.deep.equal([a.id, b.id]);
        expect((await store.get(a.id))?.createdAt).to.equal(a.createdAt);
      });
    });

    describe('locate and count', () => {
      const k = {
        k1: makeRecord({
          state: 'Active',
          names: ['alpha'],
          objectGroups: ['g1'],
          dates: { ActivationDate: 1000 },
          custom: { 'x-env': ['prod'], 'x-team': ['red', 'blue'] },
        }),
        k2: makeRecord({
          owner: 'bob',
          length: 128,
          names: ['alpha2'],
          objectGroups: ['g2'],
          dates: { ActivationDate: 2000 },
          custom: { 'x-env': ['dev'] },
        }),
        k3: makeRecord({
          objectType: 'PrivateKey',
          state: 'Active',
          algorithm: 'RSA',
          length: 2048,
          names: ['ключ-🔑'],
          objectGroups: ['g1', 'g2'],
          dates: { ActivationDate: 3000, DeactivationDate: 5000 },
        }),
        k4: makeRecord({
          objectType: 'PublicKey',
          state: 'Active',
          owner: undefined,
          algorithm: 'RSA',
          length: 2048,
          names: ['alph'],
          sealed: undefined,
          custom: { 'x-env': ['prod'] },
        }),
        k5: makeRecord({
          state: 'Destroyed',
          names: ['alpha'],
          objectGroups: ['g1'],
          dates: { ActivationDate: 1000 },
          custom: { 'x-env': ['prod'] },
          tombstoned: true,
          sealed: undefined,
        }),
        k6: makeRecord({
          objectType: 'Certificate',
          state: 'Active',
          algorithm: undefined,
          length: undefined,
          names: ['Alpha'],
          custom: { 'x-team': ['red'] },
          sealed: undefined,
        }),
      };
      type Key = keyof typeof k;
      const seed = async () => {
        // one at a time: creation order is the insertion order
        for (const r of Object.values(k)) await store.insert(r);
      };
      const cases: [string, LocateFilter, Key[]][] = [
        ['no filter: everything but tombstones', {}, ['k1', 'k2', 'k3', 'k4', 'k6']],
        ['includeTombstoned', { includeTombstoned: true }, ['k1', 'k2', 'k3', 'k4', 'k5', 'k6']],
        ['objectType', { objectType: 'SymmetricKey' }, ['k1', 'k2']],
        ['state', { state: 'Active' }, ['k1', 'k3', 'k4', 'k6']],
        ['state of a tombstone', { state: 'Destroyed' }, []],
        ['state of a tombstone, includeTombstoned', { state: 'Destroyed', includeTombstoned: true }, ['k5']],
        ['exact name (not a prefix, not another case)', { name: 'alpha' }, ['k1']],
        ['exact name, includeTombstoned', { name: 'alpha', includeTombstoned: true }, ['k1', 'k5']],
        ['a name that is a prefix of others', { name: 'alph' }, ['k4']],
        ['a Unicode name', { name: 'ключ-🔑' }, ['k3']],
        ['an unknown name', { name: 'alpha3' }, []],
        ['objectGroup', { objectGroup: 'g1' }, ['k1', 'k3']],
        ['objectGroup (second of two)', { objectGroup: 'g2' }, ['k2', 'k3']],
        ['algorithm', { algorithm: 'RSA' }, ['k3', 'k4']],
        ['length', { length: 2048 }, ['k3', 'k4']],
        ['length 256', { length: 256 }, ['k1']],
        ['owner', { owner: 'alice' }, ['k1', 'k3', 'k6']],
        ['date present', { dates: [{ field: 'ActivationDate' }] }, ['k1', 'k2', 'k3']],
        ['date from (inclusive)', { dates: [{ field: 'ActivationDate', from: 2000 }] }, ['k2', 'k3']],
        ['date to (inclusive)', { dates: [{ field: 'ActivationDate', to: 2000 }] }, ['k1', 'k2']],
        ['date from = to', { dates: [{ field: 'ActivationDate', from: 2000, to: 2000 }] }, ['k2']],
        ['empty date range', { dates: [{ field: 'ActivationDate', from: 1001, to: 1999 }] }, []],
        [
          'two date ranges',
          {
            dates: [
              { field: 'ActivationDate', from: 0 },
              { field: 'DeactivationDate', to: 5000 },
            ],
          },
          ['k3'],
        ],
        ['custom', { custom: [{ name: 'x-env', value: 'prod' }] }, ['k1', 'k4']],
        ['custom, second of several values', { custom: [{ name: 'x-team', value: 'blue' }] }, ['k1']],
        ['custom, prefix of a value', { custom: [{ name: 'x-env', value: 'pro' }] }, []],
        ['custom, value of another name', { custom: [{ name: 'x-team', value: 'prod' }] }, []],
        [
          'two custom conditions',
          {
            custom: [
              { name: 'x-env', value: 'prod' },
              { name: 'x-team', value: 'red' },
            ],
          },
          ['k1'],
        ],
        [
          'every field combined',
          {
            objectType: 'SymmetricKey',
            state: 'Active',
            name: 'alpha',
            objectGroup: 'g1',
            algorithm: 'AES',
            length: 256,
            owner: 'alice',
            dates: [{ field: 'ActivationDate', from: 1000, to: 1000 }],
            custom: [{ name: 'x-team', value: 'red' }],
          },
          ['k1'],
        ],
        ['combined, no match', { objectType: 'SymmetricKey', owner: 'bob', state: 'Active' }, []],
        ['combined: group and algorithm', { objectGroup: 'g2', algorithm: 'AES' }, ['k2']],
      ];
      for (const [title, filter, expected] of cases) {
        it(`${title}`, async () => {
          await seed();
          const ids = expected.map((key) => k[key].id);
          expect(await store.locate(filter)).to.deep.equal(ids);
          expect(await store.count(filter)).to.equal(ids.length);
        });
      }

      it('answers in creation order, not id order', async () => {
        const ids = ['m', 'z', 'a', 'q'].map((p) => `${p}-${runId}-${serial}`);
        for (const id of ids) await store.insert(makeRecord({ id }));
        expect(await store.locate({})).to.deep.equal(ids);
      });

      it('pages with offset and limit, a page past the end being empty', async () => {
        const records = Array.from({ length: 25 }, () => makeRecord({ objectGroups: ['paged'] }));
        for (const r of records) await store.insert(r);
        const ids = records.map((r) => r.id);
        const f = { objectGroup: 'paged' };
        expect(await store.locate(f, { limit: 10 })).to.deep.equal(ids.slice(0, 10));
        expect(await store.locate(f, { offset: 10, limit: 10 })).to.deep.equal(ids.slice(10, 20));
        expect(await store.locate(f, { offset: 20, limit: 10 })).to.deep.equal(ids.slice(20));
        expect(await store.locate(f, { offset: 25, limit: 10 })).to.deep.equal([]);
        expect(await store.locate(f, { offset: 1000 })).to.deep.equal([]);
        expect(await store.locate(f, { offset: 5 })).to.deep.equal(ids.slice(5));
        expect(await store.locate(f, {})).to.deep.equal(ids);
        expect(await store.count(f)).to.equal(25);
      });

      // Speed is measured by bench/store.ts (BENCHMARKS.md), not asserted here.
      it('finds one of 1,000 objects by Name and by custom attribute', async () => {
        const records = Array.from({ length: 1000 }, (_, i) =>
          makeRecord({ names: [`bulk-${i}`], custom: { 'x-i': [String(i)] } }),
        );
        for (let i = 0; i < records.length; i += 100)
          await Promise.all(records.slice(i, i + 100).map((r) => store.insert(r)));
        expect(await store.count({})).to.equal(1000);
        for (const i of [0, 123, 500, 999]) {
          expect(await store.locate({ name: `bulk-${i}` })).to.deep.equal([records[i]?.id]);
          expect(await store.locate({ custom: [{ name: 'x-i', value: String(i) }] })).to.deep.equal([
            records[i]?.id,
          ]);
        }
        expect(await store.locate({}, { offset: 990, limit: 20 })).to.have.length(10);
      });
    });

    describe('iterate', () => {
      it('yields nothing for an empty store', async () => {
        expect(await collect(store.iterate())).to.deep.equal([]);
      });

      it('yields every record, tombstones included, in creation order across batches', async () => {
        const records = Array.from({ length: 23 }, (_, i) =>
          makeRecord({ tombstoned: i % 5 === 0, sealed: i % 5 === 0 ? undefined : makeRecord().sealed }),
        );
        for (const r of records) await store.insert(r);
        for (const batchSize of [1, 7, 23, 100]) {
          const got = await collect(store.iterate({ batchSize }));
          expect(got.map((r) => r.id)).to.deep.equal(records.map((r) => r.id));
          got.forEach((r, i) => {
            const expected = records[i];
            if (expected !== undefined) expectSameRecord(r, expected);
          });
        }
        expect((await collect(store.iterate())).length).to.equal(23);
      });
    });
  });
}
