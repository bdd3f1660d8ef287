/**
 * What a server reads from a DER X.509 certificate to describe it (the
 * certificate attributes of kmip/model/x509-attributes.ts): issuer and
 * subject Names as DER and RFC 4514 text, the serial number, the
 * alternative names (RFC 5280 §4.2.1.6), the signature algorithm OID and
 * the certified public key.
 */
import { type KeyObject, X509Certificate } from 'node:crypto';
import { isIPv4 } from 'node:net';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { hex, nameText, type ParsedName, parseName } from './x509-names.js';

export interface NameFields {
  readonly der: Uint8Array;
  readonly parsed: ParsedName;
  /** RFC 4514 text */
  readonly text: string;
  /** DER GeneralNames of the alternative-name extension, when present */
  readonly altNames: Uint8Array | undefined;
  /** text forms of those GeneralNames */
  readonly altNameTexts: string[];
}

export interface CertificateFields {
  readonly issuer: NameFields;
  readonly subject: NameFields;
  /** DER INTEGER */
  readonly serialDer: Uint8Array;
  /** hex of the INTEGER contents */
  readonly serialHex: string;
  readonly signatureOid: string;
  /** undefined when OpenSSL cannot read the key */
  readonly publicKey: KeyObject | undefined;
}

const SUBJECT_ALT_NAME = '2.5.29.17';
const ISSUER_ALT_NAME = '2.5.29.18';

/** The fields of a DER X.509 certificate, undefined when the bytes do not parse as one. */
export function certificateFields(der: Uint8Array): CertificateFields | undefined {
  let cert: pkijs.Certificate;
  try {
    cert = pkijs.Certificate.fromBER(der);
  } catch {
    return undefined;
  }
  const issuer = nameFields(cert.issuer.valueBeforeDecode, extensionValue(cert, ISSUER_ALT_NAME));
  const subject = nameFields(cert.subject.valueBeforeDecode, extensionValue(cert, SUBJECT_ALT_NAME));
  if (issuer === undefined || subject === undefined) return undefined;
  return {
    issuer,
    subject,
    serialDer: new Uint8Array(cert.serialNumber.toBER(false)),
    serialHex: hex(cert.serialNumber.valueBlock.valueHexView),
    signatureOid: cert.signatureAlgorithm.algorithmId,
    publicKey: publicKeyOf(der),
  };
}

function nameFields(raw: ArrayBuffer, altNames: Uint8Array | undefined): NameFields | undefined {
  const der = new Uint8Array(raw);
  const parsed = parseName(der);
  if (parsed === undefined) return undefined;
  return { der, parsed, text: nameText(parsed), altNames, altNameTexts: altNameTexts(altNames) };
}

function publicKeyOf(der: Uint8Array): KeyObject | undefined {
  try {
    return new X509Certificate(der).publicKey;
  } catch {
    return undefined;
  }
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
