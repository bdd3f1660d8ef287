/**
 * Create of objects other than keys: Secret Data (KMIP 1.4 and later).
 */
import { expect } from 'chai';
import {
  KeyFormatType,
  ObjectType,
  Operation,
  ResultReason,
  SecretDataType,
  Tag,
} from '../../../src/kmip/spec/index.js';
import { v1Attr } from './fixtures.js';
import { E, I, kid, S, T, text, useHarness } from './harness.js';

describe('operations/create: Secret Data', () => {
  const h = useHarness();

  it('creates Secret Data from 1.4 on and serves it as an Opaque Password (TC-CREATE-SD-1-14)', async () => {
    const created = await h.ok('1.4', Operation.Create, [
      E(Tag.ObjectType, ObjectType.SecretData),
      S(Tag.TemplateAttribute, [v1Attr('Cryptographic Length', I(0, 80))]),
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
      S(Tag.TemplateAttribute, [v1Attr('Cryptographic Length', I(0, len))]),
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
});
