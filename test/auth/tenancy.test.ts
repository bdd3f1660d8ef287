/**
 * Tenancy beyond one tenant, end to end over mutual TLS: Locate of granted
 * objects (paging, no existence oracle), key administrators of several
 * tenants, tenant security officers vs the service's, and the audit trail
 * of the officers' commands (`audit verify` accepts it).
 */
import { expect } from 'chai';
import type { ModelAttribute } from '../../src/kmip/messages/attributes.js';
import { Operation, ResultReason, ResultStatus, Tag } from '../../src/kmip/spec/index.js';
import type { TtlvStructure } from '../../src/kmip/ttlv/types.js';
import { useAuthServer } from '../helpers/auth-server.js';
import { type KmipResult, textAttribute } from '../helpers/kmip-client.js';
import { I } from '../helpers/requests.js';

function groupAttribute(group: string): ModelAttribute {
  return {
    key: { kind: 'standard', tag: Tag.ObjectGroup },
    index: undefined,
    value: { tag: Tag.ObjectGroup, type: 'TextString', value: group },
  };
}

const AUTH = {
  enabled: true,
  identities: {
    alice: { tenant: 'payments', roles: ['crypto-user'] },
    bob: { tenant: 'hr', roles: ['crypto-user'], groups: ['readers'] },
    dave: { tenant: 'research', roles: ['crypto-user'] },
    carl: { tenant: 'payments', roles: ['key-administrator'], tenants: ['hr'] },
    offpay: { tenant: 'payments', roles: ['security-officer'], tenants: [] },
    offhr: { tenant: 'hr', roles: ['security-officer'], tenants: [] },
    officer1: { tenant: 'ops', roles: ['security-officer'] },
  },
  dualControl: { approvals: 1, operations: ['destroy'] },
};

describe('tenancy: granted Locate, multi-tenant administrators, tenant officers, audited decisions', function () {
  this.timeout(90_000);
  const env = useAuthServer(AUTH, ['newbie']);
  const { as, cli, officer } = env;
  const a: Record<string, string> = {};
  const b: Record<string, string> = {};

  const ids = (p: TtlvStructure): string[] =>
    p.value.filter((c) => c.tag === Tag.UniqueIdentifier).map((c) => String(c.value));
  const located = (p: TtlvStructure): unknown => p.value.find((c) => c.tag === Tag.LocatedItems)?.value;
  const expectFailure = (r: KmipResult, reason: number) => {
    expect(r.status, r.message).to.equal(ResultStatus.OperationFailed);
    expect(r.reason, r.message).to.equal(reason);
  };
  const policyCache = () => new Promise((r) => setTimeout(r, 2100));

  before(async () => {
    const alice = await as('alice');
    for (const k of ['a1', 'a2', 'a3']) a[k] = await alice.createAes([groupAttribute('shared')]);
    a.a4 = await alice.createAes([textAttribute('x-app', 'secret-project')]);
    const bob = await as('bob');
    for (const k of ['b1', 'b2']) b[k] = await bob.createAes();
  });

  it("lets only the owner tenant's officers (or the service's) grant its keys", async () => {
    const grant = [
      'grants',
      'add',
      '--tenant',
      'payments',
      '--object-group',
      'shared',
      '--to-group',
      'readers',
      '--operations',
      'Locate,Get',
    ];
    const foreign = await cli(...grant, ...officer('offhr'));
    expect(foreign.code).to.equal(1);
    expect(foreign.err).to.contain('offhr is not a security officer for tenant payments');
    const own = await cli(...grant, ...officer('offpay'));
    expect(own.code, own.err).to.equal(0);
    // granted for Encrypt only: usable by id, never listed
    const enc = await cli(
      'grants',
      'add',
      '--tenant',
      'payments',
      '--object',
      a.a4 ?? '',
      '--to-identity',
      'bob',
      '--operations',
      'Encrypt',
      ...officer('officer1'),
    );
    expect(enc.code, enc.err).to.equal(0);
    await policyCache();
  });

  it('lists objects granted with Locate after the tenant’s own, and pages across both', async () => {
    const bob = await as('bob');
    const all = await bob.ok(Operation.Locate, []);
    expect(ids(all)).to.deep.equal([b.b2, b.b1, a.a3, a.a2, a.a1]);
    expect(located(all)).to.equal(5);

    const pages: string[] = [];
    for (let offset = 0; offset < 6; offset += 2) {
      const page = await bob.ok(Operation.Locate, [I(Tag.MaximumItems, 2), I(Tag.OffsetItems, offset)]);
      expect(located(page)).to.equal(5);
      pages.push(...ids(page));
    }
    expect(pages).to.deep.equal(ids(all));
    const middle = await bob.ok(Operation.Locate, [I(Tag.MaximumItems, 3), I(Tag.OffsetItems, 1)]);
    expect(ids(middle)).to.deep.equal([b.b1, a.a3, a.a2]);
    const past = await bob.ok(Operation.Locate, [I(Tag.OffsetItems, 9)]);
    expect(ids(past)).to.deep.equal([]);

    // the granted objects are usable; the Encrypt-only one stays unlisted, even by an exact filter
    await bob.ok(Operation.Get, [bob.uidItem(a.a1 ?? '')]);
    const filter = bob.attributesPayload([textAttribute('x-app', 'secret-project')]) as TtlvStructure;
    const byAttr = await bob.ok(Operation.Locate, [...filter.value]);
    expect(ids(byAttr)).to.deep.equal([]);
    expect(located(byAttr)).to.equal(0);
    // the owner's view is unchanged
    const alice = await as('alice');
    expect(ids(await alice.ok(Operation.Locate, []))).to.deep.equal([a.a4, a.a3, a.a2, a.a1]);
    // a tenant with no grant sees none of it
    const dave = await as('dave');
    expect(ids(await dave.ok(Operation.Locate, []))).to.deep.equal([]);
  });

  it('lets a key administrator of several tenants administer, but not use, their keys', async () => {
    const carl = await as('carl');
    const seen = ids(await carl.ok(Operation.Locate, []));
    expect(seen).to.include.members([a.a1, a.a4, b.b1, b.b2]);
    await carl.ok(Operation.Activate, [carl.uidItem(b.b1 ?? '')]);
    expectFailure(await carl.call(Operation.Get, [carl.uidItem(b.b1 ?? '')]), ResultReason.PermissionDenied);
    // a tenant it does not administer: does not exist
    const dave = await as('dave');
    const d1 = await dave.createAes();
    expectFailure(await carl.call(Operation.GetAttributes, [carl.uidItem(d1)]), ResultReason.ItemNotFound);
    expect(seen).not.to.include(d1);
    // what it creates belongs to its own tenant
    const created = await carl.createAes();
    const alice = await as('alice');
    await alice.ok(Operation.GetAttributes, [alice.uidItem(created)]);
    const bob = await as('bob');
    expect(ids(await bob.ok(Operation.Locate, []))).not.to.include(created);
  });

  it("sends its Destroy of another tenant's key to that tenant's officers", async () => {
    const carl = await as('carl');
    const first = await carl.call(Operation.Destroy, [carl.uidItem(b.b2 ?? '')]);
    expectFailure(first, ResultReason.PermissionDenied);
    const approvalId = /pending approval id (\w+)/.exec(first.message ?? '')?.[1] ?? '';
    expect(approvalId).to.have.length(16);
    const wrong = await cli('approvals', 'approve', approvalId, ...officer('offpay'));
    expect(wrong.code).to.equal(1);
    expect(wrong.err).to.contain('offpay is not a security officer for tenant hr');
    const right = await cli('approvals', 'approve', approvalId, ...officer('offhr'));
    expect(right.code, right.err).to.equal(0);
    await carl.ok(Operation.Destroy, [carl.uidItem(b.b2 ?? '')]);
  });

  it('keeps tenant security officers to their tenant', async () => {
    const assignNewbie = (tenant: string, role: string) =>
      cli('tenants', 'assign', 'newbie', tenant, '--roles', role, ...officer('offpay'));
    const add = await cli('tenants', 'add', 'newco', ...officer('offpay'));
    expect(add.code).to.equal(1);
    expect(add.err).to.contain('offpay is a tenant security officer');
    const mine = await assignNewbie('payments', 'crypto-user');
    expect(mine.code, mine.err).to.equal(0);
    const away = await assignNewbie('hr', 'crypto-user');
    expect(away.code).to.equal(1);
    expect(away.err).to.contain('not a security officer for tenant hr');
    const promote = await assignNewbie('payments', 'security-officer');
    expect(promote.code).to.equal(1);
    expect(promote.err).to.contain('tenant security officer');
    const list = await cli('grants', 'list');
    const grantId = /^(\w+)\tactive\ttenant payments\tgroup shared/m.exec(list.out)?.[1] ?? '';
    const revoke = await cli('grants', 'revoke', grantId, ...officer('offhr'));
    expect(revoke.code).to.equal(1);
    expect((await cli('grants', 'revoke', grantId, ...officer('offpay'))).code).to.equal(0);
    await policyCache();
    const bob = await as('bob');
    expect(ids(await bob.ok(Operation.Locate, []))).to.deep.equal([b.b1]);
  });

  it("records the officers' commands in the audit trail, which still verifies", async () => {
    const exported = await cli('audit', 'export');
    expect(exported.code, exported.err).to.equal(0);
    const admin = exported.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; identity: string; operation: string; tenant: string })
      .filter((r) => r.kind === 'admin');
    const seen = admin.map((r) => `${r.identity} ${r.operation} ${r.tenant}`);
    expect(seen).to.include.members([
      'offpay grants add payments',
      'officer1 grants add payments',
      'offhr approvals approve hr',
      'offpay tenants assign payments',
      'offpay grants revoke payments',
    ]);
    const verify = await cli('audit', 'verify');
    expect(verify.code, verify.out + verify.err).to.equal(0);
  });
});
