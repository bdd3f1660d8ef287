/**
 * The ObjectStore contract: every backend registers this suite with a
 * factory that opens a fresh, EMPTY store (and a cleanup that closes it,
 * tolerating a store the test closed already, and removes its data).
 * Backends must differ in nothing these tests can observe.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import {
  type AuditRecord,
  DuplicateIdError,
  type KekRecord,
  type LocateFilter,
  NotFoundError,
  type ObjectRecord,
  type ObjectStore,
  StoreUnavailableError,
  storeErrorCode,
  VersionConflictError,
} from '../../src/store/types.js';
import { collect, expectStoreError } from './fixtures.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface OpenedStore {
  store: ObjectStore;
  cleanup(): Promise<void>;
}

let serial = 0;
const runId = randomBytes(4).toString('hex');

export function makeRecord(over: Partial<Mutable<ObjectRecord>> = {}): ObjectRecord {
  serial++;
  return {
    id: `${runId}-${serial}`,
    version: 1,
    objectType: 'SymmetricKey',
    state: 'PreActive',
    owner: 'alice',
    names: [`key-${serial}`],
    objectGroups: [],
    algorithm: 'AES',
    length: 256,
    dates: {},
    custom: {},
    attributes: new Uint8Array([0x42, 0x01, 0x25, 0x01, serial & 0xff]),
    sealed: {
      kekId: 'kek-1',
      nonce: new Uint8Array(randomBytes(12)),
      ciphertext: new Uint8Array(randomBytes(48)),
    },
    createdAt: 1_700_000_000_000 + serial,
    updatedAt: 1_700_000_000_000 + serial,
    tombstoned: false,
    ...over,
  };
}

function hex(u: Uint8Array): string {
  expect(u).to.be.instanceOf(Uint8Array);
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('hex');
}

/** Field by field, Uint8Array contents compared byte-exact whatever subclass the backend returns. */
export function expectSameRecord(actual: ObjectRecord | undefined, expected: ObjectRecord): void {
  expect(actual, `record ${expected.id}`).to.not.equal(undefined);
  if (actual === undefined) return;
  const { attributes, sealed, ...rest } = actual;
  const { attributes: eAttributes, sealed: eSealed, ...eRest } = expected;
  expect(rest).to.deep.equal(eRest);
  expect(Object.keys(actual).sort()).to.deep.equal(Object.keys(expected).sort());
  expect(hex(attributes)).to.equal(hex(eAttributes));
  if (eSealed === undefined) {
    expect(sealed).to.equal(undefined);
  } else {
    expect(sealed).to.not.equal(undefined);
    if (sealed === undefined) return;
    expect(sealed.kekId).to.equal(eSealed.kekId);
    expect(hex(sealed.nonce)).to.equal(hex(eSealed.nonce));
    expect(hex(sealed.ciphertext)).to.equal(hex(eSealed.ciphertext));
  }
}

async function expectRejected(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  expect.fail('expected a rejection');
}

function bump(r: ObjectRecord, over: Partial<Mutable<ObjectRecord>> = {}): ObjectRecord {
  return { ...r, version: r.version + 1, updatedAt: r.updatedAt + 1, ...over };
}

function audit(over: Partial<Mutable<AuditRecord>> = {}): AuditRecord {
  return {
    at: 1_700_000_000_000,
    actor: 'CN=alice',
    operation: 'Create',
    objectId: 'obj',
    outcome: 'Success',
    detail: {},
    ...over,
  };
}

export function storeContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(name, function () {
    this.timeout(60_000);
    let opened: OpenedStore;
    let store: ObjectStore;

    beforeEach(async () => {
      opened = await open();
      store = opened.store;
    });
    afterEach(async () => {
      await opened.cleanup();
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

    describe('audit', () => {
      it('reads records back in append order with increasing seq', async () => {
        const recs = [
          audit({ operation: 'Create', detail: { purpose: 'backup', note: 'ünïcode ✓' } }),
          audit({ operation: 'Get', actor: undefined, objectId: undefined }),
          audit({
            operation: 'Destroy',
            outcome: 'OperationFailed',
            detail: { reason: 'Permission Denied' },
          }),
          audit({ operation: 'Locate', at: 1_700_000_000_123 }),
          audit({ operation: 'Activate' }),
        ];
        for (const a of recs) await store.appendAudit(a);
        const got = await collect(store.readAudit());
        expect(got.map(({ seq: _, ...a }) => a)).to.deep.equal(recs);
        for (let i = 1; i < got.length; i++) expect(got[i]?.seq).to.be.above(got[i - 1]?.seq ?? 0);
        const second = got[1]?.seq ?? 0;
        expect((await collect(store.readAudit({ after: second }))).map((a) => a.operation)).to.deep.equal([
          'Destroy',
          'Locate',
          'Activate',
        ]);
        expect((await collect(store.readAudit({ limit: 2 }))).map((a) => a.operation)).to.deep.equal([
          'Create',
          'Get',
        ]);
        expect(
          (await collect(store.readAudit({ after: second, limit: 1 }))).map((a) => a.operation),
        ).to.deep.equal(['Destroy']);
        expect(await collect(store.readAudit({ after: got.at(-1)?.seq ?? 0 }))).to.deep.equal([]);
      });

      it('pages through a long trail with after', async () => {
        for (let i = 0; i < 30; i += 10)
          await Promise.all(
            Array.from({ length: 10 }, (_, j) => store.appendAudit(audit({ detail: { n: String(i + j) } }))),
          );
        const seen: string[] = [];
        let after: number | undefined;
        for (let guard = 0; guard < 10; guard++) {
          const page = await collect(
            store.readAudit({ ...(after === undefined ? {} : { after }), limit: 7 }),
          );
          if (page.length === 0) break;
          seen.push(...page.map((a) => a.detail.n ?? ''));
          after = page.at(-1)?.seq;
        }
        expect(seen).to.have.length(30);
        expect(new Set(seen).size).to.equal(30);
      });
    });

    describe('atomic', () => {
      it('applies every op, in order, together', async () => {
        const old = makeRecord({ names: ['old-key'] });
        await store.insert(old);
        const fresh = makeRecord({ names: ['new-key'] });
        const freshV2 = bump(fresh, { state: 'Active' });
        const oldV2 = bump(old, { state: 'Deactivated', custom: { 'x-ReplacedBy': [fresh.id] } });
        await store.atomic([
          { kind: 'insert', record: fresh },
          { kind: 'update', record: freshV2, expectedVersion: 1 },
          { kind: 'update', record: oldV2, expectedVersion: 1 },
          { kind: 'audit', record: audit({ operation: 'ReKey', objectId: fresh.id }) },
        ]);
        expectSameRecord(await store.get(fresh.id), freshV2);
        expectSameRecord(await store.get(old.id), oldV2);
        const trail = await collect(store.readAudit());
        expect(trail.map((a) => a.operation)).to.deep.equal(['ReKey']);
      });

      it('accepts an empty list', async () => {
        await store.atomic([]);
        expect(await store.count({ includeTombstoned: true })).to.equal(0);
      });

      const failing: [string, string, (existing: ObjectRecord) => ObjectRecord | 'stale' | 'absent'][] = [
        ['a duplicate insert', 'ERR_STORE_DUPLICATE_ID', (existing) => existing],
        ['a version conflict', 'ERR_STORE_VERSION_CONFLICT', () => 'stale'],
        ['an update of an absent record', 'ERR_STORE_NOT_FOUND', () => 'absent'],
      ];
      for (const [title, code, bad] of failing) {
        it(`applies nothing when one op fails: ${title}`, async () => {
          const existing = makeRecord({ names: ['existing'] });
          await store.insert(existing);
          const updated = bump(existing, { state: 'Active' });
          await store.update(updated, 1);
          const fresh = makeRecord({ names: ['fresh'] });
          const which = bad(existing);
          const badOp =
            which === 'stale'
              ? {
                  kind: 'update' as const,
                  record: bump(existing, { state: 'Compromised' }),
                  expectedVersion: 1,
                }
              : which === 'absent'
                ? { kind: 'update' as const, record: bump(makeRecord()), expectedVersion: 1 }
                : { kind: 'insert' as const, record: which };
          const ok = makeRecord({ names: ['bystander'] });
          const [atomicResult] = await Promise.allSettled([
            store.atomic([
              { kind: 'insert', record: fresh },
              { kind: 'audit', record: audit({ operation: 'ReKey' }) },
              { kind: 'update', record: bump(updated, { state: 'Deactivated' }), expectedVersion: 2 },
              badOp,
            ]),
            // a concurrent, independent write is not dragged down with it
            store.insert(ok),
          ]);
          expect(atomicResult.status).to.equal('rejected');
          if (atomicResult.status === 'rejected') expect(storeErrorCode(atomicResult.reason)).to.equal(code);
          expect(await store.get(fresh.id)).to.equal(undefined);
          expect(await store.locate({ name: 'fresh' })).to.deep.equal([]);
          expectSameRecord(await store.get(existing.id), updated);
          expect(await collect(store.readAudit())).to.deep.equal([]);
          expectSameRecord(await store.get(ok.id), ok);
        });
      }

      it('refuses an update op whose version is not expectedVersion + 1, applying nothing', async () => {
        const existing = makeRecord();
        await store.insert(existing);
        const fresh = makeRecord();
        await expectRejected(
          store.atomic([
            { kind: 'insert', record: fresh },
            { kind: 'update', record: { ...existing, state: 'Active' }, expectedVersion: 1 },
          ]),
        );
        expect(await store.get(fresh.id)).to.equal(undefined);
        expectSameRecord(await store.get(existing.id), existing);
      });
    });

    describe('KEKs', () => {
      const kek = (id: string, over: Partial<Mutable<KekRecord>> = {}): KekRecord => ({
        id,
        masterKeyId: 'software:1',
        wrapped: new Uint8Array(randomBytes(40)),
        createdAt: 1_700_000_000_000,
        active: false,
        ...over,
      });
      const same = (a: KekRecord | undefined, b: KekRecord) => {
        expect(a).to.not.equal(undefined);
        if (a === undefined) return;
        const { wrapped, ...rest } = a;
        const { wrapped: bWrapped, ...bRest } = b;
        expect(rest).to.deep.equal(bRest);
        expect(hex(wrapped)).to.equal(hex(bWrapped));
      };

      it('puts, gets and lists', async () => {
        expect(await store.listKeks()).to.deep.equal([]);
        expect(await store.getKek('kek-a')).to.equal(undefined);
        const a = kek('kek-a', { active: true });
        const b = kek('kek-b', { createdAt: 1_700_000_000_001 });
        await store.putKek(a);
        await store.putKek(b);
        same(await store.getKek('kek-a'), a);
        same(await store.getKek('kek-b'), b);
        const list = (await store.listKeks()).sort((x, y) => x.id.localeCompare(y.id));
        expect(list).to.have.length(2);
        same(list[0], a);
        same(list[1], b);
      });

      it('replaces a KEK put again (rewrap under a new master key, deactivation)', async () => {
        const a = kek('kek-a', { active: true });
        await store.putKek(a);
        const rewrapped = kek('kek-a', { masterKeyId: 'software:2', active: false });
        await store.putKek(rewrapped);
        same(await store.getKek('kek-a'), rewrapped);
        expect(await store.listKeks()).to.have.length(1);
      });
    });

    describe('close', () => {
      it('settles writes issued before close, then rejects every operation', async () => {
        const r = makeRecord();
        const pending = store.insert(r);
        await store.close();
        await Promise.allSettled([pending]);
        const unavailable = 'ERR_STORE_UNAVAILABLE';
        const e = await expectStoreError(store.get(r.id), unavailable);
        expect(e).to.be.instanceOf(StoreUnavailableError);
        await expectStoreError(store.insert(makeRecord()), unavailable);
        await expectStoreError(store.update(bump(r), 1), unavailable);
        await expectStoreError(store.locate({}), unavailable);
        await expectStoreError(store.count({}), unavailable);
        await expectStoreError(store.appendAudit(audit()), unavailable);
        await expectStoreError(store.atomic([{ kind: 'audit', record: audit() }]), unavailable);
        await expectStoreError(store.getKek('x'), unavailable);
        await expectStoreError(store.listKeks(), unavailable);
        await expectStoreError(collect(store.iterate()), unavailable);
        await expectStoreError(collect(store.readAudit()), unavailable);
        await store.close();
      });
    });
  });
}
