/**
 * Access control end to end: a real server over mutual TLS with auth on,
 * client certificates from the development CA, and the officer commands
 * run through the CLI code path (runCli) on the same store.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { KmipConnection } from '../../conformance-tests/lib/client.js';
import type { ApprovalRequest } from '../../src/auth/dual-control.js';
import { hashPassword } from '../../src/auth/password.js';
import { AccessRecords } from '../../src/auth/records.js';
import {
  CredentialType,
  Operation,
  ResultReason,
  ResultStatus,
  RevocationReasonCode,
  Tag,
} from '../../src/kmip/spec/index.js';
import { decodeTtlv, encodeTtlv } from '../../src/kmip/ttlv/binary.js';
import type { TtlvItem, TtlvStructure } from '../../src/kmip/ttlv/types.js';
import { silentLogger } from '../../src/log.js';
import { openStore } from '../../src/store/index.js';
import { useAuthServer } from '../helpers/auth-server.js';
import { type KmipResult, TestKmipClient, textAttribute } from '../helpers/kmip-client.js';
import { E, S, T } from '../helpers/requests.js';

const PASSWORD = 'correct horse battery staple';

async function authSection() {
  return {
    enabled: true,
    identities: {
      alice: { tenant: 'payments', roles: ['crypto-user'], groups: [] },
      bob: { tenant: 'hr', roles: ['crypto-user'], groups: ['readers'] },
      carol: { tenant: 'payments', roles: ['key-administrator'] },
      audrey: { tenant: 'payments', roles: ['auditor'] },
      officer1: { tenant: 'ops', roles: ['security-officer'] },
      officer2: { tenant: 'ops', roles: ['security-officer'] },
      officer3: { tenant: 'ops', roles: ['security-officer'] },
      boss: { tenant: 'payments', roles: ['security-officer', 'key-administrator'] },
      barbican: {
        tenant: 'hr',
        roles: ['crypto-user'],
        credential: { username: 'barbican', passwordHash: await hashPassword(PASSWORD) },
      },
    },
    dualControl: { approvals: 2, operations: ['destroy', 'revoke-compromise'] },
  };
}

describe('access control (auth.enabled)', function () {
  this.timeout(60_000);
  const env = useAuthServer(authSection, ['mallory']);
  const { as, cli } = env;

  const officerArgs = env.officer;

  const expectFailure = (r: KmipResult, reason: number) => {
    expect(r.status, r.message).to.equal(ResultStatus.OperationFailed);
    expect(r.reason, r.message).to.equal(reason);
  };

  it('refuses an identity assigned to no tenant', async () => {
    const mallory = await as('mallory');
    expectFailure(await mallory.call(Operation.Query, []), ResultReason.AuthenticationNotSuccessful);
  });

  it("keeps one tenant's keys invisible to another: Item Not Found, never listed by Locate", async () => {
    const alice = await as('alice');
    const bob = await as('bob');
    const id = await alice.createAes([textAttribute('x-app', 'payroll')]);
    expect(TestKmipClient.keyMaterial(await alice.ok(Operation.Get, [alice.uidItem(id)]))).to.have.length(32);

    expectFailure(await bob.call(Operation.Get, [bob.uidItem(id)]), ResultReason.ItemNotFound);
    expectFailure(await bob.call(Operation.GetAttributes, [bob.uidItem(id)]), ResultReason.ItemNotFound);
    expectFailure(await bob.call(Operation.Activate, [bob.uidItem(id)]), ResultReason.ItemNotFound);
    const missing = await bob.call(Operation.Get, [bob.uidItem('00000000-0000-0000-0000-000000000000')]);
    expect(missing.message).to.equal(
      (await bob.call(Operation.Get, [bob.uidItem(id)])).message?.replace(
        id,
        '00000000-0000-0000-0000-000000000000',
      ),
    );

    const bobsKey = await bob.createAes();
    const located = await bob.ok(Operation.Locate, []);
    const ids = located.value.filter((c) => c.tag === Tag.UniqueIdentifier).map((c) => c.value);
    expect(ids).to.include(bobsKey);
    expect(ids).not.to.include(id);
    // KMIP 1.4 Locate takes the Attribute items themselves
    const filter = bob.attributesPayload([textAttribute('x-app', 'payroll')]) as TtlvStructure;
    const byAttr = await bob.ok(Operation.Locate, [...filter.value]);
    expect(byAttr.value.filter((c) => c.tag === Tag.UniqueIdentifier)).to.have.length(0);
    const mine = await alice.ok(Operation.Locate, [...filter.value]);
    expect(mine.value.filter((c) => c.tag === Tag.UniqueIdentifier).map((c) => c.value)).to.deep.equal([id]);
  });

  it('enforces roles: auditors run no key operation, crypto users do not destroy, key administrators do not read keys', async () => {
    const audrey = await as('audrey');
    const alice = await as('alice');
    const carol = await as('carol');
    await audrey.ok(Operation.Query, []);
    const refused = await audrey.batch([audrey.createAesRequest()]);
    expectFailure(refused[0] as KmipResult, ResultReason.PermissionDenied);
    expect(refused[0]?.message).to.match(
      /Create is not allowed for audrey.*crypto-user or key-administrator/,
    );

    const id = await alice.createAes();
    expectFailure(await alice.call(Operation.Revoke, [alice.uidItem(id)]), ResultReason.PermissionDenied);
    // carol administers the same tenant: she sees the key but may not read its material
    expectFailure(await carol.call(Operation.Get, [carol.uidItem(id)]), ResultReason.PermissionDenied);
    await carol.ok(Operation.Activate, [carol.uidItem(id)]);
  });

  it('opens exactly the granted operations to another tenant, until the grant is revoked', async () => {
    const alice = await as('alice');
    const bob = await as('bob');
    const id = await alice.createAes();
    await alice.ok(Operation.Activate, [alice.uidItem(id)]);

    const add = await cli(
      'grants',
      'add',
      '--tenant',
      'payments',
      '--object',
      id,
      '--to-group',
      'readers',
      '--operations',
      'GetAttributes,Encrypt',
      ...officerArgs('officer1'),
    );
    expect(add.code, add.err).to.equal(0);
    const grantId = /grant (\w+) added/.exec(add.out)?.[1] ?? '';
    expect((await cli('grants', 'list')).out).to.contain(grantId);
    await new Promise((r) => setTimeout(r, 2100)); // the server's policy cache

    await bob.ok(Operation.GetAttributes, [bob.uidItem(id)]);
    await bob.ok(Operation.Encrypt, [
      bob.uidItem(id),
      { tag: Tag.Data, type: 'ByteString', value: new Uint8Array(16) },
    ]);
    expectFailure(await bob.call(Operation.Get, [bob.uidItem(id)]), ResultReason.PermissionDenied);
    expectFailure(await bob.call(Operation.AddAttribute, [bob.uidItem(id)]), ResultReason.PermissionDenied);

    const revoke = await cli('grants', 'revoke', grantId, ...officerArgs('officer2'));
    expect(revoke.code, revoke.err).to.equal(0);
    await new Promise((r) => setTimeout(r, 2100));
    expectFailure(await bob.call(Operation.GetAttributes, [bob.uidItem(id)]), ResultReason.ItemNotFound);
  });

  it('needs two officer approvals for Destroy; the requester cannot approve its own request', async () => {
    const boss = await as('boss');
    const id = await boss.createAes();
    const first = await boss.call(Operation.Destroy, [boss.uidItem(id)]);
    expectFailure(first, ResultReason.PermissionDenied);
    const approvalId = /pending approval id (\w+)/.exec(first.message ?? '')?.[1] ?? '';
    expect(approvalId).to.have.length(16);
    // a retry before approval names the same request
    expect((await boss.call(Operation.Destroy, [boss.uidItem(id)])).message).to.contain(approvalId);

    const own = await cli('approvals', 'approve', approvalId, ...officerArgs('boss'));
    expect(own.code).to.equal(1);
    expect(own.err).to.contain('cannot decide on it');
    const notOfficer = await cli('approvals', 'approve', approvalId, ...officerArgs('alice'));
    expect(notOfficer.code).to.equal(1);
    expect(notOfficer.err).to.contain('not a security officer');

    expect((await cli('approvals', 'approve', approvalId, ...officerArgs('officer1'))).code).to.equal(0);
    const again = await cli('approvals', 'approve', approvalId, ...officerArgs('officer1'));
    expect(again.err).to.contain('already decided');
    expectFailure(await boss.call(Operation.Destroy, [boss.uidItem(id)]), ResultReason.PermissionDenied);
    const second = await cli('approvals', 'approve', approvalId, ...officerArgs('officer2'));
    expect(second.code, second.err).to.equal(0);
    expect(second.out).to.contain('status approved (2 of 2');
    expect((await cli('approvals', 'list')).out).to.match(
      new RegExp(`${approvalId}\\tapproved\\t2/2\\tDestroy`),
    );

    await boss.ok(Operation.Destroy, [boss.uidItem(id)]);
    expect((await cli('approvals', 'list')).out).to.match(new RegExp(`${approvalId}\\tused`));
  });

  it('ignores a forged approval, makes a deny final, and lets a plain Revoke through', async () => {
    const boss = await as('boss');
    const id = await boss.createAes();
    await boss.ok(Operation.Activate, [boss.uidItem(id)]);
    const compromise = [
      boss.uidItem(id),
      S(Tag.RevocationReason, [E(Tag.RevocationReasonCode, RevocationReasonCode.KeyCompromise)]),
    ];
    const first = await boss.call(Operation.Revoke, compromise);
    expectFailure(first, ResultReason.PermissionDenied);
    const approvalId = /pending approval id (\w+)/.exec(first.message ?? '')?.[1] ?? '';
    expect(approvalId).to.have.length(16);

    // officer1 approves properly; a second "approval" by officer2 is written into the store by hand
    expect((await cli('approvals', 'approve', approvalId, ...officerArgs('officer1'))).code).to.equal(0);
    const store = await openStore(`sqlite:${path.join(env.server.dataDir, 'kmip.db')}`, {
      log: silentLogger,
    });
    try {
      const records = new AccessRecords(store);
      const stored = await records.get<ApprovalRequest>('approval', approvalId);
      if (stored === undefined) throw new Error('no approval record');
      const real = stored.body.decisions[0];
      if (real === undefined) throw new Error('no decision');
      const forged = { ...real, officer: 'officer2' };
      await records.update('approval', approvalId, stored.version, {
        ...stored.body,
        status: 'approved',
        decisions: [real, forged],
      });
    } finally {
      await store.close();
    }
    const retry = await boss.call(Operation.Revoke, compromise);
    expectFailure(retry, ResultReason.PermissionDenied);
    expect(retry.message).to.contain(`${approvalId} (1 of 2)`);

    const denied = await cli('approvals', 'deny', approvalId, ...officerArgs('officer3'));
    expect(denied.code, denied.err).to.equal(0);
    expect((await cli('approvals', 'approve', approvalId, ...officerArgs('officer1'))).err).to.contain(
      'denied',
    );
    expectFailure(await boss.call(Operation.Revoke, compromise), ResultReason.PermissionDenied);
    // not a compromise: no approval needed
    await boss.ok(Operation.Revoke, [
      boss.uidItem(id),
      S(Tag.RevocationReason, [E(Tag.RevocationReasonCode, RevocationReasonCode.CessationOfOperation)]),
    ]);
  });

  describe('Credential as a second factor', () => {
    async function callWithCredential(password: string | undefined): Promise<KmipResult> {
      const c = env.cert('barbican');
      const conn = await KmipConnection.open(
        {
          host: env.server.host,
          port: env.server.port,
          ca: await readFile(env.server.pki.ca),
          cert: await readFile(c.cert),
          key: await readFile(c.key),
        },
        10_000,
      );
      try {
        const header: TtlvItem[] = [
          S(Tag.ProtocolVersion, [
            { tag: Tag.ProtocolVersionMajor, type: 'Integer', value: 1 },
            { tag: Tag.ProtocolVersionMinor, type: 'Integer', value: 2 },
          ]),
        ];
        if (password !== undefined) {
          header.push(
            S(Tag.Authentication, [
              S(Tag.Credential, [
                E(Tag.CredentialType, CredentialType.UsernameAndPassword),
                S(Tag.CredentialValue, [T(Tag.Username, 'barbican'), T(Tag.Password, password)]),
              ]),
            ]),
          );
        }
        header.push({ tag: Tag.BatchCount, type: 'Integer', value: 1 });
        const request = S(Tag.RequestMessage, [
          S(Tag.RequestHeader, header),
          S(Tag.BatchItem, [E(Tag.Operation, Operation.Query), S(Tag.RequestPayload, [])]),
        ]);
        const response = decodeTtlv(await conn.exchange(encodeTtlv(request), 10_000));
        if (response.type !== 'Structure') throw new Error('bad response');
        const item = response.value.find((x) => x.tag === Tag.BatchItem);
        if (item?.type !== 'Structure') throw new Error('no batch item');
        const f = (tag: number) => item.value.find((x) => x.tag === tag)?.value;
        return {
          status: Number(f(Tag.ResultStatus)),
          reason: f(Tag.ResultReason) as number | undefined,
          message: f(Tag.ResultMessage) as string | undefined,
          payload: undefined,
        };
      } finally {
        conn.close();
      }
    }

    it('accepts the right password', async () => {
      expect((await callWithCredential(PASSWORD)).status).to.equal(ResultStatus.Success);
    });

    it('refuses a wrong or missing password with Authentication Not Successful', async () => {
      expectFailure(await callWithCredential('wrong'), ResultReason.AuthenticationNotSuccessful);
      expectFailure(await callWithCredential(undefined), ResultReason.AuthenticationNotSuccessful);
    });
  });
});
