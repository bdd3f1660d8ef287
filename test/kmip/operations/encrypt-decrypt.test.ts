import {
  type CipherGCMTypes,
  constants,
  createCipheriv,
  createDecipheriv,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { expect } from 'chai';
import {
  BlockCipherMode,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  HashingAlgorithm,
  KeyFormatType,
  type KmipVersion,
  ObjectType,
  Operation,
  PaddingMethod,
  ResultReason,
  RevocationReasonCode,
  Tag,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem, TtlvStructure } from '../../../src/kmip/ttlv/types.js';
import { symmetricKey } from '../../helpers/requests.js';
import { activeNow, attrList } from './fixtures.js';
import { B, E, type Harness, I, kid, members, S, T, text, useHarness } from './harness.js';

const U = CryptographicUsageMask;
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const bool = (tag: number, value: boolean): TtlvItem => ({ tag, type: 'Boolean', value });

async function registerKey(
  h: Harness,
  version: KmipVersion,
  key: Uint8Array,
  opts: { mask?: number; algorithm?: number; active?: boolean; extra?: TtlvItem[] } = {},
): Promise<string> {
  const attrs = [I(Tag.CryptographicUsageMask, opts.mask ?? U.Encrypt | U.Decrypt), ...(opts.extra ?? [])];
  if (opts.active !== false) attrs.push(activeNow());
  const p = await h.ok(version, Operation.Register, [
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    attrList(version, attrs),
    symmetricKey(key, [], opts.algorithm ?? CryptographicAlgorithm.AES),
  ]);
  return text(p, Tag.UniqueIdentifier) ?? '';
}

function bytes(p: TtlvItem | undefined, tag: number): Uint8Array | undefined {
  const c = kid(p, tag);
  return c?.type === 'ByteString' ? c.value : undefined;
}

function must(p: TtlvItem | undefined, tag: number): Uint8Array {
  const b = bytes(p, tag);
  if (b === undefined) throw new Error(`no ${tag.toString(16)} in the response`);
  return b;
}

const params = (items: TtlvItem[]): TtlvItem => S(Tag.CryptographicParameters, items);

describe('kmip/operations Encrypt and Decrypt', () => {
  const h = useHarness({}, { each: true });

  async function fails(version: KmipVersion, op: number, payload: TtlvItem[]): Promise<number | undefined> {
    const [r] = await h.send(version, [{ op, payload }]);
    expect(r?.status, r?.message).to.equal(1);
    expect(r?.message).to.be.a('string').and.not.equal('');
    return r?.reason;
  }

  describe('MongoDB Enterprise: only Unique Identifier and Data (CLIENTS.md behaviour 12)', () => {
    for (const version of ['1.2', '1.4', '2.1'] as const) {
      it(`${version}: AES-CBC, PKCS#5, a random 16-byte IV returned; Decrypt with it round-trips`, async () => {
        const key = rnd(32);
        const id = await registerKey(h, version, key);
        const plain = rnd(32);
        const enc = await h.ok(version, Operation.Encrypt, [T(Tag.UniqueIdentifier, id), B(Tag.Data, plain)]);
        expect(members(enc).map((c) => c.tag)).to.deep.equal([
          Tag.UniqueIdentifier,
          Tag.Data,
          Tag.IVCounterNonce,
        ]);
        const iv = must(enc, Tag.IVCounterNonce);
        const data = must(enc, Tag.Data);
        expect(iv).to.have.length(16);
        expect(data).to.have.length(48);
        const local = createDecipheriv('aes-256-cbc', key, iv);
        expect(toHex(Buffer.concat([local.update(data), local.final()]))).to.equal(toHex(plain));
        const dec = await h.ok(version, Operation.Decrypt, [
          T(Tag.UniqueIdentifier, id),
          B(Tag.Data, data),
          B(Tag.IVCounterNonce, iv),
        ]);
        expect(toHex(must(dec, Tag.Data))).to.equal(toHex(plain));
        // Two encryptions of one plaintext differ: the IV is fresh each time.
        const again = await h.ok(version, Operation.Encrypt, [
          T(Tag.UniqueIdentifier, id),
          B(Tag.Data, plain),
        ]);
        expect(toHex(must(again, Tag.IVCounterNonce))).to.not.equal(toHex(iv));
        // Without the IV there is nothing to decrypt with (CS-BC-M-13).
        expect(
          await fails(version, Operation.Decrypt, [T(Tag.UniqueIdentifier, id), B(Tag.Data, data)]),
        ).to.equal(ResultReason.InvalidMessage);
      });
    }
  });

  describe('server encrypts, node:crypto decrypts, and the reverse', () => {
    const key = rnd(16);
    const cases: { name: string; node: string; mode: number; ivLen: number; pad?: number }[] = [
      { name: 'ECB, no padding', node: 'aes-128-ecb', mode: BlockCipherMode.ECB, ivLen: 0 },
      {
        name: 'CBC, PKCS5',
        node: 'aes-128-cbc',
        mode: BlockCipherMode.CBC,
        ivLen: 16,
        pad: PaddingMethod.PKCS5,
      },
      { name: 'CTR', node: 'aes-128-ctr', mode: BlockCipherMode.CTR, ivLen: 16 },
    ];
    for (const c of cases) {
      it(`AES-128-${c.name}`, async () => {
        const id = await registerKey(h, '1.4', key);
        const plain = rnd(c.pad === undefined && c.mode === BlockCipherMode.ECB ? 32 : 29);
        const iv = c.ivLen > 0 ? rnd(c.ivLen) : undefined;
        const cp = params([
          E(Tag.BlockCipherMode, c.mode),
          ...(c.pad === undefined ? [] : [E(Tag.PaddingMethod, c.pad)]),
        ]);
        const ivItem = iv === undefined ? [] : [B(Tag.IVCounterNonce, iv)];
        const enc = await h.ok('1.4', Operation.Encrypt, [
          T(Tag.UniqueIdentifier, id),
          cp,
          B(Tag.Data, plain),
          ...ivItem,
        ]);
        const d = createDecipheriv(c.node, key, iv ?? null);
        d.setAutoPadding(c.pad !== undefined);
        expect(toHex(Buffer.concat([d.update(must(enc, Tag.Data)), d.final()]))).to.equal(toHex(plain));
        const e = createCipheriv(c.node, key, iv ?? null);
        e.setAutoPadding(c.pad !== undefined);
        const ct = Buffer.concat([e.update(plain), e.final()]);
        const dec = await h.ok('1.4', Operation.Decrypt, [
          T(Tag.UniqueIdentifier, id),
          cp,
          B(Tag.Data, ct),
          ...ivItem,
        ]);
        expect(toHex(must(dec, Tag.Data))).to.equal(toHex(plain));
      });
    }

    it("AES-256-GCM from the key's Cryptographic Parameters, Random IV and AAD (2.1)", async () => {
      const k = rnd(32);
      const id = await registerKey(h, '2.1', k, {
        extra: [
          params([
            E(Tag.BlockCipherMode, BlockCipherMode.GCM),
            I(Tag.TagLength, 16),
            bool(Tag.RandomIV, true),
          ]),
        ],
      });
      const aad = rnd(13);
      const plain = rnd(50);
      const enc = await h.ok('2.1', Operation.Encrypt, [
        T(Tag.UniqueIdentifier, id),
        B(Tag.Data, plain),
        B(Tag.AuthenticatedEncryptionAdditionalData, aad),
      ]);
      expect(members(enc).map((c) => c.tag)).to.deep.equal([
        Tag.UniqueIdentifier,
        Tag.Data,
        Tag.IVCounterNonce,
        Tag.AuthenticatedEncryptionTag,
      ]);
      const iv = must(enc, Tag.IVCounterNonce);
      expect(iv).to.have.length(12);
      const d = createDecipheriv('aes-256-gcm' as CipherGCMTypes, k, iv);
      d.setAAD(aad);
      d.setAuthTag(must(enc, Tag.AuthenticatedEncryptionTag));
      expect(toHex(Buffer.concat([d.update(must(enc, Tag.Data)), d.final()]))).to.equal(toHex(plain));
      const base = [
        T(Tag.UniqueIdentifier, id),
        B(Tag.IVCounterNonce, iv),
        B(Tag.AuthenticatedEncryptionAdditionalData, aad),
      ];
      const dec = await h.ok('2.1', Operation.Decrypt, [
        ...base,
        B(Tag.Data, must(enc, Tag.Data)),
        B(Tag.AuthenticatedEncryptionTag, must(enc, Tag.AuthenticatedEncryptionTag)),
      ]);
      expect(toHex(must(dec, Tag.Data))).to.equal(toHex(plain));
      const badTag = Uint8Array.from(must(enc, Tag.AuthenticatedEncryptionTag));
      badTag[3] = (badTag[3] ?? 0) ^ 0x80;
      expect(
        await fails('2.1', Operation.Decrypt, [
          ...base,
          B(Tag.Data, must(enc, Tag.Data)),
          B(Tag.AuthenticatedEncryptionTag, badTag),
        ]),
      ).to.equal(ResultReason.CryptographicFailure);
    });

    it('AES key wrap with padding (RFC 5649) agrees with OpenSSL', async () => {
      const k = rnd(16);
      const id = await registerKey(h, '1.4', k);
      const plain = rnd(20);
      const enc = await h.ok('1.4', Operation.Encrypt, [
        T(Tag.UniqueIdentifier, id),
        params([E(Tag.BlockCipherMode, BlockCipherMode.AESKeyWrapPadding)]),
        B(Tag.Data, plain),
      ]);
      expect(kid(enc, Tag.IVCounterNonce)).to.equal(undefined);
      const d = createDecipheriv('id-aes128-wrap-pad', k, Buffer.from('a65959a6', 'hex'));
      expect(toHex(Buffer.concat([d.update(must(enc, Tag.Data)), d.final()]))).to.equal(toHex(plain));
    });

    it('RSA OAEP SHA-256 with the public key, Decrypt with the private key; PKCS#1 v1.5', async () => {
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const reg = async (type: number, tag: number, format: number, der: Buffer, mask: number) => {
        const p = await h.ok('1.4', Operation.Register, [
          E(Tag.ObjectType, type),
          attrList('1.4', [I(Tag.CryptographicUsageMask, mask), activeNow()]),
          S(tag, [
            S(Tag.KeyBlock, [
              E(Tag.KeyFormatType, format),
              S(Tag.KeyValue, [B(Tag.KeyMaterial, der)]),
              E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.RSA),
              I(Tag.CryptographicLength, 2048),
            ]),
          ]),
        ]);
        return text(p, Tag.UniqueIdentifier) ?? '';
      };
      const pubId = await reg(
        ObjectType.PublicKey,
        Tag.PublicKey,
        KeyFormatType.X_509,
        pair.publicKey.export({ format: 'der', type: 'spki' }),
        U.Encrypt,
      );
      const privId = await reg(
        ObjectType.PrivateKey,
        Tag.PrivateKey,
        KeyFormatType.PKCS_1,
        pair.privateKey.export({ format: 'der', type: 'pkcs1' }),
        U.Decrypt,
      );
      const oaep = params([
        E(Tag.PaddingMethod, PaddingMethod.OAEP),
        E(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256),
        E(Tag.MaskGeneratorHashingAlgorithm, HashingAlgorithm.SHA_256),
      ]);
      const plain = rnd(32);
      const enc = await h.ok('1.4', Operation.Encrypt, [
        T(Tag.UniqueIdentifier, pubId),
        oaep,
        B(Tag.Data, plain),
      ]);
      const local = privateDecrypt(
        { key: pair.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        must(enc, Tag.Data),
      );
      expect(toHex(local)).to.equal(toHex(plain));
      const theirs = publicEncrypt(
        { key: pair.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        plain,
      );
      const dec = await h.ok('1.4', Operation.Decrypt, [
        T(Tag.UniqueIdentifier, privId),
        oaep,
        B(Tag.Data, theirs),
      ]);
      expect(toHex(must(dec, Tag.Data))).to.equal(toHex(plain));
      const pkcs1 = params([E(Tag.PaddingMethod, PaddingMethod.PKCS1V1_5)]);
      const ct = publicEncrypt({ key: pair.publicKey, padding: constants.RSA_PKCS1_PADDING }, plain);
      const dec1 = await h.ok('1.4', Operation.Decrypt, [
        T(Tag.UniqueIdentifier, privId),
        pkcs1,
        B(Tag.Data, ct),
      ]);
      expect(toHex(must(dec1, Tag.Data))).to.equal(toHex(plain));
      // The public key has no Decrypt in its mask; the private key none of Encrypt.
      expect(
        await fails('1.4', Operation.Decrypt, [T(Tag.UniqueIdentifier, pubId), oaep, B(Tag.Data, ct)]),
      ).to.equal(ResultReason.PermissionDenied);
    });
  });

  describe('multi-part (Init Indicator, Correlation Value, Final Indicator)', () => {
    it('CBC PKCS5 in three parts equals one-shot, both directions', async () => {
      const key = rnd(16);
      const id = await registerKey(h, '1.4', key);
      const iv = rnd(16);
      const cp = params([
        E(Tag.BlockCipherMode, BlockCipherMode.CBC),
        E(Tag.PaddingMethod, PaddingMethod.PKCS5),
      ]);
      const plain = rnd(45);
      const one = await h.ok('1.4', Operation.Encrypt, [
        T(Tag.UniqueIdentifier, id),
        cp,
        B(Tag.Data, plain),
        B(Tag.IVCounterNonce, iv),
      ]);
      const first = await h.ok('1.4', Operation.Encrypt, [
        T(Tag.UniqueIdentifier, id),
        cp,
        B(Tag.Data, plain.subarray(0, 7)),
        B(Tag.IVCounterNonce, iv),
        bool(Tag.InitIndicator, true),
      ]);
      expect(kid(first, Tag.Data)).to.equal(undefined);
      const cv = must(first, Tag.CorrelationValue);
      const mid = await h.ok('1.4', Operation.Encrypt, [
        T(Tag.UniqueIdentifier, id),
        B(Tag.Data, plain.subarray(7, 30)),
        B(Tag.CorrelationValue, cv),
      ]);
      expect(toHex(must(mid, Tag.CorrelationValue))).to.equal(toHex(cv));
      const last = await h.ok('1.4', Operation.Encrypt, [
        T(Tag.UniqueIdentifier, id),
        B(Tag.Data, plain.subarray(30)),
        B(Tag.CorrelationValue, cv),
        bool(Tag.FinalIndicator, true),
      ]);
      expect(kid(last, Tag.CorrelationValue)).to.equal(undefined);
      const joined = Buffer.concat([must(mid, Tag.Data), must(last, Tag.Data)]);
      expect(joined.toString('hex')).to.equal(toHex(must(one, Tag.Data)));
      // The stream is gone once finished.
      expect(
        await fails('1.4', Operation.Encrypt, [
          T(Tag.UniqueIdentifier, id),
          B(Tag.Data, plain),
          B(Tag.CorrelationValue, cv),
        ]),
      ).to.equal(ResultReason.InvalidField);
      const d1 = await h.ok('1.4', Operation.Decrypt, [
        T(Tag.UniqueIdentifier, id),
        cp,
        B(Tag.Data, joined.subarray(0, 20)),
        B(Tag.IVCounterNonce, iv),
        bool(Tag.InitIndicator, true),
      ]);
      const dcv = must(d1, Tag.CorrelationValue);
      const d2 = await h.ok('1.4', Operation.Decrypt, [
        T(Tag.UniqueIdentifier, id),
        B(Tag.Data, joined.subarray(20)),
        B(Tag.CorrelationValue, dcv),
        bool(Tag.FinalIndicator, true),
      ]);
      const back = Buffer.concat([bytes(d1, Tag.Data) ?? new Uint8Array(0), must(d2, Tag.Data)]);
      expect(back.toString('hex')).to.equal(toHex(plain));
    });

    it('GCM in parts returns the tag on the last part; Decrypt in parts checks it (2.1)', async () => {
      const key = rnd(16);
      const id = await registerKey(h, '2.1', key);
      const iv = rnd(12);
      const cp = params([E(Tag.BlockCipherMode, BlockCipherMode.GCM), I(Tag.TagLength, 16)]);
      const plain = rnd(40);
      const first = await h.ok('2.1', Operation.Encrypt, [
        T(Tag.UniqueIdentifier, id),
        cp,
        B(Tag.Data, plain.subarray(0, 10)),
        B(Tag.IVCounterNonce, iv),
        bool(Tag.InitIndicator, true),
      ]);
      const cv = must(first, Tag.CorrelationValue);
      const last = await h.ok('2.1', Operation.Encrypt, [
        T(Tag.UniqueIdentifier, id),
        B(Tag.Data, plain.subarray(10)),
        B(Tag.CorrelationValue, cv),
        bool(Tag.FinalIndicator, true),
      ]);
      const ct = Buffer.concat([must(first, Tag.Data), must(last, Tag.Data)]);
      const tag = must(last, Tag.AuthenticatedEncryptionTag);
      const d = createDecipheriv('aes-128-gcm' as CipherGCMTypes, key, iv);
      d.setAuthTag(tag);
      expect(Buffer.concat([d.update(ct), d.final()]).toString('hex')).to.equal(toHex(plain));
      const d1 = await h.ok('2.1', Operation.Decrypt, [
        T(Tag.UniqueIdentifier, id),
        cp,
        B(Tag.Data, ct.subarray(0, 5)),
        B(Tag.IVCounterNonce, iv),
        bool(Tag.InitIndicator, true),
      ]);
      const bad = Uint8Array.from(tag);
      bad[0] = (bad[0] ?? 0) ^ 1;
      expect(
        await fails('2.1', Operation.Decrypt, [
          T(Tag.UniqueIdentifier, id),
          B(Tag.Data, ct.subarray(5)),
          B(Tag.CorrelationValue, must(d1, Tag.CorrelationValue)),
          bool(Tag.FinalIndicator, true),
          B(Tag.AuthenticatedEncryptionTag, bad),
        ]),
      ).to.equal(ResultReason.CryptographicFailure);
      expect(
        await fails('2.1', Operation.Encrypt, [
          T(Tag.UniqueIdentifier, id),
          B(Tag.Data, plain),
          B(Tag.CorrelationValue, rnd(16)),
        ]),
      ).to.equal(ResultReason.InvalidCorrelationValue);
    });
  });

  describe('lifecycle, usage mask and Usage Limits', () => {
    it('a Pre-Active key neither encrypts nor decrypts (1.4 Permission Denied, 2.1 Wrong Key Lifecycle State)', async () => {
      for (const [version, reason] of [
        ['1.4', ResultReason.PermissionDenied],
        ['2.1', ResultReason.WrongKeyLifecycleState],
      ] as const) {
        const id = await registerKey(h, version, rnd(16), { active: false });
        expect(
          await fails(version, Operation.Encrypt, [T(Tag.UniqueIdentifier, id), B(Tag.Data, rnd(16))]),
        ).to.equal(reason);
        expect(
          await fails(version, Operation.Decrypt, [
            T(Tag.UniqueIdentifier, id),
            B(Tag.Data, rnd(16)),
            B(Tag.IVCounterNonce, rnd(16)),
          ]),
        ).to.equal(reason);
      }
    });

    it('a mask without Encrypt refuses Encrypt; without Decrypt refuses Decrypt', async () => {
      const encOnly = await registerKey(h, '2.1', rnd(16), { mask: U.Encrypt });
      const decOnly = await registerKey(h, '2.1', rnd(16), { mask: U.Decrypt });
      expect(
        await fails('2.1', Operation.Encrypt, [T(Tag.UniqueIdentifier, decOnly), B(Tag.Data, rnd(16))]),
      ).to.equal(ResultReason.IncompatibleCryptographicUsageMask);
      expect(
        await fails('2.1', Operation.Decrypt, [
          T(Tag.UniqueIdentifier, encOnly),
          B(Tag.Data, rnd(16)),
          B(Tag.IVCounterNonce, rnd(16)),
        ]),
      ).to.equal(ResultReason.IncompatibleCryptographicUsageMask);
      expect(
        await fails('1.4', Operation.Encrypt, [T(Tag.UniqueIdentifier, decOnly), B(Tag.Data, rnd(16))]),
      ).to.equal(ResultReason.PermissionDenied);
    });

    it('a revoked (Deactivated) key still decrypts but no longer encrypts', async () => {
      const key = rnd(16);
      const id = await registerKey(h, '1.4', key);
      const enc = await h.ok('1.4', Operation.Encrypt, [T(Tag.UniqueIdentifier, id), B(Tag.Data, rnd(16))]);
      await h.ok('1.4', Operation.Revoke, [
        T(Tag.UniqueIdentifier, id),
        S(Tag.RevocationReason, [E(Tag.RevocationReasonCode, RevocationReasonCode.CessationOfOperation)]),
      ]);
      await h.ok('1.4', Operation.Decrypt, [
        T(Tag.UniqueIdentifier, id),
        B(Tag.Data, must(enc, Tag.Data)),
        B(Tag.IVCounterNonce, must(enc, Tag.IVCounterNonce)),
      ]);
      expect(
        await fails('1.4', Operation.Encrypt, [T(Tag.UniqueIdentifier, id), B(Tag.Data, rnd(16))]),
      ).to.equal(ResultReason.PermissionDenied);
    });

    it('counts bytes against Usage Limits (CS-BC-M-7)', async () => {
      const id = await registerKey(h, '1.4', rnd(16), {
        extra: [
          S(Tag.UsageLimits, [
            { tag: Tag.UsageLimitsTotal, type: 'LongInteger', value: 16n },
            E(Tag.UsageLimitsUnit, 1),
          ]),
        ],
      });
      const ecb = params([E(Tag.BlockCipherMode, BlockCipherMode.ECB)]);
      await h.ok('1.4', Operation.Encrypt, [T(Tag.UniqueIdentifier, id), ecb, B(Tag.Data, rnd(16))]);
      expect(
        await fails('1.4', Operation.Encrypt, [T(Tag.UniqueIdentifier, id), ecb, B(Tag.Data, rnd(16))]),
      ).to.equal(ResultReason.PermissionDenied);
    });
  });

  describe('hostile parameters: a clear failure, never a crash', () => {
    it('answers each with the reason the vectors use', async () => {
      const id = await registerKey(h, '1.4', rnd(16));
      const uid = T(Tag.UniqueIdentifier, id);
      const cbc = params([E(Tag.BlockCipherMode, BlockCipherMode.CBC)]);
      const ecb = params([E(Tag.BlockCipherMode, BlockCipherMode.ECB)]);
      const gcm = (t: number) => params([E(Tag.BlockCipherMode, BlockCipherMode.GCM), I(Tag.TagLength, t)]);
      const cases: [TtlvItem[], number, number][] = [
        [
          [uid, cbc, B(Tag.Data, rnd(16)), B(Tag.IVCounterNonce, rnd(15))],
          Operation.Encrypt,
          ResultReason.InvalidField,
        ],
        [[uid, ecb, B(Tag.Data, rnd(17))], Operation.Encrypt, ResultReason.InvalidField],
        [[uid, ecb, B(Tag.Data, rnd(17))], Operation.Decrypt, ResultReason.InvalidField],
        [[uid, cbc, B(Tag.Data, rnd(16))], Operation.Decrypt, ResultReason.InvalidMessage],
        [
          [uid, gcm(1), B(Tag.Data, rnd(16)), B(Tag.IVCounterNonce, rnd(12))],
          Operation.Encrypt,
          ResultReason.GeneralFailure,
        ],
        [
          [uid, gcm(32), B(Tag.Data, rnd(16)), B(Tag.IVCounterNonce, rnd(12))],
          Operation.Encrypt,
          ResultReason.GeneralFailure,
        ],
        [
          [uid, gcm(16), B(Tag.Data, rnd(16)), B(Tag.IVCounterNonce, rnd(12))],
          Operation.Decrypt,
          ResultReason.InvalidField,
        ],
        [
          [uid, params([E(Tag.BlockCipherMode, BlockCipherMode.PCBC)]), B(Tag.Data, rnd(16))],
          Operation.Encrypt,
          ResultReason.FeatureNotSupported,
        ],
        [
          [uid, params([E(Tag.PaddingMethod, PaddingMethod.ANSIX9_23)]), B(Tag.Data, rnd(16))],
          Operation.Encrypt,
          ResultReason.FeatureNotSupported,
        ],
        [
          [
            uid,
            params([E(Tag.BlockCipherMode, BlockCipherMode.CBC), I(Tag.IVLength, 7)]),
            B(Tag.Data, rnd(16)),
          ],
          Operation.Encrypt,
          ResultReason.InvalidField,
        ],
        [[uid], Operation.Encrypt, ResultReason.InvalidMessage],
        [
          [T(Tag.UniqueIdentifier, 'no-such-key'), B(Tag.Data, rnd(16))],
          Operation.Encrypt,
          ResultReason.ItemNotFound,
        ],
        [
          [
            uid,
            params([E(Tag.BlockCipherMode, BlockCipherMode.CCM)]),
            B(Tag.Data, rnd(16)),
            B(Tag.IVCounterNonce, rnd(12)),
            bool(Tag.InitIndicator, true),
          ],
          Operation.Encrypt,
          ResultReason.FeatureNotSupported,
        ],
      ];
      for (const [payload, op, reason] of cases) {
        expect(await fails('1.4', op, payload), JSON.stringify(payload.map((p) => p.tag))).to.equal(reason);
      }
    });

    it('refuses Triple DES unless crypto.allowTripleDes is on', async () => {
      const id = await registerKey(h, '2.1', rnd(24), { algorithm: CryptographicAlgorithm.DES3 });
      const ecb = params([E(Tag.BlockCipherMode, BlockCipherMode.ECB)]);
      const [r] = await h.send('2.1', [
        { op: Operation.Encrypt, payload: [T(Tag.UniqueIdentifier, id), ecb, B(Tag.Data, rnd(8))] },
      ]);
      expect(r?.reason).to.equal(ResultReason.UnsupportedCryptographicParameters);
      expect(r?.message).to.match(/allowTripleDes/);
    });

    it('refuses keys of other algorithms and objects that are not keys', async () => {
      const id = await registerKey(h, '1.4', rnd(32), { algorithm: CryptographicAlgorithm.HMAC_SHA256 });
      expect(
        await fails('1.4', Operation.Encrypt, [T(Tag.UniqueIdentifier, id), B(Tag.Data, rnd(16))]),
      ).to.equal(ResultReason.FeatureNotSupported);
    });
  });

  it('the response carries only what the version defines and no key bytes', async () => {
    const key = rnd(16);
    const id = await registerKey(h, '1.2', key);
    const enc: TtlvStructure = await h.ok('1.2', Operation.Encrypt, [
      T(Tag.UniqueIdentifier, id),
      B(Tag.Data, rnd(16)),
    ]);
    for (const c of members(enc)) {
      if (c.type === 'ByteString') expect(toHex(c.value)).to.not.contain(toHex(key));
    }
  });
});
