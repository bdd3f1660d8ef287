import { expect } from 'chai';
import { decodeTtlv, encodeTtlv } from '../../../src/kmip/ttlv/binary.js';
import {
  boolean,
  byteString,
  dateTime,
  enumeration,
  integer,
  longInteger,
  structure,
  textString,
} from '../../../src/kmip/ttlv/build.js';
import { TtlvDecodeError } from '../../../src/kmip/ttlv/errors.js';

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/[\s|]/g, ''), 'hex');
}

function decodeError(buf: Uint8Array, opts?: { maxDepth?: number }): TtlvDecodeError {
  try {
    decodeTtlv(buf, opts);
  } catch (e) {
    expect(e).to.be.instanceOf(TtlvDecodeError);
    return e as TtlvDecodeError;
  }
  throw new Error('decode unexpectedly succeeded');
}

/** A representative request: nested structures, every variable-length type. */
const sample = encodeTtlv(
  structure(0x420078, [
    structure(0x420077, [
      structure(0x420069, [integer(0x42006a, 1), integer(0x42006b, 4)]),
      dateTime(0x420092, 1700000000n),
      integer(0x42000d, 1),
    ]),
    structure(0x42000f, [
      enumeration(0x42005c, 10),
      byteString(0x420093, Uint8Array.of(1, 2, 3)),
      structure(0x420079, [
        textString(0x420094, 'abc-123'),
        longInteger(0x540001, -5n),
        boolean(0x540002, true),
      ]),
    ]),
  ]),
);

describe('ttlv/binary adversarial input', () => {
  it('sample decodes', () => {
    expect(() => decodeTtlv(sample)).not.to.throw();
  });

  it('rejects the sample truncated at every offset', () => {
    for (let n = 0; n < sample.length; n++) {
      const err = decodeError(sample.subarray(0, n));
      expect(err.offset, `cut at ${n}`).to.be.a('number');
    }
  });

  it('rejects trailing garbage', () => {
    const err = decodeError(Buffer.concat([sample, Buffer.alloc(8)]));
    expect(err.offset).to.equal(sample.length);
    decodeError(Buffer.concat([sample, Buffer.from([0])]));
    // two complete messages in one buffer are also "trailing bytes"
    decodeError(Buffer.concat([sample, sample]));
  });

  it('rejects nonzero padding in every padded type', () => {
    const cases = [
      integer(0x420020, 1),
      enumeration(0x420020, 1),
      { tag: 0x420020, type: 'Interval' as const, value: 1 },
      textString(0x420020, 'abc'),
      byteString(0x420020, Uint8Array.of(1)),
    ];
    for (const item of cases) {
      const b = Buffer.from(encodeTtlv(item));
      b[b.length - 1] = 1;
      const err = decodeError(b);
      expect(err.message, item.type).to.match(/padding/);
      expect(err.offset).to.equal(b.length - 1);
    }
  });

  it('rejects wrong lengths for each fixed-size type', () => {
    const fixed: [number, number][] = [
      [0x02, 4],
      [0x03, 8],
      [0x05, 4],
      [0x06, 8],
      [0x09, 8],
      [0x0a, 4],
      [0x0b, 8],
    ];
    for (const [type, len] of fixed) {
      for (const wrong of [0, 1, len === 4 ? 8 : 4, 16]) {
        const body = Buffer.alloc(wrong + ((8 - (wrong % 8)) % 8));
        const head = Buffer.alloc(8);
        head.writeUInt32BE(0x42002000 | type, 0);
        head.writeUInt32BE(wrong, 4);
        const err = decodeError(Buffer.concat([head, body]));
        expect(err.message, `type ${type} length ${wrong}`).to.match(/length/);
      }
    }
  });

  it('rejects Big Integer lengths that are not a positive multiple of 8', () => {
    decodeError(hex('42 00 20 | 04 | 00 00 00 00'));
    decodeError(hex('42 00 20 | 04 | 00 00 00 04 | 00 00 00 01 00 00 00 00'));
  });

  it('rejects Boolean values other than 0 and 1', () => {
    decodeError(hex('42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 02'));
    decodeError(hex('42 00 20 | 06 | 00 00 00 08 | 00 00 00 01 00 00 00 01'));
    decodeError(hex('42 00 20 | 06 | 00 00 00 08 | 80 00 00 00 00 00 00 00'));
  });

  it('rejects invalid UTF-8 in a Text String', () => {
    for (const bad of ['ff', 'c0 af', 'ed a0 80', 'e2 82', 'f4 90 80 80']) {
      const bytes = hex(bad);
      const head = Buffer.alloc(8);
      head.writeUInt32BE(0x42002007, 0);
      head.writeUInt32BE(bytes.length, 4);
      const err = decodeError(Buffer.concat([head, bytes, Buffer.alloc((8 - (bytes.length % 8)) % 8)]));
      expect(err.message).to.match(/UTF-8/);
      expect(err.offset).to.equal(8);
    }
  });

  it('rejects unknown item types and invalid tags', () => {
    for (const t of [0x00, 0x0c, 0x0f, 0x80, 0xff]) {
      const b = Buffer.from(hex('42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00'));
      b[3] = t;
      expect(decodeError(b).message).to.match(/type/);
    }
    for (const first of [0x00, 0x41, 0x43, 0x53, 0x55, 0xff]) {
      const b = Buffer.from(hex('42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00'));
      b[0] = first;
      expect(decodeError(b).message).to.match(/tag/);
    }
    // extension tags are accepted
    const ext = Buffer.from(hex('54 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00'));
    expect(decodeTtlv(ext)).to.deep.equal(integer(0x540020, 8));
  });

  it('rejects a child whose length overflows its parent', () => {
    // Structure of 16 bytes holding an Integer that claims 12 bytes
    const b = hex('42 00 01 | 01 | 00 00 00 10 | 42 00 02 | 07 | 00 00 00 10 | 00 00 00 00 00 00 00 00');
    const err = decodeError(b);
    expect(err.message).to.match(/overruns/);
    expect(err.offset).to.equal(8);
    // nested: inner structure claims more than the outer one holds
    const c = hex('42 00 01 | 01 | 00 00 00 10 | 42 00 02 | 01 | 00 00 00 18 | 42 00 03 06 00 00 00 08');
    expect(decodeError(c).message).to.match(/overruns|truncated/);
  });

  it('rejects a structure with leftover bytes after its last child', () => {
    // Structure of 24 bytes: one 16-byte Integer, then 8 bytes of a bogus header with a bad tag
    const a = hex(
      '42 00 01 | 01 | 00 00 00 18 | 42 00 02 | 02 | 00 00 00 04 | 00 00 00 01 00 00 00 00 | 00 00 00 00 00 00 00 00',
    );
    decodeError(a);
    // Structure whose length is not a multiple of 8: 4 leftover bytes
    const b = hex(
      '42 00 01 | 01 | 00 00 00 14 | 42 00 02 | 02 | 00 00 00 04 | 00 00 00 01 00 00 00 00 | 00 00 00 00',
    );
    expect(decodeError(b).message).to.match(/truncated/);
  });

  it('rejects 10,000-deep nesting at the depth cap, without a stack overflow', () => {
    const depth = 10_000;
    const b = Buffer.alloc(depth * 8);
    for (let i = 0; i < depth; i++) {
      b.writeUInt32BE(0x42000101, i * 8);
      b.writeUInt32BE((depth - i - 1) * 8, i * 8 + 4);
    }
    const err = decodeError(b);
    expect(err.message).to.match(/nesting/);
    // It stops reading at the cap (64 levels), not after walking all 10,000.
    expect(err.offset).to.equal(64 * 8);
  });

  it('honours a custom maxDepth and accepts nesting exactly at the cap', () => {
    const nest = (n: number) => {
      let s = structure(0x420001, []);
      for (let i = 1; i < n; i++) s = structure(0x420001, [s]);
      return encodeTtlv(s);
    };
    expect(() => decodeTtlv(nest(64))).not.to.throw();
    decodeError(nest(65));
    expect(() => decodeTtlv(nest(3), { maxDepth: 3 })).not.to.throw();
    decodeError(nest(4), { maxDepth: 3 });
  });

  it('does not allocate for a header claiming 4 GiB with only 8 bytes present', () => {
    const types = [0x01, 0x04, 0x07, 0x08];
    global.gc?.();
    const before = process.memoryUsage().arrayBuffers;
    for (const type of types) {
      const b = Buffer.alloc(8);
      b.writeUInt32BE(0x42002000 | type, 0);
      b.writeUInt32BE(0xffffffff, 4);
      const err = decodeError(b);
      expect(err.message).to.match(/truncated/);
      // nested: the claim sits inside a structure
      const n = Buffer.concat([hex('42 00 01 01 00 00 00 08'), b]);
      expect(decodeError(n).message).to.match(/overruns/);
    }
    const after = process.memoryUsage().arrayBuffers;
    expect(after - before).to.be.lessThan(4 * 1024 * 1024);
  });

  it('rejects input that is not a byte array and invalid options', () => {
    expect(() => decodeTtlv('42' as unknown as Uint8Array)).to.throw(TtlvDecodeError);
    expect(() => decodeTtlv(null as unknown as Uint8Array)).to.throw(TtlvDecodeError);
    expect(() => decodeTtlv(sample, { maxDepth: -1 })).to.throw(TtlvDecodeError);
    expect(() => decodeTtlv(sample, { maxDepth: 1.5 })).to.throw(TtlvDecodeError);
  });

  it('rejects empty input', () => {
    expect(decodeError(new Uint8Array(0)).offset).to.equal(0);
  });
});
