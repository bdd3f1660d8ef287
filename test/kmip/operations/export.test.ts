/**
 * Export (2.0): the attributes of an object, in the order of the test vectors.
 */
import { expect } from 'chai';
import { CryptographicAlgorithm, ObjectType, Operation, Tag } from '../../../src/kmip/spec/index.js';
import { registerAes, tagsOf } from './fixtures.js';
import { E, I, kid, S, T, text, useHarness } from './harness.js';

describe('operations/export', () => {
  const h = useHarness({}, { each: true });

  describe('Export (TC-IMPEXP-1-20)', () => {
    it('lists a registered key with the attributes and in the order of the vector', async () => {
      const reg = await h.ok('2.0', Operation.Register, registerAes('2.0', 4));
      const exported = await h.ok('2.0', Operation.Export, [
        T(Tag.UniqueIdentifier, text(reg, Tag.UniqueIdentifier) ?? ''),
      ]);
      expect(tagsOf(kid(exported, Tag.Attributes))).to.deep.equal([
        Tag.UniqueIdentifier,
        Tag.ShortUniqueIdentifier,
        Tag.ObjectType,
        Tag.CryptographicAlgorithm,
        Tag.CryptographicLength,
        Tag.Digest,
        Tag.CryptographicUsageMask,
        Tag.LeaseTime,
        Tag.InitialDate,
        Tag.State,
        Tag.LastChangeDate,
        Tag.Fresh,
        Tag.Sensitive,
        Tag.AlwaysSensitive,
        Tag.Extractable,
        Tag.NeverExtractable,
        Tag.KeyFormatType,
        Tag.ProtectionStorageMask,
      ]);
    });

    it('keeps Original Creation Date for generated keys only', async () => {
      const created = await h.ok('2.0', Operation.Create, [
        E(Tag.ObjectType, ObjectType.SymmetricKey),
        S(Tag.Attributes, [
          E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
          I(Tag.CryptographicLength, 128),
          I(Tag.CryptographicUsageMask, 4),
        ]),
      ]);
      const got = await h.ok('2.0', Operation.GetAttributes, [
        T(Tag.UniqueIdentifier, text(created, Tag.UniqueIdentifier) ?? ''),
      ]);
      expect(tagsOf(kid(got, Tag.Attributes))).to.include(Tag.OriginalCreationDate);
    });
  });
});
