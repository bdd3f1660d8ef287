import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { expect } from 'chai';
import {
  CryptographicAlgorithm,
  KeyFormatType,
  type KmipVersion,
  LinkType,
  NameType,
  ObjectType,
  Operation,
  RecommendedCurve,
  ResultReason,
  Tag,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem, TtlvStructure } from '../../../src/kmip/ttlv/types.js';
import { E, I, kid, kids, S, T, text, useHarness } from './harness.js';

const A = CryptographicAlgorithm;
const MESSAGE = Buffer.from('sign me');

function v1Attr(name: string, value: TtlvItem): TtlvItem {
  return S(Tag.Attribute, [T(Tag.AttributeName, name), { ...value, tag: Tag.AttributeValue } as TtlvItem]);
}

/** Create Key Pair payload for `version`: common algorithm/length, per-key name and mask. */
function pairPayload(version: KmipVersion, common: TtlvItem[], label: string): TtlvItem[] {
  const v2 = version.startsWith('2');
  const name = (n: string) =>
    S(Tag.Name, [T(Tag.NameValue, n), E(Tag.NameType, NameType.UninterpretedTextString)]);
  const lists: [number, number, TtlvItem[]][] = [
    [Tag.CommonTemplateAttribute, Tag.CommonAttributes, common],
    [
      Tag.PrivateKeyTemplateAttribute,
      Tag.PrivateKeyAttributes,
      [name(`${label}-priv`), I(Tag.CryptographicUsageMask, 1)],
    ],
    [
      Tag.PublicKeyTemplateAttribute,
      Tag.PublicKeyAttributes,
      [name(`${label}-pub`), I(Tag.CryptographicUsageMask, 2)],
    ],
  ];
  const v1Names: Record<number, string> = {
    [Tag.CryptographicAlgorithm]: 'Cryptographic Algorithm',
    [Tag.CryptographicLength]: 'Cryptographic Length',
    [Tag.CryptographicDomainParameters]: 'Cryptographic Domain Parameters',
    [Tag.Name]: 'Name',
    [Tag.CryptographicUsageMask]: 'Cryptographic Usage Mask',
  };
  return lists.map(([t1, t2, items]) =>
    v2
      ? S(t2, items)
      : S(
          t1,
          items.map((it) => v1Attr(v1Names[it.tag] ?? '?', it)),
        ),
  );
}

function keyMaterial(payload: TtlvStructure): { format: number | undefined; material: TtlvItem | undefined } {
  const obj = payload.value.find((c) => c.tag === Tag.PrivateKey || c.tag === Tag.PublicKey);
  const kb = kid(obj, Tag.KeyBlock);
  const f = kid(kb, Tag.KeyFormatType);
  return {
    format: f?.type === 'Enumeration' ? f.value : undefined,
    material: kid(kid(kb, Tag.KeyValue), Tag.KeyMaterial),
  };
}

function der(item: TtlvItem | undefined): Buffer {
  if (item?.type !== 'ByteString') throw new Error('key material is not a byte string');
  return Buffer.from(item.value);
}

describe('operations/create-key-pair', () => {
  const h = useHarness({}, { each: true });

  for (const version of ['1.0', '1.4', '2.1'] as const) {
    it(`creates a linked RSA-2048 pair in ${version}; Get gives PKCS#1 that signs and verifies`, async () => {
      const common = [E(Tag.CryptographicAlgorithm, A.RSA), I(Tag.CryptographicLength, 2048)];
      const resp = await h.ok(
        version,
        Operation.CreateKeyPair,
        pairPayload(version, common, `rsa-${version}`),
      );
      const privId = text(resp, Tag.PrivateKeyUniqueIdentifier);
      const pubId = text(resp, Tag.PublicKeyUniqueIdentifier);
      expect(privId).to.be.a('string');
      expect(pubId).to.be.a('string').and.not.equal(privId);

      const priv = await h.objects.require(privId ?? '');
      const pub = await h.objects.require(pubId ?? '');
      expect(priv.objectType).to.equal(ObjectType.PrivateKey);
      expect(pub.objectType).to.equal(ObjectType.PublicKey);
      const link = (attrs: typeof priv.attributes) => attrs.find((a) => a.value.tag === Tag.Link)?.value;
      expect(text(link(priv.attributes), Tag.LinkedObjectIdentifier)).to.equal(pubId);
      expect(kid(link(priv.attributes), Tag.LinkType)).to.deep.include({ value: LinkType.PublicKeyLink });
      expect(text(link(pub.attributes), Tag.LinkedObjectIdentifier)).to.equal(privId);
      const mask = (attrs: typeof priv.attributes) =>
        attrs.find((a) => a.value.tag === Tag.CryptographicUsageMask)?.value;
      expect(mask(priv.attributes)).to.deep.include({ value: 1 });
      expect(mask(pub.attributes)).to.deep.include({ value: 2 });

      const gp = await h.ok(version, Operation.Get, [T(Tag.UniqueIdentifier, privId ?? '')]);
      const gq = await h.ok(version, Operation.Get, [T(Tag.UniqueIdentifier, pubId ?? '')]);
      expect(keyMaterial(gp).format).to.equal(KeyFormatType.PKCS_1);
      const privKey = createPrivateKey({ key: der(keyMaterial(gp).material), format: 'der', type: 'pkcs1' });
      const pubKey = createPublicKey({ key: der(keyMaterial(gq).material), format: 'der', type: 'pkcs1' });
      expect(privKey.asymmetricKeyDetails?.modulusLength).to.equal(2048);
      expect(verify('sha256', MESSAGE, pubKey, sign('sha256', MESSAGE, privKey))).to.equal(true);
    });
  }

  it('sets the ID Placeholder to the private key', async () => {
    const common = [E(Tag.CryptographicAlgorithm, A.RSA), I(Tag.CryptographicLength, 1024)];
    const [c, a] = await h.send('1.4', [
      { op: Operation.CreateKeyPair, payload: pairPayload('1.4', common, 'ph') },
      { op: Operation.Activate, payload: [] },
    ]);
    expect(c?.status).to.equal(0);
    expect(a?.status).to.equal(0);
    expect(text(a?.payload, Tag.UniqueIdentifier)).to.equal(text(c?.payload, Tag.PrivateKeyUniqueIdentifier));
  });

  it('creates an EC P-256 pair from a Recommended Curve (2.1) and converts it on Get', async () => {
    const common = [
      E(Tag.CryptographicAlgorithm, A.EC),
      S(Tag.CryptographicDomainParameters, [E(Tag.RecommendedCurve, RecommendedCurve.P_256)]),
    ];
    const resp = await h.ok('2.1', Operation.CreateKeyPair, pairPayload('2.1', common, 'ec'));
    const privId = text(resp, Tag.PrivateKeyUniqueIdentifier) ?? '';
    const pubId = text(resp, Tag.PublicKeyUniqueIdentifier) ?? '';
    const gp = await h.ok('2.1', Operation.Get, [
      T(Tag.UniqueIdentifier, privId),
      E(Tag.KeyFormatType, KeyFormatType.ECPrivateKey),
    ]);
    expect(keyMaterial(gp).format).to.equal(KeyFormatType.ECPrivateKey);
    const privKey = createPrivateKey({ key: der(keyMaterial(gp).material), format: 'der', type: 'sec1' });
    const gq = await h.ok('2.1', Operation.Get, [T(Tag.UniqueIdentifier, pubId)]);
    expect(keyMaterial(gq).format).to.equal(KeyFormatType.X_509);
    const pubKey = createPublicKey({ key: der(keyMaterial(gq).material), format: 'der', type: 'spki' });
    expect(pubKey.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
    expect(verify('sha256', MESSAGE, pubKey, sign('sha256', MESSAGE, privKey))).to.equal(true);

    const tq = await h.ok('2.1', Operation.Get, [
      T(Tag.UniqueIdentifier, pubId),
      E(Tag.KeyFormatType, KeyFormatType.TransparentECPublicKey),
    ]);
    const m = keyMaterial(tq).material;
    expect(kid(m, Tag.RecommendedCurve)).to.deep.include({ value: RecommendedCurve.P_256 });
    expect(kids(m, Tag.QString)).to.have.length(1);
  });

  it('returns Transparent RSA on request and refuses an impossible format', async () => {
    const common = [E(Tag.CryptographicAlgorithm, A.RSA), I(Tag.CryptographicLength, 1024)];
    const resp = await h.ok('1.4', Operation.CreateKeyPair, pairPayload('1.4', common, 't'));
    const privId = text(resp, Tag.PrivateKeyUniqueIdentifier) ?? '';
    const g = await h.ok('1.4', Operation.Get, [
      T(Tag.UniqueIdentifier, privId),
      E(Tag.KeyFormatType, KeyFormatType.TransparentRSAPrivateKey),
    ]);
    const m = keyMaterial(g).material;
    for (const t of [
      Tag.Modulus,
      Tag.PrivateExponent,
      Tag.PublicExponent,
      Tag.P,
      Tag.Q,
      Tag.CRTCoefficient,
    ]) {
      expect(kid(m, t)?.type).to.equal('BigInteger');
    }
    const [bad] = await h.send('1.4', [
      {
        op: Operation.Get,
        payload: [T(Tag.UniqueIdentifier, privId), E(Tag.KeyFormatType, KeyFormatType.X_509)],
      },
    ]);
    expect(bad?.reason).to.equal(ResultReason.KeyFormatTypeNotSupported);
  });

  it('refuses an unsupported algorithm or length with Invalid Field', async () => {
    for (const common of [
      [E(Tag.CryptographicAlgorithm, A.AES), I(Tag.CryptographicLength, 256)],
      [E(Tag.CryptographicAlgorithm, A.RSA), I(Tag.CryptographicLength, 512)],
      [E(Tag.CryptographicAlgorithm, A.EC), I(Tag.CryptographicLength, 300)],
    ]) {
      const [r] = await h.send('2.1', [
        { op: Operation.CreateKeyPair, payload: pairPayload('2.1', common, 'x') },
      ]);
      expect(r?.reason).to.equal(ResultReason.InvalidField);
    }
  });
});
