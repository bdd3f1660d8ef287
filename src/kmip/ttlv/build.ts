/**
 * Small helpers to build TTLV items and to read children of a Structure.
 *
 * Constructors do not validate: encodeTtlv does, once, for the whole tree.
 * Readers never throw on shape: a missing child or a child of another type
 * gives undefined, and the caller decides which KMIP error that is.
 */

import { TtlvEncodeError } from './errors.js';
import type { TtlvItem, TtlvOf, TtlvStructure } from './types.js';

export function structure(tag: number, items: readonly TtlvItem[]): TtlvStructure {
  return { tag, type: 'Structure', value: items };
}

export function integer(tag: number, n: number): TtlvOf<'Integer'> {
  return { tag, type: 'Integer', value: n };
}

export function longInteger(tag: number, b: bigint): TtlvOf<'LongInteger'> {
  return { tag, type: 'LongInteger', value: b };
}

/** `bytes`: big-endian two's complement, length a multiple of 8 (KMIP 1.0 §9.1.1.4). */
export function bigInteger(tag: number, bytes: Uint8Array): TtlvOf<'BigInteger'> {
  return { tag, type: 'BigInteger', value: bytes };
}

export function enumeration(tag: number, n: number): TtlvOf<'Enumeration'> {
  return { tag, type: 'Enumeration', value: n };
}

export function boolean(tag: number, b: boolean): TtlvOf<'Boolean'> {
  return { tag, type: 'Boolean', value: b };
}

export function textString(tag: number, s: string): TtlvOf<'TextString'> {
  return { tag, type: 'TextString', value: s };
}

export function byteString(tag: number, bytes: Uint8Array): TtlvOf<'ByteString'> {
  return { tag, type: 'ByteString', value: bytes };
}

/** A Date is truncated to whole seconds (Date-Time has one-second resolution, KMIP 1.0 §9.1.1.4). */
export function dateTime(tag: number, d: Date | bigint): TtlvOf<'DateTime'> {
  if (typeof d === 'bigint') return { tag, type: 'DateTime', value: d };
  const ms = d.getTime();
  if (!Number.isFinite(ms)) throw new TtlvEncodeError('invalid Date for a Date-Time item');
  return { tag, type: 'DateTime', value: BigInt(Math.floor(ms / 1000)) };
}

/** Interval in seconds (unsigned 32-bit). */
export function interval(tag: number, n: number): TtlvOf<'Interval'> {
  return { tag, type: 'Interval', value: n };
}

/** Microseconds since the epoch (KMIP 2.0 §9.1.1.4). */
export function dateTimeExtended(tag: number, micros: bigint): TtlvOf<'DateTimeExtended'> {
  return { tag, type: 'DateTimeExtended', value: micros };
}

/** Seconds since the epoch (a Date-Time value) as a Date. */
export function dateFromSeconds(seconds: bigint): Date {
  return new Date(Number(seconds) * 1000);
}

// ---------------------------------------------------------------------------
// Readers

/** First child of `item` with `tag`; undefined if `item` is not a Structure or has none. */
export function child(item: TtlvItem | undefined, tag: number): TtlvItem | undefined {
  if (item === undefined || item.type !== 'Structure') return undefined;
  for (const c of item.value) if (c.tag === tag) return c;
  return undefined;
}

/** All children of `item` with `tag`, in order; empty if `item` is not a Structure. */
export function children(item: TtlvItem | undefined, tag: number): TtlvItem[] {
  if (item === undefined || item.type !== 'Structure') return [];
  const out: TtlvItem[] = [];
  for (const c of item.value) if (c.tag === tag) out.push(c);
  return out;
}

/** First child with `tag` if it has item type `type`. */
export function childOf<T extends TtlvItem['type']>(
  item: TtlvItem | undefined,
  tag: number,
  type: T,
): TtlvOf<T> | undefined {
  const c = child(item, tag);
  return c !== undefined && c.type === type ? (c as TtlvOf<T>) : undefined;
}

export function childStruct(item: TtlvItem | undefined, tag: number): TtlvStructure | undefined {
  return childOf(item, tag, 'Structure');
}

export function childInteger(item: TtlvItem | undefined, tag: number): number | undefined {
  return childOf(item, tag, 'Integer')?.value;
}

export function childLongInteger(item: TtlvItem | undefined, tag: number): bigint | undefined {
  return childOf(item, tag, 'LongInteger')?.value;
}

export function childBigInteger(item: TtlvItem | undefined, tag: number): Uint8Array | undefined {
  return childOf(item, tag, 'BigInteger')?.value;
}

export function childEnum(item: TtlvItem | undefined, tag: number): number | undefined {
  return childOf(item, tag, 'Enumeration')?.value;
}

export function childBoolean(item: TtlvItem | undefined, tag: number): boolean | undefined {
  return childOf(item, tag, 'Boolean')?.value;
}

export function childText(item: TtlvItem | undefined, tag: number): string | undefined {
  return childOf(item, tag, 'TextString')?.value;
}

export function childBytes(item: TtlvItem | undefined, tag: number): Uint8Array | undefined {
  return childOf(item, tag, 'ByteString')?.value;
}

/** Date-Time value in seconds since the epoch. */
export function childDateTime(item: TtlvItem | undefined, tag: number): bigint | undefined {
  return childOf(item, tag, 'DateTime')?.value;
}

export function childInterval(item: TtlvItem | undefined, tag: number): number | undefined {
  return childOf(item, tag, 'Interval')?.value;
}

/** Date-Time Extended value in microseconds since the epoch. */
export function childDateTimeExtended(item: TtlvItem | undefined, tag: number): bigint | undefined {
  return childOf(item, tag, 'DateTimeExtended')?.value;
}
