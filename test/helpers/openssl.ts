/**
 * The OpenSSL CLI, run synchronously, for tests that check our formats
 * against an independent implementation.
 */
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** stdout and stderr of an openssl command (-info writes to stderr); throws when it fails. */
export function openssl(args: string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

/**
 * An RSA-2048 CA (ca.key, ca.pem, subject `caSubject`) and a leaf it issued
 * (leaf.key, leaf.csr, leaf.pem, subject /CN=leaf), both valid two days, in `dir`.
 */
export function rsaCaAndLeaf(dir: string, caSubject: string): void {
  const p = (f: string) => path.join(dir, f);
  openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
    '-subj',
    caSubject,
    '-days',
    '2',
  ]);
  openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    p('leaf.key'),
    '-out',
    p('leaf.csr'),
    '-subj',
    '/CN=leaf',
  ]);
  openssl([
    'x509',
    '-req',
    '-in',
    p('leaf.csr'),
    '-CA',
    p('ca.pem'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-out',
    p('leaf.pem'),
    '-days',
    '2',
  ]);
}

/**
 * A CRL (PEM) from the CA `ca` revoking the certificate files `revoked`,
 * made with `openssl ca`; its database, configuration and the CRL are the
 * files `db`.txt, .num, .cnf and .crl.
 */
export async function opensslCrl(
  db: string,
  ca: { readonly caCert: string; readonly caKey: string },
  revoked: readonly string[],
): Promise<string> {
  await writeFile(`${db}.txt`, '');
  await writeFile(`${db}.num`, '01\n');
  const conf = [
    '[ca]',
    'default_ca = d',
    '[d]',
    `database = ${db}.txt`,
    `crlnumber = ${db}.num`,
    `certificate = ${ca.caCert}`,
    `private_key = ${ca.caKey}`,
    'default_md = sha256',
    'default_crl_days = 1',
  ].join('\n');
  await writeFile(`${db}.cnf`, conf);
  for (const cert of revoked) openssl(['ca', '-config', `${db}.cnf`, '-revoke', cert]);
  openssl(['ca', '-config', `${db}.cnf`, '-gencrl', '-out', `${db}.crl`]);
  return readFile(`${db}.crl`, 'utf8');
}
