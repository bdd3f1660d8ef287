/**
 * Proof that a command-line action comes from an officer: the officer's
 * client certificate (verified against the server's client CA, like a TLS
 * client) and a signature with its private key over the exact decision.
 * Decisions are stored with certificate and signature, and the server
 * verifies them again before it honours an approval, so a row written into
 * the database by hand approves nothing.
 */
import { createPrivateKey, type KeyObject, sign, verify, X509Certificate } from 'node:crypto';
import type { IdentitySource } from '../config/auth.js';
import { parseCrls } from '../pki/crl.js';

export class OfficerProofError extends Error {
  override name = 'OfficerProofError';
}

/** Every certificate of a PEM bundle. */
export function certificatesIn(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

function subjectCn(cert: X509Certificate): string | undefined {
  for (const line of cert.subject.split('\n')) {
    if (line.startsWith('CN=')) return line.slice(3);
  }
  return undefined;
}

/** The identity a certificate names, as the server derives it from a TLS client (auth.identityFrom). */
export function identityFromNames(
  source: IdentitySource,
  commonName: string | undefined,
  subjectAltNames: readonly string[] | undefined,
): string | undefined {
  if (source === 'cn') return commonName;
  const prefix = source === 'san-dns' ? 'DNS:' : source === 'san-email' ? 'email:' : 'URI:';
  const found = (subjectAltNames ?? []).find((n) => n.startsWith(prefix));
  return found?.slice(prefix.length);
}

export function identityOfCertificate(cert: X509Certificate, source: IdentitySource): string | undefined {
  const sans = cert.subjectAltName?.split(', ').filter((n) => n !== '');
  return identityFromNames(source, subjectCn(cert), sans);
}

/**
 * The certificate chains (one level) to a CA of the bundle, is valid at
 * `now`, and (given `crlPem`, i.e. tls.crl) is not revoked — the checks a
 * TLS handshake makes of a client. A CRL past its next update refuses, as
 * OpenSSL does at the handshake.
 */
export function verifyClientCertificate(
  cert: X509Certificate,
  caPem: string,
  now: Date,
  crlPem?: string,
): void {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (now < from || now > to) throw new OfficerProofError('the officer certificate is not valid now');
  const issued = certificatesIn(caPem).some((ca) => {
    try {
      return cert.checkIssued(ca) && cert.verify(ca.publicKey);
    } catch {
      return false;
    }
  });
  if (!issued) throw new OfficerProofError('the officer certificate is not issued by the server client CA');
  if (crlPem === undefined || crlPem.trim() === '') return;
  let crls: ReturnType<typeof parseCrls>;
  try {
    crls = parseCrls(crlPem);
  } catch (e: unknown) {
    throw new OfficerProofError(`tls.crl cannot be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  const stale = crls.expired(now);
  if (stale.length > 0)
    throw new OfficerProofError(`the CRL of ${stale.join('; ')} is out of date (next update passed)`);
  if (crls.isRevoked(new Uint8Array(cert.raw)))
    throw new OfficerProofError('the officer certificate is revoked (tls.crl)');
}

function digestFor(key: KeyObject): string | null {
  const t = key.asymmetricKeyType;
  return t === 'ed25519' || t === 'ed448' ? null : 'sha256';
}

export interface Officer {
  readonly identity: string;
  readonly certificatePem: string;
  sign(message: Uint8Array): string;
}

/** Loads an officer's certificate and key, checks the chain and that the key belongs to the certificate. */
export function loadOfficer(
  certPem: string,
  keyPem: string,
  caPem: string,
  source: IdentitySource,
  now = new Date(),
  crlPem?: string,
): Officer {
  const [cert] = certificatesIn(certPem);
  if (cert === undefined) throw new OfficerProofError('no certificate in the --cert file');
  verifyClientCertificate(cert, caPem, now, crlPem);
  const key = createPrivateKey(keyPem);
  const challenge = Buffer.from(`kmip-server officer challenge ${now.toISOString()} ${Math.random()}`);
  const sig = sign(digestFor(key), challenge, key);
  if (!verify(digestFor(cert.publicKey), challenge, cert.publicKey, sig))
    throw new OfficerProofError('the --key does not belong to the --cert certificate');
  const identity = identityOfCertificate(cert, source);
  if (identity === undefined) throw new OfficerProofError('the officer certificate names no identity');
  return {
    identity,
    certificatePem: cert.toString(),
    sign: (message) => sign(digestFor(key), message, key).toString('base64'),
  };
}

/** The signature is the officer's (certificate from the CA, naming `identity`) over `message`. */
export function verifyOfficerSignature(
  identity: string,
  certificatePem: string,
  signature: string,
  message: Uint8Array,
  caPem: string,
  source: IdentitySource,
  now: Date,
  crlPem?: string,
): boolean {
  try {
    const [cert] = certificatesIn(certificatePem);
    if (cert === undefined) return false;
    verifyClientCertificate(cert, caPem, now, crlPem);
    if (identityOfCertificate(cert, source) !== identity) return false;
    return verify(digestFor(cert.publicKey), message, cert.publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
