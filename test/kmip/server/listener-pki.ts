/**
 * A throw-away PKI with CRLs for the listener's revocation and limit tests,
 * made with the openssl CLI (`openssl ca -revoke` / `-gencrl`), so the CRLs
 * are independent of our own src/pki. ECDSA P-256.
 */

import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ClientPair {
  cert: string;
  key: string;
}

export interface CrlPki {
  ca: string;
  serverCert: string;
  serverKey: string;
  /** a second server certificate, for reload tests */
  serverCert2: string;
  serverKey2: string;
  alice: ClientPair;
  bob: ClientPair;
  mallory: ClientPair;
  /** CRL of the CA revoking nobody */
  emptyCrl: string;
  /** CRL of the CA revoking mallory */
  malloryRevokedCrl: string;
  /** CRL of the CA already past its nextUpdate */
  expiredCrl: string;
  /** Rebuilds a CRL with the given clients revoked (openssl ca -revoke, then -gencrl). */
  revoke(...names: ('alice' | 'bob' | 'mallory')[]): Promise<string>;
}

let cached: Promise<CrlPki> | undefined;

export function makeCrlPki(): Promise<CrlPki> {
  cached ??= generate();
  return cached;
}

async function generate(): Promise<CrlPki> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kmip-crl-pki-'));
  const f = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  const genKey = (name: string) =>
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f(name));
  const read = (name: string) => readFile(f(name), 'utf8');
  let serial = 0x1000;
  const issue = async (name: string, cn: string, ext: string) => {
    await genKey(`${name}.key`);
    await openssl('req', '-new', '-key', f(`${name}.key`), '-subj', `/CN=${cn}`, '-out', f(`${name}.csr`));
    await writeFile(f(`${name}.ext`), ext);
    serial++;
    await openssl(
      ...['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key')],
      ...['-set_serial', String(serial), '-days', '2', '-sha256', '-extfile', f(`${name}.ext`)],
      ...['-out', f(`${name}.pem`)],
    );
    return { cert: await read(`${name}.pem`), key: await read(`${name}.key`) };
  };
  await genKey('ca.key');
  await openssl(
    ...[
      'req',
      '-x509',
      '-new',
      '-key',
      f('ca.key'),
      '-subj',
      '/CN=KMIP CRL Test CA',
      '-days',
      '2',
      '-sha256',
    ],
    ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    ...['-out', f('ca.pem')],
  );
  const leaf = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\n';
  const serverExt = `${leaf}extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n`;
  const clientExt = `${leaf}extendedKeyUsage=clientAuth\n`;
  const server = await issue('server', 'localhost', serverExt);
  const server2 = await issue('server2', 'localhost', serverExt);
  const clients = {
    alice: await issue('alice', 'alice', clientExt),
    bob: await issue('bob', 'bob', clientExt),
    mallory: await issue('mallory', 'mallory', clientExt),
  };

  // A minimal `openssl ca` setup: only the database and the CRL number matter here.
  const caConf = (db: string) =>
    [
      '[ca]',
      'default_ca = ca_default',
      '[ca_default]',
      `database = ${f(db)}`,
      `crlnumber = ${f(`${db}.crlnumber`)}`,
      `certificate = ${f('ca.pem')}`,
      `private_key = ${f('ca.key')}`,
      'default_md = sha256',
      'default_crl_days = 1',
      '',
    ].join('\n');
  let generation = 0;
  const crlWith = async (names: string[], expired = false): Promise<string> => {
    const db = `index-${++generation}.txt`;
    await writeFile(f(db), '');
    await writeFile(f(`${db}.crlnumber`), '01\n');
    await writeFile(f(`${db}.cnf`), caConf(db));
    for (const name of names) {
      await openssl('ca', '-config', f(`${db}.cnf`), '-revoke', f(`${name}.pem`));
    }
    const out = f(`${db}.crl.pem`);
    // -crlsec 1: nextUpdate one second from now, i.e. expired by the time it is used
    const validity = expired ? ['-crlsec', '1'] : ['-crldays', '1'];
    await openssl('ca', '-config', f(`${db}.cnf`), '-gencrl', ...validity, '-out', out);
    return readFile(out, 'utf8');
  };
  try {
    const emptyCrl = await crlWith([]);
    const malloryRevokedCrl = await crlWith(['mallory']);
    const expiredCrl = await crlWith([], true);
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return {
      ca: await read('ca.pem'),
      serverCert: server.cert,
      serverKey: server.key,
      serverCert2: server2.cert,
      serverKey2: server2.key,
      ...clients,
      emptyCrl,
      malloryRevokedCrl,
      expiredCrl,
      revoke: (...names) => crlWith(names),
    };
  } catch (e: unknown) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** A mutual-TLS test client that collects response frames. */
export class FrameClient {
  readonly responses: Buffer[] = [];
  error: (Error & { code?: string }) | undefined;
  session: Buffer | undefined;
  readonly closed: Promise<void>;
  #buffered = Buffer.alloc(0);

  constructor(readonly socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      while (this.#buffered.length >= 8) {
        const total = 8 + this.#buffered.readUInt32BE(4);
        if (this.#buffered.length < total) break;
        this.responses.push(this.#buffered.subarray(0, total));
        this.#buffered = this.#buffered.subarray(total);
      }
    });
    socket.on('error', (err) => {
      this.error ??= err;
    });
    socket.on('session', (s: Buffer) => {
      this.session = s;
    });
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
  }

  /** Resolves when `n` responses have arrived; rejects when the connection closes first or on timeout. */
  async waitFor(n: number, timeoutMs = 5000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.responses.length < n) {
      if (this.socket.destroyed)
        throw new Error(`connection closed after ${this.responses.length} responses`);
      if (Date.now() > deadline) throw new Error(`timed out after ${this.responses.length} responses`);
      await delay(5);
    }
    return this.responses.slice(0, n);
  }
}

/** Opens a mutual-TLS connection; rejects when the handshake fails. */
export function connectAs(
  port: number,
  ca: string,
  pair: ClientPair | undefined,
  extra: ConnectionOptions = {},
): Promise<FrameClient> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port,
      ca,
      servername: 'localhost',
      ...(pair ? { cert: pair.cert, key: pair.key } : {}),
      ...extra,
    });
    const client = new FrameClient(socket);
    socket.once('secureConnect', () => resolve(client));
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before secureConnect')));
  });
}

/**
 * Connects, sends a request and reports what came back: 'answered', or 'refused'
 * when the connection failed or closed without an answer (TLS 1.3 clients learn
 * of a refused certificate only after their handshake completes).
 */
export async function tryRequest(
  port: number,
  ca: string,
  pair: ClientPair | undefined,
  frame: Buffer,
  extra: ConnectionOptions = {},
): Promise<'answered' | 'refused'> {
  let client: FrameClient;
  try {
    client = await connectAs(port, ca, pair, extra);
  } catch {
    return 'refused';
  }
  client.socket.write(frame);
  try {
    await client.waitFor(1, 5000);
    return 'answered';
  } catch {
    return 'refused';
  } finally {
    client.socket.destroy();
  }
}
