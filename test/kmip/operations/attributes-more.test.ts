import { createHash } from 'node:crypto';
import { expect } from 'chai';
import {
  inListingOrder,
  type ModelAttribute,
  standardKey,
  withUsageLimitsCount,
} from '../../../src/kmip/model/attributes.js';
import {
  CryptographicAlgorithm,
  type KmipVersion,
  NameType,
  ObjectType,
  Operation,
  RNGAlgorithm,
  Tag,
  UsageLimitsUnit,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import { E, type Harness, I, kid, kids, members, openHarness, S, T } from './harness.js';

const isV2 = (v: KmipVersion) => v.startsWith('2.');

function attr(v: KmipVersion, name: string, value: TtlvItem): TtlvItem {
  if (isV2(v)) return value;
  return S(Tag.Attribute, [T(Tag.AttributeName, name), { ...value, tag: Tag.AttributeValue } as TtlvItem]);
}

function aes(v: KmipVersion, name: string): TtlvItem[] {
  return [
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    S(isV2(v) ? Tag.Attributes : Tag.TemplateAttribute, [
      attr(v, 'Cryptographic Algorithm', E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES)),
      attr(v, 'Cryptographic Length', I(Tag.CryptographicLength, 256)),
      attr(v, 'Cryptographic Usage Mask', I(Tag.CryptographicUsageMask, 12)),
      attr(
        v,
        'Name',
        S(Tag.Name, [T(Tag.NameValue, name), E(Tag.NameType, NameType.UninterpretedTextString)]),
      ),
    ]),
  ];
}

const std = (tag: number, value: TtlvItem): ModelAttribute => ({ key: standardKey(tag), index: 0, value });

describe('attributes (K5)', () => {
  describe('inListingOrder', () => {
    it('puts the identifiers, type, algorithm and length first, then the rest by 1.x name, custom last', () => {
      const list: ModelAttribute[] = [
        { key: { kind: 'custom', vendor: 'x', name: 'Zed' }, index: 0, value: T(Tag.AttributeValue, 'z') },
        std(Tag.State, E(Tag.State, 1)),
        std(Tag.Name, S(Tag.Name, [])),
        std(Tag.KeyFormatType, E(Tag.KeyFormatType, 1)),
        std(Tag.Extractable, { tag: Tag.Extractable, type: 'Boolean', value: true }),
        std(Tag.Digest, S(Tag.Digest, [])),
        std(Tag.CryptographicLength, I(Tag.CryptographicLength, 256)),
        std(Tag.ObjectType, E(Tag.ObjectType, 2)),
        std(Tag.UniqueIdentifier, T(Tag.UniqueIdentifier, 'u')),
        std(Tag.CryptographicAlgorithm, E(Tag.CryptographicAlgorithm, 3)),
        std(Tag.ActivationDate, { tag: Tag.ActivationDate, type: 'DateTime', value: 0n }),
      ];
      const tags = inListingOrder(list).map((a) => (a.key.kind === 'custom' ? -1 : a.key.tag));
      expect(tags).to.deep.equal([
        Tag.UniqueIdentifier,
        Tag.ObjectType,
        Tag.CryptographicAlgorithm,
        Tag.CryptographicLength,
        Tag.ActivationDate,
        Tag.Digest,
        Tag.KeyFormatType,
        Tag.Extractable,
        Tag.Name,
        Tag.State,
        -1,
      ]);
    });
  });

  describe('withUsageLimitsCount', () => {
    it('fills in Usage Limits Count from the Total, between Total and Unit', () => {
      const out = withUsageLimitsCount(
        std(
          Tag.UsageLimits,
          S(Tag.UsageLimits, [
            { tag: Tag.UsageLimitsTotal, type: 'LongInteger', value: 1000n },
            E(Tag.UsageLimitsUnit, UsageLimitsUnit.Byte),
          ]),
        ),
      );
      expect(members(out.value).map((c) => c.tag)).to.deep.equal([
        Tag.UsageLimitsTotal,
        Tag.UsageLimitsCount,
        Tag.UsageLimitsUnit,
      ]);
      expect(kid(out.value, Tag.UsageLimitsCount)?.value).to.equal(1000n);
    });
  });

  describe('operations', () => {
    let h: Harness;
    beforeEach(async () => {
      h = await openHarness();
    });
    afterEach(async () => {
      await h.close();
    });

    it('Get Attributes without names (1.4): spec order, Lease Time, generated-key defaults, honest RNG', async () => {
      const c = await h.ok('1.4', Operation.Create, aes('1.4', 'k5-a'));
      const id = kid(c, Tag.UniqueIdentifier)?.value as string;
      const p = await h.ok('1.4', Operation.GetAttributes, [T(Tag.UniqueIdentifier, id)]);
      const names = kids(p, Tag.Attribute).map((a) => kid(a, Tag.AttributeName)?.value);
      expect(names.slice(0, 5)).to.deep.equal([
        'Unique Identifier',
        'Object Type',
        'Cryptographic Algorithm',
        'Cryptographic Length',
        'Always Sensitive',
      ]);
      expect(names).to.include.members(['Lease Time', 'Extractable', 'Sensitive', 'Never Extractable']);
      expect(names).not.to.include('Short Unique Identifier');
      const rest = names.slice(4) as string[];
      expect(rest).to.deep.equal([...rest].sort());
      const rng = kids(p, Tag.Attribute).find(
        (a) => kid(a, Tag.AttributeName)?.value === 'Random Number Generator',
      );
      expect(kid(kid(rng, Tag.AttributeValue), Tag.RNGAlgorithm)?.value).to.equal(RNGAlgorithm.DRBG);
    });

    it('Get Attribute List (2.1): Short Unique Identifier second, derived from the id', async () => {
      const c = await h.ok('2.1', Operation.Create, aes('2.1', 'k5-b'));
      const id = kid(c, Tag.UniqueIdentifier)?.value as string;
      const list = await h.ok('2.1', Operation.GetAttributeList, [T(Tag.UniqueIdentifier, id)]);
      const refs = kids(list, Tag.AttributeReference).map((r) => r.value);
      expect(refs.slice(0, 5)).to.deep.equal([
        Tag.UniqueIdentifier,
        Tag.ShortUniqueIdentifier,
        Tag.ObjectType,
        Tag.CryptographicAlgorithm,
        Tag.CryptographicLength,
      ]);
      expect(refs).to.include.members([Tag.LeaseTime, Tag.KeyFormatType, Tag.ProtectionStorageMask]);
      const got = await h.ok('2.1', Operation.GetAttributes, [
        T(Tag.UniqueIdentifier, id),
        E(Tag.AttributeReference, Tag.ShortUniqueIdentifier),
      ]);
      const sui = kid(kid(got, Tag.Attributes), Tag.ShortUniqueIdentifier);
      const expected = new Uint8Array(createHash('sha256').update(id).digest());
      expect(sui?.value).to.deep.equal(expected);
    });

    it('Add Attribute (1.0): Usage Limits without a Count gets Count = Total', async () => {
      const c = await h.ok('1.0', Operation.Create, aes('1.0', 'k5-c'));
      const id = kid(c, Tag.UniqueIdentifier)?.value as string;
      const p = await h.ok('1.0', Operation.AddAttribute, [
        T(Tag.UniqueIdentifier, id),
        attr(
          '1.0',
          'Usage Limits',
          S(Tag.UsageLimits, [
            { tag: Tag.UsageLimitsTotal, type: 'LongInteger', value: 1000n },
            E(Tag.UsageLimitsUnit, UsageLimitsUnit.Byte),
          ]),
        ),
      ]);
      const v = kid(kid(p, Tag.Attribute), Tag.AttributeValue);
      expect(kid(v, Tag.UsageLimitsCount)?.value).to.equal(1000n);
    });
  });
});
