/**
 * The server's own namespace (owners `kmip-server:…`, e.g. the issuing CA
 * Certify signs with) cannot be reached by any client: a certificate whose
 * CN or SAN, or whose identity's tenant, falls in it is refused at identity
 * resolution (auth on and off), the tenants CLI refuses such names, and
 * Certify trusts only issuing-CA objects the server created.
 */
import { generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { stringify } from 'yaml';
import { nameFromComponents, selfSignedCaCertificate } from '../../src/crypto/ca.js';
import { SERVER_CA_KEY_NAME, SERVER_CA_NAME } from '../../src/kmip/operations/support/certificates.js';
import {
  CertificateType,
  CryptographicUsageMask,
  LinkType,
  NameType,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  Tag,
} from '../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../src/kmip/ttlv/types.js';
import { ExtKeyUsageOid, KeyUsageBit } from '../../src/pki/x509.js';
import { runCliCaptured } from '../helpers/cli.js';
import { issueFromDevCa } from '../helpers/dev-ca.js';
import { type KmipResult, TestKmipClient } from '../helpers/kmip-client.js';
import { B, E, I, rsaKey, S, T } from '../helpers/requests.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const M = CryptographicUsageMask;

const RESERVED = 'kmip-server:issuing-ca';

/** A client certificate from the development CA of `dataDir` with this CN and DNS SANs. */
async function issue(
  dataDir: string,
  file: string,
  cn: string,
  dnsNames: string[],
): Promise<{ cert: string; key: string }> {
  return issueFromDevCa(dataDir, file, {
    commonName: cn,
    days: 2,
    keyUsage: [KeyUsageBit.digitalSignature],
    extKeyUsage: [ExtKeyUsageOid.clientAuth],
    dnsNames,
  });
}

async function connect(server: TestServer, c: { cert: string; key: string }): Promise<TestKmipClient> {
  return TestKmipClient.connect(
    { host: server.host, port: server.port, pki: { ca: server.pki.ca, adminCert: c.cert, adminKey: c.key } },
    '2.0',
  );
}

const nameAttr = (n: string) =>
  S(Tag.Name, [T(Tag.NameValue, n), E(Tag.NameType, NameType.UninterpretedTextString)]);

const expectRefused = (r: KmipResult | undefined) => {
  expect(r?.status, r?.message).to.equal(ResultStatus.OperationFailed);
  expect(r?.reason, r?.message).to.equal(ResultReason.AuthenticationNotSuccessful);
  expect(r?.message).to.contain('reserved');
};

/**
 * What an attacker plants: an RSA key and a self-signed CA certificate named
 * like the server's issuing CA, linked and Active (one message each, so that
 * objects it made server-owned were still its to activate).
 */
async function plantIssuingCa(client: TestKmipClient): Promise<KeyObject> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const [key] = await client.batch([
    {
      op: Operation.Register,
      payload: [
        E(Tag.ObjectType, ObjectType.PrivateKey),
        S(Tag.Attributes, [I(Tag.CryptographicUsageMask, M.CertificateSign), nameAttr(SERVER_CA_KEY_NAME)]),
        rsaKey(Tag.PrivateKey, privateKey, 'pkcs1'),
      ],
    },
    { op: Operation.Activate, payload: [] },
  ]);
  const keyId = key?.payload === undefined ? 'none' : TestKmipClient.uid(key.payload);
  const now = Date.now();
  const der = selfSignedCaCertificate({
    subject: nameFromComponents([{ oid: '2.5.4.3', value: SERVER_CA_NAME }]),
    privateKey,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 10 * 365 * 24 * 3600_000),
  });
  await client.batch([
    {
      op: Operation.Register,
      payload: [
        E(Tag.ObjectType, ObjectType.Certificate),
        S(Tag.Attributes, [
          I(Tag.CryptographicUsageMask, M.Verify | M.CertificateSign),
          nameAttr(SERVER_CA_NAME),
          S(Tag.Link, [E(Tag.LinkType, LinkType.PrivateKeyLink), T(Tag.LinkedObjectIdentifier, keyId)]),
        ]),
        S(Tag.Certificate, [E(Tag.CertificateType, CertificateType.X_509), B(Tag.CertificateValue, der)]),
      ],
    },
    { op: Operation.Activate, payload: [] },
  ]);
  return publicKey;
}

/** Certify of a fresh public key by `client`: the issued certificate. */
async function certify(client: TestKmipClient): Promise<X509Certificate> {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const reg = await client.ok(Operation.Register, [
    E(Tag.ObjectType, ObjectType.PublicKey),
    S(Tag.Attributes, [I(Tag.CryptographicUsageMask, M.Verify)]),
    rsaKey(Tag.PublicKey, publicKey, 'pkcs1'),
  ]);
  const certified = await client.ok(Operation.Certify, [client.uidItem(TestKmipClient.uid(reg))]);
  const got = await client.ok(Operation.Get, [client.uidItem(TestKmipClient.uid(certified))]);
  const value = got.value.find((c) => c.tag === Tag.Certificate)?.value as readonly TtlvItem[] | undefined;
  const bytes = value?.find((c) => c.tag === Tag.CertificateValue);
  if (bytes?.type !== 'ByteString') throw new Error('no certificate value');
  return new X509Certificate(bytes.value);
}

describe('reserved server namespace (kmip-server:…)', function () {
  this.timeout(90_000);

  describe('auth on, identityFrom san-dns', () => {
    const AUTH = {
      enabled: true,
      identityFrom: 'san-dns',
      identities: {
        'app.payments': { tenant: 'payments', roles: ['crypto-user', 'key-administrator'] },
        'app.hr': { tenant: 'hr', roles: ['crypto-user', 'key-administrator'] },
        officer1: { tenant: 'ops', roles: ['security-officer'] },
        // as an earlier `tenants assign` or a configuration could have named them
        [RESERVED]: { tenant: 'payments', roles: ['crypto-user'] },
        squatter: { tenant: 'kmip-server:issuing-ca', roles: ['crypto-user', 'key-administrator'] },
      },
    };
    let server: TestServer;
    let configFile: string;
    const clients: TestKmipClient[] = [];
    const certs = new Map<string, { cert: string; key: string }>();

    const cli = (...argv: string[]) => runCliCaptured([...argv, '--config', configFile]);

    async function as(name: string): Promise<TestKmipClient> {
      const c = certs.get(name);
      if (c === undefined) throw new Error(`no certificate ${name}`);
      const client = await connect(server, c);
      clients.push(client);
      return client;
    }

    before(async () => {
      server = await startTestServer({ overrides: { auth: AUTH } as never });
      configFile = path.join(server.dataDir, 'kmip.yaml');
      await writeFile(configFile, stringify({ dataDir: server.dataDir, auth: AUTH }));
      const dir = server.dataDir;
      certs.set('payments', await issue(dir, 'payments', 'payments-app', ['app.payments']));
      certs.set('hr', await issue(dir, 'hr', 'hr-app', ['app.hr']));
      certs.set('officer1', await issue(dir, 'officer1', 'officer1', ['officer1']));
      // CN in the server's namespace, SAN an assigned identity
      certs.set('spoof-cn', await issue(dir, 'spoof-cn', RESERVED, ['app.payments']));
      // SAN (the identity) in the server's namespace
      certs.set('spoof-san', await issue(dir, 'spoof-san', 'innocent', [RESERVED]));
      // an identity whose tenant is in the server's namespace
      certs.set('squatter', await issue(dir, 'squatter', 'squatter', ['squatter']));
    });

    after(async () => {
      for (const c of clients) c.close();
      await server?.close();
    });

    it('refuses a certificate whose CN or identity, or whose tenant, is in the reserved namespace', async () => {
      for (const name of ['spoof-cn', 'spoof-san', 'squatter']) {
        const client = await as(name);
        expectRefused(await client.call(Operation.Query, []));
        const [created] = await client.batch([client.createAesRequest()]);
        expectRefused(created);
      }
      // the same identity with an ordinary CN is served
      await (await as('payments')).ok(Operation.Query, []);
    });

    it('does not let a planted "issuing CA" sign: Certify uses the CA the server made', async () => {
      // before any Certify, so that a planted CA would be the only one found
      const spoof = await as('spoof-cn');
      const planted = await plantIssuingCa(spoof).catch(() => undefined);
      const squatter = await as('squatter');
      const planted2 = await plantIssuingCa(squatter).catch(() => undefined);

      const cert = await certify(await as('hr'));
      expect(cert.issuer).to.equal(`CN=${SERVER_CA_NAME}`);
      if (planted !== undefined) expect(cert.verify(planted), 'signed by the planted key').to.equal(false);
      if (planted2 !== undefined) expect(cert.verify(planted2), 'signed by the planted key').to.equal(false);
      // and the CA that signed it is the server's own
      const again = await certify(await as('payments'));
      expect(again.issuer).to.equal(cert.issuer);
    });

    it('refuses reserved names in tenants add and tenants assign', async () => {
      const off = certs.get('officer1');
      if (off === undefined) throw new Error('no officer');
      const officer = ['--cert', off.cert, '--key', off.key];
      const cases = [
        ['tenants', 'assign', RESERVED, 'payments', '--roles', 'crypto-user', ...officer],
        ['tenants', 'assign', 'newcomer', RESERVED, '--roles', 'crypto-user', ...officer],
        [
          'tenants',
          'assign',
          'admin2',
          'payments',
          '--roles',
          'key-administrator',
          '--tenants',
          RESERVED,
          ...officer,
        ],
        ['tenants', 'add', 'kmip-server:tenant', ...officer],
        ['tenants', 'add', 'KMIP-Server:tenant', ...officer],
      ];
      for (const argv of cases) {
        const r = await cli(...argv);
        expect(r.code, `${argv.join(' ')}: ${r.out}`).to.not.equal(0);
        expect(r.err).to.contain('reserved');
      }
      const list = await cli('tenants', 'list');
      expect(list.out).to.not.contain('newcomer');
      expect(list.out).to.not.contain('admin2');
      expect(list.out.toLowerCase()).to.not.contain('kmip-server:tenant');
      // an ordinary assignment still works
      const ok = await cli('tenants', 'assign', 'newcomer', 'payments', '--roles', 'crypto-user', ...officer);
      expect(ok.code, ok.err).to.equal(0);
    });
  });

  describe('auth off', () => {
    let server: TestServer;
    const clients: TestKmipClient[] = [];

    before(async () => {
      server = await startTestServer();
    });

    after(async () => {
      for (const c of clients) c.close();
      await server?.close();
    });

    it('refuses a client certificate whose CN is in the reserved namespace', async () => {
      const spoof = await connect(server, await issue(server.dataDir, 'spoof', RESERVED, []));
      clients.push(spoof);
      expectRefused(await spoof.call(Operation.Query, []));
      const planted = await plantIssuingCa(spoof).catch(() => undefined);
      const app = await connect(server, await issue(server.dataDir, 'app', 'app', []));
      clients.push(app);
      const cert = await certify(app);
      if (planted !== undefined) expect(cert.verify(planted), 'signed by the planted key').to.equal(false);
    });
  });
});
