/**
 * Certificates issued by the development CA of a data directory (DATA/pki,
 * made by ensureDevPki), for tests that need a client certificate the
 * development PKI does not make.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { devPkiPaths } from '../../src/pki/index.js';
import {
  type CertificateProfile,
  certificateFromPem,
  certificateToPem,
  createCertificate,
  generateKeyPair,
  privateKeyFromPem,
  privateKeyToPem,
} from '../../src/pki/x509.js';

export interface IssuedCertificate {
  /** the files DATA/pki/`file`.crt and .key */
  readonly cert: string;
  readonly key: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** An EC key and a certificate with `profile` from the development CA of `dataDir`, written as DATA/pki/`file`.crt/.key. */
export async function issueFromDevCa(
  dataDir: string,
  file: string,
  profile: CertificateProfile,
): Promise<IssuedCertificate> {
  const paths = devPkiPaths(dataDir);
  const issuer = {
    cert: certificateFromPem(await readFile(paths.caCert, 'utf8')),
    privateKey: await privateKeyFromPem(await readFile(paths.caKey, 'utf8')),
  };
  const keys = await generateKeyPair('ec');
  const certPem = certificateToPem(await createCertificate(profile, keys, issuer));
  const keyPem = await privateKeyToPem(keys.privateKey);
  const cert = path.join(paths.dir, `${file}.crt`);
  const key = path.join(paths.dir, `${file}.key`);
  await writeFile(cert, certPem);
  await writeFile(key, keyPem, { mode: 0o600 });
  return { cert, key, certPem, keyPem };
}
