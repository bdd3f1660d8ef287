import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import {
  certificateFromPem,
  certificateToPem,
  createCertificate,
  ExtKeyUsageOid,
  generateKeyPair,
  type Issuer,
  type KeyType,
  KeyUsageBit,
  privateKeyFromPem,
  privateKeyToPem,
} from './x509.js';

export interface DevPkiPaths {
  /** DATA/pki */
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
}

export interface DevPkiOptions {
  /** key algorithm of the CA, server and admin keys; default 'ec' (ECDSA P-256) */
  keyType?: KeyType;
}

export interface IssueClientOptions {
  /** validity in days; default 730 */
  days?: number;
  /** default 'ec' (ECDSA P-256); 'rsa' gives RSA-2048 for clients without ECDSA support */
  keyType?: KeyType;
  /** replace NAME.crt/NAME.key if they exist */
  overwrite?: boolean;
}

export const DEV_CA_COMMON_NAME = 'kmip-server development CA';
const CA_DAYS = 3650;
const LEAF_DAYS = 730;
const MAX_DAYS = 36500;
/** File names the development PKI itself uses; a client certificate must not replace them. */
const RESERVED_NAMES = new Set(['ca', 'server']);
const CLIENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function devPkiPaths(dataDir: string): DevPkiPaths {
  const dir = path.resolve(dataDir, 'pki');
  return {
    dir,
    caCert: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    serverCert: path.join(dir, 'server.crt'),
    serverKey: path.join(dir, 'server.key'),
    adminCert: path.join(dir, 'admin.crt'),
    adminKey: path.join(dir, 'admin.key'),
  };
}

/**
 * Creates the development PKI in DATA/pki unless a CA certificate is already there: a CA, a
 * server certificate for localhost / 127.0.0.1 / ::1 and an `admin` client certificate.
 * For development only; production points tls.* at certificates from a real CA.
 */
export async function ensureDevPki(
  dataDir: string,
  log: Logger = silentLogger,
  opts: DevPkiOptions = {},
): Promise<{ created: boolean; paths: DevPkiPaths }> {
  const paths = devPkiPaths(dataDir);
  if (existsSync(paths.caCert)) return { created: false, paths };

  const keyType = opts.keyType ?? 'ec';
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await chmod(paths.dir, 0o700);

  const caKeys = await generateKeyPair(keyType);
  const caCert = await createCertificate(
    {
      commonName: DEV_CA_COMMON_NAME,
      days: CA_DAYS,
      ca: true,
      keyUsage: [KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign],
    },
    caKeys,
  );
  const issuer: Issuer = { cert: caCert, privateKey: caKeys.privateKey };

  const serverKeys = await generateKeyPair(keyType);
  const serverCert = await createCertificate(
    {
      commonName: 'localhost',
      days: LEAF_DAYS,
      keyUsage: [KeyUsageBit.digitalSignature, KeyUsageBit.keyEncipherment],
      extKeyUsage: [ExtKeyUsageOid.serverAuth],
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1', '::1'],
    },
    serverKeys,
    issuer,
  );
  const adminKeys = await generateKeyPair(keyType);
  const adminCert = await createCertificate(clientProfile('admin', LEAF_DAYS, keyType), adminKeys, issuer);

  await writePrivate(paths.caKey, await privateKeyToPem(caKeys.privateKey));
  await writePrivate(paths.serverKey, await privateKeyToPem(serverKeys.privateKey));
  await writePublic(paths.serverCert, certificateToPem(serverCert));
  await writePrivate(paths.adminKey, await privateKeyToPem(adminKeys.privateKey));
  await writePublic(paths.adminCert, certificateToPem(adminCert));
  // ca.crt last: its presence is what marks the PKI as complete, so an interrupted run starts over.
  await writePublic(paths.caCert, certificateToPem(caCert));

  log.info('created development PKI', { dir: paths.dir, keyType });
  return { created: true, paths };
}

/** Issues DATA/pki/NAME.crt and NAME.key (CN=NAME, EKU clientAuth), signed by the development CA. */
export async function issueClientCertificate(
  dataDir: string,
  name: string,
  opts: IssueClientOptions = {},
): Promise<{ cert: string; key: string }> {
  validateClientName(name);
  const days = opts.days ?? LEAF_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) {
    throw new Error(`days must be an integer from 1 to ${MAX_DAYS}, got ${days}`);
  }
  const paths = devPkiPaths(dataDir);
  if (!existsSync(paths.caCert) || !existsSync(paths.caKey)) {
    throw new Error(`no development CA in ${paths.dir}; run \`kmip-server start\` once to create it`);
  }
  const certPath = path.join(paths.dir, `${name}.crt`);
  const keyPath = path.join(paths.dir, `${name}.key`);
  if (!opts.overwrite && (existsSync(certPath) || existsSync(keyPath))) {
    throw new Error(`${certPath} already exists; choose another name or overwrite it`);
  }

  const issuer: Issuer = {
    cert: certificateFromPem(await readFile(paths.caCert, 'utf8')),
    privateKey: await privateKeyFromPem(await readFile(paths.caKey, 'utf8')),
  };
  const keyType = opts.keyType ?? 'ec';
  const keys = await generateKeyPair(keyType);
  const cert = await createCertificate(clientProfile(name, days, keyType), keys, issuer);
  await writePrivate(keyPath, await privateKeyToPem(keys.privateKey));
  await writePublic(certPath, certificateToPem(cert));
  return { cert: certPath, key: keyPath };
}

export function validateClientName(name: string): void {
  if (!CLIENT_NAME.test(name) || name.includes('..')) {
    throw new Error(
      `invalid client name '${name}': use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  if (RESERVED_NAMES.has(name.toLowerCase())) {
    throw new Error(`client name '${name}' is reserved by the development PKI`);
  }
}

function clientProfile(name: string, days: number, keyType: KeyType) {
  return {
    commonName: name,
    days,
    // keyEncipherment only means something for RSA key transport.
    keyUsage:
      keyType === 'rsa'
        ? [KeyUsageBit.digitalSignature, KeyUsageBit.keyEncipherment]
        : [KeyUsageBit.digitalSignature],
    extKeyUsage: [ExtKeyUsageOid.clientAuth],
  };
}

async function writePrivate(file: string, pem: string): Promise<void> {
  await writeAtomic(file, pem, 0o600);
}

async function writePublic(file: string, pem: string): Promise<void> {
  await writeAtomic(file, pem, 0o644);
}

async function writeAtomic(file: string, content: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content, { mode, flag: 'w' });
  // writeFile's mode is filtered by the umask and ignored for an existing file.
  await chmod(tmp, mode);
  await rename(tmp, file);
}
