/**
 * Binary TTLV codec (KMIP 1.0 §9.1, unchanged through 2.1 §9.1 apart from
 * the Date-Time Extended type added in 2.0).
 *
 * Pure functions over one complete buffer: explicit offsets, no streams, no
 * KMIP semantics. Framing (reading a header off a socket and deciding whether
 * to buffer the body) uses readTtlvHeader / checkTtlvHeader / encodedLength.
 *
 * Decoded ByteString and BigInteger values are copies, not views into the
 * input: the connection layer reuses its receive buffers, and a view would
 * also pin the whole message (possibly holding other secrets) in memory for
 * as long as one small value lives.
 */

import { isKmipServerError, TtlvDecodeError, TtlvEncodeError } from './errors.js';
import type { TtlvItem } from './types.js';

export const TTLV_HEADER_LENGTH = 8;

/**
 * Default cap on Structure nesting. KMIP messages nest about 8 deep (Request
 * Message / Batch Item / Payload / Template-Attribute / Attribute / Name...).
 * The cap bounds recursion (no stack overflow on hostile input) and the
 * number of live Structure arrays a small message can make us allocate.
 */
export const DEFAULT_MAX_DEPTH = 64;

export interface TtlvHeader {
  tag: number;
  type: number;
  length: number;
}

export interface DecodeOptions {
  /** Maximum number of nested Structure levels (the outermost Structure is level 1). Default 64. */
  maxDepth?: number;
}

const STRUCTURE = 0x01;
const INTEGER = 0x02;
const LONG_INTEGER = 0x03;
const BIG_INTEGER = 0x04;
const ENUMERATION = 0x05;
const BOOLEAN = 0x06;
const TEXT_STRING = 0x07;
const BYTE_STRING = 0x08;
const DATE_TIME = 0x09;
const INTERVAL = 0x0a;
const DATE_TIME_EXTENDED = 0x0b;

// KMIP 1.0 §9.1.1.1: the first byte of every tag is 0x42 (defined by the
// specification) or 0x54 (extensions).
const TAG_PREFIX_KMIP = 0x42;
const TAG_PREFIX_EXTENSION = 0x54;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

// ignoreBOM: keep a leading U+FEFF as data; stripping it would break decode -> encode byte equality.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function hexTag(tag: number): string {
  return `0x${tag.toString(16).padStart(6, '0')}`;
}

function isValidTag(tag: number): boolean {
  const prefix = tag >>> 16;
  return prefix === TAG_PREFIX_KMIP || prefix === TAG_PREFIX_EXTENSION;
}

/** Bytes of padding after a value of `length` bytes (KMIP 1.0 §9.1.1.3: values end on 8-byte boundaries). */
function paddingOf(length: number): number {
  // `length & 7` only looks at the low 3 bits, so it is exact for any uint32.
  return (8 - (length & 7)) & 7;
}

/**
 * Reads the 8-byte header at `offset` without validating it (see checkTtlvHeader).
 * Throws TtlvDecodeError if fewer than 8 bytes are available.
 */
export function readTtlvHeader(buf: Uint8Array, offset = 0): TtlvHeader {
  if (!(buf instanceof Uint8Array)) throw new TtlvDecodeError('input is not a byte array', offset);
  if (!Number.isInteger(offset) || offset < 0) throw new TtlvDecodeError('invalid header offset', 0);
  if (buf.byteLength - offset < TTLV_HEADER_LENGTH) {
    throw new TtlvDecodeError(
      `truncated header: ${Math.max(0, buf.byteLength - offset)} of ${TTLV_HEADER_LENGTH} bytes`,
      offset,
    );
  }
  const dv = new DataView(buf.buffer, buf.byteOffset + offset, TTLV_HEADER_LENGTH);
  return { tag: dv.getUint32(0) >>> 8, type: dv.getUint8(3), length: dv.getUint32(4) };
}

const FIXED_LENGTH: ReadonlyMap<number, number> = new Map([
  [INTEGER, 4],
  [LONG_INTEGER, 8],
  [ENUMERATION, 4],
  [BOOLEAN, 8],
  [DATE_TIME, 8],
  [INTERVAL, 4],
  [DATE_TIME_EXTENDED, 8],
]);

/**
 * Validates what a header alone can tell: tag prefix, known type, the fixed
 * length of fixed-size types, Big Integer length a positive multiple of 8.
 * Lets the connection layer reject a bad frame before buffering its body.
 * `offset` is only used in the error.
 */
export function checkTtlvHeader(header: TtlvHeader, offset = 0): void {
  const { tag, type, length } = header;
  if (!isValidTag(tag)) throw new TtlvDecodeError(`invalid tag ${hexTag(tag)}`, offset);
  if (type < STRUCTURE || type > DATE_TIME_EXTENDED) {
    throw new TtlvDecodeError(`unknown item type 0x${type.toString(16)} for tag ${hexTag(tag)}`, offset);
  }
  const fixed = FIXED_LENGTH.get(type);
  if (fixed !== undefined && length !== fixed) {
    throw new TtlvDecodeError(
      `item ${hexTag(tag)} of type ${type} has length ${length}, expected ${fixed}`,
      offset,
    );
  }
  if (type === BIG_INTEGER && (length === 0 || length % 8 !== 0)) {
    throw new TtlvDecodeError(
      `Big Integer ${hexTag(tag)} length ${length} is not a positive multiple of 8`,
      offset,
    );
  }
}

/** Total bytes of the item on the wire: header + value + padding (Structures carry no padding of their own). */
export function encodedLength(header: TtlvHeader): number {
  if (header.type === STRUCTURE) return TTLV_HEADER_LENGTH + header.length;
  return TTLV_HEADER_LENGTH + header.length + paddingOf(header.length);
}

// ---------------------------------------------------------------------------
// Decoding

/** Span of the item at `p` (header + value + padding), checked to fit before `end`. */
function spanAt(dv: DataView, p: number, end: number): number {
  if (end - p < TTLV_HEADER_LENGTH) {
    throw new TtlvDecodeError(`truncated header: ${end - p} of ${TTLV_HEADER_LENGTH} bytes`, p);
  }
  const length = dv.getUint32(p + 4);
  const span =
    dv.getUint8(p + 3) === STRUCTURE
      ? TTLV_HEADER_LENGTH + length
      : TTLV_HEADER_LENGTH + length + paddingOf(length);
  if (span > end - p) {
    throw new TtlvDecodeError(`item length ${length} overruns its container (${end - p - 8} bytes left)`, p);
  }
  return span;
}

function fixedLength(tag: number, length: number, expected: number, p: number, name: string): void {
  if (length !== expected) {
    throw new TtlvDecodeError(`${name} ${hexTag(tag)} has length ${length}, expected ${expected}`, p);
  }
}

function zeroPadding(b: Uint8Array, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    if (b[i] !== 0) throw new TtlvDecodeError('nonzero padding byte', i);
  }
}

let lastOffset = 0;

function decodeAt(
  b: Uint8Array,
  dv: DataView,
  p: number,
  span: number,
  depth: number,
  maxDepth: number,
): TtlvItem {
  lastOffset = p;
  const tag = dv.getUint32(p) >>> 8;
  const prefix = tag >>> 16;
  if (prefix !== TAG_PREFIX_KMIP && prefix !== TAG_PREFIX_EXTENSION) {
    throw new TtlvDecodeError(`invalid tag ${hexTag(tag)}`, p);
  }
  const type = dv.getUint8(p + 3);
  const length = dv.getUint32(p + 4);
  const v = p + TTLV_HEADER_LENGTH;
  switch (type) {
    case STRUCTURE: {
      if (depth > maxDepth) throw new TtlvDecodeError(`structure nesting deeper than ${maxDepth}`, p);
      const end = p + span;
      const value: TtlvItem[] = [];
      let q = v;
      while (q < end) {
        const s = spanAt(dv, q, end);
        value.push(decodeAt(b, dv, q, s, depth + 1, maxDepth));
        q += s;
      }
      return { tag, type: 'Structure', value };
    }
    case INTEGER:
      fixedLength(tag, length, 4, p, 'Integer');
      if (dv.getUint32(v + 4) !== 0) zeroPadding(b, v + 4, v + 8);
      return { tag, type: 'Integer', value: dv.getInt32(v) };
    case ENUMERATION:
      fixedLength(tag, length, 4, p, 'Enumeration');
      if (dv.getUint32(v + 4) !== 0) zeroPadding(b, v + 4, v + 8);
      return { tag, type: 'Enumeration', value: dv.getUint32(v) };
    case INTERVAL:
      fixedLength(tag, length, 4, p, 'Interval');
      if (dv.getUint32(v + 4) !== 0) zeroPadding(b, v + 4, v + 8);
      return { tag, type: 'Interval', value: dv.getUint32(v) };
    case LONG_INTEGER:
      fixedLength(tag, length, 8, p, 'Long Integer');
      return { tag, type: 'LongInteger', value: dv.getBigInt64(v) };
    case DATE_TIME:
      fixedLength(tag, length, 8, p, 'Date-Time');
      return { tag, type: 'DateTime', value: dv.getBigInt64(v) };
    case DATE_TIME_EXTENDED:
      fixedLength(tag, length, 8, p, 'Date-Time Extended');
      return { tag, type: 'DateTimeExtended', value: dv.getBigInt64(v) };
    case BOOLEAN: {
      fixedLength(tag, length, 8, p, 'Boolean');
      // KMIP 1.0 §9.1.1.4: a Boolean is 8 bytes holding 0 or 1.
      const lo = dv.getUint32(v + 4);
      if (dv.getUint32(v) !== 0 || lo > 1)
        throw new TtlvDecodeError(`Boolean ${hexTag(tag)} is not 0 or 1`, v);
      return { tag, type: 'Boolean', value: lo === 1 };
    }
    case BIG_INTEGER:
      if (length === 0 || length % 8 !== 0) {
        throw new TtlvDecodeError(
          `Big Integer ${hexTag(tag)} length ${length} is not a positive multiple of 8`,
          p,
        );
      }
      return { tag, type: 'BigInteger', value: Buffer.from(b.subarray(v, v + length)) };
    case TEXT_STRING: {
      zeroPadding(b, v + length, p + span);
      let value: string;
      try {
        value = utf8.decode(b.subarray(v, v + length));
      } catch {
        throw new TtlvDecodeError(`Text String ${hexTag(tag)} is not valid UTF-8`, v);
      }
      return { tag, type: 'TextString', value };
    }
    case BYTE_STRING:
      zeroPadding(b, v + length, p + span);
      return { tag, type: 'ByteString', value: Buffer.from(b.subarray(v, v + length)) };
    default:
      throw new TtlvDecodeError(`unknown item type 0x${type.toString(16)} for tag ${hexTag(tag)}`, p + 3);
  }
}

/**
 * Decodes exactly one TTLV item filling `buf` (trailing bytes are an error).
 * Every failure is a TtlvDecodeError carrying the offset of the problem.
 */
export function decodeTtlv(buf: Uint8Array, opts?: DecodeOptions): TtlvItem {
  if (!(buf instanceof Uint8Array)) throw new TtlvDecodeError('input is not a byte array', 0);
  const maxDepth = opts?.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 0) throw new TtlvDecodeError('invalid maxDepth option', 0);
  const size = buf.byteLength;
  try {
    const dv = new DataView(buf.buffer, buf.byteOffset, size);
    if (size < TTLV_HEADER_LENGTH) {
      throw new TtlvDecodeError(`truncated header: ${size} of ${TTLV_HEADER_LENGTH} bytes`, 0);
    }
    const length = dv.getUint32(4);
    const span = encodedLength({ tag: 0, type: dv.getUint8(3), length });
    if (span > size) {
      throw new TtlvDecodeError(`truncated: item needs ${span} bytes, ${size} present`, 0);
    }
    if (span < size) throw new TtlvDecodeError(`${size - span} trailing bytes after the item`, span);
    return decodeAt(buf, dv, 0, span, 1, maxDepth);
  } catch (e) {
    if (isKmipServerError(e) && e.code === 'ERR_TTLV_DECODE') throw e;
    // Not reachable by design (every bound is checked first); kept so that no
    // other error type can escape to the connection layer.
    throw new TtlvDecodeError(`unexpected decoder failure (${(e as Error)?.name ?? typeof e})`, lastOffset);
  }
}

// ---------------------------------------------------------------------------
// Encoding

function encodeError(item: TtlvItem, why: string): TtlvEncodeError {
  const tag = typeof item.tag === 'number' ? hexTag(item.tag) : String(item.tag);
  return new TtlvEncodeError(`cannot encode ${String(item.type)} ${tag}: ${why}`);
}

function checkUint32(item: TtlvItem, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw encodeError(item, 'value is not an unsigned 32-bit integer');
  }
}

function checkInt64(item: TtlvItem, v: unknown): void {
  if (typeof v !== 'bigint' || v < INT64_MIN || v > INT64_MAX) {
    throw encodeError(item, 'value is not a signed 64-bit bigint');
  }
}

function isWellFormed(s: string): boolean {
  // String.prototype.isWellFormed exists from Node 20; lib ES2022 does not type it.
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** Validates the item tree and returns its encoded size. */
function sizeOf(item: TtlvItem, depth: number): number {
  if (typeof item !== 'object' || item === null) throw new TtlvEncodeError('item is not an object');
  const tag = item.tag;
  if (typeof tag !== 'number' || !Number.isInteger(tag) || !isValidTag(tag)) {
    throw encodeError(item, 'tag must be 0x42xxxx or 0x54xxxx');
  }
  const value: unknown = item.value;
  switch (item.type) {
    case 'Structure': {
      if (!Array.isArray(value)) throw encodeError(item, 'value is not an array');
      if (depth > 10_000) throw encodeError(item, 'structure nesting too deep (cycle?)');
      let n = TTLV_HEADER_LENGTH;
      for (const c of value as readonly TtlvItem[]) n += sizeOf(c, depth + 1);
      return n;
    }
    case 'Integer':
      if (
        typeof value !== 'number' ||
        !Number.isInteger(value) ||
        value < -0x80000000 ||
        value > 0x7fffffff
      ) {
        throw encodeError(item, 'value is not a signed 32-bit integer');
      }
      return 16;
    case 'Enumeration':
    case 'Interval':
      checkUint32(item, value);
      return 16;
    case 'LongInteger':
    case 'DateTime':
    case 'DateTimeExtended':
      checkInt64(item, value);
      return 16;
    case 'Boolean':
      if (typeof value !== 'boolean') throw encodeError(item, 'value is not a boolean');
      return 16;
    case 'BigInteger':
      if (!(value instanceof Uint8Array)) throw encodeError(item, 'value is not a Uint8Array');
      if (value.byteLength === 0 || value.byteLength % 8 !== 0) {
        throw encodeError(item, 'length is not a positive multiple of 8 (sign-extend it)');
      }
      return TTLV_HEADER_LENGTH + value.byteLength;
    case 'TextString': {
      if (typeof value !== 'string') throw encodeError(item, 'value is not a string');
      if (!isWellFormed(value)) throw encodeError(item, 'value contains a lone surrogate');
      const n = Buffer.byteLength(value, 'utf8');
      return TTLV_HEADER_LENGTH + n + paddingOf(n);
    }
    case 'ByteString':
      if (!(value instanceof Uint8Array)) throw encodeError(item, 'value is not a Uint8Array');
      return TTLV_HEADER_LENGTH + value.byteLength + paddingOf(value.byteLength);
    default:
      throw encodeError(item, 'unknown item type');
  }
}

/**
 * Bytes `item` takes on the wire, padding included, without encoding it or
 * validating it: one walk over the tree, no allocation (a Text String is
 * measured by Buffer.byteLength). For an item encodeTtlv accepts it is exactly
 * encodeTtlv(item).length; for one it refuses it is merely an estimate. The
 * batch executor keeps responses within their size budget with it.
 */
export function ttlvSize(item: TtlvItem): number {
  switch (item.type) {
    case 'Structure': {
      let n = TTLV_HEADER_LENGTH;
      for (const c of item.value) n += ttlvSize(c);
      return n;
    }
    case 'TextString': {
      const n = Buffer.byteLength(item.value, 'utf8');
      return TTLV_HEADER_LENGTH + n + paddingOf(n);
    }
    case 'ByteString':
    case 'BigInteger': {
      const n = item.value.byteLength;
      return TTLV_HEADER_LENGTH + n + paddingOf(n);
    }
    default:
      return 16;
  }
}

/** Zeroes the padding after a value ending at `end`; returns the padded end. */
function zeroPad(dv: DataView, end: number): number {
  const padded = end + paddingOf(end);
  for (let i = end; i < padded; i++) dv.setUint8(i, 0);
  return padded;
}

function writeHeader(dv: DataView, p: number, tag: number, type: number, length: number): void {
  dv.setUint32(p, tag * 256 + type);
  dv.setUint32(p + 4, length);
}

/**
 * Writes a validated item at `p`; returns the offset after it. The output
 * comes from Buffer's shared pool and is not zeroed: every byte, padding
 * included, is written here, so no stale memory reaches the wire.
 */
function writeAt(out: Buffer, dv: DataView, p: number, item: TtlvItem): number {
  const v = p + TTLV_HEADER_LENGTH;
  switch (item.type) {
    case 'Structure': {
      let q = v;
      for (const c of item.value) q = writeAt(out, dv, q, c);
      writeHeader(dv, p, item.tag, STRUCTURE, q - v);
      return q;
    }
    case 'Integer':
      writeHeader(dv, p, item.tag, INTEGER, 4);
      dv.setInt32(v, item.value);
      dv.setUint32(v + 4, 0);
      return v + 8;
    case 'Enumeration':
      writeHeader(dv, p, item.tag, ENUMERATION, 4);
      dv.setUint32(v, item.value);
      dv.setUint32(v + 4, 0);
      return v + 8;
    case 'Interval':
      writeHeader(dv, p, item.tag, INTERVAL, 4);
      dv.setUint32(v, item.value);
      dv.setUint32(v + 4, 0);
      return v + 8;
    case 'LongInteger':
      writeHeader(dv, p, item.tag, LONG_INTEGER, 8);
      dv.setBigInt64(v, item.value);
      return v + 8;
    case 'DateTime':
      writeHeader(dv, p, item.tag, DATE_TIME, 8);
      dv.setBigInt64(v, item.value);
      return v + 8;
    case 'DateTimeExtended':
      writeHeader(dv, p, item.tag, DATE_TIME_EXTENDED, 8);
      dv.setBigInt64(v, item.value);
      return v + 8;
    case 'Boolean':
      writeHeader(dv, p, item.tag, BOOLEAN, 8);
      dv.setUint32(v, 0);
      dv.setUint32(v + 4, item.value ? 1 : 0);
      return v + 8;
    case 'BigInteger':
      writeHeader(dv, p, item.tag, BIG_INTEGER, item.value.byteLength);
      out.set(item.value, v);
      return v + item.value.byteLength;
    case 'TextString': {
      const n = out.write(item.value, v, 'utf8');
      writeHeader(dv, p, item.tag, TEXT_STRING, n);
      return zeroPad(dv, v + n);
    }
    case 'ByteString': {
      const n = item.value.byteLength;
      writeHeader(dv, p, item.tag, BYTE_STRING, n);
      out.set(item.value, v);
      return zeroPad(dv, v + n);
    }
  }
}

/**
 * Encodes one item. Validates the whole tree first (tags, value ranges per
 * KMIP 1.0 §9.1.1.4), then allocates once and writes with explicit offsets.
 * Throws TtlvEncodeError for anything that cannot be encoded.
 */
export function encodeTtlv(item: TtlvItem): Buffer {
  let size: number;
  try {
    size = sizeOf(item, 1);
  } catch (e) {
    if (isKmipServerError(e)) throw e;
    throw new TtlvEncodeError(`cannot encode item (${(e as Error)?.name ?? typeof e})`);
  }
  if (size - TTLV_HEADER_LENGTH > 0xffffffff) throw new TtlvEncodeError(`item too large (${size} bytes)`);
  // allocUnsafe takes small buffers from Node's pool (Buffer.alloc costs a
  // fresh zeroed ArrayBuffer, ~10x slower here); writeAt writes every byte.
  const out = Buffer.allocUnsafe(size);
  const end = writeAt(out, new DataView(out.buffer, out.byteOffset, size), 0, item);
  if (end !== size) throw new TtlvEncodeError(`internal size mismatch (${end} != ${size})`);
  return out;
}
