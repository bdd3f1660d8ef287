/**
 * KMIP XML encoding (KMIP Profiles v2.1 §5.4.1 "XML Encoding", the format of
 * the OASIS test vectors): element name = tag name, `type` and `value`
 * attributes, unknown tags as `<TTLV tag="0x540001" ...>`.
 *
 * Also the value-text helpers shared with the JSON encoding (json.ts).
 */

import { TextEncodingError } from '../errors.js';
import {
  ATTRIBUTE_NAME_TAG,
  ATTRIBUTE_VALUE_TAG,
  type TtlvDictionary,
  type ValueNames,
} from './dictionary.js';
import { ItemType, type ItemTypeName, type TtlvItem } from './types.js';

// ---------------------------------------------------------------------------
// A small strict XML parser. KMIP XML needs elements, attributes, comments,
// CDATA, entity and character references; DTDs are refused.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** concatenated non-element text content, trimmed */
  text: string;
  /** 1-based line of the start tag */
  line: number;
  /**
   * Comments and non-blank text nodes just before this element inside its
   * parent (for the root: before it in the document), in order. The vector
   * files put notes such as "# TIME 0" there.
   */
  leading?: string[];
}

/** Nesting deeper than this is refused (a KMIP message nests about 10 levels). */
export const MAX_TEXT_DEPTH = 100;

const NAME_START = /[A-Za-z_:\u00C0-\uFFFF]/;
const NAME_CHAR = /[A-Za-z0-9_:.\-\u00B7\u00C0-\uFFFF]/;
const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
};

class XmlParser {
  private pos = 0;
  private readonly lineStarts: number[] = [0];

  constructor(private readonly src: string) {
    for (let i = 0; i < src.length; i++) if (src.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  lineAt(offset: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  fail(message: string, offset = this.pos): never {
    throw new TextEncodingError(`malformed XML: ${message} at line ${this.lineAt(offset)}`);
  }

  parseDocument(): XmlElement {
    const src = this.src;
    if (src.charCodeAt(0) === 0xfeff) this.pos = 1;
    const leading: string[] = [];
    let root: XmlElement | undefined;
    for (;;) {
      this.skipSpace();
      if (this.pos >= src.length) break;
      if (src.startsWith('<?', this.pos)) {
        if (root === undefined && leading.length === 0 && src.startsWith('<?xml', this.pos)) {
          this.skipPast('?>', 'XML declaration');
        } else this.skipPast('?>', 'processing instruction');
      } else if (src.startsWith('<!--', this.pos)) {
        const c = this.readComment();
        if (root === undefined && c !== '') leading.push(c);
      } else if (src.startsWith('<!', this.pos)) {
        this.fail('DOCTYPE and other declarations are not supported');
      } else if (src[this.pos] === '<') {
        if (root !== undefined) {
          this.fail(src[this.pos + 1] === '/' ? 'end tag without start tag' : 'second root element');
        }
        root = this.parseElement(1);
        if (leading.length > 0) root.leading = leading.splice(0);
      } else {
        this.fail(root === undefined ? 'text before the root element' : 'text after the root element');
      }
    }
    if (root === undefined) this.fail('no root element');
    return root;
  }

  private skipSpace(): void {
    const src = this.src;
    while (this.pos < src.length) {
      const c = src.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else break;
    }
  }

  private skipPast(end: string, what: string): string {
    const start = this.pos;
    const i = this.src.indexOf(end, this.pos);
    if (i < 0) this.fail(`unterminated ${what}`, start);
    this.pos = i + end.length;
    return this.src.slice(start, i);
  }

  private readComment(): string {
    this.pos += 4;
    const body = this.skipPast('-->', 'comment');
    if (body.includes('--')) this.fail('"--" inside a comment');
    return body.trim();
  }

  private readName(): string {
    const src = this.src;
    const start = this.pos;
    if (!NAME_START.test(src[this.pos] ?? '')) this.fail('expected a name');
    this.pos++;
    while (this.pos < src.length && NAME_CHAR.test(src[this.pos] ?? '')) this.pos++;
    return src.slice(start, this.pos);
  }

  private decodeEntities(raw: string, offset: number): string {
    if (!raw.includes('&')) return raw;
    return raw.replace(/&([^;&\s<]*);?/g, (m, body: string, at: number) => {
      if (!m.endsWith(';')) this.fail('"&" not starting a reference', offset + at);
      const named = PREDEFINED_ENTITIES[body];
      if (named !== undefined) return named;
      const num = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(body);
      if (num !== null) {
        const cp = num[1] !== undefined ? Number.parseInt(num[1], 16) : Number(num[2]);
        if (cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff)) return String.fromCodePoint(cp);
      }
      return this.fail(`invalid reference "&${body};"`, offset + at);
    });
  }

  private parseElement(depth: number): XmlElement {
    const src = this.src;
    if (depth > MAX_TEXT_DEPTH) this.fail(`elements nested deeper than ${MAX_TEXT_DEPTH}`);
    const line = this.lineAt(this.pos);
    this.pos++; // '<'
    const name = this.readName();
    const attrs: Record<string, string> = Object.create(null) as Record<string, string>;
    const el: XmlElement = { name, attrs, children: [], text: '', line };
    for (;;) {
      const before = this.pos;
      this.skipSpace();
      const spaced = this.pos > before;
      if (this.pos >= src.length) this.fail(`unterminated start tag <${name}>`);
      if (src.startsWith('/>', this.pos)) {
        this.pos += 2;
        return el;
      }
      if (src[this.pos] === '>') {
        this.pos++;
        break;
      }
      if (!spaced) this.fail(`expected whitespace before attribute in <${name}>`);
      const attrName = this.readName();
      this.skipSpace();
      if (src[this.pos] !== '=') this.fail(`expected "=" after attribute ${attrName}`);
      this.pos++;
      this.skipSpace();
      const quote = src[this.pos];
      if (quote !== '"' && quote !== "'") this.fail(`attribute ${attrName} value is not quoted`);
      this.pos++;
      const start = this.pos;
      const end = src.indexOf(quote, start);
      if (end < 0) this.fail(`unterminated value of attribute ${attrName}`, start);
      const raw = src.slice(start, end);
      const lt = raw.indexOf('<');
      if (lt >= 0) this.fail(`"<" in value of attribute ${attrName}`, start + lt);
      if (attrName in attrs) this.fail(`duplicate attribute ${attrName}`, start);
      // XML 1.0 §3.3.3: literal white space in attribute values is normalised to spaces.
      attrs[attrName] = this.decodeEntities(raw.replace(/[\t\n\r]/g, ' '), start);
      this.pos = end + 1;
    }
    const text: string[] = [];
    let leading: string[] = [];
    for (;;) {
      if (this.pos >= src.length) this.fail(`missing end tag </${name}>`);
      if (src.startsWith('</', this.pos)) {
        const at = this.pos;
        this.pos += 2;
        const endName = this.readName();
        this.skipSpace();
        if (src[this.pos] !== '>') this.fail(`malformed end tag </${endName}`);
        this.pos++;
        if (endName !== name) {
          this.fail(`end tag </${endName}> does not match <${name}> of line ${line}`, at);
        }
        break;
      }
      if (src.startsWith('<!--', this.pos)) {
        const c = this.readComment();
        if (c !== '') leading.push(c);
      } else if (src.startsWith('<![CDATA[', this.pos)) {
        this.pos += 9;
        const t = this.skipPast(']]>', 'CDATA section');
        text.push(t);
        if (t.trim() !== '') leading.push(t.trim());
      } else if (src.startsWith('<?', this.pos)) {
        this.skipPast('?>', 'processing instruction');
      } else if (src.startsWith('<!', this.pos)) {
        this.fail('declarations are not allowed inside elements');
      } else if (src[this.pos] === '<') {
        const child = this.parseElement(depth + 1);
        if (leading.length > 0) {
          child.leading = leading;
          leading = [];
        }
        el.children.push(child);
      } else {
        const start = this.pos;
        const next = src.indexOf('<', start);
        this.pos = next < 0 ? src.length : next;
        const t = this.decodeEntities(src.slice(start, this.pos), start);
        text.push(t);
        if (t.trim() !== '') leading.push(t.trim());
      }
    }
    el.text = text.join('').trim();
    return el;
  }
}

/** Parses a whole XML document and returns its root element. */
export function parseXml(text: string): XmlElement {
  if (typeof text !== 'string') throw new TextEncodingError('XML input is not a string');
  return new XmlParser(text.replace(/\r\n?/g, '\n')).parseDocument();
}

// ---------------------------------------------------------------------------
// Value text shared by the XML and JSON encodings

export type PlaceholderHook = (
  name: string,
  type: ItemTypeName,
  tag: number,
) => TtlvItem['value'] | undefined;

export interface TextDecodeOptions {
  /**
   * Resolves test-vector placeholders such as "$NOW", "$NOW-3600" or
   * "$UNIQUE_IDENTIFIER_0" (the whole value text is passed as `name`).
   * Without a hook a placeholder is an error.
   */
  placeholder?: PlaceholderHook;
}

/** The test-vector placeholder syntax ("$NAME", "$NOW+3600"). */
export const PLACEHOLDER_PATTERN = /^\$[A-Z][A-Z0-9_]*(?:[+-][0-9]+)?$/;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function hexTag(tag: number): string {
  return `0x${tag.toString(16).toUpperCase().padStart(6, '0')}`;
}

export function tagLabel(tag: number, dict: TtlvDictionary): string {
  return dict.tagName(tag) ?? hexTag(tag);
}

export function parseHexTag(text: string, where: string): number {
  if (!/^0x[0-9A-Fa-f]{6}$/.test(text)) {
    throw new TextEncodingError(`${where}: tag "${text}" is not a 3-byte hex tag like 0x420001`);
  }
  return Number.parseInt(text.slice(2), 16);
}

export function tagFromName(name: string, dict: TtlvDictionary, where: string): number {
  const tag = dict.tagByName(name);
  if (tag !== undefined) return tag;
  if (/^0x/i.test(name)) return parseHexTag(name, where);
  throw new TextEncodingError(`${where}: unknown tag name "${name}"`);
}

export function isItemTypeName(s: string): s is ItemTypeName {
  return Object.hasOwn(ItemType, s);
}

export function hex8(n: number): string {
  return `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

function hex16(n: bigint): string {
  return `0x${BigInt.asUintN(64, n).toString(16).toUpperCase().padStart(16, '0')}`;
}

export function bytesToHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function hexToBytes(text: string, where: string): Uint8Array {
  if (!/^(?:[0-9A-Fa-f]{2})*$/.test(text)) {
    throw new TextEncodingError(`${where}: "${clip(text)}" is not an even-length hex string`);
  }
  return new Uint8Array(Buffer.from(text, 'hex'));
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

/** Two's complement big-endian bytes, sign-extended to a positive multiple of 8 (KMIP 1.0 §9.1.1.4). */
export function signExtendBigInteger(bytes: Uint8Array): Uint8Array {
  const pad = bytes.length === 0 ? 8 : (8 - (bytes.length % 8)) % 8;
  if (pad === 0) return bytes;
  const out = new Uint8Array(bytes.length + pad);
  if (bytes.length > 0 && ((bytes[0] ?? 0) & 0x80) !== 0) out.fill(0xff, 0, pad);
  out.set(bytes, pad);
  return out;
}

export function bigintToBigInteger(n: bigint): Uint8Array {
  let len = 8;
  while (BigInt.asIntN(len * 8, n) !== n) len += 8;
  const out = new Uint8Array(len);
  let v = BigInt.asUintN(len * 8, n);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function bigIntegerToBigint(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  return BigInt.asIntN(bytes.length * 8, BigInt(`0x${bytesToHex(bytes)}`));
}

function parseInt32Token(tok: string): number | undefined {
  if (/^[+-]?[0-9]+$/.test(tok)) {
    const n = Number(tok);
    return n >= -0x80000000 && n <= 0x7fffffff ? n : undefined;
  }
  if (/^0x[0-9A-Fa-f]{1,8}$/.test(tok)) return Number.parseInt(tok.slice(2), 16) | 0;
  return undefined;
}

function parseUint32Token(tok: string): number | undefined {
  if (/^\+?[0-9]+$/.test(tok)) {
    const n = Number(tok);
    return n <= 0xffffffff ? n : undefined;
  }
  if (/^0x[0-9A-Fa-f]{1,8}$/.test(tok)) return Number.parseInt(tok.slice(2), 16);
  return undefined;
}

/** An Integer: decimal, 0x hex, or for masks a list of bit names and hex values OR-ed together. */
export function parseIntegerTokens(
  tokens: readonly string[],
  mask: ValueNames | undefined,
  where: string,
): number {
  if (tokens.length === 0) throw new TextEncodingError(`${where}: empty Integer value`);
  if (mask === undefined && tokens.length > 1) {
    throw new TextEncodingError(`${where}: "${tokens.join(' ')}" is not an Integer`);
  }
  let acc = 0;
  for (const tok of tokens) {
    const named = mask?.byName.get(tok);
    const n = named ?? parseInt32Token(tok);
    if (n === undefined) {
      throw new TextEncodingError(
        mask === undefined
          ? `${where}: "${tok}" is not an Integer`
          : `${where}: "${tok}" is neither a mask bit name nor a number`,
      );
    }
    acc |= n;
  }
  return acc;
}

/** Mask bit names in ascending bit order; bits without a name as one hex value. */
export function formatMask(value: number, mask: ValueNames, separator: string): string {
  let rest = value >>> 0;
  const parts: string[] = [];
  for (let bit = 0; bit < 32 && rest !== 0; bit++) {
    const b = 2 ** bit;
    if (((rest >>> bit) & 1) === 0) continue;
    const name = mask.byValue.get(b) ?? (bit === 31 ? mask.byValue.get(-b) : undefined);
    if (name !== undefined) {
      parts.push(name);
      rest = (rest & ~b) >>> 0;
    }
  }
  if (rest !== 0) parts.push(hex8(rest));
  return parts.length === 0 ? '0' : parts.join(separator);
}

export function parseEnumText(text: string, names: ValueNames | undefined, where: string): number {
  const n = names?.byName.get(text) ?? parseUint32Token(text);
  if (n === undefined) {
    throw new TextEncodingError(
      names === undefined
        ? `${where}: "${clip(text)}" is not a hex Enumeration value (no names known for this tag)`
        : `${where}: "${clip(text)}" is not a known Enumeration name`,
    );
  }
  return n;
}

export function formatEnum(value: number, names: ValueNames | undefined): string {
  return names?.byValue.get(value) ?? hex8(value);
}

export function parseLongIntegerText(text: string, where: string): bigint {
  let n: bigint | undefined;
  if (/^[+-]?[0-9]+$/.test(text)) n = BigInt(text);
  else if (/^0x[0-9A-Fa-f]{1,16}$/.test(text)) n = BigInt.asIntN(64, BigInt(text));
  if (n === undefined || n < INT64_MIN || n > INT64_MAX) {
    throw new TextEncodingError(`${where}: "${clip(text)}" is not a LongInteger`);
  }
  return n;
}

export function parseIntervalText(text: string, where: string): number {
  const n = parseUint32Token(text);
  if (n === undefined) throw new TextEncodingError(`${where}: "${clip(text)}" is not an Interval`);
  return n;
}

export function parseBooleanText(text: string, where: string): boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^0x[0-9A-Fa-f]{1,16}$/.test(text)) {
    const n = BigInt(text);
    if (n === 0n || n === 1n) return n === 1n;
  }
  throw new TextEncodingError(`${where}: "${clip(text)}" is not a Boolean`);
}

export function parseBigIntegerText(text: string, where: string): Uint8Array {
  const digits = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text;
  if (digits === '') throw new TextEncodingError(`${where}: empty BigInteger value`);
  // An odd digit count is read as if a leading 0 were written.
  const bytes = hexToBytes(digits.length % 2 === 1 ? `0${digits}` : digits, where);
  return signExtendBigInteger(bytes);
}

// Civil-date arithmetic (proleptic Gregorian), independent of Date's range.
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [era * 400 + yoe + (m <= 2 ? 1 : 0), m, d];
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(m) ? 30 : 31;
}

const ISO_DATE_TIME =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})?$/;

/**
 * ISO 8601 date-time (xsd:dateTime) or 0x hex of the 64-bit value, to
 * microseconds since the epoch. A missing zone designator means UTC.
 */
function parseIsoMicros(text: string, where: string, typeName: string): bigint {
  const m = ISO_DATE_TIME.exec(text);
  const bad = (): never => {
    throw new TextEncodingError(`${where}: "${clip(text)}" is not a ${typeName}`);
  };
  if (m === null) return bad();
  const [, ys, mos, ds, hs, mis, ss, frac = '', zone = 'Z'] = m;
  const y = Number(ys);
  const mo = Number(mos);
  const d = Number(ds);
  const h = Number(hs);
  const mi = Number(mis);
  const s = Number(ss);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) bad();
  if (/[1-9]/.test(frac.slice(6))) bad();
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(4, 6));
    if (zh > 23 || zm > 59) bad();
    offsetMinutes = (zh * 60 + zm) * (zone.startsWith('-') ? -1 : 1);
  }
  const seconds = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offsetMinutes * 60;
  return BigInt(seconds) * 1_000_000n + BigInt(frac.slice(0, 6).padEnd(6, '0'));
}

export function parseDateTimeText(text: string, where: string): bigint {
  if (/^0x[0-9A-Fa-f]{1,16}$/.test(text)) return BigInt.asIntN(64, BigInt(text));
  const micros = parseIsoMicros(text, where, 'DateTime');
  if (micros % 1_000_000n !== 0n) {
    throw new TextEncodingError(`${where}: a DateTime has whole seconds, got "${text}"`);
  }
  return micros / 1_000_000n;
}

export function parseDateTimeExtendedText(text: string, where: string): bigint {
  if (/^0x[0-9A-Fa-f]{1,16}$/.test(text)) return BigInt.asIntN(64, BigInt(text));
  const micros = parseIsoMicros(text, where, 'DateTimeExtended');
  if (micros < INT64_MIN || micros > INT64_MAX) {
    throw new TextEncodingError(`${where}: "${text}" is out of range`);
  }
  return micros;
}

/** "2008-03-14T11:56:40+00:00" as the vectors write it; hex outside years 0000-9999. */
function formatIso(seconds: bigint, micros: bigint | undefined): string | undefined {
  const days = seconds >= 0n ? seconds / 86400n : -((-seconds + 86399n) / 86400n);
  const sod = Number(seconds - days * 86400n);
  if (days < -800_000n || days > 3_000_000n) return undefined;
  const [y, m, d] = civilFromDays(Number(days));
  if (y < 0 || y > 9999) return undefined;
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const frac = micros === undefined ? '' : `.${String(micros).padStart(6, '0')}`;
  return `${String(y).padStart(4, '0')}-${p2(m)}-${p2(d)}T${p2(Math.floor(sod / 3600))}:${p2(
    Math.floor(sod / 60) % 60,
  )}:${p2(sod % 60)}${frac}+00:00`;
}

export function formatDateTime(seconds: bigint): string {
  return formatIso(seconds, undefined) ?? hex16(seconds);
}

export function formatDateTimeExtended(micros: bigint): string {
  const s = micros >= 0n ? micros / 1_000_000n : -((-micros + 999_999n) / 1_000_000n);
  return formatIso(s, micros - s * 1_000_000n) ?? hex16(micros);
}

/** Builds an item from a placeholder hook's value, checking it fits the type. */
export function itemFromValue(tag: number, type: ItemTypeName, value: unknown, where: string): TtlvItem {
  const bad = (): never => {
    throw new TextEncodingError(`${where}: placeholder value does not fit type ${type}`);
  };
  switch (type) {
    case 'Integer':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff)
        bad();
      return { tag, type, value: value as number };
    case 'Enumeration':
    case 'Interval':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) bad();
      return { tag, type, value: value as number };
    case 'LongInteger':
    case 'DateTime':
    case 'DateTimeExtended':
      if (typeof value !== 'bigint' || value < INT64_MIN || value > INT64_MAX) bad();
      return { tag, type, value: value as bigint };
    case 'BigInteger':
      if (!(value instanceof Uint8Array)) bad();
      return { tag, type, value: signExtendBigInteger(value as Uint8Array) };
    case 'ByteString':
      if (!(value instanceof Uint8Array)) bad();
      return { tag, type, value: value as Uint8Array };
    case 'Boolean':
      if (typeof value !== 'boolean') bad();
      return { tag, type, value: value as boolean };
    case 'TextString':
      if (typeof value !== 'string') bad();
      return { tag, type, value: value as string };
    case 'Structure':
      return bad();
  }
}

/**
 * Parses the text form of a primitive value (XML `value` attribute; JSON
 * strings reuse it with `maskSeparator` "|").
 */
export function parseValueText(
  tag: number,
  type: Exclude<ItemTypeName, 'Structure'>,
  text: string,
  dict: TtlvDictionary,
  attributeName: string | undefined,
  where: string,
  opts: TextDecodeOptions | undefined,
  maskSeparator: RegExp = /\s+/,
): TtlvItem {
  if (text.startsWith('$') && PLACEHOLDER_PATTERN.test(text)) {
    const hook = opts?.placeholder;
    const v = hook?.(text, type, tag);
    if (v === undefined) throw new TextEncodingError(`${where}: unresolved placeholder ${text}`);
    return itemFromValue(tag, type, v, where);
  }
  switch (type) {
    case 'Integer': {
      const mask = dict.maskFor(tag, attributeName);
      const tokens = text
        .split(maskSeparator)
        .map((t) => t.trim())
        .filter((t) => t !== '');
      return { tag, type, value: parseIntegerTokens(tokens, mask, where) };
    }
    case 'LongInteger':
      return { tag, type, value: parseLongIntegerText(text, where) };
    case 'BigInteger':
      return { tag, type, value: parseBigIntegerText(text, where) };
    case 'Enumeration':
      return { tag, type, value: parseEnumText(text, dict.enumFor(tag, attributeName), where) };
    case 'Boolean':
      return { tag, type, value: parseBooleanText(text, where) };
    case 'TextString':
      return { tag, type, value: text };
    case 'ByteString':
      return { tag, type, value: hexToBytes(text, where) };
    case 'DateTime':
      return { tag, type, value: parseDateTimeText(text, where) };
    case 'Interval':
      return { tag, type, value: parseIntervalText(text, where) };
    case 'DateTimeExtended':
      return { tag, type, value: parseDateTimeExtendedText(text, where) };
  }
}

/** The text of the sibling AttributeName, the context of a 1.x AttributeValue. */
export function attributeNameOf(siblings: readonly TtlvItem[]): string | undefined {
  for (const s of siblings) if (s.tag === ATTRIBUTE_NAME_TAG && s.type === 'TextString') return s.value;
  return undefined;
}

// ---------------------------------------------------------------------------
// XML -> TTLV

function elementWhere(el: XmlElement): string {
  return `<${el.name}> at line ${el.line}`;
}

function elementTag(el: XmlElement, dict: TtlvDictionary): number {
  if (el.name === 'TTLV') {
    const t = el.attrs.tag;
    if (t === undefined)
      throw new TextEncodingError(`${elementWhere(el)}: TTLV element without a tag attribute`);
    return parseHexTag(t, elementWhere(el));
  }
  return tagFromName(el.name, dict, elementWhere(el));
}

function convertElement(
  el: XmlElement,
  dict: TtlvDictionary,
  opts: TextDecodeOptions | undefined,
  attributeName: string | undefined,
  depth: number,
): TtlvItem {
  const where = elementWhere(el);
  if (depth > MAX_TEXT_DEPTH) throw new TextEncodingError(`${where}: nested deeper than ${MAX_TEXT_DEPTH}`);
  const tag = elementTag(el, dict);
  for (const a of Object.keys(el.attrs)) {
    if (a !== 'type' && a !== 'value' && !(a === 'tag' && el.name === 'TTLV')) {
      throw new TextEncodingError(`${where}: unexpected attribute ${a}`);
    }
  }
  const typeName = el.attrs.type ?? 'Structure';
  if (!isItemTypeName(typeName)) throw new TextEncodingError(`${where}: unknown item type "${typeName}"`);
  if (typeName === 'Structure') {
    if (el.attrs.value !== undefined)
      throw new TextEncodingError(`${where}: a Structure has no value attribute`);
    if (el.text !== '') throw new TextEncodingError(`${where}: unexpected text "${clip(el.text)}"`);
    const tags = el.children.map((c) => elementTag(c, dict));
    const nameIndex = tags.indexOf(ATTRIBUTE_NAME_TAG);
    const nameEl = nameIndex >= 0 ? el.children[nameIndex] : undefined;
    const context = nameEl?.attrs.type === 'TextString' ? nameEl.attrs.value : undefined;
    const value = el.children.map((c, i) =>
      convertElement(c, dict, opts, tags[i] === ATTRIBUTE_VALUE_TAG ? context : undefined, depth + 1),
    );
    return { tag, type: 'Structure', value };
  }
  if (el.children.length > 0) throw new TextEncodingError(`${where}: a ${typeName} has no child elements`);
  if (el.text !== '') throw new TextEncodingError(`${where}: unexpected text "${clip(el.text)}"`);
  const text = el.attrs.value;
  if (text === undefined) throw new TextEncodingError(`${where}: missing value attribute`);
  return parseValueText(tag, typeName, text, dict, attributeName, where, opts);
}

/** Converts one parsed element (e.g. a <RequestMessage>) to a TTLV item. */
export function xmlElementToTtlv(el: XmlElement, dict: TtlvDictionary, opts?: TextDecodeOptions): TtlvItem {
  return convertElement(el, dict, opts, undefined, 1);
}

/** Parses a KMIP XML document whose root is one TTLV item. */
export function xmlToTtlv(xml: string, dict: TtlvDictionary, opts?: TextDecodeOptions): TtlvItem {
  return xmlElementToTtlv(parseXml(xml), dict, opts);
}

// ---------------------------------------------------------------------------
// TTLV -> XML

export interface XmlEncodeOptions {
  /** one level of indentation, default two spaces */
  indent?: string;
}

export function escapeXmlAttr(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must be escaped here
  return s.replace(/[&<>"\u0000-\u001F\u007F]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        // Control characters (tab, newlines...) as references, or attribute normalisation would eat them.
        return `&#${c.charCodeAt(0)};`;
    }
  });
}

/** The text form of a primitive value as the XML encoding writes it. */
export function formatValueText(
  item: Exclude<TtlvItem, { type: 'Structure' }>,
  dict: TtlvDictionary,
  attributeName: string | undefined,
  maskSeparator = ' ',
): string {
  switch (item.type) {
    case 'Integer': {
      const mask = dict.maskFor(item.tag, attributeName);
      return mask === undefined ? String(item.value) : formatMask(item.value, mask, maskSeparator);
    }
    case 'LongInteger':
      return item.value.toString();
    case 'BigInteger':
      return bytesToHex(item.value);
    case 'Enumeration':
      return formatEnum(item.value, dict.enumFor(item.tag, attributeName));
    case 'Boolean':
      return item.value ? 'true' : 'false';
    case 'TextString':
      return item.value;
    case 'ByteString':
      return bytesToHex(item.value);
    case 'DateTime':
      return formatDateTime(item.value);
    case 'Interval':
      return String(item.value);
    case 'DateTimeExtended':
      return formatDateTimeExtended(item.value);
  }
}

function writeXml(
  item: TtlvItem,
  dict: TtlvDictionary,
  indent: string,
  prefix: string,
  attributeName: string | undefined,
  out: string[],
): void {
  const name = dict.tagName(item.tag);
  const open = name === undefined ? `TTLV tag="${hexTag(item.tag)}"` : name;
  const close = name ?? 'TTLV';
  if (item.type === 'Structure') {
    if (item.value.length === 0) {
      out.push(`${prefix}<${open}/>`);
      return;
    }
    out.push(`${prefix}<${open}>`);
    const context = attributeNameOf(item.value);
    for (const c of item.value) {
      writeXml(c, dict, indent, prefix + indent, c.tag === ATTRIBUTE_VALUE_TAG ? context : undefined, out);
    }
    out.push(`${prefix}</${close}>`);
    return;
  }
  const text = formatValueText(item, dict, attributeName);
  out.push(`${prefix}<${open} type="${item.type}" value="${escapeXmlAttr(text)}"/>`);
}

/** Writes one item as KMIP XML in the layout of the OASIS vectors (no trailing newline). */
export function ttlvToXml(item: TtlvItem, dict: TtlvDictionary, opts?: XmlEncodeOptions): string {
  const out: string[] = [];
  writeXml(item, dict, opts?.indent ?? '  ', '', undefined, out);
  return out.join('\n');
}
