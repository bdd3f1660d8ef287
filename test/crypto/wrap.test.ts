import {
  constants,
  createCipheriv,
  createDecipheriv,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { CryptoError } from '../../src/crypto/errors.js';
import {
  aesGcmUnwrap,
  aesGcmWrap,
  aesKeyUnwrap,
  aesKeyUnwrapPad,
  aesKeyWrap,
  aesKeyWrapPad,
  rsaUnwrap,
  rsaWrap,
} from '../../src/crypto/wrap.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** OpenSSL's own KW / KWP (an implementation independent of ours). */
function opensslWrap(kek: Uint8Array, plain: Uint8Array, pad: boolean): Uint8Array {
  const name = `id-aes${kek.length * 8}-wrap${pad ? '-pad' : ''}`;
  const iv = pad ? Buffer.from('a65959a6', 'hex') : Buffer.from('a6a6a6a6a6a6a6a6', 'hex');
  const c = createCipheriv(name, kek, iv);
  return new Uint8Array(Buffer.concat([c.update(plain), c.final()]));
}

function opensslUnwrap(kek: Uint8Array, wrapped: Uint8Array, pad: boolean): Uint8Array {
  const name = `id-aes${kek.length * 8}-wrap${pad ? '-pad' : ''}`;
  const iv = pad ? Buffer.from('a65959a6', 'hex') : Buffer.from('a6a6a6a6a6a6a6a6', 'hex');
  const d = createDecipheriv(name, kek, iv);
  return new Uint8Array(Buffer.concat([d.update(wrapped), d.final()]));
}

// RFC 3394 §4.1–4.6 known answers.
const RFC3394 = [
  [
    '000102030405060708090a0b0c0d0e0f',
    '00112233445566778899aabbccddeeff',
    '1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5',
  ],
  [
    '000102030405060708090a0b0c0d0e0f1011121314151617',
    '00112233445566778899aabbccddeeff',
    '96778b25ae6ca435f92b5b97c050aed2468ab8a17ad84e5d',
  ],
  [
    '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
    '00112233445566778899aabbccddeeff',
    '64e8c3f9ce0f5ba263e9777905818a2a93c8191e7d6e8ae7',
  ],
  [
    '000102030405060708090a0b0c0d0e0f1011121314151617',
    '00112233445566778899aabbccddeeff0001020304050607',
    '031d33264e15d33268f24ec260743edce1c6c7ddee725a936ba814915c6762d2',
  ],
  [
    '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
    '00112233445566778899aabbccddeeff0001020304050607',
    'a8f9bc1612c68b3ff6e6f4fbe30e71e4769c8b80a32cb8958cd5d17d6b254da1',
  ],
  [
    '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
    '00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f',
    '28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21',
  ],
] as const;

// RFC 5649 §6 known answers.
const RFC5649 = [
  [
    '5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8',
    'c37b7e6492584340bed12207808941155068f738',
    '138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a',
  ],
  ['5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8', '466f7250617369', 'afbeb0f07dfbf5419200f2ccb50bb24f'],
] as const;

describe('crypto/wrap', () => {
  describe('AES Key Wrap (RFC 3394)', () => {
    for (const [kek, plain, wrapped] of RFC3394) {
      it(`wraps and unwraps the ${kek.length * 4}-bit KEK, ${plain.length * 4}-bit key vector`, () => {
        expect(toHex(aesKeyWrap(hex(kek), hex(plain)))).to.equal(wrapped);
        expect(toHex(aesKeyUnwrap(hex(kek), hex(wrapped)))).to.equal(plain);
      });
    }

    it('agrees with OpenSSL id-aes*-wrap both ways', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(16, 24, 32),
          fc.integer({ min: 2, max: 12 }),
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.uint8Array({ minLength: 96, maxLength: 96 }),
          (kl, blocks, kekBytes, dataBytes) => {
            const kek = kekBytes.subarray(0, kl);
            const plain = dataBytes.subarray(0, blocks * 8);
            const ours = aesKeyWrap(kek, plain);
            expect(toHex(ours)).to.equal(toHex(opensslWrap(kek, plain, false)));
            expect(toHex(opensslUnwrap(kek, ours, false))).to.equal(toHex(plain));
            expect(toHex(aesKeyUnwrap(kek, ours))).to.equal(toHex(plain));
          },
        ),
        { numRuns: 50 },
      );
    });

    it('fails the integrity check on a modified or wrongly keyed input', () => {
      const kek = hex(RFC3394[0][0]);
      const wrapped = hex(RFC3394[0][2]);
      wrapped[5] = (wrapped[5] ?? 0) ^ 1;
      expect(() => aesKeyUnwrap(kek, wrapped))
        .to.throw(CryptoError)
        .with.property('reason', 'CryptographicFailure');
      expect(() => aesKeyUnwrap(randomBytes(16), hex(RFC3394[0][2]))).to.throw(CryptoError);
    });

    it('refuses sizes RFC 3394 cannot wrap', () => {
      expect(() => aesKeyWrap(randomBytes(16), randomBytes(8)))
        .to.throw(CryptoError)
        .with.property('reason', 'InvalidField');
      expect(() => aesKeyWrap(randomBytes(16), randomBytes(20))).to.throw(CryptoError);
      expect(() => aesKeyWrap(randomBytes(15), randomBytes(16))).to.throw(CryptoError);
      expect(() => aesKeyUnwrap(randomBytes(16), randomBytes(20))).to.throw(CryptoError);
    });
  });

  describe('AES Key Wrap with Padding (RFC 5649)', () => {
    for (const [kek, plain, wrapped] of RFC5649) {
      it(`wraps and unwraps the ${plain.length / 2}-byte vector`, () => {
        expect(toHex(aesKeyWrapPad(hex(kek), hex(plain)))).to.equal(wrapped);
        expect(toHex(aesKeyUnwrapPad(hex(kek), hex(wrapped)))).to.equal(plain);
      });
    }

    it('agrees with OpenSSL id-aes*-wrap-pad both ways for every length', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(16, 24, 32),
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.uint8Array({ minLength: 1, maxLength: 80 }),
          (kl, kekBytes, plain) => {
            const kek = kekBytes.subarray(0, kl);
            const ours = aesKeyWrapPad(kek, plain);
            expect(toHex(ours)).to.equal(toHex(opensslWrap(kek, plain, true)));
            expect(toHex(opensslUnwrap(kek, ours, true))).to.equal(toHex(plain));
            expect(toHex(aesKeyUnwrapPad(kek, ours))).to.equal(toHex(plain));
          },
        ),
        { numRuns: 80 },
      );
    });

    it('fails on a modified input and on a KW (unpadded) ciphertext', () => {
      const kek = hex(RFC5649[0][0]);
      const wrapped = hex(RFC5649[0][2]);
      wrapped[0] = (wrapped[0] ?? 0) ^ 0x80;
      expect(() => aesKeyUnwrapPad(kek, wrapped))
        .to.throw(CryptoError)
        .with.property('reason', 'CryptographicFailure');
      const kw = aesKeyWrap(kek, hex('00112233445566778899aabbccddeeff'));
      expect(() => aesKeyUnwrapPad(kek, kw)).to.throw(CryptoError);
    });
  });

  describe('AES-GCM', () => {
    it('round-trips and matches node:crypto decryption', () => {
      const key = randomBytes(32);
      const iv = randomBytes(12);
      const plain = randomBytes(32);
      const out = aesGcmWrap(key, iv, plain);
      expect(out.length).to.equal(48);
      const d = createDecipheriv('aes-256-gcm', key, iv);
      d.setAuthTag(out.subarray(32));
      expect(toHex(Buffer.concat([d.update(out.subarray(0, 32)), d.final()]))).to.equal(toHex(plain));
      expect(toHex(aesGcmUnwrap(key, iv, out))).to.equal(toHex(plain));
      out[0] = (out[0] ?? 0) ^ 1;
      expect(() => aesGcmUnwrap(key, iv, out))
        .to.throw(CryptoError)
        .with.property('reason', 'CryptographicFailure');
    });
  });

  describe('RSA', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

    for (const hash of ['sha1', 'sha256']) {
      it(`OAEP with ${hash} is decrypted by node:crypto`, () => {
        const plain = randomBytes(32);
        const out = rsaWrap(publicKey, 'oaep', hash, plain);
        const back = privateDecrypt(
          { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash },
          out,
        );
        expect(toHex(back)).to.equal(toHex(plain));
        expect(toHex(rsaUnwrap(privateKey, 'oaep', hash, out))).to.equal(toHex(plain));
      });
    }

    it('PKCS#1 v1.5 output is an EME-PKCS1-v1_5 block (RFC 8017 §7.2.1) holding the key', () => {
      const plain = randomBytes(16);
      const out = rsaWrap(publicKey, 'pkcs1', 'sha1', plain);
      expect(out.length).to.equal(256);
      // Node 20 refuses PKCS#1 v1.5 private decryption, so the padding is checked by hand.
      const em = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, out);
      expect([em[0], em[1]]).to.deep.equal([0, 2]);
      const sep = em.indexOf(0, 2);
      expect(sep).to.be.greaterThan(9);
      expect(toHex(em.subarray(sep + 1))).to.equal(toHex(plain));
    });

    it('unwraps what node:crypto wrapped with OAEP', () => {
      const plain = randomBytes(16);
      const theirs = publicEncrypt(
        { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        plain,
      );
      expect(toHex(rsaUnwrap(privateKey, 'oaep', 'sha256', theirs))).to.equal(toHex(plain));
    });
  });
});
