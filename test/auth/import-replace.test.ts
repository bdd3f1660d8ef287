/**
 * Import with Replace Existing under access control, end to end over mutual
 * TLS: replacing an object is authorised as a Destroy of it (roles, tenant
 * check against the existing object's tenant, dual control decided by that
 * tenant's officers) plus a Register; the replacement stays in the existing
 * object's tenant; the approval is used up only by an Import that succeeds.
 * Import of a new identifier is a Register.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  NameType,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  State,
  Tag,
} from '../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../src/kmip/ttlv/types.js';
import { useAuthServer } from '../helpers/auth-server.js';
import { type KmipResult, nameAttribute, TestKmipClient } from '../helpers/kmip-client.js';
import { B, E, I, S, symmetricKey, T } from '../helpers/requests.js';

const AUTH = {
  enabled: true,
  identities: {
    alice: { tenant: 'payments', roles: ['crypto-user'] },
    bob: { tenant: 'hr', roles: ['crypto-user'] },
    dave: { tenant: 'research', roles: ['crypto-user'] },
    carol: { tenant: 'payments', roles: ['key-administrator'] },
    carl: { tenant: 'payments', roles: ['key-administrator'], tenants: ['hr'] },
    hradmin: { tenant: 'hr', roles: ['key-administrator'] },
    officer1: { tenant: 'ops', roles: ['security-officer'] },
    officer2: { tenant: 'ops', roles: ['security-officer'] },
    offpay: { tenant: 'payments', roles: ['security-officer'], tenants: [] },
    offhr: { tenant: 'hr', roles: ['security-officer'], tenants: [] },
  },
  dualControl: { approvals: 2, operations: ['destroy'] },
};

/** A KMIP 2.0 Import of a 256-bit AES key with `material`. */
function importPayload(id: string, replace: boolean | undefined, material: Uint8Array, name?: string) {
  return [
    T(Tag.UniqueIdentifier, id),
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    ...(replace === undefined
      ? []
      : [{ tag: Tag.ReplaceExisting, type: 'Boolean', value: replace } as TtlvItem]),
    S(Tag.Attributes, [
      E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
      I(Tag.CryptographicLength, 256),
      I(Tag.CryptographicUsageMask, CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt),
      E(Tag.State, State.Active),
      ...(name === undefined
        ? []
        : [S(Tag.Name, [T(Tag.NameValue, name), E(Tag.NameType, NameType.UninterpretedTextString)])]),
    ]),
    symmetricKey(material),
  ];
}

describe('access control: Import with Replace Existing', function () {
  this.timeout(90_000);
  const env = useAuthServer(AUTH);
  const { cli, officer } = env;
  const as = (name: string, version: '1.4' | '2.0' = '2.0') => env.as(name, version);

  const expectFailure = (r: KmipResult, reason: number) => {
    expect(r.status, r.message).to.equal(ResultStatus.OperationFailed);
    expect(r.reason, r.message).to.equal(reason);
  };

  const pendingId = (r: KmipResult): string => {
    const m = /dual control: (\w+) needs 2 officer approvals; pending approval id (\w+) \(0 of 2\)/.exec(
      r.message ?? '',
    );
    expect(m, r.message).to.not.equal(null);
    return m?.[2] ?? '';
  };

  async function materialOf(client: TestKmipClient, id: string): Promise<Uint8Array | undefined> {
    return TestKmipClient.keyMaterial(await client.ok(Operation.Get, [client.uidItem(id)]));
  }

  async function activeKey(owner: TestKmipClient, extra = [] as Parameters<TestKmipClient['createAes']>[0]) {
    const id = await owner.createAes(extra);
    await owner.ok(Operation.Activate, [owner.uidItem(id)]);
    return id;
  }

  /** An active AES key of `owner`, with its key material as `owner` gets it. */
  async function activeKeyAndMaterial(owner: TestKmipClient) {
    const id = await activeKey(owner);
    return { id, before: await materialOf(owner, id) };
  }

  async function approvalLine(id: string): Promise<string> {
    const list = await cli('approvals', 'list');
    return list.out.split('\n').find((l) => l.startsWith(`${id}\t`)) ?? '';
  }

  it("waits for the officers' approval as Destroy does, keeps the material until then, and uses the approval only on success", async () => {
    const alice = await as('alice');
    const alice14 = await as('alice', '1.4');
    const carol = await as('carol');
    const { id, before } = await activeKeyAndMaterial(alice);
    expect(before).to.have.length(32);

    // Destroy of the same key by the same administrator: pending approval (decided before the key's state)
    const destroy = await carol.call(Operation.Destroy, [carol.uidItem(id)]);
    expectFailure(destroy, ResultReason.PermissionDenied);
    pendingId(destroy);

    const chosen = new Uint8Array(randomBytes(32));
    const payload = importPayload(id, true, chosen, 'rotated-payroll');
    const first = await carol.call(Operation.Import, payload);
    expectFailure(first, ResultReason.PermissionDenied);
    expect(first.reason).to.equal(destroy.reason);
    const approvalId = pendingId(first);
    expect(first.message).to.contain('dual control: Import needs 2 officer approvals');
    // the same request again names the same approval; the key is untouched
    expect((await carol.call(Operation.Import, payload)).message).to.contain(approvalId);
    expect(await materialOf(alice, id)).to.deep.equal(before);
    await alice.ok(Operation.Encrypt, [alice.uidItem(id), B(Tag.Data, new Uint8Array(16))]);
    const line = await approvalLine(approvalId);
    expect(line).to.match(new RegExp(`^${approvalId}\\tpending\\t0/2\\tImport\\t${id}\\t`));
    expect(line).to.contain('tenant payments');

    // payments' own tenant officer and a service officer approve
    expect((await cli('approvals', 'approve', approvalId, ...officer('offpay'))).code).to.equal(0);
    expect((await cli('approvals', 'approve', approvalId, ...officer('officer1'))).code).to.equal(0);

    // the approved Import fails on its own checks (another key took its Name): the approval stays for the retry
    const clash = await alice.createAes([nameAttribute('rotated-payroll')]);
    expectFailure(await carol.call(Operation.Import, payload), ResultReason.NonUniqueNameAttribute);
    expect(await approvalLine(approvalId)).to.match(new RegExp(`^${approvalId}\\tapproved\\t2/2\\t`));
    expect(await materialOf(alice, id)).to.deep.equal(before);

    await alice14.ok(Operation.DeleteAttribute, [alice14.uidItem(clash), T(Tag.AttributeName, 'Name')]);
    await carol.ok(Operation.Import, payload);
    expect(await approvalLine(approvalId)).to.match(new RegExp(`^${approvalId}\\tused\\t`));
    expect(await materialOf(alice, id)).to.deep.equal(chosen);

    // used once: the same Import again needs a new approval
    const again = await carol.call(Operation.Import, payload);
    expectFailure(again, ResultReason.PermissionDenied);
    expect(pendingId(again)).to.not.equal(approvalId);
  });

  it('keeps the replacement in the existing tenant: an administrator of two tenants cannot move a key by Import', async () => {
    const bob = await as('bob');
    const alice = await as('alice');
    const carl = await as('carl');
    const { id, before } = await activeKeyAndMaterial(bob);

    const chosen = new Uint8Array(randomBytes(32));
    const payload = importPayload(id, true, chosen);
    const first = await carl.call(Operation.Import, payload);
    expectFailure(first, ResultReason.PermissionDenied);
    const approvalId = pendingId(first);
    expect(await materialOf(bob, id)).to.deep.equal(before);
    expect(await approvalLine(approvalId)).to.contain('tenant hr');

    // hr's officers decide, not payments'
    const wrong = await cli('approvals', 'approve', approvalId, ...officer('offpay'));
    expect(wrong.code).to.equal(1);
    expect(wrong.err).to.contain('not a security officer for tenant hr');
    expect((await cli('approvals', 'approve', approvalId, ...officer('offhr'))).code).to.equal(0);
    expect((await cli('approvals', 'approve', approvalId, ...officer('officer2'))).code).to.equal(0);

    await carl.ok(Operation.Import, payload);
    // still hr's: bob uses it (with the replaced material), payments does not see it
    expect(await materialOf(bob, id)).to.deep.equal(chosen);
    // (KMIP 2.0: Object Not Found, as for an object that does not exist)
    expectFailure(await alice.call(Operation.Get, [alice.uidItem(id)]), ResultReason.ObjectNotFound);
    expectFailure(
      await alice.call(Operation.GetAttributes, [alice.uidItem(id)]),
      ResultReason.ObjectNotFound,
    );

    // a tenant carl does not administer: as if the object did not exist, and no approval is asked
    const dave = await as('dave');
    const theirs = await activeKey(dave);
    const theirMaterial = await materialOf(dave, theirs);
    expectFailure(
      await carl.call(Operation.Import, importPayload(theirs, true, chosen)),
      ResultReason.ObjectNotFound,
    );
    expect(await materialOf(dave, theirs)).to.deep.equal(theirMaterial);
  });

  it('refuses a crypto user any replacement but lets it Import a new identifier, as Register', async () => {
    const alice = await as('alice');
    const bob = await as('bob');
    const carol = await as('carol');
    const { id, before } = await activeKeyAndMaterial(alice);
    const approvals = (await cli('approvals', 'list')).out;

    const refused = await alice.call(Operation.Import, importPayload(id, true, new Uint8Array(32)));
    expectFailure(refused, ResultReason.PermissionDenied);
    expect(refused.message).to.match(/Import replacing .* is a Destroy of it.*key-administrator/);
    expect(await materialOf(alice, id)).to.deep.equal(before);
    expect((await cli('approvals', 'list')).out).to.equal(approvals);

    // a new identifier: a Register, for whoever may Register
    const material = new Uint8Array(randomBytes(32));
    const newId = `imported-${randomBytes(4).toString('hex')}`;
    await alice.ok(Operation.Import, importPayload(newId, true, material));
    expect(await materialOf(alice, newId)).to.deep.equal(material);
    expectFailure(await bob.call(Operation.Get, [bob.uidItem(newId)]), ResultReason.ObjectNotFound);
    const adminId = `imported-${randomBytes(4).toString('hex')}`;
    await carol.ok(Operation.Import, importPayload(adminId, undefined, material));
    expect(await materialOf(alice, adminId)).to.deep.equal(material);
    // an existing identifier without Replace Existing is still Object Already Exists
    expectFailure(
      await alice.call(Operation.Import, importPayload(newId, false, material)),
      ResultReason.ObjectAlreadyExists,
    );
  });

  it('lets a grantee replace only with a grant of both Destroy and Import, under the owner tenant’s approval', async () => {
    const alice = await as('alice');
    const hradmin = await as('hradmin');
    const { id, before } = await activeKeyAndMaterial(alice);
    const grant = async (operations: string) => {
      const r = await cli(
        'grants',
        'add',
        '--tenant',
        'payments',
        '--object',
        id,
        '--to-identity',
        'hradmin',
        '--operations',
        operations,
        ...officer('officer1'),
      );
      expect(r.code, r.err).to.equal(0);
      await new Promise((resolve) => setTimeout(resolve, 2100)); // the server's policy cache
    };
    const payload = importPayload(id, true, new Uint8Array(randomBytes(32)));
    expectFailure(await hradmin.call(Operation.Import, payload), ResultReason.ObjectNotFound);
    await grant('Import');
    const partial = await hradmin.call(Operation.Import, payload);
    expectFailure(partial, ResultReason.PermissionDenied);
    expect(partial.message).to.contain('needs a grant of Destroy and Import');
    await grant('Destroy');
    const pending = await hradmin.call(Operation.Import, payload);
    expectFailure(pending, ResultReason.PermissionDenied);
    expect(await approvalLine(pendingId(pending))).to.contain('tenant payments');
    expect(await materialOf(alice, id)).to.deep.equal(before);
  });

  it("refuses identifiers in the server's reserved namespace", async () => {
    const carol = await as('carol');
    const r = await carol.call(
      Operation.Import,
      importPayload('kmip-server:access:tenant:squatted', undefined, new Uint8Array(32)),
    );
    expectFailure(r, ResultReason.PermissionDenied);
    expect(r.message).to.contain('reserved');
  });
});
