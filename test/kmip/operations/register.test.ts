import { expect } from 'chai';
import {
  CryptographicAlgorithm,
  KeyFormatType,
  type KmipVersion,
  NameType,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  Tag,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import { v1Attr } from './fixtures.js';
import { B, E, I, kid, kids, members, S, T, text, useHarness } from './harness.js';

function registerSized(
  v: KmipVersion,
  bytes: number,
  length: number,
  format: number = KeyFormatType.Raw,
): TtlvItem[] {
  const material =
    format === KeyFormatType.Raw
      ? B(Tag.KeyMaterial, new Uint8Array(bytes).fill(7))
      : S(Tag.KeyMaterial, [B(Tag.Key, new Uint8Array(bytes).fill(7))]);
  return [
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    S(v.startsWith('2.') ? Tag.Attributes : Tag.TemplateAttribute, []),
    S(Tag.SymmetricKey, [
      S(Tag.KeyBlock, [
        E(Tag.KeyFormatType, format),
        S(Tag.KeyValue, [material]),
        E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        I(Tag.CryptographicLength, length),
      ]),
    ]),
  ];
}

describe('Register: symmetric key material matches its algorithm and length', () => {
  const h = useHarness();

  for (const v of ['1.4', '2.1'] as const) {
    for (const [bytes, length] of [
      [0, 256],
      [1, 256],
      [31, 256],
      [32, 128],
    ] as const) {
      it(`${v}: refuses a ${bytes}-byte AES key said to be ${length} bits with Invalid Field`, async () => {
        const before = await h.store.count({});
        const [r] = await h.send(v, [{ op: Operation.Register, payload: registerSized(v, bytes, length) }]);
        expect(r?.status).to.equal(ResultStatus.OperationFailed);
        expect(r?.reason).to.equal(ResultReason.InvalidField);
        expect(await h.store.count({})).to.equal(before);
      });
    }
    for (const bytes of [16, 24, 32]) {
      it(`${v}: accepts a ${bytes * 8}-bit AES key (Raw and Transparent Symmetric Key)`, async () => {
        await h.ok(v, Operation.Register, registerSized(v, bytes, bytes * 8));
        await h.ok(
          v,
          Operation.Register,
          registerSized(v, bytes, bytes * 8, KeyFormatType.TransparentSymmetricKey),
        );
      });
    }
  }
});

describe('Register: metadata-only keys, Quantum Safe, 1.x Templates', () => {
  const h = useHarness({}, { each: true });

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

  describe('Quantum Safe', () => {
    it('applies the Quantum Safe check to Register as Create does', async () => {
      const register = (bits: number) => [
        E(Tag.ObjectType, ObjectType.SymmetricKey),
        S(Tag.Attributes, [
          I(Tag.CryptographicUsageMask, 12),
          { tag: Tag.QuantumSafe, type: 'Boolean', value: true },
        ]),
        S(Tag.SymmetricKey, [
          S(Tag.KeyBlock, [
            E(Tag.KeyFormatType, KeyFormatType.Raw),
            S(Tag.KeyValue, [B(Tag.KeyMaterial, Buffer.alloc(bits / 8, 7))]),
            E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
            I(Tag.CryptographicLength, bits),
          ]),
        ]),
      ];
      const [r] = await h.send('2.1', [{ op: Operation.Register, payload: register(128) }]);
      expect(r?.reason).to.equal(ResultReason.GeneralFailure);
      expect(r?.message).to.match(/quantum safe/i);
      await h.ok('2.1', Operation.Register, register(256));
    });
  });

  describe('1.x Templates', () => {
    it('gives a 1.x Template no State, Fresh or other cryptographic-object attribute (TC_312_12)', async () => {
      const reg = await h.ok('1.2', Operation.Register, [
        E(Tag.ObjectType, ObjectType.Template),
        S(Tag.TemplateAttribute, [
          v1Attr(
            'Name',
            S(0, [T(Tag.NameValue, 'tmpl-issue4'), E(Tag.NameType, NameType.UninterpretedTextString)]),
          ),
        ]),
        S(Tag.Template, [v1Attr('Cryptographic Algorithm', E(0, CryptographicAlgorithm.AES))]),
      ]);
      const id = text(reg, Tag.UniqueIdentifier) as string;
      const list = await h.ok('1.2', Operation.GetAttributeList, [T(Tag.UniqueIdentifier, id)]);
      const names = kids(list, Tag.AttributeName).map((n) => (n.type === 'TextString' ? n.value : ''));
      expect(names).to.include.members([
        'Unique Identifier',
        'Object Type',
        'Initial Date',
        'Last Change Date',
        'Name',
      ]);
      expect(names).to.not.include('State');
      expect(names).to.not.include('Fresh');
      expect(names).to.not.include('Digest');
    });
  });
});
