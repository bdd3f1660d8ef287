import { expect } from 'chai';
import fc from 'fast-check';
import {
  checkTtlvHeader,
  decodeTtlv,
  encodedLength,
  encodeTtlv,
  readTtlvHeader,
} from '../../../src/kmip/ttlv/binary.js';
import { TtlvDecodeError } from '../../../src/kmip/ttlv/errors.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';

const tag = fc.oneof(
  fc.integer({ min: 0x420000, max: 0x42ffff }),
  fc.integer({ min: 0x540000, max: 0x54ffff }),
);
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const uint32 = fc.integer({ min: 0, max: 0xffffffff });
const text = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constant('\ufeffBOM kept'),
);

const leaf: fc.Arbitrary<TtlvItem> = fc.oneof(
  fc.record({
    tag,
    type: fc.constant('Integer' as const),
    value: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  }),
  fc.record({ tag, type: fc.constant('LongInteger' as const), value: int64 }),
  fc.record({
    tag,
    type: fc.constant('BigInteger' as const),
    value: fc.integer({ min: 1, max: 4 }).chain((k) => fc.uint8Array({ minLength: 8 * k, maxLength: 8 * k })),
  }),
  fc.record({ tag, type: fc.constant('Enumeration' as const), value: uint32 }),
  fc.record({ tag, type: fc.constant('Boolean' as const), value: fc.boolean() }),
  fc.record({ tag, type: fc.constant('TextString' as const), value: text }),
  fc.record({ tag, type: fc.constant('ByteString' as const), value: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ tag, type: fc.constant('DateTime' as const), value: int64 }),
  fc.record({ tag, type: fc.constant('Interval' as const), value: uint32 }),
  fc.record({ tag, type: fc.constant('DateTimeExtended' as const), value: int64 }),
);

const { item } = fc.letrec<{ item: TtlvItem; struct: TtlvItem }>((tie) => ({
  item: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('struct')),
  struct: fc.record({
    tag,
    type: fc.constant('Structure' as const),
    value: fc.array(tie('item'), { maxLength: 6 }),
  }),
}));

const encoded = item.map((i) => encodeTtlv(i));

describe('ttlv/binary properties', () => {
  it('encode -> decode gives the item back', () => {
    fc.assert(
      fc.property(item, (i) => {
        expect(decodeTtlv(encodeTtlv(i), { maxDepth: 1000 })).to.deep.equal(i);
      }),
      { numRuns: 500 },
    );
  });

  it('decode -> encode gives the same bytes', () => {
    fc.assert(
      fc.property(encoded, (b) => {
        expect(encodeTtlv(decodeTtlv(b, { maxDepth: 1000 })).equals(b)).to.equal(true);
      }),
      { numRuns: 500 },
    );
  });

  it('mutated encodings either decode canonically or throw TtlvDecodeError', () => {
    const mutation = fc.record({
      edits: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), {
        minLength: 1,
        maxLength: 4,
      }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      extra: fc.uint8Array({ maxLength: 9 }),
    });
    fc.assert(
      fc.property(encoded, mutation, (b, m) => {
        let buf = Buffer.from(b);
        for (const e of m.edits) buf[e.at % buf.length] = e.byte;
        if (m.cut !== undefined) buf = buf.subarray(0, m.cut % (buf.length + 1));
        buf = Buffer.concat([buf, m.extra]);
        let decoded: TtlvItem;
        try {
          decoded = decodeTtlv(buf);
        } catch (e) {
          expect(e).to.be.instanceOf(TtlvDecodeError);
          expect((e as TtlvDecodeError).offset).to.be.within(0, buf.length);
          return;
        }
        // Strict decoding accepts only the canonical encoding.
        expect(encodeTtlv(decoded).equals(buf)).to.equal(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('random bytes either decode or throw TtlvDecodeError', () => {
    const arb = fc.uint8Array({ minLength: 0, maxLength: 64 }).map((u) => {
      // bias towards plausible headers so the decoder gets past the tag check
      if (u.length >= 4) {
        u[0] = u[0] !== undefined && u[0] & 1 ? 0x42 : 0x54;
        u[3] = (u[3] ?? 0) % 13;
      }
      return u;
    });
    fc.assert(
      fc.property(arb, (u) => {
        try {
          decodeTtlv(u);
        } catch (e) {
          expect(e).to.be.instanceOf(TtlvDecodeError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('readTtlvHeader + encodedLength split a concatenation back into its items', () => {
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 5 }), (items) => {
        const parts = items.map((i) => encodeTtlv(i));
        const all = Buffer.concat(parts);
        let off = 0;
        const back: TtlvItem[] = [];
        while (off < all.length) {
          const h = readTtlvHeader(all, off);
          checkTtlvHeader(h, off);
          const n = encodedLength(h);
          back.push(decodeTtlv(all.subarray(off, off + n), { maxDepth: 1000 }));
          off += n;
        }
        expect(off).to.equal(all.length);
        expect(back).to.deep.equal(items);
      }),
      { numRuns: 300 },
    );
  });

  it('the header of any prefix of at least 8 bytes is the header of the whole', () => {
    fc.assert(
      fc.property(encoded, fc.nat(), (b, k) => {
        const n = 8 + (k % (b.length - 7));
        const h = readTtlvHeader(b.subarray(0, n));
        expect(h).to.deep.equal(readTtlvHeader(b));
        expect(encodedLength(h)).to.equal(b.length);
        if (n < b.length) expect(() => decodeTtlv(b.subarray(0, n))).to.throw(TtlvDecodeError);
      }),
      { numRuns: 300 },
    );
  });
});
