/**
 * The attribute list functions of the object model: listing and export
 * order, and the Usage Limits Count filled in from the Total.
 */
import { expect } from 'chai';
import {
  inExportOrder,
  inListingOrder,
  type ModelAttribute,
  standardKey,
  withUsageLimitsCount,
} from '../../../src/kmip/model/attributes.js';
import { KeyFormatType, ObjectType, Tag, UsageLimitsUnit } from '../../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import { bool } from '../operations/fixtures.js';
import { E, I, kid, members, S, T } from '../operations/harness.js';

const std = (tag: number, value: TtlvItem): ModelAttribute => ({ key: standardKey(tag), index: 0, value });

describe('kmip/model/attributes', () => {
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

  describe('inExportOrder', () => {
    const std = (value: TtlvItem): ModelAttribute => ({ key: standardKey(value.tag), index: 0, value });
    const list = [
      std(bool(Tag.Fresh, true)),
      std(E(Tag.KeyFormatType, KeyFormatType.Raw)),
      std(S(Tag.Name, [])),
      std(I(Tag.ProtectionStorageMask, 1)),
      std(S(Tag.Digest, [])),
      std(E(Tag.ObjectType, ObjectType.SecretData)),
      { key: { kind: 'custom', vendor: 'x', name: 'A' }, index: 0, value: T(Tag.AttributeValue, 'a') },
      std(E(Tag.State, 1)),
    ] satisfies ModelAttribute[];
    const tags = (attrs: ModelAttribute[]) => attrs.map((a) => (a.key.kind === 'custom' ? -1 : a.key.tag));

    it('puts Key Format Type after Digest for a non-key object (TC-IMPEXP-3-20)', () => {
      expect(tags(inExportOrder(list, false))).to.deep.equal([
        Tag.ObjectType,
        Tag.Digest,
        Tag.KeyFormatType,
        Tag.State,
        Tag.Fresh,
        Tag.Name,
        Tag.ProtectionStorageMask,
        -1,
      ]);
    });

    it('puts Key Format Type after the lifecycle attributes for a key (TC-IMPEXP-1-20)', () => {
      expect(tags(inExportOrder(list, true))).to.deep.equal([
        Tag.ObjectType,
        Tag.Digest,
        Tag.State,
        Tag.Fresh,
        Tag.KeyFormatType,
        Tag.Name,
        Tag.ProtectionStorageMask,
        -1,
      ]);
    });
  });
});
