import { expect } from 'chai';
import {
  checkTtlvHeader,
  decodeTtlv,
  encodedLength,
  encodeTtlv,
  readTtlvHeader,
  TTLV_HEADER_LENGTH,
} from '../../../src/kmip/ttlv/binary.js';
import {
  bigInteger,
  boolean,
  byteString,
  child,
  childBigInteger,
  childBoolean,
  childBytes,
  childDateTime,
  childDateTimeExtended,
  childEnum,
  childInteger,
  childInterval,
  childLongInteger,
  children,
  childStruct,
  childText,
  dateFromSeconds,
  dateTime,
  dateTimeExtended,
  enumeration,
  integer,
  interval,
  longInteger,
  structure,
  textString,
} from '../../../src/kmip/ttlv/build.js';
import { TtlvDecodeError, TtlvEncodeError } from '../../../src/kmip/ttlv/errors.js';
import * as ttlv from '../../../src/kmip/ttlv/index.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/[\s|]/g, ''), 'hex');
}

// KMIP 1.0 §9.1.2 "Examples" (unchanged in 1.1-1.4 §9.1.2 and 2.x §9.1.2).
// All use the tag 0x420020 (Application Specific Information... the spec
// just picks a tag); the Structure holds tags 0x420004 and 0x420005.
const T = 0x420020;
const SPEC_EXAMPLES: { name: string; item: TtlvItem; bytes: string }[] = [
  {
    name: 'Integer 8',
    item: integer(T, 8),
    bytes: '42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00',
  },
  {
    name: 'Long Integer 123456789000000000',
    item: longInteger(T, 123456789000000000n),
    bytes: '42 00 20 | 03 | 00 00 00 08 | 01 B6 9B 4B A5 74 92 00',
  },
  {
    name: 'Big Integer 1234567890000000000000000000',
    item: bigInteger(T, hex('00 00 00 00 03 FD 35 EB 6B C2 DF 46 18 08 00 00')),
    bytes: '42 00 20 | 04 | 00 00 00 10 | 00 00 00 00 03 FD 35 EB 6B C2 DF 46 18 08 00 00',
  },
  {
    name: 'Enumeration 255',
    item: enumeration(T, 255),
    bytes: '42 00 20 | 05 | 00 00 00 04 | 00 00 00 FF 00 00 00 00',
  },
  {
    name: 'Boolean True',
    item: boolean(T, true),
    bytes: '42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 01',
  },
  {
    name: 'Text String "Hello World"',
    item: textString(T, 'Hello World'),
    bytes: '42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 00',
  },
  {
    name: 'Byte String 0x010203',
    item: byteString(T, Uint8Array.of(1, 2, 3)),
    bytes: '42 00 20 | 08 | 00 00 00 03 | 01 02 03 00 00 00 00 00',
  },
  {
    name: 'Date-Time Friday, March 14, 2008, 11:56:40 GMT',
    item: dateTime(T, new Date(Date.UTC(2008, 2, 14, 11, 56, 40))),
    bytes: '42 00 20 | 09 | 00 00 00 08 | 00 00 00 00 47 DA 67 F8',
  },
  {
    name: 'Interval 10 days',
    item: interval(T, 10 * 24 * 3600),
    bytes: '42 00 20 | 0A | 00 00 00 04 | 00 0D 2F 00 00 00 00 00',
  },
  {
    name: 'Structure with an Enumeration 254 and an Integer 255',
    item: structure(T, [enumeration(0x420004, 254), integer(0x420005, 255)]),
    bytes:
      '42 00 20 | 01 | 00 00 00 20 | 42 00 04 | 05 | 00 00 00 04 | 00 00 00 FE 00 00 00 00 |' +
      ' 42 00 05 | 02 | 00 00 00 04 | 00 00 00 FF 00 00 00 00',
  },
];

describe('ttlv/binary', () => {
  describe('KMIP 1.0 §9.1.2 examples', () => {
    for (const ex of SPEC_EXAMPLES) {
      it(`encodes ${ex.name}`, () => {
        expect(encodeTtlv(ex.item).toString('hex')).to.equal(hex(ex.bytes).toString('hex'));
      });
      it(`decodes ${ex.name}`, () => {
        expect(decodeTtlv(hex(ex.bytes))).to.deep.equal(ex.item);
      });
    }

    it('big integer bytes are 1234567890000000000000000000 in two-complement', () => {
      const bytes = hex('00 00 00 00 03 FD 35 EB 6B C2 DF 46 18 08 00 00');
      expect(BigInt(`0x${bytes.toString('hex')}`)).to.equal(1234567890000000000000000000n);
    });
  });

  describe('values', () => {
    it('decodes signed Integer and unsigned Enumeration/Interval', () => {
      const item = structure(0x420001, [
        integer(0x420002, -1),
        integer(0x420003, -0x80000000),
        enumeration(0x420004, 0xffffffff),
        interval(0x420005, 0xffffffff),
        longInteger(0x420006, -(2n ** 63n)),
        dateTime(0x420007, -1n),
        dateTimeExtended(0x420008, 2n ** 63n - 1n),
        boolean(0x420009, false),
        textString(0x54000a, ''),
        byteString(0x54000b, new Uint8Array(0)),
        textString(0x42000c, 'héllo wörld ✓ 🔑'),
        byteString(0x42000d, new Uint8Array(8).fill(0xab)),
        structure(0x42000e, []),
      ]);
      const bytes = encodeTtlv(item);
      expect(decodeTtlv(bytes)).to.deep.equal(item);
      expect(encodeTtlv(decodeTtlv(bytes)).equals(bytes)).to.equal(true);
    });

    it('encodes an empty Text String with no padding', () => {
      expect(encodeTtlv(textString(0x420020, '')).toString('hex')).to.equal('4200200700000000');
    });

    it('encodes an 8-byte Byte String with no padding', () => {
      const b = encodeTtlv(byteString(0x420020, new Uint8Array(8).fill(1)));
      expect(b.length).to.equal(16);
    });

    it('writes every byte even when the Buffer pool holds stale data', () => {
      const item = structure(0x420001, [
        integer(0x420002, 1),
        enumeration(0x420003, 2),
        interval(0x420004, 3),
        boolean(0x420005, true),
        textString(0x420006, 'abc'),
        byteString(0x420007, Uint8Array.of(9)),
        textString(0x420008, 'x'.repeat(8)),
      ]);
      const expected = encodeTtlv(item).toString('hex');
      for (let i = 0; i < 200; i++) {
        Buffer.allocUnsafe(1 + (i % 300)).fill(0xff);
        const out = encodeTtlv(item);
        expect(out.toString('hex')).to.equal(expected);
      }
      expect(expected).to.match(/^(?!.*ffff)/);
    });

    it('decoded byte values are copies, not views of the input', () => {
      const input = encodeTtlv(byteString(0x420020, Uint8Array.of(1, 2, 3)));
      const item = decodeTtlv(input);
      input.fill(0xff, 8);
      expect(item.value).to.deep.equal(Buffer.from([1, 2, 3]));
    });

    it('decodes from a Uint8Array view at a nonzero offset', () => {
      const enc = encodeTtlv(integer(0x420020, 7));
      const big = new Uint8Array(enc.length + 5);
      big.set(enc, 5);
      expect(decodeTtlv(big.subarray(5))).to.deep.equal(integer(0x420020, 7));
    });
  });

  describe('header', () => {
    it('readTtlvHeader reads tag, type and length', () => {
      const b = hex('42 00 7B 01 00 00 01 48');
      expect(readTtlvHeader(b)).to.deep.equal({ tag: 0x42007b, type: 1, length: 0x148 });
      expect(TTLV_HEADER_LENGTH).to.equal(8);
    });

    it('readTtlvHeader honours the offset and throws on fewer than 8 bytes', () => {
      const b = hex('00 00 42 00 20 02 00 00 00 04');
      expect(readTtlvHeader(b, 2)).to.deep.equal({ tag: 0x420020, type: 2, length: 4 });
      expect(() => readTtlvHeader(b, 3)).to.throw(TtlvDecodeError);
      expect(() => readTtlvHeader(new Uint8Array(7))).to.throw(TtlvDecodeError);
      expect(() => readTtlvHeader(b, 20)).to.throw(TtlvDecodeError);
    });

    it('encodedLength pads primitives but not structures', () => {
      expect(encodedLength({ tag: 0x420020, type: 7, length: 11 })).to.equal(24);
      expect(encodedLength({ tag: 0x420020, type: 7, length: 0 })).to.equal(8);
      expect(encodedLength({ tag: 0x420020, type: 2, length: 4 })).to.equal(16);
      expect(encodedLength({ tag: 0x420020, type: 1, length: 32 })).to.equal(40);
      expect(encodedLength({ tag: 0x420020, type: 8, length: 0xffffffff })).to.equal(8 + 0x100000000);
    });

    it('checkTtlvHeader rejects bad tags, types and fixed lengths', () => {
      expect(() => checkTtlvHeader({ tag: 0x42007b, type: 1, length: 1000 })).not.to.throw();
      expect(() => checkTtlvHeader({ tag: 0x54007b, type: 7, length: 3 })).not.to.throw();
      expect(() => checkTtlvHeader({ tag: 0x43007b, type: 1, length: 8 })).to.throw(TtlvDecodeError, /tag/);
      expect(() => checkTtlvHeader({ tag: 0x42007b, type: 0, length: 8 })).to.throw(TtlvDecodeError, /type/);
      expect(() => checkTtlvHeader({ tag: 0x42007b, type: 12, length: 8 })).to.throw(TtlvDecodeError, /type/);
      expect(() => checkTtlvHeader({ tag: 0x42007b, type: 2, length: 8 })).to.throw(
        TtlvDecodeError,
        /length/,
      );
      expect(() => checkTtlvHeader({ tag: 0x42007b, type: 4, length: 12 })).to.throw(TtlvDecodeError, /Big/);
    });
  });

  describe('encoder validation', () => {
    const bad: [string, unknown][] = [
      ['Integer above int32', { tag: T, type: 'Integer', value: 0x80000000 }],
      ['Integer below int32', { tag: T, type: 'Integer', value: -0x80000001 }],
      ['Integer fraction', { tag: T, type: 'Integer', value: 1.5 }],
      ['Enumeration negative', { tag: T, type: 'Enumeration', value: -1 }],
      ['Enumeration above uint32', { tag: T, type: 'Enumeration', value: 2 ** 32 }],
      ['Interval negative', { tag: T, type: 'Interval', value: -1 }],
      ['LongInteger above int64', { tag: T, type: 'LongInteger', value: 2n ** 63n }],
      ['LongInteger as number', { tag: T, type: 'LongInteger', value: 5 }],
      ['DateTime below int64', { tag: T, type: 'DateTime', value: -(2n ** 63n) - 1n }],
      ['DateTimeExtended above int64', { tag: T, type: 'DateTimeExtended', value: 2n ** 64n }],
      ['BigInteger length 3', { tag: T, type: 'BigInteger', value: new Uint8Array(3) }],
      ['BigInteger empty', { tag: T, type: 'BigInteger', value: new Uint8Array(0) }],
      ['Boolean as number', { tag: T, type: 'Boolean', value: 1 }],
      ['TextString lone surrogate', { tag: T, type: 'TextString', value: 'a\ud800b' }],
      ['ByteString as array', { tag: T, type: 'ByteString', value: [1, 2] }],
      ['unknown type', { tag: T, type: 'Float', value: 1 }],
      ['bad tag prefix', { tag: 0x430020, type: 'Integer', value: 1 }],
      ['tag too wide', { tag: 0x42002000, type: 'Integer', value: 1 }],
      ['Structure value not array', { tag: T, type: 'Structure', value: {} }],
      ['bad nested child', { tag: T, type: 'Structure', value: [{ tag: T, type: 'Integer', value: 'x' }] }],
    ];
    for (const [name, item] of bad) {
      it(`rejects ${name}`, () => {
        expect(() => encodeTtlv(item as TtlvItem)).to.throw(TtlvEncodeError);
      });
    }

    it('rejects a cyclic structure with TtlvEncodeError', () => {
      const items: TtlvItem[] = [];
      const s = structure(T, items);
      items.push(s);
      expect(() => encodeTtlv(s)).to.throw(TtlvEncodeError);
    });

    it('rejects an invalid Date in the builder', () => {
      expect(() => dateTime(T, new Date(Number.NaN))).to.throw(TtlvEncodeError);
    });
  });

  describe('build readers', () => {
    const msg = structure(0x420078, [
      integer(0x420001, 1),
      integer(0x420001, 2),
      longInteger(0x420002, 3n),
      bigInteger(0x420003, new Uint8Array(8)),
      enumeration(0x420004, 4),
      boolean(0x420005, true),
      textString(0x420006, 'six'),
      byteString(0x420007, Uint8Array.of(7)),
      dateTime(0x420008, 8n),
      interval(0x420009, 9),
      dateTimeExtended(0x42000a, 10n),
      structure(0x42000b, [textString(0x420006, 'inner')]),
    ]);

    it('child / children find by tag', () => {
      expect(child(msg, 0x420001)).to.deep.equal(integer(0x420001, 1));
      expect(children(msg, 0x420001).map((c) => c.value)).to.deep.equal([1, 2]);
      expect(child(msg, 0x4200ff)).to.equal(undefined);
      expect(children(msg, 0x4200ff)).to.deep.equal([]);
      expect(child(integer(1, 1), 1)).to.equal(undefined);
      expect(children(undefined, 1)).to.deep.equal([]);
    });

    it('typed getters return the value or undefined', () => {
      expect(childInteger(msg, 0x420001)).to.equal(1);
      expect(childLongInteger(msg, 0x420002)).to.equal(3n);
      expect(childBigInteger(msg, 0x420003)).to.deep.equal(new Uint8Array(8));
      expect(childEnum(msg, 0x420004)).to.equal(4);
      expect(childBoolean(msg, 0x420005)).to.equal(true);
      expect(childText(msg, 0x420006)).to.equal('six');
      expect(childBytes(msg, 0x420007)).to.deep.equal(Uint8Array.of(7));
      expect(childDateTime(msg, 0x420008)).to.equal(8n);
      expect(childInterval(msg, 0x420009)).to.equal(9);
      expect(childDateTimeExtended(msg, 0x42000a)).to.equal(10n);
      expect(childText(childStruct(msg, 0x42000b), 0x420006)).to.equal('inner');
      // wrong type or absent
      expect(childEnum(msg, 0x420001)).to.equal(undefined);
      expect(childText(msg, 0x420001)).to.equal(undefined);
      expect(childStruct(msg, 0x420006)).to.equal(undefined);
      expect(childInteger(undefined, 0x420001)).to.equal(undefined);
      expect(childBoolean(msg, 0x4200ff)).to.equal(undefined);
    });

    it('dateTime builder truncates to seconds and dateFromSeconds inverts it', () => {
      const d = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
      const item = dateTime(T, d);
      expect(item.value).to.equal(BigInt(Date.UTC(2024, 0, 2, 3, 4, 5) / 1000));
      expect(dateFromSeconds(item.value).toISOString()).to.equal('2024-01-02T03:04:05.000Z');
      expect(dateTime(T, new Date(-1500)).value).to.equal(-2n);
    });

    it('index re-exports the codec and builders', () => {
      expect(ttlv.decodeTtlv).to.equal(decodeTtlv);
      expect(ttlv.structure).to.equal(structure);
      expect(ttlv.ItemType.Structure).to.equal(1);
    });
  });
});
