/**
 * X.501 Names as RFC 4514 text and back: reading a DER Name into its RDNs,
 * writing it as a string, and building a DER Name from components or text.
 */
import * as asn1js from 'asn1js';

/** RFC 4514 §3 short names, and OpenSSL's for the others the KMIP component attributes name. */
const NAME_TYPES: ReadonlyArray<readonly [string, string]> = [
  ['CN', '2.5.4.3'],
  ['L', '2.5.4.7'],
  ['ST', '2.5.4.8'],
  ['O', '2.5.4.10'],
  ['OU', '2.5.4.11'],
  ['C', '2.5.4.6'],
  ['STREET', '2.5.4.9'],
  ['DC', '0.9.2342.19200300.100.1.25'],
  ['UID', '0.9.2342.19200300.100.1.1'],
  ['serialNumber', '2.5.4.5'],
  ['title', '2.5.4.12'],
  ['dnQualifier', '2.5.4.46'],
  ['emailAddress', '1.2.840.113549.1.9.1'],
];

const SHORT_NAMES: ReadonlyMap<string, string> = new Map(NAME_TYPES.map(([short, oid]) => [oid, short]));
const NAME_OIDS: ReadonlyMap<string, string> = new Map([
  ...NAME_TYPES.map(([short, oid]): [string, string] => [short.toUpperCase(), oid]),
  ['E', '1.2.840.113549.1.9.1'],
]);

export interface NameAttribute {
  readonly type: string;
  /** the AttributeValue as text when it is a string type */
  readonly text: string | undefined;
  readonly der: Uint8Array;
}

/** A parsed Name: RDNs in DER order, each a set of type/value pairs. */
export type ParsedName = NameAttribute[][];

export function parseName(der: Uint8Array): ParsedName | undefined {
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
export function nameText(name: ParsedName): string {
  return [...name]
    .reverse()
    .map((rdn) =>
      rdn
        .map((a) => {
          const short = SHORT_NAMES.get(a.type);
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

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** One attribute of a Name: OID and text value. */
export interface NameComponent {
  readonly oid: string;
  readonly value: string;
}

/**
 * The DER Name of components given most significant first (DER order):
 * C as PrintableString, e-mail and DC as IA5String (RFC 5280 Appendix A),
 * the rest UTF8String.
 */
export function nameFromComponents(components: readonly NameComponent[]): Uint8Array {
  const sets = components.map(
    (c) =>
      new asn1js.Set({
        value: [
          new asn1js.Sequence({
            value: [new asn1js.ObjectIdentifier({ value: c.oid }), stringFor(c.oid, c.value)],
          }),
        ],
      }),
  );
  return new Uint8Array(new asn1js.Sequence({ value: sets }).toBER(false));
}

function stringFor(oid: string, value: string): asn1js.AsnType {
  if (oid === NAME_OIDS.get('C') || oid === NAME_OIDS.get('SERIALNUMBER')) {
    return new asn1js.PrintableString({ value });
  }
  if (oid === NAME_OIDS.get('E') || oid === NAME_OIDS.get('DC')) return new asn1js.IA5String({ value });
  return new asn1js.Utf8String({ value });
}

/**
 * The DER Name of an RFC 4514 string ("CN=Client,OU=KMIP,O=ACME,C=US", most
 * specific first, as KMIP 1.0 §3.10 Certificate Subject writes it); types
 * by short name or dotted OID. Multi-valued RDNs are flattened. Undefined
 * when the text is not a distinguished name.
 */
export function nameFromText(text: string): Uint8Array | undefined {
  const rdns = splitUnescaped(text, ',').filter((s) => s.trim() !== '');
  if (rdns.length === 0) return undefined;
  const components: NameComponent[] = [];
  for (const rdn of rdns.reverse()) {
    for (const atv of splitUnescaped(rdn, '+')) {
      const eq = atv.indexOf('=');
      if (eq <= 0) return undefined;
      const type = atv.slice(0, eq).trim();
      const oid = /^\d+(\.\d+)+$/.test(type) ? type : NAME_OIDS.get(type.toUpperCase());
      if (oid === undefined) return undefined;
      components.push({ oid, value: unescapeValue(atv.slice(eq + 1).trim()) });
    }
  }
  return nameFromComponents(components);
}

function splitUnescaped(text: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\' && i + 1 < text.length) {
      cur += ch + text[i + 1];
      i++;
    } else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  out.push(cur);
  return out;
}

function unescapeValue(value: string): string {
  return value.replace(/\\([0-9a-fA-F]{2}|.)/g, (_, c: string) =>
    c.length === 2 ? String.fromCharCode(Number.parseInt(c, 16)) : c,
  );
}
