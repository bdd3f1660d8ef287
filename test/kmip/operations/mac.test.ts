import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import {
  BlockCipherMode,
  HashingAlgorithm,
  KeyFormatType,
  type KmipVersion,
  ObjectType,
  Operation,
  ResultReason,
  RevocationReasonCode,
  SecretDataType,
  Tag,
  UsageLimitsUnit,
  ValidityIndicator,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem, TtlvStructure } from '../../../src/kmip/ttlv/types.js';
import { activeNow, attrList } from './fixtures.js';
import { B, E, I, kid, S, T, text, useHarness } from './harness.js';
import {
  A,
  Bool,
  bytesOf,
  CMAC_KEY,
  CMAC_MSG,
  CMAC_TAG,
  enumOf,
  failing,
  hashParams,
  hex,
  hmacParams,
  L,
  registerKey,
  toHex,
  U,
  V14,
  V21,
  VDATA,
  VKEY,
  VMAC,
} from './mac-hash-rng-fixtures.js';

describe('operations: MAC, MAC Verify and multi-part MAC', () => {
  const h = useHarness();
  const fails = failing(h);

  describe('MAC', () => {
    for (const version of [V14, V21]) {
      it(`${version}: HMAC-SHA256 from the key's Cryptographic Parameters (CS-AC-M-4)`, async () => {
        const id = await registerKey(h, version, VKEY, { attrs: [hmacParams(A.HMAC_SHA256)] });
        const p = await h.ok(version, Operation.MAC, [T(Tag.UniqueIdentifier, id), B(Tag.Data, hex(VDATA))]);
        expect(p.value.map((c) => c.tag)).to.deep.equal([Tag.UniqueIdentifier, Tag.MACData]);
        expect(text(p, Tag.UniqueIdentifier)).to.equal(id);
        expect(toHex(bytesOf(p, Tag.MACData))).to.equal(VMAC);
      });
    }

    it('request parameters override the key attribute; every HMAC agrees with node:crypto', async () => {
      const id = await registerKey(h, V21, VKEY, { attrs: [hmacParams(A.HMAC_SHA256)] });
      const data = Buffer.from('the quick brown fox');
      const cases: [number, string][] = [
        [A.HMAC_SHA1, 'sha1'],
        [A.HMAC_SHA224, 'sha224'],
        [A.HMAC_SHA384, 'sha384'],
        [A.HMAC_SHA512, 'sha512'],
        [A.HMAC_SHA3_256, 'sha3-256'],
      ];
      for (const [alg, name] of cases) {
        const p = await h.ok(V21, Operation.MAC, [
          T(Tag.UniqueIdentifier, id),
          hmacParams(alg),
          B(Tag.Data, data),
        ]);
        const expected = createHmac(name, hex(VKEY)).update(data).digest('hex');
        expect(toHex(bytesOf(p, Tag.MACData)), name).to.equal(expected);
      }
    });

    it('an AES key without parameters, or with Block Cipher Mode CMAC, gives CMAC (RFC 4493)', async () => {
      const id = await registerKey(h, V14, CMAC_KEY);
      const plain = await h.ok(V14, Operation.MAC, [T(Tag.UniqueIdentifier, id), B(Tag.Data, hex(CMAC_MSG))]);
      expect(toHex(bytesOf(plain, Tag.MACData))).to.equal(CMAC_TAG);
      const explicit = await h.ok(V14, Operation.MAC, [
        T(Tag.UniqueIdentifier, id),
        S(Tag.CryptographicParameters, [
          E(Tag.BlockCipherMode, BlockCipherMode.CMAC),
          E(Tag.CryptographicAlgorithm, A.AES),
        ]),
        B(Tag.Data, hex(CMAC_MSG)),
      ]);
      expect(toHex(bytesOf(explicit, Tag.MACData))).to.equal(CMAC_TAG);
    });

    it('Create makes HMAC keys that MAC like node:crypto with the key from Get', async () => {
      for (const [alg, bits, name] of [
        [A.HMAC_SHA256, 256, 'sha256'],
        [A.HMAC_SHA512, 512, 'sha512'],
        [A.HMAC_SHA1, 160, 'sha1'],
      ] as const) {
        const created = await h.ok(V21, Operation.Create, [
          E(Tag.ObjectType, ObjectType.SymmetricKey),
          S(Tag.Attributes, [
            E(Tag.CryptographicAlgorithm, alg),
            I(Tag.CryptographicLength, bits),
            I(Tag.CryptographicUsageMask, U.MACGenerate | U.MACVerify),
            activeNow(),
          ]),
        ]);
        const id = text(created, Tag.UniqueIdentifier) ?? '';
        const got = await h.ok(V21, Operation.Get, [T(Tag.UniqueIdentifier, id)]);
        const key = bytesOf(
          kid(kid(kid(got, Tag.SymmetricKey), Tag.KeyBlock), Tag.KeyValue),
          Tag.KeyMaterial,
        );
        expect(key?.length).to.equal(bits / 8);
        const p = await h.ok(V21, Operation.MAC, [T(Tag.UniqueIdentifier, id), B(Tag.Data, hex(VDATA))]);
        expect(toHex(bytesOf(p, Tag.MACData))).to.equal(
          createHmac(name, key ?? new Uint8Array())
            .update(hex(VDATA))
            .digest('hex'),
        );
      }
    });

    it('MACs with Secret Data and a Hashing Algorithm', async () => {
      const secret = Buffer.from('a shared secret of some length');
      const reg = await h.ok(V21, Operation.Register, [
        E(Tag.ObjectType, ObjectType.SecretData),
        S(Tag.Attributes, [I(Tag.CryptographicUsageMask, U.MACGenerate), activeNow()]),
        S(Tag.SecretData, [
          E(Tag.SecretDataType, SecretDataType.Seed),
          S(Tag.KeyBlock, [
            E(Tag.KeyFormatType, KeyFormatType.Opaque),
            S(Tag.KeyValue, [B(Tag.KeyMaterial, secret)]),
          ]),
        ]),
      ]);
      const id = text(reg, Tag.UniqueIdentifier) ?? '';
      const p = await h.ok(V21, Operation.MAC, [
        T(Tag.UniqueIdentifier, id),
        hashParams(HashingAlgorithm.SHA_384),
        B(Tag.Data, hex(VDATA)),
      ]);
      expect(toHex(bytesOf(p, Tag.MACData))).to.equal(
        createHmac('sha384', secret).update(hex(VDATA)).digest('hex'),
      );
    });

    it('uses the ID Placeholder of an earlier batch item', async () => {
      const [reg, mac] = await h.send(V14, [
        {
          op: Operation.Register,
          payload: [
            E(Tag.ObjectType, ObjectType.SymmetricKey),
            attrList(V14, [
              I(Tag.CryptographicUsageMask, U.MACGenerate),
              activeNow(),
              hmacParams(A.HMAC_SHA256),
            ]),
            S(Tag.SymmetricKey, [
              S(Tag.KeyBlock, [
                E(Tag.KeyFormatType, KeyFormatType.Raw),
                S(Tag.KeyValue, [B(Tag.KeyMaterial, hex(VKEY))]),
                E(Tag.CryptographicAlgorithm, A.AES),
                I(Tag.CryptographicLength, 128),
              ]),
            ]),
          ],
        },
        { op: Operation.MAC, payload: [B(Tag.Data, hex(VDATA))] },
      ]);
      expect(reg?.status).to.equal(0);
      expect(mac?.status, mac?.message).to.equal(0);
      expect(toHex(bytesOf(mac?.payload, Tag.MACData))).to.equal(VMAC);
    });

    it('refuses a key without MAC Generate, a Pre-Active key, an unknown key and missing Data', async () => {
      const noMask = await registerKey(h, V21, VKEY, { mask: U.Encrypt, attrs: [hmacParams(A.HMAC_SHA256)] });
      const payload = (id: string) => [T(Tag.UniqueIdentifier, id), B(Tag.Data, hex(VDATA))];
      expect(await fails(V21, Operation.MAC, payload(noMask))).to.equal(
        ResultReason.IncompatibleCryptographicUsageMask,
      );
      expect(await fails(V14, Operation.MAC, payload(noMask))).to.equal(ResultReason.PermissionDenied);
      const preActive = await registerKey(h, V21, VKEY, {
        active: false,
        attrs: [hmacParams(A.HMAC_SHA256)],
      });
      expect(await fails(V21, Operation.MAC, payload(preActive))).to.equal(
        ResultReason.WrongKeyLifecycleState,
      );
      expect(await fails(V21, Operation.MAC, payload('no-such-key'))).to.equal(ResultReason.ObjectNotFound);
      expect(await fails(V14, Operation.MAC, payload('no-such-key'))).to.equal(ResultReason.ItemNotFound);
      const ok = await registerKey(h, V21, VKEY, { attrs: [hmacParams(A.HMAC_SHA256)] });
      expect(await fails(V21, Operation.MAC, [T(Tag.UniqueIdentifier, ok)])).to.equal(
        ResultReason.InvalidMessage,
      );
    });

    it('refuses algorithms it cannot MAC with and CMAC keys of a bad length', async () => {
      const id = await registerKey(h, V21, VKEY);
      const bad = [
        T(Tag.UniqueIdentifier, id),
        S(Tag.CryptographicParameters, [E(Tag.CryptographicAlgorithm, A.RSA)]),
        B(Tag.Data, hex(VDATA)),
      ];
      expect(await fails(V21, Operation.MAC, bad)).to.equal(ResultReason.UnsupportedCryptographicParameters);
      expect(await fails(V14, Operation.MAC, bad)).to.equal(ResultReason.InvalidField);
      const gcm = [
        T(Tag.UniqueIdentifier, id),
        S(Tag.CryptographicParameters, [E(Tag.BlockCipherMode, BlockCipherMode.GCM)]),
        B(Tag.Data, hex(VDATA)),
      ];
      expect(await fails(V21, Operation.MAC, gcm)).to.equal(ResultReason.UnsupportedCryptographicParameters);
      // a 15-byte AES key no longer gets as far as a MAC: Register refuses it (register.test.ts)
      const odd = await registerKey(h, V21, '00112233445566778899aabbccddee').then(
        () => 'registered',
        (e: unknown) => String(e),
      );
      expect(odd).to.match(/InvalidField|Invalid Field|AES key is 16, 24 or 32 bytes/);
    });

    it('counts down Usage Limits and stops at zero', async () => {
      const id = await registerKey(h, V21, VKEY, {
        attrs: [
          hmacParams(A.HMAC_SHA256),
          S(Tag.UsageLimits, [L(Tag.UsageLimitsTotal, 2n), E(Tag.UsageLimitsUnit, UsageLimitsUnit.Object)]),
        ],
      });
      const payload = [T(Tag.UniqueIdentifier, id), B(Tag.Data, hex(VDATA))];
      await h.ok(V21, Operation.MAC, payload);
      // a streamed MAC counts once, when it finishes
      const cv = bytesOf(
        await h.ok(V21, Operation.MAC, [...payload, Bool(Tag.InitIndicator, true)]),
        Tag.CorrelationValue,
      );
      await h.ok(V21, Operation.MAC, [
        T(Tag.UniqueIdentifier, id),
        B(Tag.CorrelationValue, cv ?? new Uint8Array()),
        Bool(Tag.FinalIndicator, true),
      ]);
      expect(await fails(V21, Operation.MAC, payload)).to.equal(ResultReason.PermissionDenied);
      expect(await fails(V14, Operation.MAC, payload)).to.equal(ResultReason.PermissionDenied);
    });
  });

  describe('MAC Verify', () => {
    for (const version of [V14, V21]) {
      it(`${version}: Valid for the right MAC, Success + Invalid for a wrong or truncated one`, async () => {
        const id = await registerKey(h, version, VKEY, { attrs: [hmacParams(A.HMAC_SHA256)] });
        const verify = async (macData: string) => {
          const p = await h.ok(version, Operation.MACVerify, [
            T(Tag.UniqueIdentifier, id),
            B(Tag.Data, hex(VDATA)),
            B(Tag.MACData, hex(macData)),
          ]);
          expect(p.value.map((c) => c.tag)).to.deep.equal([Tag.UniqueIdentifier, Tag.ValidityIndicator]);
          return enumOf(p, Tag.ValidityIndicator);
        };
        expect(await verify(VMAC)).to.equal(ValidityIndicator.Valid);
        expect(await verify(`${VMAC.slice(0, -2)}00`)).to.equal(ValidityIndicator.Invalid);
        expect(await verify(VMAC.slice(0, 32))).to.equal(ValidityIndicator.Invalid);
        expect(await verify('')).to.equal(ValidityIndicator.Invalid);
      });
    }

    it('needs MAC Verify in the mask, and works on a revoked (Deactivated) key', async () => {
      const genOnly = await registerKey(h, V21, VKEY, {
        mask: U.MACGenerate,
        attrs: [hmacParams(A.HMAC_SHA256)],
      });
      const payload = (id: string) => [
        T(Tag.UniqueIdentifier, id),
        B(Tag.Data, hex(VDATA)),
        B(Tag.MACData, hex(VMAC)),
      ];
      expect(await fails(V21, Operation.MACVerify, payload(genOnly))).to.equal(
        ResultReason.IncompatibleCryptographicUsageMask,
      );
      const id = await registerKey(h, V21, VKEY, { attrs: [hmacParams(A.HMAC_SHA256)] });
      await h.ok(V21, Operation.Revoke, [
        T(Tag.UniqueIdentifier, id),
        S(Tag.RevocationReason, [E(Tag.RevocationReasonCode, RevocationReasonCode.CessationOfOperation)]),
      ]);
      const p = await h.ok(V21, Operation.MACVerify, payload(id));
      expect(enumOf(p, Tag.ValidityIndicator)).to.equal(ValidityIndicator.Valid);
      expect(
        await fails(V21, Operation.MAC, [T(Tag.UniqueIdentifier, id), B(Tag.Data, hex(VDATA))]),
      ).to.equal(ResultReason.WrongKeyLifecycleState);
    });
  });

  describe('multi-part MAC and MAC Verify (TC-STREAM-MAC-1)', () => {
    async function part(
      version: KmipVersion,
      op: number,
      id: string,
      items: TtlvItem[],
    ): Promise<TtlvStructure> {
      return h.ok(version, op, [T(Tag.UniqueIdentifier, id), ...items]);
    }

    for (const version of [V14, V21]) {
      it(`${version}: streamed MAC equals the one-shot MAC; streamed verify is Valid`, async () => {
        const id = await registerKey(h, version, VKEY, { attrs: [hmacParams(A.HMAC_SHA256)] });
        const first = await part(version, Operation.MAC, id, [
          B(Tag.Data, hex('0102')),
          Bool(Tag.InitIndicator, true),
        ]);
        expect(first.value.map((c) => c.tag)).to.deep.equal([Tag.UniqueIdentifier, Tag.CorrelationValue]);
        const cv = bytesOf(first, Tag.CorrelationValue) ?? new Uint8Array();
        const mid = await part(version, Operation.MAC, id, [
          B(Tag.Data, hex('030405060708091011121314')),
          B(Tag.CorrelationValue, cv),
        ]);
        expect(toHex(bytesOf(mid, Tag.CorrelationValue))).to.equal(toHex(cv));
        const last = await part(version, Operation.MAC, id, [
          B(Tag.Data, hex('1516')),
          B(Tag.CorrelationValue, cv),
          Bool(Tag.FinalIndicator, true),
        ]);
        expect(last.value.map((c) => c.tag)).to.deep.equal([Tag.UniqueIdentifier, Tag.MACData]);
        expect(toHex(bytesOf(last, Tag.MACData))).to.equal(VMAC);

        // the stream is gone once finished
        const reason = await fails(version, Operation.MAC, [
          T(Tag.UniqueIdentifier, id),
          B(Tag.Data, hex('00')),
          B(Tag.CorrelationValue, cv),
        ]);
        expect(reason).to.equal(
          version === V21 ? ResultReason.InvalidCorrelationValue : ResultReason.InvalidField,
        );

        const v1 = await part(version, Operation.MACVerify, id, [
          B(Tag.Data, hex('01020304')),
          B(Tag.MACData, hex(VMAC)),
          Bool(Tag.InitIndicator, true),
        ]);
        const vcv = bytesOf(v1, Tag.CorrelationValue) ?? new Uint8Array();
        await part(version, Operation.MACVerify, id, [
          B(Tag.Data, hex('0506070809101112')),
          B(Tag.CorrelationValue, vcv),
        ]);
        const v3 = await part(version, Operation.MACVerify, id, [
          B(Tag.Data, hex('13141516')),
          B(Tag.CorrelationValue, vcv),
          Bool(Tag.FinalIndicator, true),
        ]);
        expect(v3.value.map((c) => c.tag)).to.deep.equal([Tag.UniqueIdentifier, Tag.ValidityIndicator]);
        expect(enumOf(v3, Tag.ValidityIndicator)).to.equal(ValidityIndicator.Valid);
      });
    }

    it('a streamed verify of other data is Invalid; CMAC streams too', async () => {
      const id = await registerKey(h, V21, CMAC_KEY);
      const a = await part(V21, Operation.MACVerify, id, [
        B(Tag.Data, hex(CMAC_MSG.slice(0, 10))),
        B(Tag.MACData, hex(CMAC_TAG)),
        Bool(Tag.InitIndicator, true),
      ]);
      const cv = bytesOf(a, Tag.CorrelationValue) ?? new Uint8Array();
      const b = await part(V21, Operation.MACVerify, id, [
        B(Tag.Data, hex(CMAC_MSG.slice(10))),
        B(Tag.CorrelationValue, cv),
        Bool(Tag.FinalIndicator, true),
      ]);
      expect(enumOf(b, Tag.ValidityIndicator)).to.equal(ValidityIndicator.Valid);

      const c = await part(V21, Operation.MACVerify, id, [
        B(Tag.Data, hex(CMAC_MSG)),
        B(Tag.MACData, hex(CMAC_TAG)),
        Bool(Tag.InitIndicator, true),
      ]);
      const cv2 = bytesOf(c, Tag.CorrelationValue) ?? new Uint8Array();
      const d = await part(V21, Operation.MACVerify, id, [
        B(Tag.Data, hex('00')),
        B(Tag.CorrelationValue, cv2),
        Bool(Tag.FinalIndicator, true),
      ]);
      expect(enumOf(d, Tag.ValidityIndicator)).to.equal(ValidityIndicator.Invalid);
    });

    it('refuses a MAC Correlation Value in MAC Verify, another key, and a key revoked mid-stream', async () => {
      const id = await registerKey(h, V21, VKEY, { attrs: [hmacParams(A.HMAC_SHA256)] });
      const other = await registerKey(h, V21, VKEY, { attrs: [hmacParams(A.HMAC_SHA256)] });
      const open = async () =>
        bytesOf(
          await part(V21, Operation.MAC, id, [B(Tag.Data, hex('01')), Bool(Tag.InitIndicator, true)]),
          Tag.CorrelationValue,
        ) ?? new Uint8Array();
      const cv = await open();
      const next = (op: number, target: string) =>
        fails(V21, op, [
          T(Tag.UniqueIdentifier, target),
          B(Tag.Data, hex('02')),
          B(Tag.CorrelationValue, cv),
        ]);
      expect(await next(Operation.MACVerify, id)).to.equal(ResultReason.InvalidCorrelationValue);
      expect(await next(Operation.MAC, other)).to.equal(ResultReason.InvalidField);
      // a failed step drops the stream
      expect(
        await fails(V21, Operation.MAC, [T(Tag.UniqueIdentifier, id), B(Tag.CorrelationValue, cv)]),
      ).to.equal(ResultReason.InvalidCorrelationValue);

      const cv2 = await open();
      await h.ok(V21, Operation.Revoke, [
        T(Tag.UniqueIdentifier, id),
        S(Tag.RevocationReason, [E(Tag.RevocationReasonCode, RevocationReasonCode.Unspecified)]),
      ]);
      expect(
        await fails(V21, Operation.MAC, [
          T(Tag.UniqueIdentifier, id),
          B(Tag.Data, hex('02')),
          B(Tag.CorrelationValue, cv2),
          Bool(Tag.FinalIndicator, true),
        ]),
      ).to.equal(ResultReason.WrongKeyLifecycleState);
    });
  });
});
