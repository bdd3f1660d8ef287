/**
 * Proof that a command-line action comes from an officer: the officer's
 * client certificate (verified against the server's client CA, like a TLS
 * client) and a signature with its private key over the exact decision.
 * Decisions are stored with certificate and signature, and the server
 * verifies them again before it honours an approval, so a row written into
 * the database by hand approves nothing.
 */
import { createPrivateKey, type KeyObject, sign, verify, X509Certificate } from 'node:crypto';
import type * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
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

const OID_KEY_USAGE = '2.5.29.15';
const OID_EXT_KEY_USAGE = '2.5.29.37';
const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EKU_ANY = '2.5.29.37.0';

/**
 * The certificate may serve a client that signs (RFC 5280): an Extended Key
 * Usage extension, when present, must include clientAuth or
 * anyExtendedKeyUsage (§4.2.1.12: the certificate is then for those purposes
 * only, so a serverAuth-only certificate is a server's), and a Key Usage
 * extension, when present, must assert digitalSignature (§4.2.1.3: the
 * officer's key signs the challenge and the decision). Without either
 * extension the certificate is not restricted.
 */
export function checkOfficerKeyUsage(cert: X509Certificate): void {
  let extensions: pkijs.Extension[];
  try {
    extensions = pkijs.Certificate.fromBER(new Uint8Array(cert.raw)).extensions ?? [];
  } catch (e: unknown) {
    throw new OfficerProofError(
      `the officer certificate cannot be read: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  for (const ext of extensions) {
    if (ext.extnID === OID_EXT_KEY_USAGE) {
      const purposes = (ext.parsedValue as pkijs.ExtKeyUsage | undefined)?.keyPurposes;
      if (purposes === undefined)
        throw new OfficerProofError('the officer certificate has an unreadable Extended Key Usage');
      if (!purposes.includes(EKU_CLIENT_AUTH) && !purposes.includes(EKU_ANY)) {
        throw new OfficerProofError(
          `the officer certificate is not a client certificate: its Extended Key Usage (${purposes.join(', ')}) does not include clientAuth (${EKU_CLIENT_AUTH})`,
        );
      }
    } else if (ext.extnID === OID_KEY_USAGE) {
      const bits = (ext.parsedValue as asn1js.BitString | undefined)?.valueBlock?.valueHexView;
      if (bits === undefined)
        throw new OfficerProofError('the officer certificate has an unreadable Key Usage');
      // digitalSignature is bit 0: the first byte's high bit (DER named bit list)
      if (((bits[0] ?? 0) & 0x80) === 0) {
        throw new OfficerProofError(
          'the officer certificate may not sign: its Key Usage does not include digitalSignature',
        );
      }
    }
  }
}

/**
 * The certificate chains (one level) to a CA of the bundle, is valid at
 * `now`, may serve a signing client (checkOfficerKeyUsage), and (given
 * `crlPem`, i.e. tls.crl) is not revoked — the checks a TLS handshake makes
 * of a client. A CRL past its next update refuses, as OpenSSL does at the
 * handshake.
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
  checkOfficerKeyUsage(cert);
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
