import {
  constants,
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  publicDecrypt,
  sign,
  verify,
} from 'node:crypto';
import * as asn1js from 'asn1js';
import { expect } from 'chai';
import fc from 'fast-check';
import { CryptoError } from '../../src/crypto/errors.js';
import {
  createMessageSigner,
  createMessageVerifier,
  derSignature,
  parseDerSignature,
  SIGNATURE_HASHES,
  signData,
  signDigest,
  verifyData,
  verifyDigest,
} from '../../src/crypto/signature.js';

const MESSAGE = Buffer.from('KMIP signs this message');
const digestOf = (hash: string, data: Uint8Array = MESSAGE): Buffer => createHash(hash).update(data).digest();
const tamper = (sig: Uint8Array, at = sig.length - 1): Uint8Array => {
  const out = Uint8Array.from(sig);
  out[at] = (out[at] ?? 0) ^ 0x01;
  return out;
};

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
// A modulus whose bit length is 1 mod 8: EMSA-PSS then encodes one byte shorter than the modulus (RFC 8017 §9.1.1).
const rsaOdd = generateKeyPairSync('rsa', { modulusLength: 1025 });
const CURVES = ['P-256', 'P-384', 'P-521', 'secp256k1'] as const;
const ec: Record<string, { privateKey: KeyObject; publicKey: KeyObject }> = {};
for (const c of CURVES) ec[c] = generateKeyPairSync('ec', { namedCurve: c });

describe('crypto/signature', () => {
  describe('RSA PKCS#1 v1.5', () => {
    it('signs messages that node:crypto verifies, and verifies what node:crypto signs', () => {
      for (const hash of ['sha1', 'sha256', 'sha384', 'sha512', 'sha3-256']) {
        const sig = signData(rsa.privateKey, { hash }, MESSAGE);
        expect(verify(hash, MESSAGE, rsa.publicKey, sig), hash).to.equal(true);
        const theirs = sign(hash, MESSAGE, rsa.privateKey);
        expect(verifyData(rsa.publicKey, { hash }, MESSAGE, theirs)).to.equal(true);
        expect(verifyData(rsa.publicKey, { hash }, MESSAGE, tamper(theirs))).to.equal(false);
        expect(verifyData(rsa.publicKey, { hash }, Buffer.from('other'), theirs)).to.equal(false);
      }
    });

    it('over a digest, DigestInfo ‖ digest equals node:crypto signing the message (every DigestInfo prefix)', () => {
      for (const hash of SIGNATURE_HASHES) {
        const mine = signDigest(rsa.privateKey, { hash }, digestOf(hash));
        expect(Buffer.from(mine).equals(sign(hash, MESSAGE, rsa.privateKey)), hash).to.equal(true);
        expect(verifyDigest(rsa.publicKey, { hash }, digestOf(hash), mine)).to.equal(true);
        expect(verifyDigest(rsa.publicKey, { hash }, digestOf(hash, Buffer.from('x')), mine)).to.equal(false);
      }
    });

    it('over a digest with no Hashing Algorithm, signs the bytes as given (no DigestInfo)', () => {
      const bytes = Buffer.from('01020304050607080910111213141516', 'hex');
      const sig = signDigest(rsa.privateKey, { hash: undefined }, bytes);
      const recovered = publicDecrypt({ key: rsa.publicKey, padding: constants.RSA_PKCS1_PADDING }, sig);
      expect(recovered.equals(bytes)).to.equal(true);
      expect(verifyDigest(rsa.publicKey, { hash: undefined }, bytes, sig)).to.equal(true);
      expect(verifyDigest(rsa.publicKey, { hash: undefined }, bytes, tamper(sig, 10))).to.equal(false);
      expect(verifyDigest(rsa.publicKey, { hash: undefined }, bytes, sig.subarray(1))).to.equal(false);
    });

    it('refuses a digest of the wrong length for the named hash', () => {
      expect(() => signDigest(rsa.privateKey, { hash: 'sha256' }, Buffer.alloc(20))).to.throw(CryptoError);
    });
  });

  describe('RSA-PSS', () => {
    it('signs with salt = hash length by default; node:crypto verifies with that exact salt length', () => {
      for (const hash of ['sha256', 'sha384']) {
        const sig = signData(rsa.privateKey, { hash, rsaPadding: 'pss' }, MESSAGE);
        const len = digestOf(hash).length;
        const opts = { key: rsa.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: len };
        expect(verify(hash, MESSAGE, opts, sig)).to.equal(true);
      }
    });

    it('verifies any salt length unless one is given (CS-AC-M-2 gives none)', () => {
      const theirs = sign('sha256', MESSAGE, {
        key: rsa.privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 222,
      });
      expect(verifyData(rsa.publicKey, { hash: 'sha256', rsaPadding: 'pss' }, MESSAGE, theirs)).to.equal(
        true,
      );
      const exact = { hash: 'sha256', rsaPadding: 'pss' as const, saltLength: 222 };
      expect(verifyData(rsa.publicKey, exact, MESSAGE, theirs)).to.equal(true);
      const wrong = { hash: 'sha256', rsaPadding: 'pss' as const, saltLength: 32 };
      expect(verifyData(rsa.publicKey, wrong, MESSAGE, theirs)).to.equal(false);
    });

    it('over a digest, interoperates with node:crypto both ways, also for a 1025-bit modulus', () => {
      for (const pair of [rsa, rsaOdd]) {
        for (const hash of pair === rsa ? ['sha1', 'sha256', 'sha512'] : ['sha1', 'sha256']) {
          const auto = {
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: constants.RSA_PSS_SALTLEN_AUTO,
          };
          const mine = signDigest(pair.privateKey, { hash, rsaPadding: 'pss' }, digestOf(hash));
          expect(verify(hash, MESSAGE, { key: pair.publicKey, ...auto }, mine), hash).to.equal(true);
          const theirs = sign(hash, MESSAGE, {
            key: pair.privateKey,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: 7,
          });
          expect(verifyDigest(pair.publicKey, { hash, rsaPadding: 'pss' }, digestOf(hash), theirs)).to.equal(
            true,
          );
          const s7 = { hash, rsaPadding: 'pss' as const, saltLength: 7 };
          expect(verifyDigest(pair.publicKey, s7, digestOf(hash), theirs)).to.equal(true);
          expect(verifyDigest(pair.publicKey, { ...s7, saltLength: 8 }, digestOf(hash), theirs)).to.equal(
            false,
          );
          expect(verifyDigest(pair.publicKey, s7, digestOf(hash), tamper(theirs))).to.equal(false);
        }
      }
    });

    it('infers the hash of a digest from its length when none is named', () => {
      const sig = signDigest(rsa.privateKey, { hash: undefined, rsaPadding: 'pss' }, digestOf('sha384'));
      const opts = { key: rsa.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING };
      expect(verify('sha384', MESSAGE, opts, sig)).to.equal(true);
      expect(() =>
        signDigest(rsa.privateKey, { hash: undefined, rsaPadding: 'pss' }, Buffer.alloc(16)),
      ).to.throw(CryptoError);
    });

    it('uses another MGF1 digest when asked, and only that one verifies', () => {
      const scheme = { hash: 'sha256', rsaPadding: 'pss' as const, mgf1Hash: 'sha1' };
      const sig = signData(rsa.privateKey, scheme, MESSAGE);
      expect(verifyData(rsa.publicKey, scheme, MESSAGE, sig)).to.equal(true);
      expect(verifyData(rsa.publicKey, { hash: 'sha256', rsaPadding: 'pss' }, MESSAGE, sig)).to.equal(false);
      // Independent check: an RSASSA-PSS key restricted to MGF1-SHA1 signs in node:crypto; we verify it.
      const pss = generateKeyPairSync('rsa-pss', {
        modulusLength: 2048,
        hashAlgorithm: 'sha256',
        mgf1HashAlgorithm: 'sha1',
      });
      const theirs = sign('sha256', MESSAGE, pss.privateKey);
      // The same key as plain RSA: the RSAPrivateKey inside the PKCS#8 (RFC 5208 §5) of the RSASSA-PSS key.
      const pkcs8 = asn1js.fromBER(pss.privateKey.export({ format: 'der', type: 'pkcs8' }));
      const inner = (pkcs8.result as asn1js.Sequence).valueBlock.value[2] as asn1js.OctetString;
      const plain = createPrivateKey({
        key: Buffer.from(inner.valueBlock.valueHexView),
        format: 'der',
        type: 'pkcs1',
      });
      expect(verifyData(createPublicKey(plain), scheme, MESSAGE, theirs)).to.equal(true);
      expect(verify('sha256', MESSAGE, pss.publicKey, signData(plain, scheme, MESSAGE))).to.equal(true);
    });
  });

  describe('ECDSA', () => {
    it('DER signatures interoperate with node:crypto over messages', () => {
      for (const c of CURVES) {
        const { privateKey, publicKey } = ec[c] ?? rsa;
        const sig = signData(privateKey, { hash: 'sha256' }, MESSAGE);
        expect(sig[0]).to.equal(0x30);
        expect(verify('sha256', MESSAGE, { key: publicKey, dsaEncoding: 'der' }, sig), c).to.equal(true);
        const theirs = sign('sha384', MESSAGE, { key: privateKey, dsaEncoding: 'der' });
        expect(verifyData(publicKey, { hash: 'sha384' }, MESSAGE, theirs)).to.equal(true);
        expect(verifyData(publicKey, { hash: 'sha1' }, MESSAGE, theirs)).to.equal(false);
      }
    });

    it('over a digest, interoperates with node:crypto both ways on every curve', () => {
      for (const c of CURVES) {
        const { privateKey, publicKey } = ec[c] ?? rsa;
        for (const hash of ['sha1', 'sha256', 'sha384', 'sha512']) {
          const mine = signDigest(privateKey, { hash }, digestOf(hash));
          expect(
            verify(hash, MESSAGE, { key: publicKey, dsaEncoding: 'der' }, mine),
            `${c} ${hash}`,
          ).to.equal(true);
          const theirs = sign(hash, MESSAGE, { key: privateKey, dsaEncoding: 'der' });
          expect(verifyDigest(publicKey, { hash }, digestOf(hash), theirs), `${c} ${hash}`).to.equal(true);
          expect(verifyDigest(publicKey, { hash }, digestOf(hash), tamper(theirs))).to.equal(false);
          expect(verifyDigest(publicKey, { hash }, digestOf(hash, Buffer.from('x')), theirs)).to.equal(false);
        }
      }
    });

    it('signs a digest shorter than the order as the integer it is (TC-ECDSA-SIGN-DIGESTEDDATA-1: 16 bytes)', () => {
      const { privateKey, publicKey } = ec['P-256'] ?? rsa;
      const digest = Buffer.from('01020304050607080910111213141516', 'hex');
      const sig = signDigest(privateKey, { hash: undefined }, digest);
      expect(verifyDigest(publicKey, { hash: undefined }, digest, sig)).to.equal(true);
      expect(verifyDigest(privateKey, { hash: undefined }, digest, sig)).to.equal(true);
      expect(verifyDigest(publicKey, { hash: undefined }, tamper(digest), sig)).to.equal(false);
    });

    it('has the right group order for each curve: (n-1)·G = -G', () => {
      const orders: Record<string, string> = {
        prime256v1: 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551',
        secp384r1:
          'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
        secp521r1: `01ff${'ff'.repeat(31)}fa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409`,
        secp256k1: 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141',
      };
      for (const [curve, hex] of Object.entries(orders)) {
        const n = BigInt(`0x${hex}`);
        const len = hex.length / 2;
        const e = createECDH(curve);
        e.setPrivateKey(Buffer.from(1n.toString(16).padStart(len * 2, '0'), 'hex'));
        const g = e.getPublicKey();
        e.setPrivateKey(Buffer.from((n - 1n).toString(16).padStart(len * 2, '0'), 'hex'));
        const minusG = e.getPublicKey();
        expect(minusG.subarray(1, 1 + len).equals(g.subarray(1, 1 + len)), curve).to.equal(true);
        expect(minusG.equals(g), curve).to.equal(false);
      }
    });

    it('reads only well-formed DER signatures', () => {
      expect(parseDerSignature(derSignature(1n, 0x80n))).to.deep.equal([1n, 0x80n]);
      const good = Buffer.from(derSignature(5n, 7n));
      expect(parseDerSignature(Buffer.concat([good, Buffer.from([0])]))).to.equal(undefined);
      expect(parseDerSignature(Buffer.from('3006020200050201 07'.replace(' ', ''), 'hex'))).to.equal(
        undefined,
      );
      expect(parseDerSignature(Buffer.from('300602018102010107', 'hex'))).to.equal(undefined);
      expect(parseDerSignature(new Uint8Array())).to.equal(undefined);
      fc.assert(
        fc.property(
          fc.bigInt({ min: 1n, max: (1n << 528n) - 1n }),
          fc.bigInt({ min: 1n, max: (1n << 528n) - 1n }),
          (r, s) => {
            expect(parseDerSignature(derSignature(r, s))).to.deep.equal([r, s]);
          },
        ),
        { numRuns: 200 },
      );
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
          const { publicKey } = ec['P-256'] ?? rsa;
          expect(verifyDigest(publicKey, { hash: 'sha256' }, digestOf('sha256'), bytes)).to.equal(false);
        }),
        { numRuns: 100 },
      );
    });
  });

  describe('EdDSA', () => {
    it('Ed25519 and Ed448 sign the message itself, in one part or several', () => {
      for (const type of ['ed25519', 'ed448'] as const) {
        const { privateKey, publicKey } =
          type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ed448');
        const sig = signData(privateKey, { hash: undefined }, MESSAGE);
        expect(verify(null, MESSAGE, publicKey, sig), type).to.equal(true);
        const signer = createMessageSigner(privateKey, { hash: 'sha256' });
        signer.update(MESSAGE.subarray(0, 5));
        signer.update(MESSAGE.subarray(5));
        expect(verify(null, MESSAGE, publicKey, signer.sign())).to.equal(true);
        const verifier = createMessageVerifier(publicKey, { hash: undefined });
        verifier.update(MESSAGE.subarray(0, 3));
        verifier.update(MESSAGE.subarray(3));
        expect(verifier.verify(sig)).to.equal(true);
        expect(() => signDigest(privateKey, { hash: 'sha256' }, digestOf('sha256'))).to.throw(CryptoError);
      }
    });
  });

  describe('in parts', () => {
    it('signing in parts equals signing in one part (RSA, PSS, ECDSA)', () => {
      const cases: [KeyObject, KeyObject, Parameters<typeof signData>[1]][] = [
        [rsa.privateKey, rsa.publicKey, { hash: 'sha256' }],
        [rsa.privateKey, rsa.publicKey, { hash: 'sha512', rsaPadding: 'pss' }],
        [rsa.privateKey, rsa.publicKey, { hash: 'sha256', rsaPadding: 'pss', mgf1Hash: 'sha1' }],
        [
          ec['P-384']?.privateKey ?? rsa.privateKey,
          ec['P-384']?.publicKey ?? rsa.publicKey,
          { hash: 'sha384' },
        ],
      ];
      for (const [priv, pub, scheme] of cases) {
        const signer = createMessageSigner(priv, scheme);
        for (let i = 0; i < MESSAGE.length; i += 4) signer.update(MESSAGE.subarray(i, i + 4));
        const sig = signer.sign();
        expect(verifyData(pub, scheme, MESSAGE, sig)).to.equal(true);
        const verifier = createMessageVerifier(pub, scheme);
        verifier.update(MESSAGE.subarray(0, 7));
        verifier.update(MESSAGE.subarray(7));
        expect(verifier.verify(sig)).to.equal(true);
        const bad = createMessageVerifier(pub, scheme);
        bad.update(MESSAGE.subarray(1));
        expect(bad.verify(sig)).to.equal(false);
      }
      // PKCS#1 v1.5 is deterministic: the parts give the very same signature.
      const s = createMessageSigner(rsa.privateKey, { hash: 'sha256' });
      s.update(MESSAGE.subarray(0, 10));
      s.update(MESSAGE.subarray(10));
      expect(Buffer.from(s.sign()).equals(sign('sha256', MESSAGE, rsa.privateKey))).to.equal(true);
    });
  });

  describe('errors', () => {
    it('a public key does not sign; an unknown hash fails as a CryptoError', () => {
      expect(() => signData(rsa.publicKey, { hash: 'sha256' }, MESSAGE)).to.throw(CryptoError);
      expect(() => signData(rsa.privateKey, { hash: 'nohash' }, MESSAGE)).to.throw(CryptoError);
      expect(() => createMessageSigner(rsa.privateKey, { hash: 'nohash' })).to.throw(CryptoError);
      expect(verifyData(rsa.publicKey, { hash: 'sha256' }, MESSAGE, new Uint8Array(3))).to.equal(false);
    });
  });
});
