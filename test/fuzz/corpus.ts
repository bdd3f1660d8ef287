/**
 * The fuzzing corpus: binary request messages built from the OASIS KMIP test
 * vectors in ../shared/kmip-vectors (XML -> TTLV -> binary), and fast-check
 * mutators over them (bit flips, truncations, length corruption, tag swaps,
 * type changes, splices). Placeholders ("$NOW", "$UNIQUE_IDENTIFIER_0") get
 * fixed stand-ins: the fuzzer needs well-formed bytes, not coherent sessions.
 */

import fc from 'fast-check';
import { specDictionary } from '../../src/kmip/spec/dictionary.js';
import { encodeTtlv } from '../../src/kmip/ttlv/binary.js';
import type { ItemTypeName, TtlvItem } from '../../src/kmip/ttlv/types.js';
import { listVectorFiles, readVectorFile } from '../../src/kmip/ttlv/vectors.js';
import { xmlElementToTtlv } from '../../src/kmip/ttlv/xml.js';
import { VECTORS_ROOT } from '../helpers/vectors.js';

function standIn(_name: string, type: ItemTypeName): TtlvItem['value'] | undefined {
  switch (type) {
    case 'Integer':
    case 'Enumeration':
    case 'Interval':
      return 1;
    case 'LongInteger':
    case 'DateTime':
    case 'DateTimeExtended':
      return 1_700_000_000n;
    case 'TextString':
      return '00000000-0000-0000-0000-000000000000';
    case 'ByteString':
      return new Uint8Array(16);
    case 'BigInteger':
      return new Uint8Array(8).fill(1);
    case 'Boolean':
      return true;
    default:
      return undefined;
  }
}

/**
 * Request messages of every `stride`-th vector file (sorted, so the corpus is
 * the same on every run), at most `max`, each at most `maxBytes` long.
 */
export function loadRequestCorpus(opts: { stride?: number; max?: number; maxBytes?: number } = {}): Buffer[] {
  const stride = opts.stride ?? 7;
  const max = opts.max ?? 400;
  const maxBytes = opts.maxBytes ?? 16 * 1024;
  const files = listVectorFiles(VECTORS_ROOT)
    .filter((f) => f.endsWith('.xml'))
    .sort();
  const out: Buffer[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < files.length && out.length < max; i += stride) {
    const file = files[i];
    if (file === undefined) continue;
    let steps: ReturnType<typeof readVectorFile>['steps'];
    try {
      steps = readVectorFile(file).steps;
    } catch {
      continue; // the malformed files test/kmip/ttlv/vectors.test.ts lists
    }
    for (const step of steps) {
      try {
        const bytes = encodeTtlv(xmlElementToTtlv(step.request, specDictionary, { placeholder: standIn }));
        const key = bytes.toString('base64');
        if (bytes.length <= maxBytes && !seen.has(key)) {
          seen.add(key);
          out.push(bytes);
        }
      } catch {
        // KMIP 3.0 draft tags and the like: not request messages this server reads
      }
      if (out.length >= max) break;
    }
  }
  return out;
}

/** Offsets of every item header in a well-formed TTLV buffer (depth-first). */
export function itemOffsets(buf: Buffer): number[] {
  const offsets: number[] = [];
  const walk = (start: number, end: number, depth: number) => {
    let off = start;
    while (off + 8 <= end && depth < 64) {
      offsets.push(off);
      const type = buf.readUInt8(off + 3);
      const len = buf.readUInt32BE(off + 4);
      const padded = type === 0x01 ? len : Math.ceil(len / 8) * 8;
      if (type === 0x01) walk(off + 8, Math.min(end, off + 8 + len), depth + 1);
      off += 8 + padded;
    }
  };
  walk(0, buf.length, 0);
  return offsets;
}

export type Mutation =
  | { kind: 'bitflip'; at: number; bit: number }
  | { kind: 'truncate'; to: number }
  | { kind: 'length'; item: number; value: number }
  | { kind: 'tagswap'; a: number; b: number }
  | { kind: 'type'; item: number; value: number }
  | { kind: 'splice'; other: number; cutA: number; cutB: number }
  | { kind: 'duplicate'; item: number };

/** Interesting length values: off by one or eight, zero, huge, sign bit. */
const lengthValue = fc.oneof(
  fc.constantFrom(0, 1, 7, 8, 9, 0x7fffffff, 0x80000000, 0xfffffff8, 0xffffffff),
  fc.integer({ min: 0, max: 0xffffffff }),
);

export function mutationArb(corpusSize: number): fc.Arbitrary<{ base: number; mutations: Mutation[] }> {
  const frac = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ kind: fc.constant('bitflip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('truncate' as const), to: fc.nat() }),
    fc.record({ kind: fc.constant('length' as const), item: fc.nat(), value: lengthValue }),
    fc.record({ kind: fc.constant('tagswap' as const), a: fc.nat(), b: fc.nat() }),
    fc.record({
      kind: fc.constant('type' as const),
      item: fc.nat(),
      value: fc.integer({ min: 0, max: 0x0f }),
    }),
    fc.record({
      kind: fc.constant('splice' as const),
      other: fc.nat({ max: Math.max(0, corpusSize - 1) }),
      cutA: frac,
      cutB: frac,
    }),
    fc.record({ kind: fc.constant('duplicate' as const), item: fc.nat() }),
  );
  return fc.record({
    base: fc.nat({ max: Math.max(0, corpusSize - 1) }),
    mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
  });
}

/** Applies the mutations in order; never throws. */
export function mutate(corpus: readonly Buffer[], base: number, mutations: readonly Mutation[]): Buffer {
  let buf = Buffer.from(corpus[base] ?? Buffer.alloc(0));
  for (const m of mutations) {
    const items = itemOffsets(buf);
    const pick = (n: number) => items[n % Math.max(1, items.length)];
    switch (m.kind) {
      case 'bitflip':
        if (buf.length > 0) {
          const at = m.at % buf.length;
          buf[at] = (buf[at] ?? 0) ^ (1 << m.bit);
        }
        break;
      case 'truncate':
        buf = buf.subarray(0, m.to % (buf.length + 1));
        break;
      case 'length': {
        const at = pick(m.item);
        if (at !== undefined && at + 8 <= buf.length) buf.writeUInt32BE(m.value >>> 0, at + 4);
        break;
      }
      case 'tagswap': {
        const a = pick(m.a);
        const b = pick(m.b);
        if (a !== undefined && b !== undefined && a + 3 <= buf.length && b + 3 <= buf.length) {
          const ta = buf.readUIntBE(a, 3);
          buf.writeUIntBE(buf.readUIntBE(b, 3), a, 3);
          buf.writeUIntBE(ta, b, 3);
        }
        break;
      }
      case 'type': {
        const at = pick(m.item);
        if (at !== undefined && at + 4 <= buf.length) buf.writeUInt8(m.value, at + 3);
        break;
      }
      case 'splice': {
        const other = corpus[m.other] ?? Buffer.alloc(0);
        buf = Buffer.concat([
          buf.subarray(0, Math.floor(m.cutA * buf.length)),
          other.subarray(Math.floor(m.cutB * other.length)),
        ]);
        break;
      }
      case 'duplicate': {
        const at = pick(m.item);
        if (at !== undefined && at + 8 <= buf.length) {
          const type = buf.readUInt8(at + 3);
          const len = buf.readUInt32BE(at + 4);
          const size = 8 + (type === 0x01 ? len : Math.ceil(len / 8) * 8);
          const end = Math.min(buf.length, at + size);
          buf = Buffer.concat([buf.subarray(0, end), buf.subarray(at, end), buf.subarray(end)]);
        }
        break;
      }
    }
  }
  return buf;
}

/** Rewrites the outer header's length to the body actually present, so the frame reaches the decoder. */
export function reframe(buf: Buffer): Buffer {
  if (buf.length < 8) return buf;
  const out = Buffer.from(buf);
  out.writeUInt32BE(out.length - 8, 4);
  return out;
}
