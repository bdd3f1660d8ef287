/**
 * Scalar value text of the KMIP XML and JSON encodings (KMIP Profiles v2.1
 * §5.4.1, §5.5.1): tags, hex, integers, masks, enumerations, booleans.
 */

import type { TtlvDictionary, ValueNames } from './dictionary.js';
import { TextEncodingError } from './errors.js';
import { ItemType, type ItemTypeName } from './types.js';

/** Nesting deeper than this is refused (a KMIP message nests about 10 levels). */
export const MAX_TEXT_DEPTH = 100;

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

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

export function hex16(n: bigint): string {
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

export function clip(s: string): string {
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
