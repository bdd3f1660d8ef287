import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import {
  type KekRecord,
  type ObjectRecord,
  type ObjectStore,
  StoreUnavailableError,
  storeErrorCode,
} from '../../src/store/types.js';
import {
  audit,
  bump,
  expectRejected,
  expectSameRecord,
  hex,
  type Mutable,
  makeRecord,
  type OpenedStore,
  useOpenedStore,
} from './contract-fixtures.js';
import { collect, expectStoreError } from './fixtures.js';

/** ObjectStore contract: the audit trail, atomic batches, KEKs and close. */
export function auditContract(open: () => Promise<OpenedStore>): void {
  describe('audit, atomic, KEKs and close', () => {
    let store: ObjectStore;
    useOpenedStore(open, (s) => {
      store = s;
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
