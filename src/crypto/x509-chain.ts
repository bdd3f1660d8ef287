/**
 * Certificate chain checking for Validate (KMIP 1.4 §4.24, 2.1 §6.1.55):
 * names, key identifiers, key usage and signatures are OpenSSL's
 * (X509Certificate.checkIssued / verify); dates and CA status are read here.
 */
import { X509Certificate } from 'node:crypto';
import * as pkijs from 'pkijs';

export type ChainVerdict = 'valid' | 'invalid' | 'unknown';

const BASIC_CONSTRAINTS = '2.5.29.19';

interface ParsedCertificate {
  readonly x509: X509Certificate;
  readonly pkijs: pkijs.Certificate;
}

function parseCertificate(der: Uint8Array): ParsedCertificate | undefined {
  try {
    return { x509: new X509Certificate(der), pkijs: pkijs.Certificate.fromBER(der) };
  } catch {
    return undefined;
  }
}

function issuedBy(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  try {
    return cert.x509.checkIssued(issuer.x509) && cert.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
}

/** An issuer must be a CA when it says what it is (basicConstraints, RFC 5280 §4.2.1.9). */
function mayIssue(cert: ParsedCertificate): boolean {
  const bc = cert.pkijs.extensions?.find((e) => e.extnID === BASIC_CONSTRAINTS);
  if (bc === undefined) return cert.pkijs.version < 2;
  return cert.x509.ca;
}

function validAt(cert: ParsedCertificate, at: Date): boolean {
  const t = at.getTime();
  return cert.pkijs.notBefore.value.getTime() <= t && t <= cert.pkijs.notAfter.value.getTime();
}

/**
 * The server's validation policy for Validate (the spec leaves it to the
 * server, 1.4 §4.24): the chain is given leaf first; every certificate must
 * be valid at `at`, and each is issued by the next (names, key identifiers,
 * key usage and signature checked by OpenSSL). The chain is Valid when it
 * ends in a self-signed certificate or one issued by a trust `anchor` (the
 * server's own CA); Unknown when it ends elsewhere; Invalid when any
 * certificate is malformed, out of its dates, or not issued by the next.
 */
export function validateChain(
  chain: readonly Uint8Array[],
  at: Date,
  anchors: readonly Uint8Array[] = [],
): ChainVerdict {
  const certs: ParsedCertificate[] = [];
  for (const der of chain) {
    const c = parseCertificate(der);
    if (c === undefined) return 'invalid';
    certs.push(c);
  }
  if (certs.length === 0) return 'unknown';
  for (const c of certs) if (!validAt(c, at)) return 'invalid';
  for (let i = 0; i + 1 < certs.length; i++) {
    const cert = certs[i];
    const issuer = certs[i + 1];
    if (cert === undefined || issuer === undefined || !mayIssue(issuer) || !issuedBy(cert, issuer)) {
      return 'invalid';
    }
  }
  const last = certs[certs.length - 1];
  if (last === undefined) return 'unknown';
  if (issuedBy(last, last)) return 'valid';
  for (const der of anchors) {
    const anchor = parseCertificate(der);
    if (anchor !== undefined && validAt(anchor, at) && mayIssue(anchor) && issuedBy(last, anchor)) {
      return 'valid';
    }
  }
  return 'unknown';
}
