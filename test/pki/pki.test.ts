import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { expect } from 'chai';
import {
  DEV_CA_COMMON_NAME,
  type DevPkiPaths,
  ensureDevPki,
  issueClientCertificate,
} from '../../src/pki/index.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const DAY_MS = 24 * 60 * 60 * 1000;

function cert(file: string): X509Certificate {
  return new X509Certificate(readFileSync(file));
}

function mode(file: string): number {
  return statSync(file).mode & 0o777;
}

function daysValid(c: X509Certificate): number {
  return Math.round((Date.parse(c.validTo) - Date.now()) / DAY_MS);
}

interface HandshakeResult {
  ok: boolean;
  peerCN?: string;
  protocol?: string | null;
}

/** Mutual-TLS handshake against a server using the dev PKI; resolves with what the server saw. */
async function handshake(
  paths: DevPkiPaths,
  client: { cert?: string; key?: string },
  maxVersion: tls.SecureVersion = 'TLSv1.3',
): Promise<HandshakeResult> {
  const server = tls.createServer({
    cert: readFileSync(paths.serverCert),
    key: readFileSync(paths.serverKey),
    ca: readFileSync(paths.caCert),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<HandshakeResult>((resolve) => {
      const timer = setTimeout(() => resolve({ ok: false }), 5000);
      server.on('secureConnection', (socket) => {
        const peer = socket.getPeerCertificate();
        clearTimeout(timer);
        resolve({ ok: true, peerCN: String(peer.subject?.CN), protocol: socket.getProtocol() });
        socket.end('x');
      });
      server.on('tlsClientError', () => {
        clearTimeout(timer);
        resolve({ ok: false });
      });
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca: readFileSync(paths.caCert),
        cert: client.cert ? readFileSync(client.cert) : undefined,
        key: client.key ? readFileSync(client.key) : undefined,
        maxVersion,
      });
      socket.on('error', () => {});
      socket.on('data', () => socket.end());
    });
  } finally {
    server.close();
  }
}

describe('pki/dev-pki', () => {
  let dataDir: string;
  let paths: DevPkiPaths;
  let created: boolean;

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'kmip-pki-'));
    ({ created, paths } = await ensureDevPki(path.join(dataDir, 'data')));
  });

  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('creates the CA, server and admin files under DATA/pki', () => {
    expect(created).to.equal(true);
    expect(paths.dir).to.equal(path.join(dataDir, 'data', 'pki'));
    for (const file of [
      paths.caCert,
      paths.caKey,
      paths.serverCert,
      paths.serverKey,
      paths.adminCert,
      paths.adminKey,
    ]) {
      expect(existsSync(file), file).to.equal(true);
    }
  });

  it('writes private keys as PKCS#8 PEM with mode 0600 in a 0700 directory', () => {
    expect(mode(paths.dir)).to.equal(0o700);
    for (const file of [paths.caKey, paths.serverKey, paths.adminKey]) {
      expect(mode(file), file).to.equal(0o600);
      expect(readFileSync(file, 'utf8')).to.match(/^-----BEGIN PRIVATE KEY-----\n/);
    }
  });

  it('makes a self-signed ECDSA P-256 CA valid for 10 years', () => {
    const ca = cert(paths.caCert);
    expect(ca.subject).to.equal(`CN=${DEV_CA_COMMON_NAME}`);
    expect(ca.issuer).to.equal(ca.subject);
    expect(ca.ca).to.equal(true);
    expect(ca.checkIssued(ca)).to.equal(true);
    expect(ca.verify(ca.publicKey)).to.equal(true);
    expect(ca.publicKey.asymmetricKeyType).to.equal('ec');
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
    expect(daysValid(ca)).to.be.within(3649, 3650);
  });

  it('makes a server certificate for localhost, 127.0.0.1 and ::1 with serverAuth', () => {
    const ca = cert(paths.caCert);
    const server = cert(paths.serverCert);
    expect(server.subject).to.equal('CN=localhost');
    expect(server.ca).to.equal(false);
    expect(server.subjectAltName).to.equal('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(server.checkHost('localhost')).to.equal('localhost');
    expect(server.checkIP('127.0.0.1')).to.equal('127.0.0.1');
    expect(server.checkIP('::1')).to.equal('::1');
    expect(server.keyUsage).to.deep.equal([SERVER_AUTH]);
    expect(server.checkIssued(ca)).to.equal(true);
    expect(server.verify(ca.publicKey)).to.equal(true);
    expect(server.checkPrivateKey(createKey(paths.serverKey))).to.equal(true);
    expect(daysValid(server)).to.be.within(729, 730);
  });

  /** The certificate at `file`: CN=`cn`, clientAuth only, issued and signed by the CA. */
  function expectClientCert(file: string, cn: string): X509Certificate {
    const ca = cert(paths.caCert);
    const c = cert(file);
    expect(c.subject).to.equal(`CN=${cn}`);
    expect(c.keyUsage).to.deep.equal([CLIENT_AUTH]);
    expect(c.checkIssued(ca)).to.equal(true);
    expect(c.verify(ca.publicKey)).to.equal(true);
    return c;
  }

  it('makes an admin client certificate with clientAuth', () => {
    const admin = expectClientCert(paths.adminCert, 'admin');
    expect(admin.checkPrivateKey(createKey(paths.adminKey))).to.equal(true);
  });

  it('is idempotent', async () => {
    const before = readFileSync(paths.caCert, 'utf8');
    const again = await ensureDevPki(path.join(dataDir, 'data'));
    expect(again.created).to.equal(false);
    expect(again.paths).to.deep.equal(paths);
    expect(readFileSync(paths.caCert, 'utf8')).to.equal(before);
  });

  it('completes a mutual TLS 1.3 handshake with the admin certificate', async () => {
    const result = await handshake(paths, { cert: paths.adminCert, key: paths.adminKey });
    expect(result).to.deep.equal({ ok: true, peerCN: 'admin', protocol: 'TLSv1.3' });
  });

  it('completes a mutual TLS 1.2 handshake with the admin certificate', async () => {
    const result = await handshake(paths, { cert: paths.adminCert, key: paths.adminKey }, 'TLSv1.2');
    expect(result).to.deep.equal({ ok: true, peerCN: 'admin', protocol: 'TLSv1.2' });
  });

  it('refuses a client without a certificate', async () => {
    expect((await handshake(paths, {})).ok).to.equal(false);
    expect((await handshake(paths, {}, 'TLSv1.2')).ok).to.equal(false);
  });

  describe('issueClientCertificate', () => {
    it('issues NAME.crt and NAME.key signed by the CA with clientAuth', async () => {
      const issued = await issueClientCertificate(path.join(dataDir, 'data'), 'backup-01');
      expect(issued).to.deep.equal({
        cert: path.join(paths.dir, 'backup-01.crt'),
        key: path.join(paths.dir, 'backup-01.key'),
      });
      const client = expectClientCert(issued.cert, 'backup-01');
      expect(client.publicKey.asymmetricKeyType).to.equal('ec');
      expect(mode(issued.key)).to.equal(0o600);
      expect(daysValid(client)).to.be.within(729, 730);
      const result = await handshake(paths, issued);
      expect(result.ok).to.equal(true);
      expect(result.peerCN).to.equal('backup-01');
    });

    it('honours days and keyType rsa', async () => {
      const issued = await issueClientCertificate(path.join(dataDir, 'data'), 'legacy.client', {
        days: 30,
        keyType: 'rsa',
      });
      const client = cert(issued.cert);
      expect(daysValid(client)).to.be.within(29, 30);
      expect(client.publicKey.asymmetricKeyType).to.equal('rsa');
      expect(client.publicKey.asymmetricKeyDetails?.modulusLength).to.equal(2048);
      expect(client.verify(cert(paths.caCert).publicKey)).to.equal(true);
      expect((await handshake(paths, issued, 'TLSv1.2')).ok).to.equal(true);
    });

    it('rejects unsafe and reserved names', async () => {
      for (const name of [
        '',
        '../evil',
        'a/b',
        '.hidden',
        'ca',
        'server',
        'x'.repeat(65),
        'sp ace',
        'a..b',
      ]) {
        let error: unknown;
        try {
          await issueClientCertificate(path.join(dataDir, 'data'), name);
        } catch (err: unknown) {
          error = err;
        }
        expect(error, name).to.be.instanceOf(Error);
      }
      expect(cert(paths.caCert).subject).to.equal(`CN=${DEV_CA_COMMON_NAME}`);
    });

    it('refuses to replace an existing certificate unless asked to', async () => {
      const dir = path.join(dataDir, 'data');
      await issueClientCertificate(dir, 'twice');
      const first = readFileSync(path.join(paths.dir, 'twice.crt'), 'utf8');
      await expectReject(issueClientCertificate(dir, 'twice'), /already exists/);
      await expectReject(issueClientCertificate(dir, 'admin'), /already exists/);
      await issueClientCertificate(dir, 'twice', { overwrite: true });
      expect(readFileSync(path.join(paths.dir, 'twice.crt'), 'utf8')).to.not.equal(first);
    });

    it('rejects invalid days', async () => {
      for (const days of [0, -1, 1.5, 36501]) {
        await expectReject(issueClientCertificate(path.join(dataDir, 'data'), 'd', { days }), /days/);
      }
    });

    it('fails clearly without a CA', async () => {
      await expectReject(
        issueClientCertificate(path.join(dataDir, 'nothing-here'), 'bob'),
        /no development CA.*kmip-server start/,
      );
    });
  });

  describe('keyType rsa', () => {
    let rsaDir: string;
    let rsaPaths: DevPkiPaths;

    before(async () => {
      rsaDir = mkdtempSync(path.join(os.tmpdir(), 'kmip-pki-rsa-'));
      ({ paths: rsaPaths } = await ensureDevPki(rsaDir, undefined, { keyType: 'rsa' }));
    });

    after(() => rmSync(rsaDir, { recursive: true, force: true }));

    it('makes RSA-2048 certificates that complete a handshake', async () => {
      const ca = cert(rsaPaths.caCert);
      expect(ca.publicKey.asymmetricKeyType).to.equal('rsa');
      expect(cert(rsaPaths.serverCert).verify(ca.publicKey)).to.equal(true);
      const result = await handshake(
        rsaPaths,
        { cert: rsaPaths.adminCert, key: rsaPaths.adminKey },
        'TLSv1.2',
      );
      expect(result).to.deep.equal({ ok: true, peerCN: 'admin', protocol: 'TLSv1.2' });
    });

    it('issues an EC client certificate from an RSA CA', async () => {
      const issued = await issueClientCertificate(rsaDir, 'ec-client');
      expect(cert(issued.cert).verify(cert(rsaPaths.caCert).publicKey)).to.equal(true);
      expect((await handshake(rsaPaths, issued)).ok).to.equal(true);
    });
  });

  // PyKMIP uses Python's ssl module: it must load these files and complete a mutual handshake.
  const python = '/usr/bin/python3';
  (existsSync(python) ? it : it.skip)("is accepted by Python's ssl module (PyKMIP)", () => {
    const script = `
import socket, ssl, sys, threading
d = sys.argv[1]
srv = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
srv.load_cert_chain(d + '/server.crt', d + '/server.key')
srv.load_verify_locations(d + '/ca.crt')
srv.verify_mode = ssl.CERT_REQUIRED
cli = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
cli.load_cert_chain(d + '/admin.crt', d + '/admin.key')
cli.load_verify_locations(d + '/ca.crt')
ls = socket.socket()
ls.bind(('127.0.0.1', 0))
ls.listen(1)
seen = {}
def serve():
    conn, _ = ls.accept()
    with srv.wrap_socket(conn, server_side=True) as s:
        seen['peer'] = dict(x[0] for x in s.getpeercert()['subject'])['commonName']
t = threading.Thread(target=serve)
t.start()
with cli.wrap_socket(socket.create_connection(ls.getsockname()), server_hostname='localhost') as c:
    pass
t.join(5)
print(seen.get('peer'))
`;
    const out = execFileSync(python, ['-c', script, paths.dir], { encoding: 'utf8', timeout: 15000 });
    expect(out.trim()).to.equal('admin');
  });
});

function createKey(file: string) {
  return createPrivateKey(readFileSync(file, 'utf8'));
}

async function expectReject(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (err: unknown) {
    error = err;
  }
  expect(error).to.be.instanceOf(Error);
  expect((error as Error).message).to.match(pattern);
}
