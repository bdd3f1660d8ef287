import { expect } from 'chai';
import { joinSecret, splitSecret } from '../../../src/kmip/operations/support/secret-sharing.js';
import {
  CryptographicAlgorithm,
  KeyFormatType,
  type KmipVersion,
  NameType,
  ObjectType,
  Operation,
  ResultReason,
  SplitKeyMethod,
  Tag,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import { B, E, type Harness, I, kid, kids, S, T, text, useHarness } from './harness.js';

const KEY = Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex');
const isV2 = (v: KmipVersion) => v.startsWith('2.');

function attrs(v: KmipVersion, items: TtlvItem[]): TtlvItem {
  if (isV2(v)) return S(Tag.Attributes, items);
  return S(
    Tag.TemplateAttribute,
    items.map((i) => {
      const names: Record<number, string> = {
        [Tag.CryptographicAlgorithm]: 'Cryptographic Algorithm',
        [Tag.CryptographicLength]: 'Cryptographic Length',
        [Tag.CryptographicUsageMask]: 'Cryptographic Usage Mask',
        [Tag.QuantumSafe]: 'Quantum Safe',
        [Tag.Name]: 'Name',
      };
      return S(Tag.Attribute, [
        T(Tag.AttributeName, names[i.tag] ?? '?'),
        { ...i, tag: Tag.AttributeValue } as TtlvItem,
      ]);
    }),
  );
}

async function registerAes(h: Harness, v: KmipVersion): Promise<string> {
  const p = await h.ok(v, Operation.Register, [
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    attrs(v, [I(Tag.CryptographicUsageMask, 12)]),
    S(Tag.SymmetricKey, [
      S(Tag.KeyBlock, [
        E(Tag.KeyFormatType, KeyFormatType.Raw),
        S(Tag.KeyValue, [B(Tag.KeyMaterial, KEY)]),
        E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        I(Tag.CryptographicLength, 128),
      ]),
    ]),
  ]);
  return text(p, Tag.UniqueIdentifier) ?? '';
}

function split(uid: string, parts: number, threshold: number, method: number): TtlvItem[] {
  return [
    E(Tag.ObjectType, ObjectType.SplitKey),
    T(Tag.UniqueIdentifier, uid),
    I(Tag.SplitKeyParts, parts),
    I(Tag.SplitKeyThreshold, threshold),
    E(Tag.SplitKeyMethod, method),
  ];
}

function join(v: KmipVersion, ids: string[]): TtlvItem[] {
  return [
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    ...ids.map((id) => T(Tag.UniqueIdentifier, id)),
    attrs(v, [E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES), I(Tag.CryptographicLength, 128)]),
  ];
}

async function keyMaterial(h: Harness, v: KmipVersion, id: string): Promise<Buffer> {
  const p = await h.ok(v, Operation.Get, [T(Tag.UniqueIdentifier, id)]);
  const block = kid(kid(p, Tag.SymmetricKey) ?? kid(p, Tag.SplitKey), Tag.KeyBlock);
  const km = kid(kid(block, Tag.KeyValue), Tag.KeyMaterial);
  return Buffer.from(km?.type === 'ByteString' ? km.value : []);
}

describe('secret sharing (Create / Join Split Key)', () => {
  it('joins the OASIS TC-SJ-2/3 GF(2^8) parts of 0102…10 from any two of them', () => {
    const parts = [
      '66C46A7754F94DE420C7B1A7FFF5EC56',
      'CF93D1E2A7E593CD5B8D6247F4E5D49C',
      'A855B891F61AD9217240D8EC061E37DA',
      '803DBAD55CDD329FAD19D99AE2C5A415',
    ].map((h, i) => ({ id: i + 1, bytes: Buffer.from(h, 'hex') }));
    const p = { parts: 4, threshold: 2, method: SplitKeyMethod.PolynomialSharingGF2_8 };
    for (const [a, b] of [
      [0, 1],
      [1, 3],
      [2, 0],
    ] as const) {
      expect(Buffer.from(joinSecret([parts[a], parts[b]] as never, p, 16))).to.deep.equal(KEY);
    }
  });

  it('splits and joins with every supported method, and refuses too few parts', () => {
    const methods = [
      { parts: 5, threshold: 3, method: SplitKeyMethod.PolynomialSharingGF2_8 },
      { parts: 3, threshold: 3, method: SplitKeyMethod.XOR },
      // 2^127 - 1 is prime and above the 16-byte key 0102…
      { parts: 4, threshold: 2, method: SplitKeyMethod.PolynomialSharingPrimeField, prime: 2n ** 127n - 1n },
    ];
    for (const p of methods) {
      const parts = splitSecret(KEY, p);
      expect(parts).to.have.length(p.parts);
      const some = parts.slice(parts.length - p.threshold);
      expect(Buffer.from(joinSecret(some, p, 16))).to.deep.equal(KEY);
      expect(() => joinSecret(some.slice(1), p, 16)).to.throw(/threshold/i);
    }
  });
});

describe('Create Split Key / Join Split Key operations', () => {
  const h = useHarness();

  for (const v of ['1.4', '2.1'] as const) {
    it(`splits a registered key into Split Key objects and joins them back (${v})`, async () => {
      const uid = await registerAes(h, v);
      const p = await h.ok(
        v,
        Operation.CreateSplitKey,
        split(uid, 4, 2, SplitKeyMethod.PolynomialSharingGF2_8),
      );
      const ids = kids(p, Tag.UniqueIdentifier).map((c) => (c.type === 'TextString' ? c.value : ''));
      expect(ids).to.have.length(4);
      const got = await h.ok(v, Operation.Get, [T(Tag.UniqueIdentifier, ids[2] ?? '')]);
      expect(kid(got, Tag.ObjectType)).to.deep.include({ value: ObjectType.SplitKey });
      const sk = kid(got, Tag.SplitKey);
      expect(kid(sk, Tag.KeyPartIdentifier)).to.deep.include({ value: 3 });
      expect(kid(sk, Tag.SplitKeyThreshold)).to.deep.include({ value: 2 });
      expect(kid(kid(sk, Tag.KeyBlock), Tag.CryptographicLength)).to.deep.include({ value: 128 });
      const joined = await h.ok(v, Operation.JoinSplitKey, join(v, [ids[3] ?? '', ids[0] ?? '']));
      expect(await keyMaterial(h, v, text(joined, Tag.UniqueIdentifier) ?? '')).to.deep.equal(KEY);
      const [few] = await h.send(v, [{ op: Operation.JoinSplitKey, payload: join(v, [ids[1] ?? '']) }]);
      expect(few?.reason).to.equal(ResultReason.CryptographicFailure);
    });
  }

  it('refuses a threshold above the parts and XOR with a threshold below the parts', async () => {
    const uid = await registerAes(h, '1.4');
    for (const payload of [
      split(uid, 2, 3, SplitKeyMethod.PolynomialSharingGF2_8),
      split(uid, 3, 2, SplitKeyMethod.XOR),
    ]) {
      const [r] = await h.send('1.4', [{ op: Operation.CreateSplitKey, payload }]);
      expect(r?.reason).to.equal(ResultReason.InvalidField);
    }
  });
});

describe('Quantum Safe on Create / Create Key Pair', () => {
  const h = useHarness();

  const create = (length: number): TtlvItem[] => [
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    attrs('2.1', [
      E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
      I(Tag.CryptographicLength, length),
      I(Tag.CryptographicUsageMask, 12),
      { tag: Tag.QuantumSafe, type: 'Boolean', value: true },
    ]),
  ];

  it('refuses AES-128 with Quantum Safe True (QS-M-2) and makes AES-256', async () => {
    const [r] = await h.send('2.1', [{ op: Operation.Create, payload: create(128) }]);
    expect(r?.reason).to.equal(ResultReason.GeneralFailure);
    expect(r?.message).to.match(/quantum safe/i);
    await h.ok('2.1', Operation.Create, create(256));
  });

  it('refuses an RSA key pair with Quantum Safe True', async () => {
    const [r] = await h.send('2.1', [
      {
        op: Operation.CreateKeyPair,
        payload: [
          S(Tag.CommonAttributes, [
            E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.RSA),
            I(Tag.CryptographicLength, 2048),
            { tag: Tag.QuantumSafe, type: 'Boolean', value: true },
          ]),
          S(Tag.PrivateKeyAttributes, [I(Tag.CryptographicUsageMask, 1)]),
          S(Tag.PublicKeyAttributes, [I(Tag.CryptographicUsageMask, 2)]),
        ],
      },
    ]);
    expect(r?.reason).to.equal(ResultReason.GeneralFailure);
  });
});

describe('KMIP 1.0 Templates named inside the Template structure', () => {
  const h = useHarness();

  it('are found by Locate and applied by name without giving the key their Name (TC-312-10, SASED-M-2-10)', async () => {
    const name = (n: string) =>
      S(Tag.Name, [T(Tag.NameValue, n), E(Tag.NameType, NameType.UninterpretedTextString)]);
    const attr = (n: string, value: TtlvItem) =>
      S(Tag.Attribute, [T(Tag.AttributeName, n), { ...value, tag: Tag.AttributeValue } as TtlvItem]);
    const reg = await h.ok('1.0', Operation.Register, [
      E(Tag.ObjectType, ObjectType.Template),
      S(Tag.TemplateAttribute, []),
      S(Tag.Template, [attr('Object Group', T(Tag.ObjectGroup, 'g1')), attr('Name', name('tmpl-1'))]),
    ]);
    const tid = text(reg, Tag.UniqueIdentifier);
    const found = await h.ok('1.0', Operation.Locate, [
      attr('Name', name('tmpl-1')),
      attr('Object Type', E(Tag.ObjectType, ObjectType.Template)),
    ]);
    expect(text(found, Tag.UniqueIdentifier)).to.equal(tid);
    const created = await h.ok('1.0', Operation.Create, [
      E(Tag.ObjectType, ObjectType.SymmetricKey),
      S(Tag.TemplateAttribute, [
        name('tmpl-1'),
        attr('Cryptographic Algorithm', E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES)),
        attr('Cryptographic Length', I(Tag.CryptographicLength, 128)),
        attr('Cryptographic Usage Mask', I(Tag.CryptographicUsageMask, 12)),
      ]),
    ]);
    const kidId = text(created, Tag.UniqueIdentifier) ?? '';
    const got = await h.ok('1.0', Operation.GetAttributes, [
      T(Tag.UniqueIdentifier, kidId),
      T(Tag.AttributeName, 'Object Group'),
      T(Tag.AttributeName, 'Name'),
      T(Tag.AttributeName, 'State'),
    ]);
    const names = kids(got, Tag.Attribute).map((a) => text(a, Tag.AttributeName));
    expect(names).to.include('Object Group');
    expect(names).to.not.include('Name');
    expect(names).to.include('State');
  });
});
