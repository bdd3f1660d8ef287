/**
 * An officer proves itself with a client certificate (security review):
 * following RFC 5280, an Extended Key Usage extension, when present, must
 * include clientAuth or anyExtendedKeyUsage (§4.2.1.12), and a Key Usage
 * extension, when present, must include digitalSignature (§4.2.1.3). A
 * serverAuth-only certificate from the same CA is refused by `approvals
 * approve` (the CLI), and a decision signed with one counts for nothing
 * when the server checks it again.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { stringify } from 'yaml';
import { decisionMessage } from '../../src/auth/dual-control.js';
import { loadOfficer, OfficerProofError, verifyOfficerSignature } from '../../src/auth/officer.js';
import { Operation, ResultReason, Tag } from '../../src/kmip/spec/index.js';
import { ExtKeyUsageOid, KeyUsageBit } from '../../src/pki/x509.js';
import { runCliCaptured } from '../helpers/cli.js';
import { type IssuedCertificate, issueFromDevCa } from '../helpers/dev-ca.js';
import { type AccessHarness, openAccessHarness, T } from './harness.js';
import { IDENTITIES, SEEDERS, seedTenant } from './tenant-fixtures.js';

const ANY_EKU = '2.5.29.37.0';

describe('officer certificates: key usage', function () {
  this.timeout(60_000);
  let h: AccessHarness;
  let configFile: string;

  before(async () => {
    h = await openAccessHarness({
      identities: IDENTITIES,
      dualControl: { approvals: 2, operations: ['destroy'] },
    });
    configFile = path.join(h.dataDir, 'kmip.yaml');
    const identities: Record<string, unknown> = {};
    for (const [name, id] of Object.entries(IDENTITIES)) identities[name] = { ...id, groups: [] };
    await writeFile(
      configFile,
      stringify({
        dataDir: h.dataDir,
        auth: { enabled: true, identities, dualControl: { approvals: 2, operations: ['destroy'] } },
      }),
    );
  });

  after(async () => {
    await h?.close();
  });

  /** A certificate for `cn` from the development CA with this Key Usage and Extended Key Usage. */
  async function issue(
    file: string,
    cn: string,
    keyUsage: KeyUsageBit[],
    extKeyUsage: string[] | undefined,
  ): Promise<IssuedCertificate> {
    return issueFromDevCa(h.dataDir, file, {
      commonName: cn,
      days: 30,
      keyUsage,
      ...(extKeyUsage === undefined ? {} : { extKeyUsage }),
    });
  }

  const cli = (...argv: string[]) => runCliCaptured([...argv, '--config', configFile]);

  it('refuses a serverAuth-only certificate in approvals approve, and its signature when checked again', async () => {
    const hr = await seedTenant(h.server({ identities: SEEDERS }), 'hrseed', 'eku');
    const [r] = await h.send('hradmin', '2.1', [
      { op: Operation.Destroy, payload: [T(Tag.UniqueIdentifier, hr.ids.preActive ?? '')] },
    ]);
    expect(r?.reason).to.equal(ResultReason.PermissionDenied);
    const approvalId = /pending approval id (\w+)/.exec(r?.message ?? '')?.[1] ?? '';
    expect(approvalId).to.have.length(16);

    const server = await issue(
      'officer1-server',
      'officer1',
      [KeyUsageBit.digitalSignature],
      [ExtKeyUsageOid.serverAuth],
    );
    const refused = await cli('approvals', 'approve', approvalId, '--cert', server.cert, '--key', server.key);
    expect(refused.code).to.equal(1);
    expect(refused.err).to.contain('not a client certificate');
    expect(refused.err).to.contain('does not include clientAuth');
    expect((await h.access.dualControl.get(approvalId))?.body.decisions).to.deep.equal([]);

    // a decision signed with it (written by hand) is not an approval either
    const req = (await h.access.dualControl.get(approvalId))?.body;
    if (req === undefined) throw new Error('no request');
    const at = Date.now();
    const signature = sign(
      'sha256',
      decisionMessage(req, 'officer1', 'approve', at),
      createPrivateKey(server.keyPem),
    );
    const ok = verifyOfficerSignature(
      'officer1',
      server.certPem,
      signature.toString('base64'),
      decisionMessage(req, 'officer1', 'approve', at),
      h.caPem,
      'cn',
      new Date(),
    );
    expect(ok).to.equal(false);

    // the officer's proper client certificate is accepted
    const client = await issue(
      'officer1-client',
      'officer1',
      [KeyUsageBit.digitalSignature],
      [ExtKeyUsageOid.clientAuth],
    );
    const approved = await cli(
      'approvals',
      'approve',
      approvalId,
      '--cert',
      client.cert,
      '--key',
      client.key,
    );
    expect(approved.code, approved.err).to.equal(0);
  });

  it('follows RFC 5280: clientAuth or anyExtendedKeyUsage if the EKU is there, digitalSignature if the Key Usage is', async () => {
    const cases: [string, KeyUsageBit[], string[] | undefined, string | undefined][] = [
      ['client', [KeyUsageBit.digitalSignature], [ExtKeyUsageOid.clientAuth], undefined],
      [
        'client-and-server',
        [KeyUsageBit.digitalSignature],
        [ExtKeyUsageOid.serverAuth, ExtKeyUsageOid.clientAuth],
        undefined,
      ],
      ['any-eku', [KeyUsageBit.digitalSignature], [ANY_EKU], undefined],
      ['no-eku', [KeyUsageBit.digitalSignature], undefined, undefined],
      [
        'server-only',
        [KeyUsageBit.digitalSignature],
        [ExtKeyUsageOid.serverAuth],
        'does not include clientAuth',
      ],
      ['code-signing', [KeyUsageBit.digitalSignature], ['1.3.6.1.5.5.7.3.3'], 'does not include clientAuth'],
      [
        'no-digital-signature',
        [KeyUsageBit.keyAgreement],
        [ExtKeyUsageOid.clientAuth],
        'Key Usage does not include digitalSignature',
      ],
    ];
    for (const [label, ku, eku, refusal] of cases) {
      const c = await issue(`usage-${label}`, 'officer2', ku, eku);
      let error: unknown;
      try {
        const officer = loadOfficer(c.certPem, c.keyPem, h.caPem, 'cn');
        expect(officer.identity).to.equal('officer2');
      } catch (e: unknown) {
        error = e;
      }
      if (refusal === undefined) {
        expect(error, label).to.equal(undefined);
      } else {
        expect(error, label).to.be.instanceOf(OfficerProofError);
        expect((error as Error).message, label).to.contain(refusal);
      }
    }
  });
});
