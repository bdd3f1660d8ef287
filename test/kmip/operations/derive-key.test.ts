import {
  createCipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  pbkdf2Sync,
  randomBytes,
} from 'node:crypto';
import { expect } from 'chai';
import { cmac } from '../../../src/crypto/digest.js';
import { v1NameOf } from '../../../src/kmip/messages/attributes.js';
import {
  BlockCipherMode,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  DerivationMethod,
  HashingAlgorithm,
  KeyFormatType,
  type KmipVersion,
  LinkType,
  ObjectType,
  Operation,
  RecommendedCurve,
  ResultReason,
  SecretDataType,
  State,
  Tag,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import { B, D, E, type Harness, I, kid, kids, S, T, text, useHarness } from './harness.js';

const A = CryptographicAlgorithm;
const U = CryptographicUsageMask;
const M = DerivationMethod;
const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const KEY = hex('00112233445566778899aabbccddeeff');
const PAST = Math.floor(Date.now() / 1000) - 3600;

/** Template-Attribute (1.x) or Attributes (2.x) holding `items`. */
function attrs(
  version: KmipVersion,
  items: TtlvItem[],
  v1: number = Tag.TemplateAttribute,
  v2: number = Tag.Attributes,
): TtlvItem {
  if (version.startsWith('2')) return S(v2, items);
  return S(
    v1,
    items.map((a) =>
      S(Tag.Attribute, [
        T(Tag.AttributeName, v1NameOf({ kind: 'standard', tag: a.tag })),
        { ...a, tag: Tag.AttributeValue } as TtlvItem,
      ]),
    ),
  );
}

function keyBlock(format: number, material: Uint8Array, algorithm?: number, bits?: number): TtlvItem {
  return S(Tag.KeyBlock, [
    E(Tag.KeyFormatType, format),
    S(Tag.KeyValue, [B(Tag.KeyMaterial, material)]),
    ...(algorithm === undefined ? [] : [E(Tag.CryptographicAlgorithm, algorithm)]),
    ...(bits === undefined ? [] : [I(Tag.CryptographicLength, bits)]),
  ]);
}

interface BaseOptions {
  readonly mask?: number;
  readonly active?: boolean;
  readonly algorithm?: number;
}

async function registerKey(
  h: Harness,
  version: KmipVersion,
  key: Uint8Array,
  o: BaseOptions = {},
): Promise<string> {
  const algorithm = o.algorithm ?? A.AES;
  const items = [
    I(Tag.CryptographicUsageMask, o.mask ?? U.Encrypt | U.Decrypt | U.DeriveKey),
    E(Tag.CryptographicAlgorithm, algorithm),
    I(Tag.CryptographicLength, key.length * 8),
    ...(o.active === false ? [] : [D(Tag.ActivationDate, PAST)]),
  ];
  const r = await h.ok(version, Operation.Register, [
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    attrs(version, items),
    S(Tag.SymmetricKey, [keyBlock(KeyFormatType.Raw, key, algorithm, key.length * 8)]),
  ]);
  return text(r, Tag.UniqueIdentifier) ?? '';
}

async function registerSecret(h: Harness, version: KmipVersion, bytes: Uint8Array, o: BaseOptions = {}) {
  const items = [
    I(Tag.CryptographicUsageMask, o.mask ?? U.DeriveKey),
    ...(o.active === false ? [] : [D(Tag.ActivationDate, PAST)]),
  ];
  const r = await h.ok(version, Operation.Register, [
    E(Tag.ObjectType, ObjectType.SecretData),
    attrs(version, items),
    S(Tag.SecretData, [
      E(Tag.SecretDataType, SecretDataType.Password),
      keyBlock(KeyFormatType.Opaque, bytes),
    ]),
  ]);
  return text(r, Tag.UniqueIdentifier) ?? '';
}

interface DeriveSpec {
  readonly ids: readonly string[];
  readonly method: number;
  readonly params: TtlvItem[];
  readonly objectType?: number;
  readonly algorithm?: number;
  readonly bits: number;
  readonly extra?: TtlvItem[];
}

function derivePayload(version: KmipVersion, s: DeriveSpec): TtlvItem[] {
  const objectType = s.objectType ?? ObjectType.SymmetricKey;
  const items = [
    ...(objectType === ObjectType.SymmetricKey ? [E(Tag.CryptographicAlgorithm, s.algorithm ?? A.AES)] : []),
    I(Tag.CryptographicLength, s.bits),
    I(Tag.CryptographicUsageMask, U.Encrypt | U.Decrypt),
    ...(s.extra ?? []),
  ];
  return [
    E(Tag.ObjectType, objectType),
    ...s.ids.map((id) => T(Tag.UniqueIdentifier, id)),
    E(Tag.DerivationMethod, s.method),
    S(Tag.DerivationParameters, s.params),
    attrs(version, items),
  ];
}

async function derive(h: Harness, version: KmipVersion, s: DeriveSpec): Promise<string> {
  const r = await h.ok(version, Operation.DeriveKey, derivePayload(version, s));
  const id = text(r, Tag.UniqueIdentifier);
  expect(r.value.map((c) => c.tag)).to.deep.equal([Tag.UniqueIdentifier]);
  return id ?? '';
}

async function deriveFails(h: Harness, version: KmipVersion, s: DeriveSpec): Promise<number | undefined> {
  const [r] = await h.send(version, [{ op: Operation.DeriveKey, payload: derivePayload(version, s) }]);
  expect(r?.status, r?.message).to.not.equal(0);
  expect(r?.message).to.be.a('string');
  return r?.reason;
}

/** The key bytes Get returns for `id`. */
async function material(h: Harness, version: KmipVersion, id: string): Promise<Buffer> {
  const r = await h.ok(version, Operation.Get, [T(Tag.UniqueIdentifier, id)]);
  const obj = kid(r, Tag.SymmetricKey) ?? kid(r, Tag.SecretData);
  const km = kid(kid(kid(obj, Tag.KeyBlock), Tag.KeyValue), Tag.KeyMaterial);
  if (km?.type !== 'ByteString') throw new Error('no key material');
  return Buffer.from(km.value);
}

function cryptoParams(items: TtlvItem[]): TtlvItem {
  return S(Tag.CryptographicParameters, items);
}

const sha256 = cryptoParams([E(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256)]);

function linksOf(attributes: readonly { value: TtlvItem }[], type: number): string[] {
  const out: string[] = [];
  for (const a of attributes) {
    const v = a.value;
    if (v.tag !== Tag.Link || v.type !== 'Structure') continue;
    const t = kid(v, Tag.LinkType);
    if (t?.type === 'Enumeration' && t.value === type) out.push(text(v, Tag.LinkedObjectIdentifier) ?? '');
  }
  return out;
}

function stateOfAttrs(attributes: readonly { value: TtlvItem }[]): number | undefined {
  const s = attributes.find((a) => a.value.tag === Tag.State)?.value;
  return s?.type === 'Enumeration' ? s.value : undefined;
}

describe('operations/derive-key', () => {
  const h = useHarness({}, { each: true });

  for (const version of ['1.0', '1.4', '2.0', '2.1'] as const) {
    describe(`KMIP ${version}`, () => {
      it('HASH: SHA-256 of the key cut to 128 bits (TC-DERIVEKEY-1)', async () => {
        const base = await registerKey(h, version, KEY);
        const id = await derive(h, version, { ids: [base], method: M.HASH, params: [sha256], bits: 128 });
        const got = await material(h, version, id);
        expect(got.toString('hex')).to.equal('a8faed6abbf35c12a4b26e40f6feb19d');
        expect(got).to.deep.equal(createHash('sha256').update(KEY).digest().subarray(0, 16));
      });

      it('HMAC: HMAC-SHA-256(key, Derivation Data) (TC-DERIVEKEY-2)', async () => {
        const base = await registerKey(h, version, KEY);
        const id = await derive(h, version, {
          ids: [base],
          method: M.HMAC,
          params: [sha256, B(Tag.DerivationData, hex('0102'))],
          bits: 128,
        });
        const got = await material(h, version, id);
        expect(got.toString('hex')).to.equal('1e15c1f1da233629f770fb0a04a5020e');
        expect(got).to.deep.equal(createHmac('sha256', KEY).update(hex('0102')).digest().subarray(0, 16));
      });

      it('PBKDF2 from a Secret Data password, HMAC-SHA-1 by default (TC-DERIVEKEY-3/4)', async () => {
        const base = await registerSecret(h, version, Buffer.from('password'));
        const id = await derive(h, version, {
          ids: [base],
          method: M.PBKDF2,
          params: [B(Tag.Salt, Buffer.from('salt')), I(Tag.IterationCount, 4096)],
          bits: 128,
        });
        const got = await material(h, version, id);
        expect(got.toString('hex')).to.equal('4b007901b765489abead49d926f721d0');
        expect(got).to.deep.equal(pbkdf2Sync('password', 'salt', 4096, 16, 'sha1'));
      });

      it('PBKDF2-SHA-256 into Secret Data of 384 bits (several keys/IVs at once)', async () => {
        const base = await registerSecret(h, version, Buffer.from('password'));
        const id = await derive(h, version, {
          ids: [base],
          method: M.PBKDF2,
          objectType: ObjectType.SecretData,
          params: [sha256, B(Tag.Salt, Buffer.from('salt')), I(Tag.IterationCount, 10)],
          bits: 384,
        });
        expect(await material(h, version, id)).to.deep.equal(
          pbkdf2Sync('password', 'salt', 10, 48, 'sha256'),
        );
        const obj = await h.objects.get(id);
        expect(obj?.objectType).to.equal(ObjectType.SecretData);
      });

      it('links the new object and its base, and is Pre-Active without an Activation Date', async () => {
        const base = await registerKey(h, version, KEY);
        const id = await derive(h, version, { ids: [base], method: M.HASH, params: [sha256], bits: 128 });
        const obj = await h.objects.get(id);
        const b = await h.objects.get(base);
        expect(linksOf(obj?.attributes ?? [], LinkType.DerivationBaseObjectLink)).to.deep.equal([base]);
        expect(linksOf(b?.attributes ?? [], LinkType.DerivedKeyLink)).to.deep.equal([id]);
        expect(stateOfAttrs(obj?.attributes ?? [])).to.equal(State.PreActive);
        const id2 = await derive(h, version, {
          ids: [base],
          method: M.HASH,
          params: [sha256],
          bits: 128,
          extra: [D(Tag.ActivationDate, PAST)],
        });
        expect(stateOfAttrs((await h.objects.get(id2))?.attributes ?? [])).to.equal(State.Active);
        const b2 = await h.objects.get(base);
        expect(linksOf(b2?.attributes ?? [], LinkType.DerivedKeyLink)).to.deep.equal([id, id2]);
      });

      it('sets the ID Placeholder: a following Get without identifier returns the derived key', async () => {
        const base = await registerKey(h, version, KEY);
        const [d, g] = await h.send(version, [
          {
            op: Operation.DeriveKey,
            payload: derivePayload(version, { ids: [base], method: M.HASH, params: [sha256], bits: 128 }),
          },
          { op: Operation.Get, payload: [] },
        ]);
        expect(d?.status).to.equal(0);
        expect(g?.status).to.equal(0);
        expect(text(g?.payload, Tag.UniqueIdentifier)).to.equal(text(d?.payload, Tag.UniqueIdentifier));
      });

      it('refuses a base without Derive Key in its usage mask', async () => {
        const base = await registerKey(h, version, KEY, { mask: U.Encrypt | U.Decrypt });
        const reason = await deriveFails(h, version, {
          ids: [base],
          method: M.HASH,
          params: [sha256],
          bits: 128,
        });
        expect(reason).to.equal(
          version.startsWith('2')
            ? ResultReason.IncompatibleCryptographicUsageMask
            : ResultReason.PermissionDenied,
        );
      });

      it('refuses a base that is not Active', async () => {
        const base = await registerKey(h, version, KEY, { active: false });
        const reason = await deriveFails(h, version, {
          ids: [base],
          method: M.HASH,
          params: [sha256],
          bits: 128,
        });
        expect(reason).to.equal(
          version === '2.1' ? ResultReason.WrongKeyLifecycleState : ResultReason.PermissionDenied,
        );
      });
    });
  }

  describe('methods', () => {
    it('ENCRYPT: AES-CBC of the Derivation Data under the base key with the given IV', async () => {
      const base = await registerKey(h, '1.4', KEY);
      const iv = randomBytes(16);
      const data = randomBytes(32);
      const id = await derive(h, '1.4', {
        ids: [base],
        method: M.ENCRYPT,
        params: [
          cryptoParams([E(Tag.BlockCipherMode, BlockCipherMode.CBC)]),
          B(Tag.InitializationVector, iv),
          B(Tag.DerivationData, data),
        ],
        bits: 256,
      });
      const c = createCipheriv('aes-128-cbc', KEY, iv).setAutoPadding(false);
      expect(await material(h, '1.4', id)).to.deep.equal(Buffer.concat([c.update(data), c.final()]));
    });

    it('ENCRYPT: ECB when asked; a partial block without padding is Cryptographic Failure', async () => {
      const base = await registerKey(h, '2.0', KEY);
      const data = randomBytes(16);
      const id = await derive(h, '2.0', {
        ids: [base],
        method: M.ENCRYPT,
        params: [cryptoParams([E(Tag.BlockCipherMode, BlockCipherMode.ECB)]), B(Tag.DerivationData, data)],
        bits: 128,
      });
      const c = createCipheriv('aes-128-ecb', KEY, null).setAutoPadding(false);
      expect(await material(h, '2.0', id)).to.deep.equal(Buffer.concat([c.update(data), c.final()]));
      const reason = await deriveFails(h, '2.0', {
        ids: [base],
        method: M.ENCRYPT,
        params: [
          cryptoParams([E(Tag.BlockCipherMode, BlockCipherMode.ECB)]),
          B(Tag.DerivationData, randomBytes(15)),
        ],
        bits: 128,
      });
      expect(reason).to.equal(ResultReason.CryptographicFailure);
    });

    it('NIST800-108-C with HMAC-SHA-256 (32-bit counter before the fixed data)', async () => {
      const key = randomBytes(32);
      const base = await registerKey(h, '2.1', key);
      const fixed = randomBytes(20);
      const id = await derive(h, '2.1', {
        ids: [base],
        method: M.NIST800_108_C,
        params: [sha256, B(Tag.DerivationData, fixed)],
        objectType: ObjectType.SecretData,
        bits: 384,
      });
      const block = (i: number) =>
        createHmac('sha256', key)
          .update(Buffer.concat([Buffer.from([0, 0, 0, i]), fixed]))
          .digest();
      expect(await material(h, '2.1', id)).to.deep.equal(Buffer.concat([block(1), block(2)]).subarray(0, 48));
    });

    it('NIST800-108-C with CMAC-AES when the Block Cipher Mode says CMAC', async () => {
      const base = await registerKey(h, '1.4', KEY);
      const fixed = randomBytes(20);
      const id = await derive(h, '1.4', {
        ids: [base],
        method: M.NIST800_108_C,
        params: [cryptoParams([E(Tag.BlockCipherMode, BlockCipherMode.CMAC)]), B(Tag.DerivationData, fixed)],
        bits: 256,
      });
      const block = (i: number) => cmac('aes', KEY, Buffer.concat([Buffer.from([0, 0, 0, i]), fixed]));
      expect(await material(h, '1.4', id)).to.deep.equal(Buffer.concat([block(1), block(2)]));
    });

    it('HKDF (2.x) with Salt and Derivation Data as info', async () => {
      const key = randomBytes(32);
      const base = await registerKey(h, '2.1', key);
      const salt = randomBytes(16);
      const info = randomBytes(10);
      const id = await derive(h, '2.1', {
        ids: [base],
        method: M.HKDF,
        params: [sha256, B(Tag.Salt, salt), B(Tag.DerivationData, info)],
        bits: 256,
      });
      expect(await material(h, '2.1', id)).to.deep.equal(
        Buffer.from(hkdfSync('sha256', key, salt, info, 32)),
      );
    });

    it('a second object (Secret Data) supplies the Derivation Data', async () => {
      const base = await registerKey(h, '1.4', KEY);
      const data = randomBytes(12);
      const secret = await registerSecret(h, '1.4', data);
      const id = await derive(h, '1.4', { ids: [base, secret], method: M.HMAC, params: [sha256], bits: 128 });
      expect(await material(h, '1.4', id)).to.deep.equal(
        createHmac('sha256', KEY).update(data).digest().subarray(0, 16),
      );
      const obj = await h.objects.get(id);
      expect(linksOf(obj?.attributes ?? [], LinkType.DerivationBaseObjectLink)).to.deep.equal([base, secret]);
    });

    it('HMAC key algorithms imply their hash', async () => {
      const key = randomBytes(32);
      const base = await registerKey(h, '1.4', key, { algorithm: A.HMAC_SHA384, mask: U.DeriveKey });
      const id = await derive(h, '1.4', {
        ids: [base],
        method: M.HMAC,
        params: [B(Tag.DerivationData, hex('aa'))],
        bits: 256,
      });
      expect(await material(h, '1.4', id)).to.deep.equal(
        createHmac('sha384', key).update(hex('aa')).digest().subarray(0, 32),
      );
    });

    for (const version of ['1.4', '2.0'] as const) {
      it(`AsymmetricKey (ECDH, secp256k1) gives both parties one key, in either identifier order (${version})`, async () => {
        const pair = async (): Promise<[string, string]> => {
          const common = [
            E(Tag.CryptographicAlgorithm, A.EC),
            S(Tag.CryptographicDomainParameters, [E(Tag.RecommendedCurve, RecommendedCurve.SECP256K1)]),
            D(Tag.ActivationDate, PAST),
          ];
          const r = await h.ok(version, Operation.CreateKeyPair, [
            attrs(version, common, Tag.CommonTemplateAttribute, Tag.CommonAttributes),
            attrs(
              version,
              [I(Tag.CryptographicUsageMask, U.DeriveKey | U.Sign)],
              Tag.PrivateKeyTemplateAttribute,
              Tag.PrivateKeyAttributes,
            ),
            attrs(
              version,
              [I(Tag.CryptographicUsageMask, U.DeriveKey | U.Verify)],
              Tag.PublicKeyTemplateAttribute,
              Tag.PublicKeyAttributes,
            ),
          ]);
          return [
            text(r, Tag.PrivateKeyUniqueIdentifier) ?? '',
            text(r, Tag.PublicKeyUniqueIdentifier) ?? '',
          ];
        };
        const [priv1, pub1] = await pair();
        const [priv2, pub2] = await pair();
        const params = [cryptoParams([E(Tag.CryptographicAlgorithm, A.ECDH)])];
        const k1 = await derive(h, version, {
          ids: [priv1, pub2],
          method: M.AsymmetricKey,
          params,
          bits: 256,
        });
        const k2 = await derive(h, version, {
          ids: [pub1, priv2],
          method: M.AsymmetricKey,
          params,
          bits: 256,
        });
        const m1 = await material(h, version, k1);
        expect(m1).to.deep.equal(await material(h, version, k2));
        // Independently: node:crypto with the keys Get returns.
        const pkcs8 = async (id: string) => {
          const r = await h.ok(version, Operation.Get, [
            T(Tag.UniqueIdentifier, id),
            E(Tag.KeyFormatType, KeyFormatType.PKCS_8),
          ]);
          const km = kid(kid(kid(kid(r, Tag.PrivateKey), Tag.KeyBlock), Tag.KeyValue), Tag.KeyMaterial);
          if (km?.type !== 'ByteString') throw new Error('no private key');
          return createPrivateKey({ key: Buffer.from(km.value), format: 'der', type: 'pkcs8' });
        };
        const p1 = await pkcs8(priv1);
        const p2 = await pkcs8(priv2);
        expect(diffieHellman({ privateKey: p1, publicKey: createPublicKey(p2) })).to.deep.equal(m1);
      });
    }
  });

  describe('refusals', () => {
    it('AWS Signature Version 4 is Feature Not Supported', async () => {
      const base = await registerKey(h, '2.0', KEY);
      expect(
        await deriveFails(h, '2.0', {
          ids: [base],
          method: M.AWSSignatureVersion4,
          params: [sha256, B(Tag.DerivationData, hex('00'))],
          bits: 128,
        }),
      ).to.equal(ResultReason.FeatureNotSupported);
    });

    it('missing Salt / Iteration Count / Derivation Data / hash → Invalid Field', async () => {
      const base = await registerKey(h, '1.4', KEY);
      const cases: [number, TtlvItem[]][] = [
        [M.PBKDF2, [I(Tag.IterationCount, 1)]],
        [M.PBKDF2, [B(Tag.Salt, hex('00'))]],
        [M.HMAC, [sha256]],
        [M.HASH, []],
        [M.NIST800_108_C, [sha256]],
      ];
      for (const [method, params] of cases) {
        expect(await deriveFails(h, '1.4', { ids: [base], method, params, bits: 128 })).to.equal(
          ResultReason.InvalidField,
        );
      }
    });

    it('a length past the method output, a bad Object Type, no or three identifiers → Invalid Field', async () => {
      const base = await registerKey(h, '2.0', KEY);
      const hash = { ids: [base], method: M.HASH, params: [sha256] };
      expect(await deriveFails(h, '2.0', { ...hash, objectType: ObjectType.SecretData, bits: 512 })).to.equal(
        ResultReason.InvalidField,
      );
      expect(await deriveFails(h, '2.0', { ...hash, objectType: ObjectType.PublicKey, bits: 128 })).to.equal(
        ResultReason.InvalidField,
      );
      expect(await deriveFails(h, '2.0', { ...hash, ids: [], bits: 128 })).to.equal(
        ResultReason.InvalidField,
      );
      expect(await deriveFails(h, '2.0', { ...hash, ids: [base, base, base], bits: 128 })).to.equal(
        ResultReason.InvalidField,
      );
      expect(await deriveFails(h, '2.0', { ...hash, bits: 100 })).to.equal(ResultReason.InvalidField);
    });

    it('an unknown base is Object Not Found (2.x) / Item Not Found (1.x)', async () => {
      const spec = { ids: ['nope'], method: M.HASH, params: [sha256], bits: 128 };
      expect(await deriveFails(h, '2.0', spec)).to.equal(ResultReason.ObjectNotFound);
      expect(await deriveFails(h, '1.2', spec)).to.equal(ResultReason.ItemNotFound);
    });

    it('does not take its base from the ID Placeholder', async () => {
      const base = await registerKey(h, '1.4', KEY);
      const [, d] = await h.send('1.4', [
        { op: Operation.Get, payload: [T(Tag.UniqueIdentifier, base)] },
        {
          op: Operation.DeriveKey,
          payload: derivePayload('1.4', { ids: [], method: M.HASH, params: [sha256], bits: 128 }),
        },
      ]);
      expect(d?.reason).to.equal(ResultReason.InvalidField);
    });

    it('AsymmetricKey with two symmetric keys → Invalid Field', async () => {
      const base = await registerKey(h, '1.4', KEY);
      const other = await registerKey(h, '1.4', randomBytes(16));
      expect(
        await deriveFails(h, '1.4', { ids: [base, other], method: M.AsymmetricKey, params: [], bits: 128 }),
      ).to.equal(ResultReason.InvalidField);
    });

    it('answers only the Unique Identifier in 1.0', async () => {
      const base = await registerKey(h, '1.0', KEY);
      const [r] = await h.send('1.0', [
        {
          op: Operation.DeriveKey,
          payload: derivePayload('1.0', { ids: [base], method: M.HASH, params: [sha256], bits: 128 }),
        },
      ]);
      expect(kids(r?.payload, Tag.UniqueIdentifier)).to.have.length(1);
      expect(r?.payload?.value).to.have.length(1);
    });
  });
});
