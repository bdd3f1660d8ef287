/**
 * A throw-away PKI for TLS tests, made with the openssl CLI (an independent
 * tool, so tests do not trust our own src/pki to test the listener).
 * ECDSA P-256; generated once per process.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** a client certificate issued by a CA the server does not trust */
  otherCaClientCert: string;
  otherCaClientKey: string;
}

let cached: Promise<TestPki> | undefined;

export function makeTestPki(): Promise<TestPki> {
  cached ??= generate();
  return cached;
}

async function generate(): Promise<TestPki> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kmip-test-pki-'));
  const f = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  try {
    const genKey = (name: string) =>
      openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f(name));
    const makeCa = async (name: string, cn: string) => {
      await genKey(`${name}.key`);
      await openssl(
        'req',
        '-x509',
        '-new',
        '-key',
        f(`${name}.key`),
        '-subj',
        `/CN=${cn}`,
        '-days',
        '2',
        '-sha256',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
        '-out',
        f(`${name}.pem`),
      );
    };
    const issue = async (name: string, ca: string, cn: string, ext: string) => {
      await genKey(`${name}.key`);
      await openssl('req', '-new', '-key', f(`${name}.key`), '-subj', `/CN=${cn}`, '-out', f(`${name}.csr`));
      await writeFile(f(`${name}.ext`), ext);
      await openssl(
        'x509',
        '-req',
        '-in',
        f(`${name}.csr`),
        '-CA',
        f(`${ca}.pem`),
        '-CAkey',
        f(`${ca}.key`),
        '-set_serial',
        `0x${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
        '-days',
        '2',
        '-sha256',
        '-extfile',
        f(`${name}.ext`),
        '-out',
        f(`${name}.pem`),
      );
    };
    const leaf = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\n';
    await makeCa('ca', 'KMIP Test CA');
    await makeCa('other-ca', 'Other Test CA');
    await issue(
      'server',
      'ca',
      'localhost',
      `${leaf}extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n`,
    );
    await issue('client', 'ca', 'test-client', `${leaf}extendedKeyUsage=clientAuth\n`);
    await issue('other-client', 'other-ca', 'test-client', `${leaf}extendedKeyUsage=clientAuth\n`);
    const read = (name: string) => readFile(f(name), 'utf8');
    return {
      ca: await read('ca.pem'),
      serverCert: await read('server.pem'),
      serverKey: await read('server.key'),
      clientCert: await read('client.pem'),
      clientKey: await read('client.key'),
      otherCaClientCert: await read('other-client.pem'),
      otherCaClientKey: await read('other-client.key'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
