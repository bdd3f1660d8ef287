/**
 * Attributes a server derives from a registered X.509 certificate (KMIP 1.0
 * §3.8–3.11, 1.1 §3.9–3.16, 1.4 §3.56–3.57 Certificate Subject / Issuer
 * components, 2.1 §4): Certificate Type, Length, the 1.x text Identifier /
 * Subject / Issuer, the X.509 Identifier / Subject / Issuer (DER byte
 * strings), Digital Signature Algorithm and the per-component Subject /
 * Issuer attributes. The caller's version shaping drops what a version lacks.
 * Values follow TC-CERTATTR-1-14 / -1-20 and BL-M-10-21.
 */
import { X509Certificate } from 'node:crypto';
import { isIPv4 } from 'node:net';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CertificateType, DigitalSignatureAlgorithm, Tag } from '../kmip/spec/index.js';
import { byteString, enumeration, integer, structure, textString } from '../kmip/ttlv/build.js';
import type { TtlvItem } from '../kmip/ttlv/types.js';
import { algorithmOf } from './formats.js';

export interface DerivedCertificateAttributes {
  /** attribute values in a stable order, one per attribute */
  readonly attributes: TtlvItem[];
  /** Cryptographic Algorithm / Length of the certified public key, when known */
  readonly algorithm?: number;
  readonly length?: number;
}

const SIGNATURE_ALGORITHMS: Readonly<Record<string, number>> = {
  '1.2.840.113549.1.1.2': DigitalSignatureAlgorithm.MD2WithRSAEncryption,
  '1.2.840.113549.1.1.4': DigitalSignatureAlgorithm.MD5WithRSAEncryption,
  '1.2.840.113549.1.1.5': DigitalSignatureAlgorithm.SHA_1WithRSAEncryption,
  '1.2.840.113549.1.1.14': DigitalSignatureAlgorithm.SHA_224WithRSAEncryption,
  '1.2.840.113549.1.1.11': DigitalSignatureAlgorithm.SHA_256WithRSAEncryption,
  '1.2.840.113549.1.1.12': DigitalSignatureAlgorithm.SHA_384WithRSAEncryption,
  '1.2.840.113549.1.1.13': DigitalSignatureAlgorithm.SHA_512WithRSAEncryption,
  '1.2.840.113549.1.1.10': DigitalSignatureAlgorithm.RSASSA_PSS,
  '1.2.840.10040.4.3': DigitalSignatureAlgorithm.DSAWithSHA_1,
  '2.16.840.1.101.3.4.3.1': DigitalSignatureAlgorithm.DSAWithSHA224,
  '2.16.840.1.101.3.4.3.2': DigitalSignatureAlgorithm.DSAWithSHA256,
  '1.2.840.10045.4.1': DigitalSignatureAlgorithm.ECDSAWithSHA_1,
  '1.2.840.10045.4.3.1': DigitalSignatureAlgorithm.ECDSAWithSHA224,
  '1.2.840.10045.4.3.2': DigitalSignatureAlgorithm.ECDSAWithSHA256,
  '1.2.840.10045.4.3.3': DigitalSignatureAlgorithm.ECDSAWithSHA384,
  '1.2.840.10045.4.3.4': DigitalSignatureAlgorithm.ECDSAWithSHA512,
  '2.16.840.1.101.3.4.3.14': DigitalSignatureAlgorithm.SHA3_256WithRSAEncryption,
  '2.16.840.1.101.3.4.3.15': DigitalSignatureAlgorithm.SHA3_384WithRSAEncryption,
  '2.16.840.1.101.3.4.3.16': DigitalSignatureAlgorithm.SHA3_512WithRSAEncryption,
};

/** RFC 4514 §3 short names, and OpenSSL's for the others the KMIP component attributes name. */
const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '2.5.4.5': 'serialNumber',
  '2.5.4.12': 'title',
  '2.5.4.46': 'dnQualifier',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

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

const SUBJECT_ALT_NAME = '2.5.29.17';
const ISSUER_ALT_NAME = '2.5.29.18';

interface NameAttribute {
  readonly type: string;
  /** the AttributeValue as text when it is a string type */
  readonly text: string | undefined;
  readonly der: Uint8Array;
}

/** A parsed Name: RDNs in DER order, each a set of type/value pairs. */
type ParsedName = NameAttribute[][];

/**
 * The derived attributes of a DER X.509 certificate, or undefined when the
 * bytes do not parse as one (Register then stores the object as given).
 */
export function certificateAttributes(der: Uint8Array): DerivedCertificateAttributes | undefined {
  let cert: pkijs.Certificate;
  try {
    cert = pkijs.Certificate.fromBER(der);
  } catch {
    return undefined;
  }
  const issuerDer = new Uint8Array(cert.issuer.valueBeforeDecode);
  const subjectDer = new Uint8Array(cert.subject.valueBeforeDecode);
  const issuer = parseName(issuerDer);
  const subject = parseName(subjectDer);
  if (issuer === undefined || subject === undefined) return undefined;
  const serialDer = new Uint8Array(cert.serialNumber.toBER(false));
  const serialHex = hex(cert.serialNumber.valueBlock.valueHexView);
  const subjectAlt = extensionValue(cert, SUBJECT_ALT_NAME);
  const issuerAlt = extensionValue(cert, ISSUER_ALT_NAME);

  const attributes: TtlvItem[] = [
    enumeration(Tag.CertificateType, CertificateType.X_509),
    integer(Tag.CertificateLength, der.length),
    // 1.0 §3.9: Issuer as a distinguished name string, Serial Number as text (hex of the INTEGER).
    structure(Tag.CertificateIdentifier, [
      textString(Tag.Issuer, nameText(issuer)),
      textString(Tag.SerialNumber, serialHex),
    ]),
    structure(Tag.CertificateSubject, [
      textString(Tag.CertificateSubjectDistinguishedName, nameText(subject)),
      ...altNameTexts(subjectAlt).map((t) => textString(Tag.CertificateSubjectAlternativeName, t)),
    ]),
    structure(Tag.CertificateIssuer, [
      textString(Tag.CertificateIssuerDistinguishedName, nameText(issuer)),
      ...altNameTexts(issuerAlt).map((t) => textString(Tag.CertificateIssuerAlternativeName, t)),
    ]),
    // 1.1 §3.10–3.12: the DER Name and the DER INTEGER serial number.
    structure(Tag.X_509CertificateIdentifier, [
      byteString(Tag.IssuerDistinguishedName, issuerDer),
      byteString(Tag.CertificateSerialNumber, serialDer),
    ]),
    structure(Tag.X_509CertificateSubject, [
      byteString(Tag.SubjectDistinguishedName, subjectDer),
      ...(subjectAlt === undefined ? [] : [byteString(Tag.SubjectAlternativeName, subjectAlt)]),
    ]),
    structure(Tag.X_509CertificateIssuer, [
      byteString(Tag.IssuerDistinguishedName, issuerDer),
      ...(issuerAlt === undefined ? [] : [byteString(Tag.IssuerAlternativeName, issuerAlt)]),
    ]),
  ];
  const signature = SIGNATURE_ALGORITHMS[cert.signatureAlgorithm.algorithmId];
  if (signature !== undefined) {
    attributes.push(enumeration(Tag.DigitalSignatureAlgorithm, signature));
  }
  attributes.push(...componentAttributes(subject, 'subject'), ...componentAttributes(issuer, 'issuer'));
  return { attributes, ...publicKeyAlgorithm(der) };
}

function publicKeyAlgorithm(der: Uint8Array): { algorithm?: number; length?: number } {
  try {
    return algorithmOf(new X509Certificate(der).publicKey) ?? {};
  } catch {
    return {};
  }
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

function parseName(der: Uint8Array): ParsedName | undefined {
  const parsed = asn1js.fromBER(der);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence)) return undefined;
  const rdns: ParsedName = [];
  for (const set of parsed.result.valueBlock.value) {
    if (!(set instanceof asn1js.Set)) return undefined;
    const rdn: NameAttribute[] = [];
    for (const atv of set.valueBlock.value) {
      if (!(atv instanceof asn1js.Sequence)) return undefined;
      const [type, value] = atv.valueBlock.value;
      if (!(type instanceof asn1js.ObjectIdentifier) || value === undefined) return undefined;
      rdn.push({
        type: type.valueBlock.toString(),
        text: stringValue(value),
        der: new Uint8Array(value.toBER(false)),
      });
    }
    rdns.push(rdn);
  }
  return rdns;
}

function stringValue(value: asn1js.AsnType): string | undefined {
  if (
    value instanceof asn1js.Utf8String ||
    value instanceof asn1js.BmpString ||
    value instanceof asn1js.UniversalString ||
    value instanceof asn1js.PrintableString ||
    value instanceof asn1js.IA5String ||
    value instanceof asn1js.TeletexString ||
    value instanceof asn1js.VisibleString ||
    value instanceof asn1js.NumericString
  ) {
    return value.valueBlock.value;
  }
  return undefined;
}

/**
 * RFC 4514 string form, most specific RDN first ("CN=Inter,O=Kmip Test,C=AU"
 * in TC-CERTATTR-1-14); types without a short name and non-string values
 * are written as OID=#hex of the DER value.
 */
function nameText(name: ParsedName): string {
  return [...name]
    .reverse()
    .map((rdn) =>
      rdn
        .map((a) => {
          const short = SHORT_NAMES[a.type];
          if (short === undefined || a.text === undefined) return `${a.type}=#${hex(a.der)}`;
          return `${short}=${escapeValue(a.text)}`;
        })
        .join('+'),
    )
    .join(',');
}

function escapeValue(text: string): string {
  let out = text.replace(/[\\"+,;<=>]/g, (c) => `\\${c}`);
  out = out.replace(/\0/g, '\\00');
  if (out.startsWith(' ') || out.startsWith('#')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

function extensionValue(cert: pkijs.Certificate, oid: string): Uint8Array | undefined {
  const ext = cert.extensions?.find((e) => e.extnID === oid);
  return ext === undefined ? undefined : new Uint8Array(ext.extnValue.valueBlock.valueHexView);
}

/** Text forms of the GeneralNames of an alternative-name extension (RFC 5280 §4.2.1.6). */
function altNameTexts(der: Uint8Array | undefined): string[] {
  if (der === undefined) return [];
  let names: pkijs.GeneralNames;
  try {
    names = pkijs.GeneralNames.fromBER(der);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names.names) {
    if ((n.type === 1 || n.type === 2 || n.type === 6) && typeof n.value === 'string') out.push(n.value);
    else if (n.type === 7 && n.value instanceof asn1js.OctetString) {
      out.push(ipText(n.value.valueBlock.valueHexView));
    } else if (n.type === 4 && n.value instanceof pkijs.RelativeDistinguishedNames) {
      const parsed = parseName(new Uint8Array(n.value.toSchema().toBER(false)));
      if (parsed !== undefined) out.push(nameText(parsed));
    }
  }
  return out;
}

function ipText(bytes: Uint8Array): string {
  if (bytes.length === 4) {
    const v4 = [...bytes].join('.');
    return isIPv4(v4) ? v4 : hex(bytes);
  }
  const groups: string[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  }
  return groups.join(':');
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
