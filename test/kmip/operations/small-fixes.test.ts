import { expect } from 'chai';
import { inExportOrder, type ModelAttribute, standardKey } from '../../../src/kmip/model/attributes.js';
import {
  CryptographicAlgorithm,
  KeyFormatType,
  ObjectType,
  Operation,
  ResultReason,
  Tag,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem, TtlvStructure } from '../../../src/kmip/ttlv/types.js';
import { B, E, type Harness, I, kid, members, openHarness, S, T, text } from './harness.js';

const bool = (tag: number, value: boolean): TtlvItem => ({ tag, type: 'Boolean', value });

function aesKey(): TtlvStructure {
  return S(Tag.SymmetricKey, [
    S(Tag.KeyBlock, [
      E(Tag.KeyFormatType, KeyFormatType.Raw),
      S(Tag.KeyValue, [B(Tag.KeyMaterial, new Uint8Array(16).fill(7))]),
      E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
      I(Tag.CryptographicLength, 128),
    ]),
  ]);
}

function v1Attr(name: string, value: TtlvItem): TtlvItem {
  return S(Tag.Attribute, [T(Tag.AttributeName, name), { ...value, tag: Tag.AttributeValue } as TtlvItem]);
}

function tagsOf(attrs: TtlvItem | undefined): number[] {
  return members(attrs).map((c) => c.tag);
}

describe('small fixes (K10)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  describe('Fresh given by the client (KMIP 1.1 §3.34 "Initially set by: Server or Client")', () => {
    it('keeps Fresh false on Register instead of setting it true', async () => {
      const reg = await h.ok('2.0', Operation.Register, [
        E(Tag.ObjectType, ObjectType.SymmetricKey),
        S(Tag.Attributes, [I(Tag.CryptographicUsageMask, 4), bool(Tag.Fresh, false)]),
        aesKey(),
      ]);
      const id = text(reg, Tag.UniqueIdentifier) ?? '';
      const got = await h.ok('2.0', Operation.GetAttributes, [
        T(Tag.UniqueIdentifier, id),
        E(Tag.AttributeReference, Tag.Fresh),
      ]);
      const fresh = members(kid(got, Tag.Attributes)).filter((c) => c.tag === Tag.Fresh);
      expect(fresh).to.deep.equal([bool(Tag.Fresh, false)]);
    });

    it('still sets Fresh true when the client says nothing', async () => {
      const reg = await h.ok('2.0', Operation.Register, [
        E(Tag.ObjectType, ObjectType.SymmetricKey),
        S(Tag.Attributes, [I(Tag.CryptographicUsageMask, 4)]),
        aesKey(),
      ]);
      const got = await h.ok('2.0', Operation.GetAttributes, [
        T(Tag.UniqueIdentifier, text(reg, Tag.UniqueIdentifier) ?? ''),
        E(Tag.AttributeReference, Tag.Fresh),
      ]);
      expect(kid(kid(got, Tag.Attributes), Tag.Fresh)).to.deep.equal(bool(Tag.Fresh, true));
    });
  });

  describe('Get Attributes naming an attribute twice (1.1 §4.11, TC-171-11/12)', () => {
    it('fails with Invalid Message in 1.x', async () => {
      const reg = await h.ok('1.1', Operation.Register, [
        E(Tag.ObjectType, ObjectType.SymmetricKey),
        S(Tag.TemplateAttribute, [v1Attr('Cryptographic Usage Mask', I(Tag.CryptographicUsageMask, 4))]),
        aesKey(),
      ]);
      const [r] = await h.send('1.1', [
        {
          op: Operation.GetAttributes,
          payload: [
            T(Tag.UniqueIdentifier, text(reg, Tag.UniqueIdentifier) ?? ''),
            T(Tag.AttributeName, 'Object Type'),
            T(Tag.AttributeName, 'Object Type'),
          ],
        },
      ]);
      expect(r?.reason).to.equal(ResultReason.InvalidMessage);
      expect(r?.message).to.contain('Object Type');
    });

    it('fails with Invalid Message for a repeated 2.x Attribute Reference', async () => {
      const reg = await h.ok('2.0', Operation.Register, [
        E(Tag.ObjectType, ObjectType.SymmetricKey),
        S(Tag.Attributes, [I(Tag.CryptographicUsageMask, 4)]),
        aesKey(),
      ]);
      const [r] = await h.send('2.0', [
        {
          op: Operation.GetAttributes,
          payload: [
            T(Tag.UniqueIdentifier, text(reg, Tag.UniqueIdentifier) ?? ''),
            E(Tag.AttributeReference, Tag.State),
            E(Tag.AttributeReference, Tag.State),
          ],
        },
      ]);
      expect(r?.reason).to.equal(ResultReason.InvalidMessage);
    });

    it('still answers distinct names', async () => {
      const reg = await h.ok('2.0', Operation.Register, [
        E(Tag.ObjectType, ObjectType.SymmetricKey),
        S(Tag.Attributes, [I(Tag.CryptographicUsageMask, 4)]),
        aesKey(),
      ]);
      const got = await h.ok('2.0', Operation.GetAttributes, [
        T(Tag.UniqueIdentifier, text(reg, Tag.UniqueIdentifier) ?? ''),
        E(Tag.AttributeReference, Tag.State),
        E(Tag.AttributeReference, Tag.ObjectType),
      ]);
      expect(tagsOf(kid(got, Tag.Attributes))).to.deep.equal([Tag.State, Tag.ObjectType]);
    });
  });

  describe('Export (TC-IMPEXP-1-20)', () => {
    it('lists a registered key with the attributes and in the order of the vector', async () => {
      const reg = await h.ok('2.0', Operation.Register, [
        E(Tag.ObjectType, ObjectType.SymmetricKey),
        S(Tag.Attributes, [I(Tag.CryptographicUsageMask, 4)]),
        aesKey(),
      ]);
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

  describe('metadata-only keys (TC-MDO-1/2-12)', () => {
    it('keeps a client Original Creation Date and sets Key Value Present false', async () => {
      const reg = await h.ok('1.2', Operation.Register, [
        E(Tag.ObjectType, ObjectType.SymmetricKey),
        S(Tag.TemplateAttribute, [
          v1Attr('Cryptographic Usage Mask', I(Tag.CryptographicUsageMask, 4)),
          v1Attr('Original Creation Date', {
            tag: Tag.OriginalCreationDate,
            type: 'DateTime',
            value: 38520n,
          }),
        ]),
        S(Tag.SymmetricKey, [
          S(Tag.KeyBlock, [
            E(Tag.KeyFormatType, KeyFormatType.Raw),
            E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
            I(Tag.CryptographicLength, 128),
          ]),
        ]),
      ]);
      const got = await h.ok('1.2', Operation.GetAttributes, [
        T(Tag.UniqueIdentifier, text(reg, Tag.UniqueIdentifier) ?? ''),
        T(Tag.AttributeName, 'Key Value Present'),
        T(Tag.AttributeName, 'Original Creation Date'),
      ]);
      const values = members(got)
        .filter((c) => c.tag === Tag.Attribute)
        .map((a) => kid(a, Tag.AttributeValue)?.value);
      expect(values).to.deep.equal([false, 38520n]);
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
