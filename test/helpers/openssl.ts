/**
 * The OpenSSL CLI, run synchronously, for tests that check our formats
 * against an independent implementation.
 */
import { spawnSync } from 'node:child_process';
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
