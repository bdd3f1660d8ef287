import { expect } from 'chai';
import {
  CryptographicAlgorithm,
  KeyFormatType,
  NameType,
  ObjectType,
  Operation,
  ResultReason,
  SecretDataType,
  Tag,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import { B, E, type Harness, I, kid, kids, openHarness, S, T, text } from './harness.js';

const v1 = (name: string, value: TtlvItem): TtlvItem =>
  S(Tag.Attribute, [T(Tag.AttributeName, name), { ...value, tag: Tag.AttributeValue } as TtlvItem]);

describe('issue 4 leftovers: Create Secret Data, Register Quantum Safe, Template attributes', () => {
  let h: Harness;
  before(async () => {
    h = await openHarness();
  });
  after(async () => {
    await h.close();
  });

  it('creates Secret Data from 1.4 on and serves it as an Opaque Password (TC-CREATE-SD-1-14)', async () => {
    const created = await h.ok('1.4', Operation.Create, [
      E(Tag.ObjectType, ObjectType.SecretData),
      S(Tag.TemplateAttribute, [v1('Cryptographic Length', I(0, 80))]),
    ]);
    expect(kid(created, Tag.ObjectType)).to.deep.include({ value: ObjectType.SecretData });
    const id = text(created, Tag.UniqueIdentifier) as string;
    const got = await h.ok('1.4', Operation.Get, [T(Tag.UniqueIdentifier, id)]);
    const sd = kid(got, Tag.SecretData);
    expect(kid(sd, Tag.SecretDataType)).to.deep.include({ value: SecretDataType.Password });
    const block = kid(sd, Tag.KeyBlock);
    expect(kid(block, Tag.KeyFormatType)).to.deep.include({ value: KeyFormatType.Opaque });
    const material = kid(kid(block, Tag.KeyValue), Tag.KeyMaterial);
    expect(material?.type === 'ByteString' ? material.value.length : -1).to.equal(10);
  });

  it('creates Secret Data in 2.x with Attributes', async () => {
    const created = await h.ok('2.0', Operation.Create, [
      E(Tag.ObjectType, ObjectType.SecretData),
      S(Tag.Attributes, [I(Tag.CryptographicLength, 256)]),
    ]);
    const id = text(created, Tag.UniqueIdentifier) as string;
    const got = await h.ok('2.0', Operation.Get, [T(Tag.UniqueIdentifier, id)]);
    const material = kid(kid(kid(kid(got, Tag.SecretData), Tag.KeyBlock), Tag.KeyValue), Tag.KeyMaterial);
    expect(material?.type === 'ByteString' ? material.value.length : -1).to.equal(32);
  });

  it('refuses Create of Secret Data before 1.4, and without a usable length', async () => {
    const sd = (len: number) => [
      E(Tag.ObjectType, ObjectType.SecretData),
      S(Tag.TemplateAttribute, [v1('Cryptographic Length', I(0, len))]),
    ];
    const [old] = await h.send('1.3', [{ op: Operation.Create, payload: sd(80) }]);
    expect(old?.reason).to.equal(ResultReason.InvalidField);
    const [odd] = await h.send('1.4', [{ op: Operation.Create, payload: sd(81) }]);
    expect(odd?.reason).to.equal(ResultReason.InvalidField);
    const [none] = await h.send('1.4', [
      { op: Operation.Create, payload: [E(Tag.ObjectType, ObjectType.SecretData)] },
    ]);
    expect(none?.reason).to.equal(ResultReason.InvalidField);
  });

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

  it('gives a 1.x Template no State, Fresh or other cryptographic-object attribute (TC_312_12)', async () => {
    const reg = await h.ok('1.2', Operation.Register, [
      E(Tag.ObjectType, ObjectType.Template),
      S(Tag.TemplateAttribute, [
        v1(
          'Name',
          S(0, [T(Tag.NameValue, 'tmpl-issue4'), E(Tag.NameType, NameType.UninterpretedTextString)]),
        ),
      ]),
      S(Tag.Template, [v1('Cryptographic Algorithm', E(0, CryptographicAlgorithm.AES))]),
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
