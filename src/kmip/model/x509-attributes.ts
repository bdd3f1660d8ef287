/**
 * Attributes a server derives from a registered X.509 certificate (KMIP 1.0
 * §3.8–3.11, 1.1 §3.9–3.16, 1.4 §3.56–3.57 Certificate Subject / Issuer
 * components, 2.1 §4): Certificate Type, Length, the 1.x text Identifier /
 * Subject / Issuer, the X.509 Identifier / Subject / Issuer (DER byte
 * strings), Digital Signature Algorithm and the per-component Subject /
 * Issuer attributes. The caller's version shaping drops what a version lacks.
 * Values follow TC-CERTATTR-1-14 / -1-20 and BL-M-10-21. Also the KMIP
 * enumerations Certify maps to X.509: Digital Signature Algorithm ↔ OID and
 * Cryptographic Usage Mask → key usage.
 */
import { certificateFields } from '../../crypto/certificate-fields.js';
import type { ParsedName } from '../../crypto/x509-names.js';
import { KeyUsageBit } from '../../pki/x509.js';
import { CertificateType, CryptographicUsageMask, DigitalSignatureAlgorithm, Tag } from '../spec/index.js';
import { byteString, enumeration, integer, structure, textString } from '../ttlv/build.js';
import type { TtlvItem } from '../ttlv/types.js';
import { algorithmOf } from './key-formats.js';

export interface DerivedCertificateAttributes {
  /** attribute values in a stable order, one per attribute */
  readonly attributes: TtlvItem[];
  /** Cryptographic Algorithm / Length of the certified public key, when known */
  readonly algorithm?: number;
  readonly length?: number;
}

const DSA = DigitalSignatureAlgorithm;
/** X.509 signature algorithm OIDs (RFC 3279, RFC 4055, RFC 5758, NIST CSOR) of each Digital Signature Algorithm. */
const SIGNATURE_OIDS: ReadonlyArray<readonly [string, number]> = [
  ['1.2.840.113549.1.1.2', DSA.MD2WithRSAEncryption],
  ['1.2.840.113549.1.1.4', DSA.MD5WithRSAEncryption],
  ['1.2.840.113549.1.1.5', DSA.SHA_1WithRSAEncryption],
  ['1.2.840.113549.1.1.14', DSA.SHA_224WithRSAEncryption],
  ['1.2.840.113549.1.1.11', DSA.SHA_256WithRSAEncryption],
  ['1.2.840.113549.1.1.12', DSA.SHA_384WithRSAEncryption],
  ['1.2.840.113549.1.1.13', DSA.SHA_512WithRSAEncryption],
  ['1.2.840.113549.1.1.10', DSA.RSASSA_PSS],
  ['1.2.840.10040.4.3', DSA.DSAWithSHA_1],
  ['2.16.840.1.101.3.4.3.1', DSA.DSAWithSHA224],
  ['2.16.840.1.101.3.4.3.2', DSA.DSAWithSHA256],
  ['1.2.840.10045.4.1', DSA.ECDSAWithSHA_1],
  ['1.2.840.10045.4.3.1', DSA.ECDSAWithSHA224],
  ['1.2.840.10045.4.3.2', DSA.ECDSAWithSHA256],
  ['1.2.840.10045.4.3.3', DSA.ECDSAWithSHA384],
  ['1.2.840.10045.4.3.4', DSA.ECDSAWithSHA512],
  ['2.16.840.1.101.3.4.3.14', DSA.SHA3_256WithRSAEncryption],
  ['2.16.840.1.101.3.4.3.15', DSA.SHA3_384WithRSAEncryption],
  ['2.16.840.1.101.3.4.3.16', DSA.SHA3_512WithRSAEncryption],
];

/**
 * The signature algorithm OID for a requested Digital Signature Algorithm
 * (crypto/ca.ts IssueRequest.signatureOid): undefined when none is
 * requested, '' for a value with no OID, which no signer matches.
 */
export function signatureOidOf(dsa: number | undefined): string | undefined {
  if (dsa === undefined) return undefined;
  return SIGNATURE_OIDS.find(([, v]) => v === dsa)?.[0] ?? '';
}

const M = CryptographicUsageMask;
/** Cryptographic Usage Mask bits (KMIP 1.0 §3.14) as X.509 key usage bits (RFC 5280 §4.2.1.3). */
const USAGE_BITS: ReadonlyArray<readonly [number, KeyUsageBit]> = [
  [M.Sign | M.Verify | M.Authenticate, KeyUsageBit.digitalSignature],
  [M.ContentCommitment, KeyUsageBit.nonRepudiation],
  [M.WrapKey | M.UnwrapKey, KeyUsageBit.keyEncipherment],
  [M.Encrypt | M.Decrypt, KeyUsageBit.dataEncipherment],
  [M.KeyAgreement, KeyUsageBit.keyAgreement],
  [M.CertificateSign, KeyUsageBit.keyCertSign],
  [M.CRLSign, KeyUsageBit.cRLSign],
];

/** The key usage of a certificate whose object has Cryptographic Usage Mask `mask`; empty: no extension. */
export function keyUsageFromMask(mask: number | undefined): KeyUsageBit[] {
  if (mask === undefined) return [];
  return USAGE_BITS.filter(([bits]) => (mask & bits) !== 0).map(([, bit]) => bit);
}

interface Component {
  readonly subject: number;
  readonly issuer: number;
}

/** KMIP 1.4 §3.56–3.57 / 2.1 §4.6–4.7: one attribute per Name component type. */
const COMPONENTS: ReadonlyArray<readonly [string, Component]> = [
  ['2.5.4.3', { subject: Tag.CertificateSubjectCN, issuer: Tag.CertificateIssuerCN }],
  ['2.5.4.10', { subject: Tag.CertificateSubjectO, issuer: Tag.CertificateIssuerO }],
  ['2.5.4.11', { subject: Tag.CertificateSubjectOU, issuer: Tag.CertificateIssuerOU }],
  ['1.2.840.113549.1.9.1', { subject: Tag.CertificateSubjectEmail, issuer: Tag.CertificateIssuerEmail }],
  ['2.5.4.6', { subject: Tag.CertificateSubjectC, issuer: Tag.CertificateIssuerC }],
  ['2.5.4.8', { subject: Tag.CertificateSubjectST, issuer: Tag.CertificateIssuerST }],
  ['2.5.4.7', { subject: Tag.CertificateSubjectL, issuer: Tag.CertificateIssuerL }],
  ['0.9.2342.19200300.100.1.1', { subject: Tag.CertificateSubjectUID, issuer: Tag.CertificateIssuerUID }],
  ['2.5.4.5', { subject: Tag.CertificateSubjectSerialNumber, issuer: Tag.CertificateIssuerSerialNumber }],
  ['2.5.4.12', { subject: Tag.CertificateSubjectTitle, issuer: Tag.CertificateIssuerTitle }],
  ['0.9.2342.19200300.100.1.25', { subject: Tag.CertificateSubjectDC, issuer: Tag.CertificateIssuerDC }],
  ['2.5.4.46', { subject: Tag.CertificateSubjectDNQualifier, issuer: Tag.CertificateIssuerDNQualifier }],
];

/**
 * The derived attributes of a DER X.509 certificate, or undefined when the
 * bytes do not parse as one (Register then stores the object as given).
 */
export function certificateAttributes(der: Uint8Array): DerivedCertificateAttributes | undefined {
  const f = certificateFields(der);
  if (f === undefined) return undefined;
  const { issuer, subject } = f;
  const attributes: TtlvItem[] = [
    enumeration(Tag.CertificateType, CertificateType.X_509),
    integer(Tag.CertificateLength, der.length),
    // 1.0 §3.9: Issuer as a distinguished name string, Serial Number as text (hex of the INTEGER).
    structure(Tag.CertificateIdentifier, [
      textString(Tag.Issuer, issuer.text),
      textString(Tag.SerialNumber, f.serialHex),
    ]),
    structure(Tag.CertificateSubject, [
      textString(Tag.CertificateSubjectDistinguishedName, subject.text),
      ...subject.altNameTexts.map((t) => textString(Tag.CertificateSubjectAlternativeName, t)),
    ]),
    structure(Tag.CertificateIssuer, [
      textString(Tag.CertificateIssuerDistinguishedName, issuer.text),
      ...issuer.altNameTexts.map((t) => textString(Tag.CertificateIssuerAlternativeName, t)),
    ]),
    // 1.1 §3.10–3.12: the DER Name and the DER INTEGER serial number.
    structure(Tag.X_509CertificateIdentifier, [
      byteString(Tag.IssuerDistinguishedName, issuer.der),
      byteString(Tag.CertificateSerialNumber, f.serialDer),
    ]),
    structure(Tag.X_509CertificateSubject, [
      byteString(Tag.SubjectDistinguishedName, subject.der),
      ...(subject.altNames === undefined ? [] : [byteString(Tag.SubjectAlternativeName, subject.altNames)]),
    ]),
    structure(Tag.X_509CertificateIssuer, [
      byteString(Tag.IssuerDistinguishedName, issuer.der),
      ...(issuer.altNames === undefined ? [] : [byteString(Tag.IssuerAlternativeName, issuer.altNames)]),
    ]),
  ];
  const signature = SIGNATURE_OIDS.find(([oid]) => oid === f.signatureOid)?.[1];
  if (signature !== undefined) {
    attributes.push(enumeration(Tag.DigitalSignatureAlgorithm, signature));
  }
  attributes.push(
    ...componentAttributes(subject.parsed, 'subject'),
    ...componentAttributes(issuer.parsed, 'issuer'),
  );
  const key = f.publicKey === undefined ? undefined : algorithmOf(f.publicKey);
  return { attributes, ...(key ?? {}) };
}

/**
 * The component attributes are single-instance (2.1 §4.6), so a Name with
 * several values of one type (DC=example,DC=com) gives the first in DER order.
 */
function componentAttributes(name: ParsedName, side: keyof Component): TtlvItem[] {
  const out: TtlvItem[] = [];
  for (const [oid, tags] of COMPONENTS) {
    const text = name.flat().find((a) => a.type === oid)?.text;
    if (text !== undefined) out.push(textString(tags[side], text));
  }
  return out;
}
