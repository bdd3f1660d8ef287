/**
 * Certificate revocation lists, read only: OpenSSL checks client certificates
 * against them at the handshake; this module answers the same question for
 * connections that were already open when a new CRL was loaded, and reports
 * CRLs that are out of date (OpenSSL then refuses every client of that CA).
 * Signatures are not checked here: the CRL is trusted configuration, and
 * OpenSSL verifies it before using it for new handshakes.
 */

import * as pkijs from 'pkijs';

export interface RevocationList {
  /** number of CRLs read */
  readonly count: number;
  /** CRLs whose nextUpdate has passed at `now`, by issuer (a string of the issuer DN) */
  expired(now: Date): string[];
  /** true when a CRL from the certificate's issuer lists its serial number */
  isRevoked(certificateDer: Uint8Array): boolean;
}

const PEM_CRL = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+?)-----END X509 CRL-----/g;

/** Parses every PEM CRL in `pem`; throws when there is none or one is malformed. */
export function parseCrls(pem: string | Buffer): RevocationList {
  const text = typeof pem === 'string' ? pem : pem.toString('latin1');
  const crls: pkijs.CertificateRevocationList[] = [];
  for (const m of text.matchAll(PEM_CRL)) {
    const der = Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64');
    crls.push(pkijs.CertificateRevocationList.fromBER(new Uint8Array(der)));
  }
  if (crls.length === 0) throw new Error('no PEM CRL (-----BEGIN X509 CRL-----) found');
  return {
    count: crls.length,
    expired(now) {
      return crls
        .filter((c) => c.nextUpdate !== undefined && c.nextUpdate.value.getTime() < now.getTime())
        .map((c) => nameToString(c.issuer));
    },
    isRevoked(certificateDer) {
      const cert = pkijs.Certificate.fromBER(certificateDer);
      return crls.some(
        (crl) =>
          crl.issuer.isEqual(cert.issuer) &&
          (crl.revokedCertificates ?? []).some((r) => r.userCertificate.isEqual(cert.serialNumber)),
      );
    },
  };
}

function nameToString(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues.map((tv) => `${tv.type}=${String(tv.value.valueBlock.value)}`).join(', ');
}
