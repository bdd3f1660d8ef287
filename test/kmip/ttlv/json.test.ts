import { expect } from 'chai';
import fc from 'fast-check';
import { isKmipServerError, TextEncodingError } from '../../../src/kmip/ttlv/errors.js';
import { jsonTextToTtlv, jsonToTtlv, ttlvToJson, ttlvToJsonText } from '../../../src/kmip/ttlv/json.js';
import { PLACEHOLDER_PATTERN } from '../../../src/kmip/ttlv/text-values.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import { miniDictionary as dict, T } from './mini-dictionary.js';

function expectTextError(fn: () => unknown, pattern?: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(TextEncodingError);
    if (pattern !== undefined) expect((e as Error).message).to.match(pattern);
    return;
  }
  expect.fail('expected a TextEncodingError');
}

const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));

describe('KMIP JSON encoding', () => {
  describe('item types', () => {
    const cases: [string, TtlvItem, unknown][] = [
      [
        'Integer',
        { tag: T('CryptographicLength'), type: 'Integer', value: -128 },
        { tag: 'CryptographicLength', type: 'Integer', value: -128 },
      ],
      [
        'LongInteger (small)',
        { tag: T('UsageLimitsTotal'), type: 'LongInteger', value: 1234n },
        { tag: 'UsageLimitsTotal', type: 'LongInteger', value: 1234 },
      ],
      [
        'LongInteger (beyond 2^52)',
        { tag: T('UsageLimitsTotal'), type: 'LongInteger', value: -(2n ** 63n) },
        { tag: 'UsageLimitsTotal', type: 'LongInteger', value: '0x8000000000000000' },
      ],
      [
        'BigInteger (small)',
        { tag: T('Modulus'), type: 'BigInteger', value: bytes('0000000000010001') },
        { tag: 'Modulus', type: 'BigInteger', value: 65537 },
      ],
      [
        'BigInteger (large)',
        { tag: T('Modulus'), type: 'BigInteger', value: bytes('00000000000000000100000000000000') },
        { tag: 'Modulus', type: 'BigInteger', value: '0x00000000000000000100000000000000' },
      ],
      [
        'Enumeration',
        { tag: T('ObjectType'), type: 'Enumeration', value: 2 },
        { tag: 'ObjectType', type: 'Enumeration', value: 'SymmetricKey' },
      ],
      [
        'Enumeration without a name',
        { tag: T('ObjectType'), type: 'Enumeration', value: 0x8000000a },
        { tag: 'ObjectType', type: 'Enumeration', value: '0x8000000A' },
      ],
      [
        'Boolean',
        { tag: T('Sensitive'), type: 'Boolean', value: false },
        { tag: 'Sensitive', type: 'Boolean', value: false },
      ],
      [
        'TextString',
        { tag: T('UniqueIdentifier'), type: 'TextString', value: 'a"b' },
        { tag: 'UniqueIdentifier', type: 'TextString', value: 'a"b' },
      ],
      [
        'ByteString',
        { tag: T('KeyMaterial'), type: 'ByteString', value: bytes('00ff10ab') },
        { tag: 'KeyMaterial', type: 'ByteString', value: '00ff10ab' },
      ],
      [
        'DateTime',
        { tag: T('ActivationDate'), type: 'DateTime', value: 1205495800n },
        { tag: 'ActivationDate', type: 'DateTime', value: '2008-03-14T11:56:40+00:00' },
      ],
      [
        'Interval',
        { tag: T('LeaseTime'), type: 'Interval', value: 3600 },
        { tag: 'LeaseTime', type: 'Interval', value: 3600 },
      ],
      [
        'DateTimeExtended',
        { tag: T('Timestamp'), type: 'DateTimeExtended', value: 1205495800000123n },
        { tag: 'Timestamp', type: 'DateTimeExtended', value: '2008-03-14T11:56:40.000123+00:00' },
      ],
      [
        'mask',
        { tag: T('CryptographicUsageMask'), type: 'Integer', value: 12 | 0x100000 },
        { tag: 'CryptographicUsageMask', type: 'Integer', value: 'Encrypt|Decrypt|0x00100000' },
      ],
      [
        'unknown tag',
        { tag: 0x540001, type: 'TextString', value: 'na' },
        { tag: '0x540001', type: 'TextString', value: 'na' },
      ],
    ];
    for (const [what, item, json] of cases) {
      it(`${what}: TTLV -> JSON -> TTLV`, () => {
        expect(ttlvToJson(item, dict)).to.deep.equal(json);
        expect(jsonToTtlv(json, dict)).to.deep.equal(item);
      });
    }

    it('writes structures as arrays without a type', () => {
      const item: TtlvItem = {
        tag: T('RequestMessage'),
        type: 'Structure',
        value: [{ tag: T('RequestPayload'), type: 'Structure', value: [] }],
      };
      const json = { tag: 'RequestMessage', value: [{ tag: 'RequestPayload', value: [] }] };
      expect(ttlvToJson(item, dict)).to.deep.equal(json);
      expect(jsonToTtlv(json, dict)).to.deep.equal(item);
      expect(jsonToTtlv({ tag: 'RequestPayload', type: 'Structure', value: [] }, dict)).to.deep.equal(
        item.value[0],
      );
      expect(JSON.parse(ttlvToJsonText(item, dict))).to.deep.equal(json);
      expect(jsonTextToTtlv(ttlvToJsonText(item, dict, 0), dict)).to.deep.equal(item);
    });
  });

  describe('alternative input forms', () => {
    const v = (tag: string, type: string, value: unknown): unknown =>
      jsonToTtlv({ tag, type, value }, dict).value;

    it('reads hex strings for numbers, names or hex for enumerations, | separated masks', () => {
      expect(v('CryptographicLength', 'Integer', '0x00000080')).to.equal(128);
      expect(v('UsageLimitsTotal', 'LongInteger', '0xFFFFFFFFFFFFFFFF')).to.equal(-1n);
      expect(v('UsageLimitsTotal', 'LongInteger', '-5')).to.equal(-5n);
      expect(v('Modulus', 'BigInteger', '0x010001')).to.deep.equal(bytes('0000000000010001'));
      expect(v('Modulus', 'BigInteger', -1)).to.deep.equal(bytes('ffffffffffffffff'));
      expect(v('Modulus', 'BigInteger', '-1')).to.deep.equal(bytes('ffffffffffffffff'));
      expect(v('ObjectType', 'Enumeration', '0x00000002')).to.equal(2);
      expect(v('ObjectType', 'Enumeration', 2)).to.equal(2);
      expect(v('CryptographicUsageMask', 'Integer', 'Decrypt | Encrypt')).to.equal(12);
      expect(v('CryptographicUsageMask', 'Integer', 12)).to.equal(12);
      expect(v('Sensitive', 'Boolean', 'true')).to.equal(true);
      expect(v('ActivationDate', 'DateTime', '0x0000000047DA67F8')).to.equal(1205495800n);
      expect(v('ActivationDate', 'DateTime', 1205495800)).to.equal(1205495800n);
      expect(v('ActivationDate', 'DateTime', '2000-02-02T00:00:00+10:00')).to.equal(949413600n);
      expect(v('LeaseTime', 'Interval', '0x0000000A')).to.equal(10);
      expect(jsonToTtlv({ tag: '0x420094', type: 'TextString', value: 'x' }, dict).tag).to.equal(
        T('UniqueIdentifier'),
      );
    });

    it('takes the AttributeValue context from the sibling AttributeName', () => {
      const json = {
        tag: 'Attribute',
        value: [
          { tag: 'AttributeName', type: 'TextString', value: 'Cryptographic Usage Mask' },
          { tag: 'AttributeValue', type: 'Integer', value: 'Encrypt|Decrypt' },
        ],
      };
      const item = jsonToTtlv(json, dict);
      expect(item.value).to.deep.include({ tag: T('AttributeValue'), type: 'Integer', value: 12 });
      expect(ttlvToJson(item, dict)).to.deep.equal(json);
      const alg = jsonToTtlv(
        {
          tag: 'Attribute',
          value: [
            { tag: 'AttributeName', type: 'TextString', value: 'Cryptographic Algorithm' },
            { tag: 'AttributeValue', type: 'Enumeration', value: 'AES' },
          ],
        },
        dict,
      );
      expect(alg.value).to.deep.include({ tag: T('AttributeValue'), type: 'Enumeration', value: 3 });
    });

    it('resolves placeholders through the hook and refuses them without one', () => {
      const json = { tag: 'ActivationDate', type: 'DateTime', value: '$NOW' };
      expectTextError(() => jsonToTtlv(json, dict), /unresolved placeholder \$NOW/);
      expect(jsonToTtlv(json, dict, { placeholder: () => 7n }).value).to.equal(7n);
    });
  });

  describe('errors', () => {
    const bad: [string, unknown, RegExp][] = [
      ['not an object', 5, /must be a JSON object/],
      ['an array', [], /must be a JSON object/],
      ['no tag', { type: 'Integer', value: 1 }, /"tag" must be a string/],
      ['unknown tag', { tag: 'Nope', type: 'Integer', value: 1 }, /unknown tag name "Nope"/],
      ['unknown key', { tag: 'LeaseTime', type: 'Interval', value: 1, x: 1 }, /unexpected key "x"/],
      ['unknown type', { tag: 'LeaseTime', type: 'Float', value: 1 }, /unknown item type/],
      ['structure not an array', { tag: 'RequestPayload', value: 1 }, /must be an array/],
      [
        'unsafe number',
        { tag: 'UsageLimitsTotal', type: 'LongInteger', value: 2 ** 60 },
        /not an exact integer/,
      ],
      ['fractional number', { tag: 'LeaseTime', type: 'Interval', value: 1.5 }, /not an exact integer/],
      [
        'Integer out of range',
        { tag: 'CryptographicLength', type: 'Integer', value: 2 ** 31 },
        /out of range/,
      ],
      ['negative Interval', { tag: 'LeaseTime', type: 'Interval', value: -1 }, /out of range/],
      ['Boolean as number', { tag: 'Sensitive', type: 'Boolean', value: 1 }, /not a Boolean value/],
      [
        'TextString as number',
        { tag: 'UniqueIdentifier', type: 'TextString', value: 1 },
        /not a TextString value/,
      ],
      ['missing value', { tag: 'UniqueIdentifier', type: 'TextString' }, /missing value/],
      ['bad hex', { tag: 'KeyMaterial', type: 'ByteString', value: 'xyz' }, /hex/],
      ['unknown mask bit', { tag: 'CryptographicUsageMask', type: 'Integer', value: 'Fly' }, /"Fly"/],
      [
        'nested error path',
        { tag: 'RequestPayload', value: [{ tag: 'LeaseTime', type: 'Interval', value: 'x' }] },
        /RequestPayload\[0\]\/LeaseTime/,
      ],
    ];
    for (const [what, json, pattern] of bad) {
      it(`rejects ${what}`, () => expectTextError(() => jsonToTtlv(json, dict), pattern));
    }

    it('rejects malformed JSON text with a TextEncodingError', () => {
      expectTextError(() => jsonTextToTtlv('{"tag":', dict), /malformed JSON/);
    });

    it('refuses deep nesting with a TextEncodingError', () => {
      let json: unknown = { tag: 'LeaseTime', type: 'Interval', value: 1 };
      for (let i = 0; i < 1000; i++) json = { tag: 'RequestPayload', value: [json] };
      expectTextError(() => jsonToTtlv(json, dict), /nested deeper/);
    });

    it('throws nothing but TextEncodingError on arbitrary JSON values', () => {
      fc.assert(
        fc.property(fc.jsonValue(), (value) => {
          for (const v of [
            value,
            { tag: 'RequestPayload', value },
            { tag: 'LeaseTime', type: 'Interval', value },
          ]) {
            try {
              jsonToTtlv(v, dict);
            } catch (e) {
              if (!(isKmipServerError(e) && e.code === 'ERR_KMIP_TEXT_ENCODING')) throw e;
            }
          }
        }),
        { numRuns: 1000 },
      );
    });
  });

  describe('property: TTLV -> JSON text -> TTLV is the identity', () => {
    const tag = fc.constantFrom(
      T('CryptographicLength'),
      T('ObjectType'),
      T('CryptographicUsageMask'),
      0x540001,
    );
    const int64 = fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n);
    // A value spelled like a vector placeholder ("$NOW") needs the placeholder hook to read back.
    const text = fc.string({ unit: 'grapheme' }).filter((s) => !PLACEHOLDER_PATTERN.test(s));
    const leaf: fc.Arbitrary<TtlvItem> = fc.oneof(
      fc.record({ tag, type: fc.constant('Integer' as const), value: fc.integer() }),
      fc.record({ tag, type: fc.constant('LongInteger' as const), value: int64 }),
      fc.record({
        tag,
        type: fc.constant('BigInteger' as const),
        value: fc
          .integer({ min: 1, max: 3 })
          .chain((n) => fc.uint8Array({ minLength: n * 8, maxLength: n * 8 })),
      }),
      fc.record({ tag, type: fc.constant('Enumeration' as const), value: fc.nat({ max: 0xffffffff }) }),
      fc.record({ tag, type: fc.constant('Boolean' as const), value: fc.boolean() }),
      fc.record({ tag, type: fc.constant('TextString' as const), value: text }),
      fc.record({ tag, type: fc.constant('ByteString' as const), value: fc.uint8Array() }),
      fc.record({ tag, type: fc.constant('DateTime' as const), value: int64 }),
      fc.record({ tag, type: fc.constant('Interval' as const), value: fc.nat({ max: 0xffffffff }) }),
      fc.record({ tag, type: fc.constant('DateTimeExtended' as const), value: int64 }),
    );
    const { tree } = fc.letrec<{ tree: TtlvItem }>((rec) => ({
      tree: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.record({
          tag,
          type: fc.constant('Structure' as const),
          value: fc.array(rec('tree'), { maxLength: 4 }),
        }),
      ),
    }));

    it('holds for random items', () => {
      fc.assert(
        fc.property(tree, (item) => {
          expect(jsonTextToTtlv(ttlvToJsonText(item, dict), dict)).to.deep.equal(item);
        }),
        { numRuns: 500 },
      );
    });
  });
});
