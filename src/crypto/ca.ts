/**
 * The server as a certificate authority (KMIP 1.0 §4.7–4.8 Certify and
 * Re-certify, §4.24 / 2.1 §6.1.55 Validate): reading PKCS#10 requests,
 * issuing X.509 v3 certificates and checking certificate chains. pkijs and
 * asn1js build and read the ASN.1 (as src/pki/ and certificate-fields.ts do);
 * node:crypto signs and verifies, so every key type OpenSSL knows works
 * without WebCrypto imports. Knows nothing of the store or of KMIP messages.
 */
import { createPublicKey, type KeyObject, sign, verify, X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { extension, KeyUsageBit, keyIdentifier, keyUsageBits, serialNumber, timeOf } from '../pki/x509.js';
import { badInput } from './errors.js';

export { type ChainVerdict, validateChain } from './x509-chain.js';
export { type NameComponent, nameFromComponents, nameFromText } from './x509-names.js';

/** A certificate request that does not parse, is not PKCS#10, or whose signature does not verify. */
export class CertificateRequestError extends Error {
  readonly code = 'ERR_INVALID_CSR' as const;
  override name = 'CertificateRequestError';
}

/** What Certify takes from a PKCS#10 request (RFC 2986). */
export interface CertificationRequestInfo {
  /** DER Name */
  readonly subject: Uint8Array;
  readonly publicKey: KeyObject;
  /** DER GeneralNames of a requested subjectAltName extension */
  readonly subjectAltName: Uint8Array | undefined;
}

/** The issuing side: its certificate (DER) and private key. */
export interface IssuerKey {
  readonly certificate: Uint8Array;
  readonly privateKey: KeyObject;
}

export interface IssueRequest {
  /** DER Name of the subject */
  readonly subject: Uint8Array;
  readonly publicKey: KeyObject;
  /** undefined: self-signed with `selfSignKey` */
  readonly issuer: IssuerKey | undefined;
  readonly selfSignKey?: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /**
   * X.509 signature algorithm OID to sign with; default SHA-256 (or stronger
   * for big EC keys) PKCS#1 v1.5 or ECDSA. One the key cannot sign with is bad input.
   */
  readonly signatureOid?: string | undefined;
  readonly ca?: boolean;
  readonly keyUsage?: readonly KeyUsageBit[];
  readonly subjectAltName?: Uint8Array;
}

const OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extensionRequest: '1.2.840.113549.1.9.14',
} as const;

interface Signer {
  readonly family: 'rsa' | 'ec';
  readonly hash: string;
  readonly oid: string;
}

/** The signature algorithms the server signs with: PKCS#1 v1.5 RSA and ECDSA (RFC 3279, RFC 4055, RFC 5758). */
const SIGNERS: readonly Signer[] = [
  { family: 'rsa', hash: 'sha256', oid: '1.2.840.113549.1.1.11' },
  { family: 'rsa', hash: 'sha384', oid: '1.2.840.113549.1.1.12' },
  { family: 'rsa', hash: 'sha512', oid: '1.2.840.113549.1.1.13' },
  { family: 'rsa', hash: 'sha224', oid: '1.2.840.113549.1.1.14' },
  { family: 'rsa', hash: 'sha1', oid: '1.2.840.113549.1.1.5' },
  { family: 'ec', hash: 'sha256', oid: '1.2.840.10045.4.3.2' },
  { family: 'ec', hash: 'sha384', oid: '1.2.840.10045.4.3.3' },
  { family: 'ec', hash: 'sha512', oid: '1.2.840.10045.4.3.4' },
  { family: 'ec', hash: 'sha224', oid: '1.2.840.10045.4.3.1' },
  { family: 'ec', hash: 'sha1', oid: '1.2.840.10045.4.1' },
];

/** Signature algorithms a request may be signed with: the signers' and Ed25519 / Ed448 (no separate hash). */
const VERIFY_HASH: ReadonlyMap<string, string | null> = new Map<string, string | null>([
  ...SIGNERS.map((s): [string, string] => [s.oid, s.hash]),
  ['1.3.101.112', null],
  ['1.3.101.113', null],
]);

/**
 * Reads a certificate request: DER PKCS#10, or PEM ("-----BEGIN
 * CERTIFICATE REQUEST-----") when `pem`. Its self-signature must verify
 * (proof of possession of the private key, RFC 2986 §3).
 */
export function parseCertificationRequest(bytes: Uint8Array, pem = false): CertificationRequestInfo {
  const der = pem ? pemBody(bytes) : bytes;
  let csr: pkijs.CertificationRequest;
  let publicKey: KeyObject;
  try {
    csr = pkijs.CertificationRequest.fromBER(der);
    publicKey = createPublicKey({
      key: Buffer.from(csr.subjectPublicKeyInfo.toSchema().toBER(false)),
      format: 'der',
      type: 'spki',
    });
  } catch {
    throw new CertificateRequestError('the certificate request is not a DER PKCS#10 CertificationRequest');
  }
  const hash = VERIFY_HASH.get(csr.signatureAlgorithm.algorithmId);
  if (hash === undefined) {
    throw new CertificateRequestError(
      `the certificate request is signed with an unsupported algorithm ${csr.signatureAlgorithm.algorithmId}`,
    );
  }
  let good = false;
  try {
    good = verify(hash, csr.tbsView, publicKey, csr.signatureValue.valueBlock.valueHexView);
  } catch {
    good = false;
  }
  if (!good) throw new CertificateRequestError('the certificate request signature does not verify');
  return {
    subject: new Uint8Array(csr.subject.toSchema().toBER(false)),
    publicKey,
    subjectAltName: requestedSubjectAltName(csr),
  };
}

/**
 * A DER PKCS#10 request for `privateKey`'s public key (RFC 2986), signed
 * with SHA-256 (RSA PKCS#1 v1.5 or ECDSA); for clients and tests.
 */
export function createCertificationRequest(subject: Uint8Array, privateKey: KeyObject): Uint8Array {
  const signer = signerFor(privateKey, undefined);
  const spki = asn1js.fromBER(createPublicKey(privateKey).export({ format: 'der', type: 'spki' })).result;
  const info = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 0 }),
      asn1js.fromBER(subject).result,
      spki,
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [] }),
    ],
  });
  const tbs = new Uint8Array(info.toBER(false));
  const algorithm = new pkijs.AlgorithmIdentifier({
    algorithmId: signer.oid,
    ...(signer.family === 'rsa' ? { algorithmParams: new asn1js.Null() } : {}),
  });
  const signature = sign(signer.hash, tbs, privateKey);
  const whole = new asn1js.Sequence({
    value: [info, algorithm.toSchema(), new asn1js.BitString({ valueHex: bufferOf(signature) })],
  });
  return new Uint8Array(whole.toBER(false));
}

function pemBody(bytes: Uint8Array): Uint8Array {
  const text = Buffer.from(bytes).toString('latin1');
  const m =
    /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([A-Za-z0-9+/=\s]+)-----END (?:NEW )?CERTIFICATE REQUEST-----/.exec(
      text,
    );
  if (m?.[1] === undefined) throw new CertificateRequestError('no PEM certificate request found');
  return new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
}

/**
 * Of the extensions a request asks for, only the subject alternative name
 * is honoured: the issuer, not the requester, decides CA status and key usage.
 */
function requestedSubjectAltName(csr: pkijs.CertificationRequest): Uint8Array | undefined {
  for (const attr of csr.attributes ?? []) {
    if (attr.type !== OID.extensionRequest) continue;
    for (const value of attr.values) {
      try {
        const exts = new pkijs.Extensions({ schema: value });
        const san = exts.extensions.find((e) => e.extnID === OID.subjectAltName);
        if (san !== undefined) return new Uint8Array(san.extnValue.valueBlock.valueHexView);
      } catch {
        throw new CertificateRequestError('the certificate request has a malformed extension request');
      }
    }
  }
  return undefined;
}

/** The signer for an issuing key and an optional requested Digital Signature Algorithm. */
function signerFor(key: KeyObject, requested: string | undefined): Signer {
  const type = key.asymmetricKeyType;
  const family = type === 'rsa' ? 'rsa' : type === 'ec' ? 'ec' : undefined;
  if (family === undefined) {
    throw badInput(`the issuing key (${String(type)}) cannot sign certificates`);
  }
  if (requested !== undefined) {
    const s = SIGNERS.find((x) => x.oid === requested);
    if (s === undefined || s.family !== family) {
      throw badInput('the issuing key cannot sign with that Digital Signature Algorithm');
    }
    return s;
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const hash = curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256';
  const s = SIGNERS.find((x) => x.family === family && x.hash === hash);
  if (s === undefined) throw badInput('no signature algorithm for the issuing key');
  return s;
}

/** The DER X.509 v3 certificate for `req`, signed by its issuer (or self-signed). */
export function issueCertificate(req: IssueRequest): Uint8Array {
  const signingKey = req.issuer?.privateKey ?? req.selfSignKey;
  if (signingKey === undefined) throw new Error('issueCertificate needs an issuer or a self-sign key');
  if (req.notAfter.getTime() <= req.notBefore.getTime()) {
    throw badInput('the certificate would expire before it becomes valid');
  }
  const signer = signerFor(signingKey, req.signatureOid);
  const issuerCert = req.issuer === undefined ? undefined : pkijs.Certificate.fromBER(req.issuer.certificate);

  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ valueHex: serialNumber() });
  cert.subject = nameOf(req.subject);
  // The issuer's subject exactly as encoded in its certificate, so that name chaining holds byte for byte.
  cert.issuer = issuerCert === undefined ? nameOf(req.subject) : nameOf(rawSubject(issuerCert));
  cert.notBefore = timeOf(req.notBefore);
  cert.notAfter = timeOf(req.notAfter);
  cert.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(
    req.publicKey.export({ format: 'der', type: 'spki' }),
  );

  const extensions: pkijs.Extension[] = [
    extension(
      OID.basicConstraints,
      true,
      new pkijs.BasicConstraints(req.ca === true ? { cA: true } : {}).toSchema().toBER(false),
    ),
  ];
  if (req.keyUsage !== undefined && req.keyUsage.length > 0) {
    extensions.push(extension(OID.keyUsage, true, keyUsageBits(req.keyUsage).toBER(false)));
  }
  extensions.push(
    extension(
      OID.subjectKeyIdentifier,
      false,
      new asn1js.OctetString({ valueHex: keyIdentifier(cert.subjectPublicKeyInfo) }).toBER(false),
    ),
  );
  const authority = issuerCert?.subjectPublicKeyInfo ?? cert.subjectPublicKeyInfo;
  const aki = new pkijs.AuthorityKeyIdentifier({
    keyIdentifier: new asn1js.OctetString({ valueHex: keyIdentifier(authority) }),
  });
  extensions.push(extension(OID.authorityKeyIdentifier, false, aki.toSchema().toBER(false)));
  if (req.subjectAltName !== undefined) {
    extensions.push(extension(OID.subjectAltName, false, bufferOf(req.subjectAltName)));
  }
  cert.extensions = extensions;

  // RFC 4055 §5 / RFC 5758 §3.2: NULL parameters for RSA, absent for ECDSA.
  const algorithm = new pkijs.AlgorithmIdentifier({
    algorithmId: signer.oid,
    ...(signer.family === 'rsa' ? { algorithmParams: new asn1js.Null() } : {}),
  });
  cert.signature = algorithm;
  cert.signatureAlgorithm = algorithm;
  const tbs = new Uint8Array(cert.encodeTBS().toBER(false));
  const signature = sign(signer.hash, tbs, signingKey);
  const whole = new asn1js.Sequence({
    value: [
      asn1js.fromBER(tbs).result,
      algorithm.toSchema(),
      new asn1js.BitString({ valueHex: bufferOf(signature) }),
    ],
  });
  return new Uint8Array(whole.toBER(false));
}

/** A self-signed CA certificate for `privateKey` (basicConstraints cA, keyCertSign + cRLSign). */
export function selfSignedCaCertificate(opts: {
  readonly subject: Uint8Array;
  readonly privateKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
}): Uint8Array {
  return issueCertificate({
    subject: opts.subject,
    publicKey: createPublicKey(opts.privateKey),
    issuer: undefined,
    selfSignKey: opts.privateKey,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
    ca: true,
    keyUsage: [KeyUsageBit.digitalSignature, KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign],
  });
}

/** The subject Name (DER) of a certificate, exactly as encoded. */
export function certificateSubject(der: Uint8Array): Uint8Array {
  return rawSubject(pkijs.Certificate.fromBER(der));
}

export interface CertificateFacts {
  readonly subject: Uint8Array;
  readonly publicKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subjectAltName: Uint8Array | undefined;
}

/** Subject, public key and validity of a DER certificate (for Re-certify). */
export function certificateFacts(der: Uint8Array): CertificateFacts {
  const cert = pkijs.Certificate.fromBER(der);
  const san = cert.extensions?.find((e) => e.extnID === OID.subjectAltName);
  return {
    subject: rawSubject(cert),
    publicKey: new X509Certificate(der).publicKey,
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
    subjectAltName: san === undefined ? undefined : new Uint8Array(san.extnValue.valueBlock.valueHexView),
  };
}

/** True when both keys are the same public key (their SubjectPublicKeyInfo DER is equal). */
export function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  const spki = (k: KeyObject) =>
    (k.type === 'private' ? createPublicKey(k) : k).export({ format: 'der', type: 'spki' });
  return spki(a).equals(spki(b));
}

function rawSubject(cert: pkijs.Certificate): Uint8Array {
  return new Uint8Array(cert.subject.toSchema().toBER(false));
}

function nameOf(der: Uint8Array): pkijs.RelativeDistinguishedNames {
  try {
    return pkijs.RelativeDistinguishedNames.fromBER(der);
  } catch {
    throw badInput('the certificate subject is not a distinguished name');
  }
}

function bufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
