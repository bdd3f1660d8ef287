import { createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { expect } from 'chai';
import { CryptoError } from '../../src/crypto/errors.js';
import { generateEcKeyPair, generateRsaKeyPair } from '../../src/crypto/keygen.js';
import { KmipError } from '../../src/kmip/errors.js';
import {
  asymmetricContent,
  convertAsymmetricBlock,
  fromBigIntegerBytes,
  keyFromBlock,
  keyFromMaterial,
  materialFromKey,
  pickCurve,
  toBigIntegerBytes,
} from '../../src/kmip/model/key-formats.js';
import {
  CryptographicAlgorithm,
  KeyFormatType,
  ObjectType,
  RecommendedCurve,
  Tag,
} from '../../src/kmip/spec/index.js';
import type { TtlvStructure } from '../../src/kmip/ttlv/types.js';

const F = KeyFormatType;
const MESSAGE = Buffer.from('key formats round trip');

function blockOf(content: TtlvStructure): TtlvStructure {
  const kb = content.value.find((c) => c.tag === Tag.KeyBlock);
  if (kb?.type !== 'Structure') throw new Error('no key block');
  return kb;
}

/** Signs with `priv`, verifies with `pub`: the two halves of one pair. */
function samePair(priv: KeyObject, pub: KeyObject): boolean {
  const sig = sign('sha256', MESSAGE, priv);
  return verify('sha256', MESSAGE, pub, sig);
}

describe('kmip/model/key-formats', () => {
  describe('Big Integer bytes', () => {
    it('pads to a multiple of 8 with a sign byte when the top bit is set', () => {
      expect(toBigIntegerBytes(new Uint8Array([0x80]))).to.deep.equal(
        new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0x80]),
      );
      expect(toBigIntegerBytes(new Uint8Array(8).fill(0xff)).length).to.equal(16);
      expect(toBigIntegerBytes(new Uint8Array([0, 0, 1])).length).to.equal(8);
      expect(fromBigIntegerBytes(new Uint8Array([0, 0, 0, 0, 0, 0, 1, 2]))).to.deep.equal(
        new Uint8Array([1, 2]),
      );
    });
    it('refuses a negative component', () => {
      expect(() => fromBigIntegerBytes(new Uint8Array([0x80, 0, 0, 0, 0, 0, 0, 0]))).to.throw(KmipError);
    });
  });

  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });

  const cases: [string, KeyObject, KeyObject, number[], number[]][] = [
    [
      'RSA',
      rsa.privateKey,
      rsa.publicKey,
      [F.PKCS_1, F.PKCS_8, F.TransparentRSAPrivateKey],
      [F.PKCS_1, F.X_509, F.TransparentRSAPublicKey],
    ],
    [
      'EC P-384',
      ec.privateKey,
      ec.publicKey,
      [F.PKCS_8, F.ECPrivateKey, F.TransparentECPrivateKey, F.TransparentECDSAPrivateKey],
      [F.X_509, F.TransparentECPublicKey, F.TransparentECDSAPublicKey],
    ],
  ];
  for (const [name, priv, pub, privFormats, pubFormats] of cases) {
    describe(name, () => {
      for (const f of privFormats) {
        it(`private key round trip through format ${f}`, () => {
          const back = keyFromMaterial(ObjectType.PrivateKey, f, materialFromKey(priv, f));
          expect(samePair(back, pub)).to.equal(true);
          // independent check: node's own public half of the re-read key equals the original
          expect(createPublicKey(back).export({ format: 'der', type: 'spki' })).to.deep.equal(
            pub.export({ format: 'der', type: 'spki' }),
          );
        });
      }
      for (const f of pubFormats) {
        it(`public key round trip through format ${f}`, () => {
          const back = keyFromMaterial(ObjectType.PublicKey, f, materialFromKey(pub, f));
          expect(samePair(priv, back)).to.equal(true);
        });
      }
      it('converts a stored block to every other format and back', () => {
        const stored = blockOf(asymmetricContent(priv, privFormats[0] ?? 0, 0, 0));
        for (const f of privFormats) {
          const converted = convertAsymmetricBlock(ObjectType.PrivateKey, stored, f);
          expect(samePair(keyFromBlock(ObjectType.PrivateKey, converted), pub)).to.equal(true);
        }
      });
    });
  }

  it('refuses impossible conversions with Key Format Type Not Supported', () => {
    const rsaPriv = blockOf(asymmetricContent(rsa.privateKey, F.PKCS_1, CryptographicAlgorithm.RSA, 2048));
    const ecPub = blockOf(asymmetricContent(ec.publicKey, F.X_509, CryptographicAlgorithm.EC, 384));
    for (const [type, block, to] of [
      [ObjectType.PrivateKey, rsaPriv, F.X_509],
      [ObjectType.PrivateKey, rsaPriv, F.ECPrivateKey],
      [ObjectType.PrivateKey, rsaPriv, F.Raw],
      [ObjectType.PublicKey, ecPub, F.PKCS_1],
      [ObjectType.PublicKey, ecPub, F.TransparentRSAPublicKey],
    ] as const) {
      try {
        convertAsymmetricBlock(type, block, to);
        expect.fail(`converted to ${to}`);
      } catch (e: unknown) {
        expect(e).to.be.instanceOf(KmipError);
        expect((e as KmipError).reason).to.equal('KeyFormatTypeNotSupported');
      }
    }
  });

  it('rejects malformed key material with Invalid Field', () => {
    const bad = { tag: Tag.KeyMaterial, type: 'ByteString', value: new Uint8Array([1, 2, 3]) } as const;
    expect(() => keyFromMaterial(ObjectType.PrivateKey, F.PKCS_8, bad)).to.throw(
      KmipError,
      /not a valid key/,
    );
  });

  it('generates RSA and EC pairs', async () => {
    const r = await generateRsaKeyPair(1024);
    expect(r.privateKey.asymmetricKeyDetails?.modulusLength).to.equal(1024);
    expect(samePair(r.privateKey, r.publicKey)).to.equal(true);
    const e = await generateEcKeyPair(pickCurve(RecommendedCurve.P_521, undefined));
    expect(e.privateKey.asymmetricKeyDetails?.namedCurve).to.equal('secp521r1');
    expect(pickCurve(undefined, 256).jwk).to.equal('P-256');
    expect(() => pickCurve(undefined, 300)).to.throw(KmipError);
    await generateRsaKeyPair(512).then(
      () => expect.fail('512-bit RSA accepted'),
      (err: unknown) => expect(err).to.be.instanceOf(CryptoError).with.property('reason', 'InvalidField'),
    );
  });
});
