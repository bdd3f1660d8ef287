import {
  constants,
  createDecipheriv,
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  randomBytes,
  verify,
} from 'node:crypto';
import { expect } from 'chai';
import { aesKeyUnwrap } from '../../../src/crypto/wrap.js';
import {
  BlockCipherMode,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  EncodingOption,
  HashingAlgorithm,
  KeyFormatType,
  KeyWrapType,
  type KmipVersion,
  ObjectType,
  Operation,
  PaddingMethod,
  ResultReason,
  Tag,
  WrappingMethod,
} from '../../../src/kmip/spec/index.js';
import { decodeTtlv, encodeTtlv } from '../../../src/kmip/ttlv/binary.js';
import type { TtlvItem, TtlvStructure } from '../../../src/kmip/ttlv/types.js';
import { rsaKey } from '../../helpers/requests.js';
import { activeNow, aesKey, attrList, registerObject } from './fixtures.js';
import { B, E, type Harness, I, kid, openHarness, S, T, text, useHarness } from './harness.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// RFC 3394 §4.1: this KEK wraps this key to this ciphertext.
const KEK = '000102030405060708090a0b0c0d0e0f';
const DEK = '00112233445566778899aabbccddeeff';
const WRAPPED = '1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5';

const U = CryptographicUsageMask;

function symKey(material: TtlvItem[], bits: number, extra: TtlvItem[] = []): TtlvItem {
  return S(Tag.SymmetricKey, [
    S(Tag.KeyBlock, [
      E(Tag.KeyFormatType, KeyFormatType.Raw),
      S(Tag.KeyValue, material),
      E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
      I(Tag.CryptographicLength, bits),
      ...extra,
    ]),
  ]);
}

async function registerAes(
  h: Harness,
  version: KmipVersion,
  key: Uint8Array,
  mask: number,
  extra: TtlvItem[] = [],
): Promise<string> {
  const p = await h.ok(version, Operation.Register, [
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    attrList(version, [I(Tag.CryptographicUsageMask, mask), ...extra]),
    symKey([B(Tag.KeyMaterial, key)], key.length * 8),
  ]);
  return text(p, Tag.UniqueIdentifier) ?? '';
}

/** Gets a new `dekLen`-byte AES key wrapped under a new active `kekLen`-byte AES key in Block Cipher Mode `mode`. */
async function getWrapped(h: Harness, version: KmipVersion, kekLen: number, dekLen: number, mode: number) {
  const kekBytes = randomBytes(kekLen);
  const kek = await registerAes(h, version, kekBytes, U.WrapKey, [activeNow()]);
  const dekBytes = randomBytes(dekLen);
  const dek = await registerAes(h, version, dekBytes, U.Encrypt);
  const p = await h.ok(version, Operation.Get, [
    T(Tag.UniqueIdentifier, dek),
    wrapSpec(kek, [E(Tag.BlockCipherMode, mode)], EncodingOption.NoEncoding),
  ]);
  return { kekBytes, dekBytes, p };
}

function wrapSpec(kekId: string, params: TtlvItem[], encoding?: number, extra: TtlvItem[] = []): TtlvItem {
  return S(Tag.KeyWrappingSpecification, [
    E(Tag.WrappingMethod, WrappingMethod.Encrypt),
    S(Tag.EncryptionKeyInformation, [
      T(Tag.UniqueIdentifier, kekId),
      ...(params.length > 0 ? [S(Tag.CryptographicParameters, params)] : []),
    ]),
    ...extra,
    ...(encoding === undefined ? [] : [E(Tag.EncodingOption, encoding)]),
  ]);
}

function blockOf(payload: TtlvStructure, tag = Tag.SymmetricKey): TtlvStructure {
  const kb = kid(kid(payload, tag), Tag.KeyBlock);
  if (kb?.type !== 'Structure') throw new Error('no Key Block');
  return kb;
}

function bytesOf(item: TtlvItem | undefined): Uint8Array {
  if (item?.type !== 'ByteString') throw new Error(`expected a Byte String, got ${item?.type}`);
  return item.value;
}

function nodeUnwrap(kek: Uint8Array, data: Uint8Array, pad: boolean): Uint8Array {
  const d = createDecipheriv(
    `id-aes${kek.length * 8}-wrap${pad ? '-pad' : ''}`,
    kek,
    Buffer.from(pad ? 'a65959a6' : 'a6a6a6a6a6a6a6a6', 'hex'),
  );
  return new Uint8Array(Buffer.concat([d.update(data), d.final()]));
}

describe('kmip/operations wrapping (Get with Key Wrapping Specification, wrapped Register)', () => {
  const h = useHarness({}, { each: true });

  for (const version of ['1.4', '2.0'] as const) {
    describe(`KMIP ${version}`, () => {
      it('wraps with NIST Key Wrap and No Encoding to the RFC 3394 §4.1 answer', async () => {
        const kek = await registerAes(h, version, hex(KEK), U.WrapKey, [activeNow()]);
        const dek = await registerAes(h, version, hex(DEK), U.Encrypt | U.Decrypt);
        const p = await h.ok(version, Operation.Get, [
          T(Tag.UniqueIdentifier, dek),
          wrapSpec(kek, [E(Tag.BlockCipherMode, BlockCipherMode.NISTKeyWrap)], EncodingOption.NoEncoding),
        ]);
        const kb = blockOf(p);
        expect(toHex(bytesOf(kid(kb, Tag.KeyValue)))).to.equal(WRAPPED);
        expect(toHex(nodeUnwrap(hex(KEK), bytesOf(kid(kb, Tag.KeyValue)), false))).to.equal(DEK);
        const wd = kid(kb, Tag.KeyWrappingData);
        expect(kid(wd, Tag.WrappingMethod)).to.deep.include({ value: WrappingMethod.Encrypt });
        expect(text(kid(wd, Tag.EncryptionKeyInformation), Tag.UniqueIdentifier)).to.equal(kek);
        expect(kid(wd, Tag.EncodingOption)).to.deep.include({ value: EncodingOption.NoEncoding });
        // Key Wrapping Data comes last in the Key Block.
        expect(kb.value.at(-1)?.tag).to.equal(Tag.KeyWrappingData);
      });

      it('wraps the TTLV-encoded Key Value by default, with the KEK’s own parameters', async () => {
        const kekBytes = randomBytes(32);
        const kek = await registerAes(h, version, kekBytes, U.WrapKey, [
          activeNow(),
          S(Tag.CryptographicParameters, [E(Tag.BlockCipherMode, BlockCipherMode.NISTKeyWrap)]),
        ]);
        const dek = await registerAes(h, version, hex(DEK), U.Encrypt);
        const p = await h.ok(version, Operation.Get, [T(Tag.UniqueIdentifier, dek), wrapSpec(kek, [])]);
        const kb = blockOf(p);
        const plain = nodeUnwrap(kekBytes, bytesOf(kid(kb, Tag.KeyValue)), false);
        const kv = decodeTtlv(plain);
        expect(kv.tag).to.equal(Tag.KeyValue);
        expect(toHex(bytesOf(kid(kv, Tag.KeyMaterial)))).to.equal(DEK);
        expect(kid(kid(kb, Tag.KeyWrappingData), Tag.EncodingOption)).to.equal(undefined);
      });

      it('wraps with AES Key Wrap with Padding (RFC 5649)', async () => {
        const { kekBytes, dekBytes, p } = await getWrapped(
          h,
          version,
          16,
          24,
          BlockCipherMode.AESKeyWrapPadding,
        );
        const wrapped = bytesOf(kid(blockOf(p), Tag.KeyValue));
        expect(toHex(nodeUnwrap(kekBytes, wrapped, true))).to.equal(toHex(dekBytes));
      });

      it('wraps with AES-GCM and returns the IV', async () => {
        const { kekBytes, dekBytes, p } = await getWrapped(h, version, 32, 32, BlockCipherMode.GCM);
        const kb = blockOf(p);
        const iv = bytesOf(kid(kid(kb, Tag.KeyWrappingData), Tag.IVCounterNonce));
        expect(iv.length).to.equal(12);
        const data = bytesOf(kid(kb, Tag.KeyValue));
        const d = createDecipheriv('aes-256-gcm', kekBytes, iv);
        d.setAuthTag(data.subarray(data.length - 16));
        const plain = Buffer.concat([d.update(data.subarray(0, data.length - 16)), d.final()]);
        expect(toHex(plain)).to.equal(toHex(dekBytes));
      });

      it('wraps with an RSA public key (OAEP SHA-256, OAEP default SHA-1, PKCS#1 v1.5)', async () => {
        const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        const p0 = await h.ok(version, Operation.Register, [
          E(Tag.ObjectType, ObjectType.PublicKey),
          attrList(version, [I(Tag.CryptographicUsageMask, U.WrapKey), activeNow()]),
          rsaKey(Tag.PublicKey, publicKey, 'spki'),
        ]);
        const kek = text(p0, Tag.UniqueIdentifier) ?? '';
        const dekBytes = randomBytes(32);
        const dek = await registerAes(h, version, dekBytes, U.Encrypt);
        const get = (params: TtlvItem[]) =>
          h.ok(version, Operation.Get, [
            T(Tag.UniqueIdentifier, dek),
            wrapSpec(kek, params, EncodingOption.NoEncoding),
          ]);

        const oaep256 = bytesOf(
          kid(
            blockOf(
              await get([
                E(Tag.PaddingMethod, PaddingMethod.OAEP),
                E(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256),
              ]),
            ),
            Tag.KeyValue,
          ),
        );
        const back = privateDecrypt(
          { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
          oaep256,
        );
        expect(toHex(back)).to.equal(toHex(dekBytes));

        const oaep1 = bytesOf(kid(blockOf(await get([])), Tag.KeyValue));
        const back1 = privateDecrypt(
          { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
          oaep1,
        );
        expect(toHex(back1)).to.equal(toHex(dekBytes));

        // Node 20 refuses PKCS#1 v1.5 decryption; check the EME-PKCS1-v1_5 block (RFC 8017 §7.2.1) by hand.
        const v15 = bytesOf(
          kid(blockOf(await get([E(Tag.PaddingMethod, PaddingMethod.PKCS1V1_5)])), Tag.KeyValue),
        );
        const em = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, v15);
        expect(em[0]).to.equal(0);
        expect(em[1]).to.equal(2);
        const sep = em.indexOf(0, 2);
        expect(sep).to.be.greaterThan(9);
        expect(toHex(em.subarray(sep + 1))).to.equal(toHex(dekBytes));
      });

      it('enforces the wrapping key’s usage mask, state and existence', async () => {
        const v2 = version.startsWith('2');
        const noWrap = await registerAes(h, version, randomBytes(16), U.Encrypt, [activeNow()]);
        const preActive = await registerAes(h, version, randomBytes(16), U.WrapKey);
        const dek = await registerAes(h, version, randomBytes(16), U.Encrypt);
        const cases: [string, number][] = [
          [noWrap, v2 ? ResultReason.IncompatibleCryptographicUsageMask : ResultReason.PermissionDenied],
          // Wrong Key Lifecycle State comes with 2.1; 1.x and 2.0 say Permission Denied (AKLC-M-2-20).
          [preActive, ResultReason.PermissionDenied],
          ['no-such-key', v2 ? ResultReason.WrappingObjectNotFound : ResultReason.ItemNotFound],
        ];
        for (const [kek, expected] of cases) {
          const [r] = await h.send(version, [
            { op: Operation.Get, payload: [T(Tag.UniqueIdentifier, dek), wrapSpec(kek, [])] },
          ]);
          expect(r?.status, kek).to.equal(1);
          expect(r?.reason, kek).to.equal(expected);
        }
      });

      it('stores a registered wrapped key as given and unwraps it on Key Wrap Type Not Wrapped', async () => {
        const kek = await registerAes(h, version, hex(KEK), U.WrapKey, [activeNow()]);
        const wrappingData = S(Tag.KeyWrappingData, [
          E(Tag.WrappingMethod, WrappingMethod.Encrypt),
          S(Tag.EncryptionKeyInformation, [
            T(Tag.UniqueIdentifier, kek),
            S(Tag.CryptographicParameters, [E(Tag.BlockCipherMode, BlockCipherMode.NISTKeyWrap)]),
          ]),
          E(Tag.EncodingOption, EncodingOption.NoEncoding),
        ]);
        const p0 = await h.ok(version, Operation.Register, [
          E(Tag.ObjectType, ObjectType.SymmetricKey),
          attrList(version, [I(Tag.CryptographicUsageMask, U.Encrypt)]),
          S(Tag.SymmetricKey, [
            S(Tag.KeyBlock, [
              E(Tag.KeyFormatType, KeyFormatType.Raw),
              B(Tag.KeyValue, hex(WRAPPED)),
              E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
              I(Tag.CryptographicLength, 128),
              wrappingData,
            ]),
          ]),
        ]);
        const id = text(p0, Tag.UniqueIdentifier) ?? '';
        const asIs = blockOf(await h.ok(version, Operation.Get, [T(Tag.UniqueIdentifier, id)]));
        expect(toHex(bytesOf(kid(asIs, Tag.KeyValue)))).to.equal(WRAPPED);
        expect(kid(asIs, Tag.KeyWrappingData)).to.deep.equal(wrappingData);

        const plain = blockOf(
          await h.ok(version, Operation.Get, [
            T(Tag.UniqueIdentifier, id),
            E(Tag.KeyWrapType, KeyWrapType.NotWrapped),
          ]),
        );
        expect(toHex(bytesOf(kid(kid(plain, Tag.KeyValue), Tag.KeyMaterial)))).to.equal(DEK);
        expect(kid(plain, Tag.KeyWrappingData)).to.equal(undefined);
      });

      if (version === '2.0') {
        it('Export returns the attributes and the key wrapped as asked', async () => {
          const kek = await registerAes(h, version, hex(KEK), U.WrapKey, [activeNow()]);
          const dek = await registerAes(h, version, hex(DEK), U.Encrypt);
          const p = await h.ok(version, Operation.Export, [
            T(Tag.UniqueIdentifier, dek),
            wrapSpec(kek, [E(Tag.BlockCipherMode, BlockCipherMode.NISTKeyWrap)], EncodingOption.NoEncoding),
          ]);
          expect(text(p, Tag.UniqueIdentifier)).to.equal(dek);
          const attrs = kid(p, Tag.Attributes);
          expect(kid(attrs, Tag.CryptographicUsageMask)).to.deep.include({ value: U.Encrypt });
          expect(toHex(bytesOf(kid(blockOf(p), Tag.KeyValue)))).to.equal(WRAPPED);
        });
      }

      if (version === '1.4') {
        it('returns a Sensitive key only wrapped', async () => {
          const kek = await registerAes(h, version, randomBytes(16), U.WrapKey, [activeNow()]);
          const dek = await registerAes(h, version, randomBytes(16), U.Encrypt, [
            { tag: Tag.Sensitive, type: 'Boolean', value: true },
          ]);
          const [r] = await h.send(version, [{ op: Operation.Get, payload: [T(Tag.UniqueIdentifier, dek)] }]);
          expect(r?.reason).to.equal(ResultReason.Sensitive);
          await h.ok(version, Operation.Get, [T(Tag.UniqueIdentifier, dek), wrapSpec(kek, [])]);
        });
      }
    });
  }
});

const register = registerObject;

function keyBlockOf(payload: TtlvItem, tag: number): TtlvItem | undefined {
  return kid(kid(payload, tag), Tag.KeyBlock);
}

describe('wrapping: MAC/sign and Encrypt then MAC/sign (2.0)', () => {
  let h: Harness;
  after(async () => {
    await h.close();
  });
  const dekBytes = randomBytes(16);
  let dek: string;
  let hmacKey: string;
  const hmacBytes = randomBytes(32);
  let kek: string;
  const kekBytes = randomBytes(16);
  let signer: string;
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });

  /** Gets the DEK under a Key Wrapping Specification of `method` with the given key informations. */
  const getDek = (method: number, keyInformation: TtlvItem[]) =>
    h.ok('2.0', Operation.Get, [
      T(Tag.UniqueIdentifier, dek),
      S(Tag.KeyWrappingSpecification, [E(Tag.WrappingMethod, method), ...keyInformation]),
    ]);

  before(async () => {
    h = await openHarness();
    dek = await register(
      h,
      '2.0',
      ObjectType.SymmetricKey,
      [I(Tag.CryptographicUsageMask, U.Encrypt)],
      aesKey(dekBytes),
    );
    hmacKey = await register(
      h,
      '2.0',
      ObjectType.SymmetricKey,
      [I(Tag.CryptographicUsageMask, U.MACGenerate | U.MACVerify), activeNow()],
      S(Tag.SymmetricKey, [
        S(Tag.KeyBlock, [
          E(Tag.KeyFormatType, KeyFormatType.Raw),
          S(Tag.KeyValue, [B(Tag.KeyMaterial, hmacBytes)]),
          E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.HMAC_SHA256),
          I(Tag.CryptographicLength, 256),
        ]),
      ]),
    );
    kek = await register(
      h,
      '2.0',
      ObjectType.SymmetricKey,
      [I(Tag.CryptographicUsageMask, U.WrapKey | U.UnwrapKey), activeNow()],
      aesKey(kekBytes),
    );
    signer = await register(
      h,
      '2.0',
      ObjectType.PrivateKey,
      [I(Tag.CryptographicUsageMask, U.Sign), activeNow()],
      S(Tag.PrivateKey, [
        S(Tag.KeyBlock, [
          E(Tag.KeyFormatType, KeyFormatType.PKCS_8),
          S(Tag.KeyValue, [B(Tag.KeyMaterial, pair.privateKey.export({ format: 'der', type: 'pkcs8' }))]),
          E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.RSA),
          I(Tag.CryptographicLength, 2048),
        ]),
      ]),
    );
  });

  it('MAC/sign: the Key Value stays clear and carries an HMAC of its TTLV encoding', async () => {
    const got = await getDek(WrappingMethod.MACSign, [
      S(Tag.MACSignatureKeyInformation, [T(Tag.UniqueIdentifier, hmacKey)]),
    ]);
    const kb = keyBlockOf(got, Tag.SymmetricKey);
    const kv = kid(kb, Tag.KeyValue);
    expect(kv?.type).to.equal('Structure');
    const mac = kid(kid(kb, Tag.KeyWrappingData), Tag.MACSignature);
    if (kv === undefined || mac?.type !== 'ByteString') throw new Error('no MAC');
    expect(
      Buffer.from(mac.value).equals(createHmac('sha256', hmacBytes).update(encodeTtlv(kv)).digest()),
    ).to.equal(true);

    // Import as registered verifies the MAC; a changed Key Value is refused.
    const imported = await h.ok('2.0', Operation.Import, [
      T(Tag.UniqueIdentifier, 'macsign-ok'),
      E(Tag.ObjectType, ObjectType.SymmetricKey),
      S(Tag.Attributes, []),
      S(Tag.SymmetricKey, [kb as TtlvItem]),
    ]);
    expect(text(imported, Tag.UniqueIdentifier)).to.equal('macsign-ok');
    const tampered = S(
      Tag.KeyBlock,
      (kb?.type === 'Structure' ? kb.value : []).map((c) =>
        c.tag === Tag.KeyValue ? S(Tag.KeyValue, [B(Tag.KeyMaterial, randomBytes(16))]) : c,
      ),
    );
    const [r] = await h.send('2.0', [
      {
        op: Operation.Import,
        payload: [
          T(Tag.UniqueIdentifier, 'macsign-bad'),
          E(Tag.ObjectType, ObjectType.SymmetricKey),
          S(Tag.Attributes, []),
          S(Tag.SymmetricKey, [tampered]),
        ],
      },
    ]);
    expect(r?.reason).to.equal(ResultReason.CryptographicFailure);
    // Get unwrapped (Not Wrapped) of the imported key gives the key.
    const plain = await h.ok('2.0', Operation.Get, [
      T(Tag.UniqueIdentifier, 'macsign-ok'),
      E(Tag.KeyWrapType, KeyWrapType.NotWrapped),
    ]);
    const km = kid(kid(keyBlockOf(plain, Tag.SymmetricKey), Tag.KeyValue), Tag.KeyMaterial);
    expect(km?.type === 'ByteString' && Buffer.from(km.value).equals(dekBytes)).to.equal(true);
  });

  it('Encrypt then MAC/sign: AES Key Wrap, then an RSA signature over the wrapped bytes (node:crypto verifies)', async () => {
    const got = await getDek(WrappingMethod.EncryptThenMACSign, [
      S(Tag.EncryptionKeyInformation, [T(Tag.UniqueIdentifier, kek)]),
      S(Tag.MACSignatureKeyInformation, [T(Tag.UniqueIdentifier, signer)]),
    ]);
    const kb = keyBlockOf(got, Tag.SymmetricKey);
    const kv = kid(kb, Tag.KeyValue);
    const sig = kid(kid(kb, Tag.KeyWrappingData), Tag.MACSignature);
    if (kv?.type !== 'ByteString' || sig?.type !== 'ByteString') throw new Error('not wrapped and signed');
    expect(verify('sha256', kv.value, createPublicKey(pair.privateKey), sig.value)).to.equal(true);
    const inner = aesKeyUnwrap(kekBytes, kv.value);
    expect(Buffer.from(inner).includes(dekBytes)).to.equal(true);

    // Registered as is, then unwrapped on Get Not Wrapped; a bad signature is refused.
    const id = await register(
      h,
      '2.0',
      ObjectType.SymmetricKey,
      [I(Tag.CryptographicUsageMask, U.Encrypt)],
      S(Tag.SymmetricKey, [kb as TtlvItem]),
    );
    const plain = await h.ok('2.0', Operation.Get, [
      T(Tag.UniqueIdentifier, id),
      E(Tag.KeyWrapType, KeyWrapType.NotWrapped),
    ]);
    const km = kid(kid(keyBlockOf(plain, Tag.SymmetricKey), Tag.KeyValue), Tag.KeyMaterial);
    expect(km?.type === 'ByteString' && Buffer.from(km.value).equals(dekBytes)).to.equal(true);
    const badSig = S(
      Tag.KeyBlock,
      (kb?.type === 'Structure' ? kb.value : []).map((c) =>
        c.tag === Tag.KeyWrappingData && c.type === 'Structure'
          ? S(
              Tag.KeyWrappingData,
              c.value.map((d) => (d.tag === Tag.MACSignature ? B(Tag.MACSignature, randomBytes(256)) : d)),
            )
          : c,
      ),
    );
    const [r] = await h.send('2.0', [
      {
        op: Operation.Register,
        payload: [
          E(Tag.ObjectType, ObjectType.SymmetricKey),
          S(Tag.Attributes, []),
          S(Tag.SymmetricKey, [badSig]),
        ],
      },
    ]);
    expect(r?.reason).to.equal(ResultReason.CryptographicFailure);
  });

  it('MAC/sign then Encrypt is Feature Not Supported', async () => {
    const [r] = await h.send('2.0', [
      {
        op: Operation.Get,
        payload: [
          T(Tag.UniqueIdentifier, dek),
          S(Tag.KeyWrappingSpecification, [
            E(Tag.WrappingMethod, WrappingMethod.MACSignThenEncrypt),
            S(Tag.EncryptionKeyInformation, [T(Tag.UniqueIdentifier, kek)]),
          ]),
        ],
      },
    ]);
    expect(r?.reason).to.equal(ResultReason.FeatureNotSupported);
  });
});
