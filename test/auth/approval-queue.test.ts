/**
 * The dual-control approval queue (security review): one identity cannot
 * flood it (auth.dualControl.maxPendingPerIdentity open requests), a
 * request is found without reading every stored request (index fields; old
 * records are indexed once), and an approval is spent only by an operation
 * that succeeds: Destroy of a key still Active, Revoke of a destroyed key,
 * Get of an archived key through a grant give it back.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import {
  ApprovalQuotaError,
  type ApprovalRequest,
  DEFAULT_MAX_PENDING_PER_IDENTITY,
  DualControl,
} from '../../src/auth/dual-control.js';
import { AccessRecords } from '../../src/auth/records.js';
import { KmipError } from '../../src/kmip/errors.js';
import type { ItemGuard } from '../../src/kmip/server/executor.js';
import {
  Operation,
  ResultReason,
  ResultStatus,
  RevocationReasonCode,
  Tag,
} from '../../src/kmip/spec/index.js';
import type { ObjectRecord, ObjectStore } from '../../src/store/types.js';
import { type AccessHarness, E, type ItemResult, openAccessHarness, S, T } from './harness.js';
import { IDENTITIES, SEEDERS, seedTenant } from './tenant-fixtures.js';

const uid = (id: string) => [T(Tag.UniqueIdentifier, id)];
const revoke = (id: string, code: number) => [
  T(Tag.UniqueIdentifier, id),
  S(Tag.RevocationReason, [E(Tag.RevocationReasonCode, code)]),
];

function pendingId(r: ItemResult | undefined): string {
  expect(r?.reason, r?.message).to.equal(ResultReason.PermissionDenied);
  const m = /pending approval id (\w+) \(/.exec(r?.message ?? '');
  expect(m, r?.message).to.not.equal(null);
  return m?.[1] ?? '';
}

/** The store, counting the records read and the identifiers located (what a request costs). */
function counting(store: ObjectStore) {
  const n = { gets: 0, located: 0 };
  const wrapped = {
    kind: store.kind,
    get: (id: string, opts?: Parameters<ObjectStore['get']>[1]) => {
      n.gets++;
      return store.get(id, opts);
    },
    locate: async (...a: Parameters<ObjectStore['locate']>) => {
      const ids = await store.locate(...a);
      n.located += ids.length;
      return ids;
    },
    count: (...a: Parameters<ObjectStore['count']>) => store.count(...a),
    insert: (...a: Parameters<ObjectStore['insert']>) => store.insert(...a),
    update: (...a: Parameters<ObjectStore['update']>) => store.update(...a),
  };
  return { n, store: wrapped as unknown as ObjectStore };
}

describe('dual control: the approval queue', function () {
  this.timeout(120_000);
  let h: AccessHarness;
  let now = Date.now();

  before(async () => {
    h = await openAccessHarness({
      identities: IDENTITIES,
      dualControl: {
        approvals: 2,
        operations: ['destroy', 'revoke-compromise', 'export-foreign'],
        expiryHours: 1,
        maxPendingPerIdentity: 3,
      },
      clock: () => new Date(now),
    });
  });

  after(async () => {
    await h?.close();
  });

  async function approve(id: string): Promise<void> {
    for (const name of ['officer1', 'officer2']) {
      await h.access.dualControl.decide(id, await h.officer(name), 'approve');
    }
  }

  const statusOf = async (id: string) => (await h.access.dualControl.get(id))?.body.status;

  it('refuses a fourth open request of one identity (maxPendingPerIdentity 3), not a retry, not another identity', async () => {
    const hr = await seedTenant(h.server({ identities: SEEDERS }), 'hrseed', 'quota');
    const keys = [hr.ids.preActive, hr.ids.deactivated, hr.ids.compromised, hr.ids.archived] as string[];
    const ids: string[] = [];
    for (const k of keys.slice(0, 3)) {
      ids.push(pendingId((await h.send('hradmin', '2.1', [{ op: Operation.Destroy, payload: uid(k) }]))[0]));
    }
    const [refused] = await h.send('hradmin', '2.1', [
      { op: Operation.Destroy, payload: uid(keys[3] ?? '') },
    ]);
    expect(refused?.reason).to.equal(ResultReason.PermissionDenied);
    expect(refused?.message).to.equal(
      'dual control: Destroy needs officer approvals; hradmin already has 3 approval requests waiting for officers ' +
        '(the most auth.dualControl.maxPendingPerIdentity allows); retry when officers have decided some of them or they have expired',
    );
    expect((await h.access.dualControl.list()).filter((r) => r.objectId === keys[3])).to.deep.equal([]);
    // the same request again still names its pending approval
    const [again] = await h.send('hradmin', '2.1', [{ op: Operation.Destroy, payload: uid(keys[0] ?? '') }]);
    expect(pendingId(again)).to.equal(ids[0]);
    // another identity has its own quota
    pendingId((await h.send('hrboth', '2.1', [{ op: Operation.Destroy, payload: uid(keys[3] ?? '') }]))[0]);

    // a decided request leaves the queue: one more may be filed
    await h.access.dualControl.decide(ids[0] ?? '', await h.officer('officer1'), 'deny');
    pendingId((await h.send('hradmin', '2.1', [{ op: Operation.Destroy, payload: uid(keys[3] ?? '') }]))[0]);
    const [full] = await h.send('hradmin', '2.1', [
      { op: Operation.Revoke, payload: revoke(keys[0] ?? '', RevocationReasonCode.KeyCompromise) },
    ]);
    expect(full?.message).to.contain('already has 3 approval requests');

    // expired requests do not count, and are closed as expired
    now += 2 * 3600_000;
    const fresh = pendingId(
      (
        await h.send('hradmin', '2.1', [
          { op: Operation.Revoke, payload: revoke(keys[0] ?? '', RevocationReasonCode.KeyCompromise) },
        ])
      )[0],
    );
    expect(await statusOf(fresh)).to.equal('pending');
    expect(await statusOf(ids[1] ?? '')).to.equal('expired');
    let late: unknown;
    try {
      await h.access.dualControl.decide(ids[1] ?? '', await h.officer('officer1'), 'approve');
    } catch (e: unknown) {
      late = e;
    }
    expect((late as Error | undefined)?.message).to.equal(`approval request ${ids[1]} is expired`);
  });

  it('allows 100 open requests per identity by default', async () => {
    const dc = new DualControl({
      config: { approvals: 2, operations: ['destroy'], expiryHours: 24 },
      records: new AccessRecords(h.store),
      caPem: h.caPem,
      identityFrom: 'cn',
      isOfficer: async () => true,
    });
    expect(DEFAULT_MAX_PENDING_PER_IDENTITY).to.equal(100);
    expect(dc.maxPendingPerIdentity).to.equal(100);
    const file = (i: number) =>
      dc.authorize({
        rule: 'destroy',
        action: 'Destroy',
        requester: 'default-quota',
        tenant: 'hr',
        objectId: `object-${i}`,
        digest: String(i),
        summary: 's',
      });
    for (let i = 0; i < 100; i++) expect((await file(i)).allowed).to.equal(false);
    let error: unknown;
    try {
      await file(100);
    } catch (e: unknown) {
      error = e;
    }
    expect(error).to.be.instanceOf(ApprovalQuotaError);
  });

  it('finds a request by an indexed query: 3,000 stored requests (older records indexed once) cost nothing per operation', async () => {
    // 3,000 pending requests for random identifiers, stored as before the index fields existed
    // (AccessRecords.create without index fields), written in one transaction
    const legacy: ObjectRecord[] = [];
    const capture = new AccessRecords({
      insert: async (r: ObjectRecord) => {
        legacy.push(r);
      },
    } as unknown as ObjectStore);
    const t = Date.now();
    for (let i = 0; i < 3000; i++) {
      const id = randomBytes(8).toString('hex');
      const r: ApprovalRequest = {
        id,
        rule: 'destroy',
        action: 'Destroy',
        requester: 'flooder',
        tenant: 'hr',
        objectId: randomBytes(16).toString('hex'),
        digest: randomBytes(32).toString('hex'),
        summary: 'Destroy of a random identifier',
        createdAt: t,
        expiresAt: t + 24 * 3600_000,
        status: 'pending',
        decisions: [],
      };
      await capture.create('approval', id, r);
    }
    await h.store.atomic(legacy.map((record) => ({ kind: 'insert' as const, record })));
    const { n, store } = counting(h.store);
    const dc = new DualControl({
      config: { approvals: 2, operations: ['destroy'], expiryHours: 24 },
      records: new AccessRecords(store),
      caPem: h.caPem,
      identityFrom: 'cn',
      isOfficer: async () => true,
    });
    const ask = (requester: string, objectId: string) =>
      dc.authorize({
        rule: 'destroy',
        action: 'Destroy',
        requester,
        tenant: 'hr',
        objectId,
        digest: 'd',
        summary: 's',
      });
    await ask('first', 'object-a'); // indexes the 3,000 older records, once
    expect(n.gets).to.be.at.least(3000);
    for (let i = 0; i < 20; i++) {
      n.gets = 0;
      n.located = 0;
      const r = await ask(`user-${i % 4}`, `object-${i % 5}`);
      expect(r.allowed).to.equal(false);
      expect(n.gets, 'records read').to.be.at.most(4);
      expect(n.located, 'identifiers located').to.be.at.most(4);
    }
    // the flooder's 3,000 count against its quota: it files no more
    n.gets = 0;
    let error: unknown;
    try {
      await ask('flooder', 'object-z');
    } catch (e: unknown) {
      error = e;
    }
    expect(error).to.be.instanceOf(ApprovalQuotaError);
    expect(n.gets).to.be.at.most(4);
  });

  it('gives the approval back when the approved Destroy, Revoke or Get then fails', async () => {
    const hr = await seedTenant(h.server({ identities: SEEDERS }), 'hrseed', 'release');
    const active = hr.ids.active ?? '';
    // Destroy of an Active key: approved, fails, the approval stays for the retry
    const destroyId = pendingId(
      (await h.send('hrboth', '1.4', [{ op: Operation.Destroy, payload: uid(active) }]))[0],
    );
    await approve(destroyId);
    for (const version of ['1.4', '2.1'] as const) {
      const [failed] = await h.send('hrboth', version, [{ op: Operation.Destroy, payload: uid(active) }]);
      expect(failed?.reason, failed?.message).to.equal(
        version === '1.4' ? ResultReason.PermissionDenied : ResultReason.WrongKeyLifecycleState,
      );
      expect(failed?.message).to.contain('is Active and cannot be destroyed');
      expect(await statusOf(destroyId)).to.equal('approved');
    }
    await h.ok('hrboth', '1.4', Operation.Revoke, revoke(active, RevocationReasonCode.CessationOfOperation));
    const [done] = await h.send('hrboth', '1.4', [{ op: Operation.Destroy, payload: uid(active) }]);
    expect(done?.status, done?.message).to.equal(ResultStatus.Success);
    expect(await statusOf(destroyId)).to.equal('used');

    // Revoke (Key Compromise) of a destroyed key
    const compromise = revoke(hr.ids.destroyed ?? '', RevocationReasonCode.KeyCompromise);
    const revokeId = pendingId(
      (await h.send('hrboth', '2.1', [{ op: Operation.Revoke, payload: compromise }]))[0],
    );
    await approve(revokeId);
    const [revoked] = await h.send('hrboth', '2.1', [{ op: Operation.Revoke, payload: compromise }]);
    expect(revoked?.reason).to.equal(ResultReason.WrongKeyLifecycleState);
    expect(await statusOf(revokeId)).to.equal('approved');

    // Get of another tenant's archived key through a grant (export-foreign)
    const payments = await seedTenant(h.server({ identities: SEEDERS }), 'payseed', 'grant');
    const archived = payments.ids.archived ?? '';
    await h.access.state.addGrant({
      id: randomBytes(8).toString('hex'),
      tenant: 'payments',
      objectId: archived,
      toIdentity: 'bob',
      operations: ['Get'],
      createdBy: 'officer1',
      createdAt: Date.now(),
    });
    const getId = pendingId((await h.send('bob', '2.1', [{ op: Operation.Get, payload: uid(archived) }]))[0]);
    await approve(getId);
    const [offline] = await h.send('bob', '2.1', [{ op: Operation.Get, payload: uid(archived) }]);
    expect(offline?.reason, offline?.message).to.equal(ResultReason.ObjectArchived);
    expect(await statusOf(getId)).to.equal('approved');
    await h.server({ identities: SEEDERS }).ok('payseed', '2.1', Operation.Recover, uid(archived));
    const [got] = await h.send('bob', '2.1', [{ op: Operation.Get, payload: uid(archived) }]);
    expect(got?.status, got?.message).to.equal(ResultStatus.Success);
    expect(await statusOf(getId)).to.equal('used');
  });

  it('lets guards placed with guardsWith refuse before dual control spends an approval', async () => {
    const hr = await seedTenant(h.server({ identities: SEEDERS }), 'hrseed', 'order');
    const key = hr.ids.preActive ?? '';
    const id = pendingId((await h.send('hrboth', '2.1', [{ op: Operation.Destroy, payload: uid(key) }]))[0]);
    await approve(id);
    const refuse: ItemGuard = () => {
      throw new KmipError('PermissionDenied', 'policy requires a purpose');
    };
    const guards = h.access.guardsWith([refuse]);
    expect(guards).to.have.length(4);
    // the refusing guard runs third, before the dual-control guard (the last)
    const check = {
      operation: Operation.Destroy,
      payload: S(Tag.RequestPayload, uid(key)),
      clientCorrelationValue: undefined,
      ctx: { principal: { identity: 'hrboth', tenant: 'hr', roles: [], groups: [] } },
    } as unknown as Parameters<ItemGuard>[0];
    let refused = false;
    try {
      for (const g of guards.slice(2)) await g(check);
    } catch (e: unknown) {
      refused = e instanceof KmipError && e.message === 'policy requires a purpose';
    }
    expect(refused).to.equal(true);
    expect(await statusOf(id)).to.equal('approved');
  });
});
