import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { aesKeyWrap } from '../../../src/crypto/wrap.js';
import { KmipError } from '../../../src/kmip/errors.js';
import { adjustValue } from '../../../src/kmip/operations/adjust-attribute.js';
import {
  AdjustmentType,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  EncodingOption,
  KeyFormatType,
  KeyWrapType,
  LinkType,
  NameType,
  ObjectType,
  Operation,
  ResultReason,
  State,
  Tag,
  WrappingMethod,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem, TtlvStructure } from '../../../src/kmip/ttlv/types.js';
import { aesKey as symmetricKey } from './fixtures.js';
import { B, D, E, type Harness, I, kid, openHarness, S, T, text } from './harness.js';

const NOW = 1_700_000_000;
const clock = () => new Date(NOW * 1000);

function material(payload: TtlvStructure): Uint8Array | undefined {
  const m = kid(kid(kid(kid(payload, Tag.SymmetricKey), Tag.KeyBlock), Tag.KeyValue), Tag.KeyMaterial);
  return m?.type === 'ByteString' ? m.value : undefined;
}

function links(attrs: readonly TtlvItem[]): [number, string | undefined][] {
  return attrs
    .filter((a) => a.tag === Tag.Link)
    .map((l) => {
      const t = kid(l, Tag.LinkType);
      return [t?.type === 'Enumeration' ? t.value : -1, text(l, Tag.LinkedObjectIdentifier)];
    });
}

async function attributesOf(h: Harness, id: string): Promise<TtlvItem[]> {
  const r = await h.ok('2.0', Operation.GetAttributes, [T(Tag.UniqueIdentifier, id)]);
  const attrs = kid(r, Tag.Attributes);
  return attrs?.type === 'Structure' ? [...attrs.value] : [];
}

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e: unknown) {
    return e instanceof KmipError ? e.reason : String(e);
  }
  return undefined;
}

describe('operations/import', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness({ clock });
  });
  afterEach(async () => h.close());

  const key = new Uint8Array(randomBytes(16));
  const importPayload = (id: string, replace: boolean | undefined, k = key): TtlvItem[] => [
    T(Tag.UniqueIdentifier, id),
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    ...(replace === undefined
      ? []
      : [{ tag: Tag.ReplaceExisting, type: 'Boolean', value: replace } as TtlvItem]),
    S(Tag.Attributes, [
      T(Tag.UniqueIdentifier, id),
      E(Tag.ObjectType, ObjectType.SymmetricKey),
      E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
      I(Tag.CryptographicLength, 128),
      E(Tag.State, State.Active),
      D(Tag.InitialDate, 1_500_000_000),
      D(Tag.LastChangeDate, 1_500_000_100),
    ]),
    symmetricKey(k),
  ];

  it('stores the object under the given identifier with the supplied attributes as they are', async () => {
    const r = await h.ok('2.0', Operation.Import, importPayload('imported-1', undefined));
    expect(text(r, Tag.UniqueIdentifier)).to.equal('imported-1');
    const attrs = await attributesOf(h, 'imported-1');
    const state = attrs.find((a) => a.tag === Tag.State);
    expect(state?.value).to.equal(State.Active);
    expect(attrs.find((a) => a.tag === Tag.LastChangeDate)?.value).to.equal(1_500_000_100n);
    expect(attrs.find((a) => a.tag === Tag.InitialDate)?.value).to.equal(1_500_000_000n);
    expect(attrs.some((a) => a.tag === Tag.Digest)).to.equal(true);
    const got = await h.ok('2.0', Operation.Get, [T(Tag.UniqueIdentifier, 'imported-1')]);
    expect(Buffer.from(material(got) ?? [])).to.deep.equal(Buffer.from(key));
  });

  it('refuses an existing identifier unless Replace Existing is true', async () => {
    await h.ok('2.0', Operation.Import, importPayload('imported-2', false));
    const [again] = await h.send('2.0', [
      { op: Operation.Import, payload: importPayload('imported-2', false) },
    ]);
    expect(again?.reason).to.equal(ResultReason.ObjectAlreadyExists);
    const other = new Uint8Array(randomBytes(16));
    await h.ok('2.0', Operation.Import, importPayload('imported-2', true, other));
    const got = await h.ok('2.0', Operation.Get, [T(Tag.UniqueIdentifier, 'imported-2')]);
    expect(Buffer.from(material(got) ?? [])).to.deep.equal(Buffer.from(other));
  });

  it('sets the ID Placeholder and needs a Unique Identifier', async () => {
    const [imp, get] = await h.send('2.0', [
      { op: Operation.Import, payload: importPayload('imported-3', undefined) },
      { op: Operation.Get, payload: [] },
    ]);
    expect(imp?.status).to.equal(0);
    expect(text(get?.payload, Tag.UniqueIdentifier)).to.equal('imported-3');
    const [bad] = await h.send('2.0', [
      { op: Operation.Import, payload: importPayload('x', undefined).slice(1) },
    ]);
    expect(bad?.reason).to.equal(ResultReason.InvalidMessage);
  });

  it('unwraps a wrapped key when Key Wrap Type is Not Wrapped', async () => {
    const kek = new Uint8Array(randomBytes(16));
    const reg = await h.ok('2.0', Operation.Register, [
      E(Tag.ObjectType, ObjectType.SymmetricKey),
      S(Tag.Attributes, [
        I(Tag.CryptographicUsageMask, CryptographicUsageMask.WrapKey | CryptographicUsageMask.UnwrapKey),
        D(Tag.ActivationDate, NOW - 10),
      ]),
      symmetricKey(kek),
    ]);
    const kekId = text(reg, Tag.UniqueIdentifier) ?? '';
    const wrapped = S(Tag.SymmetricKey, [
      S(Tag.KeyBlock, [
        E(Tag.KeyFormatType, KeyFormatType.Raw),
        B(Tag.KeyValue, aesKeyWrap(kek, key)),
        E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        I(Tag.CryptographicLength, 128),
        S(Tag.KeyWrappingData, [
          E(Tag.WrappingMethod, WrappingMethod.Encrypt),
          S(Tag.EncryptionKeyInformation, [T(Tag.UniqueIdentifier, kekId)]),
          E(Tag.EncodingOption, EncodingOption.NoEncoding),
        ]),
      ]),
    ]);
    const payload = importPayload('imported-4', undefined).slice(0, -1);
    await h.ok('2.0', Operation.Import, [...payload, E(Tag.KeyWrapType, KeyWrapType.NotWrapped), wrapped]);
    const got = await h.ok('2.0', Operation.Get, [T(Tag.UniqueIdentifier, 'imported-4')]);
    expect(Buffer.from(material(got) ?? [])).to.deep.equal(Buffer.from(key));
    expect(kid(kid(kid(got, Tag.SymmetricKey), Tag.KeyBlock), Tag.KeyWrappingData)).to.equal(undefined);
  });
});

describe('operations/adjust-attribute', () => {
  const amount = (n: bigint) => () => n;

  it('increments, decrements and negates numbers, dates and booleans', () => {
    expect(adjustValue(I(Tag.CryptographicUsageMask, 5), AdjustmentType.Increment, amount(3n))).to.include({
      value: 8,
    });
    expect(adjustValue(D(Tag.ActivationDate, 100), AdjustmentType.Decrement, amount(40n))).to.include({
      value: 60n,
    });
    const ext: TtlvItem = { tag: 1, type: 'DateTimeExtended', value: 5_000_000n };
    expect(adjustValue(ext, AdjustmentType.Increment, amount(2n))).to.include({ value: 7_000_000n });
    const flag: TtlvItem = { tag: Tag.Sensitive, type: 'Boolean', value: true };
    expect(adjustValue(flag, AdjustmentType.Negate, amount(0n))).to.include({ value: false });
    const long: TtlvItem = { tag: 1, type: 'LongInteger', value: 7n };
    expect(adjustValue(long, AdjustmentType.Negate, amount(0n))).to.include({ value: -7n });
  });

  it('refuses adjustments that do not apply or overflow', () => {
    const iv: TtlvItem = { tag: Tag.LeaseTime, type: 'Interval', value: 10 };
    expect(reasonOf(() => adjustValue(iv, AdjustmentType.Decrement, amount(11n)))).to.equal(
      'InvalidAttributeValue',
    );
    expect(reasonOf(() => adjustValue(iv, AdjustmentType.Negate, amount(0n)))).to.equal('InvalidField');
    const s = T(Tag.Comment, 'x');
    expect(reasonOf(() => adjustValue(s, AdjustmentType.Increment, amount(1n)))).to.equal('InvalidField');
    const max = I(1, 2 ** 31 - 1);
    expect(reasonOf(() => adjustValue(max, AdjustmentType.Increment, amount(1n)))).to.equal(
      'InvalidAttributeValue',
    );
  });

  describe('through the executor (2.0)', () => {
    let h: Harness;
    let id: string;
    beforeEach(async () => {
      h = await openHarness({ clock });
      const r = await h.ok('2.0', Operation.Create, [
        E(Tag.ObjectType, ObjectType.SymmetricKey),
        S(Tag.Attributes, [
          E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
          I(Tag.CryptographicLength, 128),
          I(Tag.CryptographicUsageMask, CryptographicUsageMask.Encrypt),
          D(Tag.ActivationDate, NOW + 1000),
        ]),
      ]);
      id = text(r, Tag.UniqueIdentifier) ?? '';
    });
    afterEach(async () => h.close());

    const adjust = (tag: number, type: number, value?: TtlvItem) => [
      T(Tag.UniqueIdentifier, id),
      E(Tag.AttributeReference, tag),
      E(Tag.AdjustmentType, type),
      ...(value === undefined ? [] : [value]),
    ];

    it('moves a date by the Adjustment Value', async () => {
      const r = await h.ok(
        '2.0',
        Operation.AdjustAttribute,
        adjust(Tag.ActivationDate, AdjustmentType.Increment, I(Tag.AdjustmentValue, 3600)),
      );
      expect(text(r, Tag.UniqueIdentifier)).to.equal(id);
      const attrs = await attributesOf(h, id);
      expect(attrs.find((a) => a.tag === Tag.ActivationDate)?.value).to.equal(BigInt(NOW + 4600));
    });

    it('answers the spec errors', async () => {
      const reasonFor = async (payload: TtlvItem[]) =>
        (await h.send('2.0', [{ op: Operation.AdjustAttribute, payload }]))[0]?.reason;
      const one = I(Tag.AdjustmentValue, 1);
      expect(await reasonFor(adjust(Tag.DeactivationDate, AdjustmentType.Increment, one))).to.equal(
        ResultReason.AttributeNotFound,
      );
      expect(await reasonFor(adjust(Tag.InitialDate, AdjustmentType.Increment, one))).to.equal(
        ResultReason.AttributeReadOnly,
      );
      expect(await reasonFor(adjust(Tag.ActivationDate, AdjustmentType.Increment))).to.equal(
        ResultReason.InvalidField,
      );
    });
  });
});

describe('operations/rekey-key-pair', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness({ clock });
  });
  afterEach(async () => h.close());

  const v1Attr = (name: string, value: TtlvItem): TtlvItem =>
    S(Tag.Attribute, [T(Tag.AttributeName, name), { ...value, tag: Tag.AttributeValue } as TtlvItem]);
  const name = (n: string) =>
    v1Attr('Name', S(Tag.Name, [T(Tag.NameValue, n), E(Tag.NameType, NameType.UninterpretedTextString)]));

  async function createPair(): Promise<{ priv: string; pub: string }> {
    const r = await h.ok('1.1', Operation.CreateKeyPair, [
      S(Tag.CommonTemplateAttribute, [
        v1Attr('Cryptographic Algorithm', E(0, CryptographicAlgorithm.RSA)),
        v1Attr('Cryptographic Length', I(0, 1024)),
        v1Attr('Activation Date', D(0, NOW - 100)),
      ]),
      S(Tag.PrivateKeyTemplateAttribute, [name('rkp-priv'), v1Attr('Cryptographic Usage Mask', I(0, 1))]),
      S(Tag.PublicKeyTemplateAttribute, [name('rkp-pub'), v1Attr('Cryptographic Usage Mask', I(0, 2))]),
    ]);
    return {
      priv: text(r, Tag.PrivateKeyUniqueIdentifier) ?? '',
      pub: text(r, Tag.PublicKeyUniqueIdentifier) ?? '',
    };
  }

  it('links old and new keys, moves the Names, applies the Offset and sets the ID Placeholder', async () => {
    const old = await createPair();
    const [rk, ga] = await h.send('1.1', [
      {
        op: Operation.ReKeyKeyPair,
        payload: [
          T(Tag.PrivateKeyUniqueIdentifier, old.priv),
          { tag: Tag.Offset, type: 'Interval', value: 500 },
        ],
      },
      { op: Operation.GetAttributes, payload: [] },
    ]);
    expect(rk?.status).to.equal(0);
    const priv = text(rk?.payload, Tag.PrivateKeyUniqueIdentifier) ?? '';
    const pub = text(rk?.payload, Tag.PublicKeyUniqueIdentifier) ?? '';
    expect(text(ga?.payload, Tag.UniqueIdentifier)).to.equal(priv);

    expect(links(await attributesOf(h, priv))).to.deep.equal([
      [LinkType.PublicKeyLink, pub],
      [LinkType.ReplacedObjectLink, old.priv],
    ]);
    expect(links(await attributesOf(h, pub))).to.deep.equal([
      [LinkType.PrivateKeyLink, priv],
      [LinkType.ReplacedObjectLink, old.pub],
    ]);
    expect(links(await attributesOf(h, old.priv))).to.deep.equal([
      [LinkType.PublicKeyLink, old.pub],
      [LinkType.ReplacementObjectLink, priv],
    ]);
    expect(links(await attributesOf(h, old.pub))).to.deep.equal([
      [LinkType.PrivateKeyLink, old.priv],
      [LinkType.ReplacementObjectLink, pub],
    ]);

    const newPriv = await attributesOf(h, priv);
    expect(newPriv.find((a) => a.tag === Tag.ActivationDate)?.value).to.equal(BigInt(NOW + 500));
    expect(newPriv.find((a) => a.tag === Tag.State)?.value).to.equal(State.PreActive);
    expect(
      text(
        newPriv.find((a) => a.tag === Tag.Name),
        Tag.NameValue,
      ),
    ).to.equal('rkp-priv');
    expect((await attributesOf(h, old.priv)).some((a) => a.tag === Tag.Name)).to.equal(false);
    expect(
      text(
        (await attributesOf(h, pub)).find((a) => a.tag === Tag.Name),
        Tag.NameValue,
      ),
    ).to.equal('rkp-pub');
    expect((await attributesOf(h, old.priv)).find((a) => a.tag === Tag.State)?.value).to.equal(State.Active);
  });

  it('refuses a key that is not a Private Key', async () => {
    const old = await createPair();
    const [v1] = await h.send('1.1', [
      { op: Operation.ReKeyKeyPair, payload: [T(Tag.PrivateKeyUniqueIdentifier, old.pub)] },
    ]);
    expect(v1?.reason).to.equal(ResultReason.IllegalOperation);
    const [v2] = await h.send('2.0', [
      { op: Operation.ReKeyKeyPair, payload: [T(Tag.PrivateKeyUniqueIdentifier, old.pub)] },
    ]);
    expect(v2?.reason).to.equal(ResultReason.InvalidObjectType);
  });
});
