import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { type CmacCipher, cmac, createDigester, createMac, hmac } from '../../src/crypto/digest.js';
import { hashName, hashNameOfAlgorithm, hmacHashName } from '../../src/kmip/model/hash-names.js';
import { CryptographicAlgorithm, HashingAlgorithm } from '../../src/kmip/spec/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/**
 * CMAC straight from NIST SP 800-38B §6.1-6.2, one block cipher call per
 * block in ECB mode, as an independent check of the CBC-chained version.
 */
function referenceCmac(cipher: CmacCipher, key: Buffer, msg: Buffer): Buffer {
  const bs = cipher === 'aes' ? 16 : 8;
  const ecb =
    cipher === 'aes' ? `aes-${key.length * 8}-ecb` : key.length === 24 ? 'des-ede3-ecb' : 'des-ede-ecb';
  const enc = (block: Buffer): Buffer => {
    const c = createCipheriv(ecb, key, null).setAutoPadding(false);
    return Buffer.concat([c.update(block), c.final()]);
  };
  const rb = bs === 16 ? 0x87 : 0x1b;
  const shift = (b: Buffer): Buffer => {
    const n = BigInt(`0x${b.toString('hex')}`) << 1n;
    const mask = (1n << BigInt(bs * 8)) - 1n;
    let v = n & mask;
    if (n >> BigInt(bs * 8) === 1n) v ^= BigInt(rb);
    return hex(v.toString(16).padStart(bs * 2, '0'));
  };
  const k1 = shift(enc(Buffer.alloc(bs)));
  const k2 = shift(k1);
  const n = Math.max(1, Math.ceil(msg.length / bs));
  const complete = msg.length > 0 && msg.length % bs === 0;
  const last = Buffer.alloc(bs);
  msg.subarray((n - 1) * bs).copy(last);
  if (!complete) last[msg.length - (n - 1) * bs] = 0x80;
  const sub = complete ? k1 : k2;
  for (let i = 0; i < bs; i++) last[i] = (last[i] ?? 0) ^ (sub[i] ?? 0);
  let x: Buffer = Buffer.alloc(bs);
  for (let i = 0; i < n; i++) {
    const m = i === n - 1 ? last : msg.subarray(i * bs, (i + 1) * bs);
    const y = Buffer.alloc(bs);
    for (let j = 0; j < bs; j++) y[j] = (x[j] ?? 0) ^ (m[j] ?? 0);
    x = enc(y);
  }
  return x;
}

describe('crypto/digest', () => {
  describe('names', () => {
    it('maps Hashing Algorithms to OpenSSL digests', () => {
      expect(hashName(HashingAlgorithm.SHA_1)).to.equal('sha1');
      expect(hashName(HashingAlgorithm.SHA_256)).to.equal('sha256');
      expect(hashName(HashingAlgorithm.SHA_512_256)).to.equal('sha512-256');
      expect(hashName(HashingAlgorithm.SHA_3_384)).to.equal('sha3-384');
      expect(hashName(HashingAlgorithm.MD5)).to.equal('md5');
    });

    it('reports digests OpenSSL lacks here as unsupported', () => {
      expect(hashName(HashingAlgorithm.MD2)).to.equal(undefined);
      expect(hashName(HashingAlgorithm.Tiger)).to.equal(undefined);
      expect(hashName(0x7fff)).to.equal(undefined);
    });

    it('maps HMAC_* and SHA3 Cryptographic Algorithms', () => {
      expect(hmacHashName(CryptographicAlgorithm.HMAC_SHA1)).to.equal('sha1');
      expect(hmacHashName(CryptographicAlgorithm.HMAC_SHA384)).to.equal('sha384');
      expect(hmacHashName(CryptographicAlgorithm.HMAC_SHA3_256)).to.equal('sha3-256');
      expect(hmacHashName(CryptographicAlgorithm.AES)).to.equal(undefined);
      expect(hashNameOfAlgorithm(CryptographicAlgorithm.SHA3_512)).to.equal('sha3-512');
      expect(hashNameOfAlgorithm(CryptographicAlgorithm.AES)).to.equal(undefined);
    });
  });

  describe('hashes (FIPS 180-4 / 202 "abc" examples)', () => {
    const abc = Buffer.from('abc');
    const cases: [number, string][] = [
      [HashingAlgorithm.SHA_1, 'a9993e364706816aba3e25717850c26c9cd0d89d'],
      [HashingAlgorithm.SHA_256, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
      [HashingAlgorithm.SHA_512_256, '53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23'],
      [HashingAlgorithm.SHA_3_256, '3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532'],
    ];
    for (const [alg, expected] of cases) {
      it(`${hashName(alg)}("abc")`, () => {
        const d = createDigester(hashName(alg) ?? '');
        d.update(abc);
        expect(d.digest().toString('hex')).to.equal(expected);
      });
    }

    it('hashing in parts equals hashing at once', () => {
      fc.assert(
        fc.property(fc.array(fc.uint8Array({ maxLength: 70 }), { maxLength: 6 }), (parts) => {
          const d = createDigester('sha384');
          for (const p of parts) d.update(p);
          const whole = createHash('sha384').update(Buffer.concat(parts)).digest();
          expect(d.digest().equals(whole)).to.equal(true);
        }),
        { numRuns: 50 },
      );
    });
  });

  describe('HMAC (RFC 4231)', () => {
    const tc1 = { key: Buffer.alloc(20, 0x0b), data: Buffer.from('Hi There') };
    const tc2 = { key: Buffer.from('Jefe'), data: Buffer.from('what do ya want for nothing?') };
    it('test case 1', () => {
      expect(hmac('sha224', tc1.key, tc1.data).toString('hex')).to.equal(
        '896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22',
      );
      expect(hmac('sha256', tc1.key, tc1.data).toString('hex')).to.equal(
        'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
      );
      expect(hmac('sha512', tc1.key, tc1.data).toString('hex')).to.equal(
        '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde' +
          'daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854',
      );
    });

    it('test case 2', () => {
      expect(hmac('sha256', tc2.key, tc2.data).toString('hex')).to.equal(
        '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
      );
    });

    it('incremental HMAC equals node:crypto', () => {
      const m = createMac({ kind: 'hmac', hash: 'sha1' }, tc2.key);
      m.update(tc2.data.subarray(0, 5));
      m.update(tc2.data.subarray(5));
      expect(m.digest().equals(createHmac('sha1', tc2.key).update(tc2.data).digest())).to.equal(true);
    });
  });

  describe('CMAC', () => {
    // RFC 4493 §4 (= NIST SP 800-38B Appendix D.1, AES-128)
    const k128 = hex('2b7e151628aed2a6abf7158809cf4f3c');
    const m64 = hex(
      '6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51' +
        '30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710',
    );

    it('RFC 4493 examples 1-4 (lengths 0, 16, 40, 64)', () => {
      expect(cmac('aes', k128, m64.subarray(0, 0)).toString('hex')).to.equal(
        'bb1d6929e95937287fa37d129b756746',
      );
      expect(cmac('aes', k128, m64.subarray(0, 16)).toString('hex')).to.equal(
        '070a16b46b4d4144f79bdd9dd04a287c',
      );
      expect(cmac('aes', k128, m64.subarray(0, 40)).toString('hex')).to.equal(
        'dfa66747de9ae63030ca32611497c827',
      );
      expect(cmac('aes', k128, m64).toString('hex')).to.equal('51f0bebf7e3b9d92fc49741779363cfe');
    });

    it('SP 800-38B AES-192 and AES-256 examples', () => {
      const k192 = hex('8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b');
      const k256 = hex('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4');
      expect(cmac('aes', k192, Buffer.alloc(0)).toString('hex')).to.equal('d17ddf46adaacde531cac483de7a9367');
      expect(cmac('aes', k192, m64.subarray(0, 16)).toString('hex')).to.equal(
        '9e99a7bf31e710900662f65e617c5184',
      );
      expect(cmac('aes', k256, Buffer.alloc(0)).toString('hex')).to.equal('028962f61b7bf89efc6b551f4667d983');
      expect(cmac('aes', k256, m64.subarray(0, 16)).toString('hex')).to.equal(
        '28a7023f452e8f82bd4bf28d8c37c35c',
      );
    });

    it('matches the per-block reference for the RFC examples', () => {
      for (const n of [0, 16, 40, 64]) {
        expect(
          referenceCmac('aes', k128, m64.subarray(0, n)).equals(cmac('aes', k128, m64.subarray(0, n))),
        ).to.equal(true);
      }
    });

    for (const [cipher, keyLengths] of [
      ['aes', [16, 24, 32]],
      ['des3', [16, 24]],
    ] as const) {
      it(`${cipher}: any split of any message gives the reference tag`, () => {
        fc.assert(
          fc.property(
            fc.constantFrom(...keyLengths),
            fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 5 }),
            (keyLength, parts) => {
              const key = randomBytes(keyLength);
              const m = createMac({ kind: 'cmac', cipher }, key);
              for (const p of parts) m.update(p);
              expect(m.digest().toString('hex')).to.equal(
                referenceCmac(cipher, key, Buffer.concat(parts)).toString('hex'),
              );
            },
          ),
          { numRuns: 60 },
        );
      });
    }

    it('refuses keys the cipher cannot take', () => {
      expect(() => cmac('aes', Buffer.alloc(15), Buffer.alloc(1))).to.throw(RangeError);
      expect(() => cmac('des3', Buffer.alloc(8), Buffer.alloc(1))).to.throw(RangeError);
    });

    it('may be finished once', () => {
      const m = createMac({ kind: 'cmac', cipher: 'aes' }, k128);
      m.digest();
      expect(() => m.digest()).to.throw();
      expect(() => m.update(Buffer.alloc(1))).to.throw();
    });
  });
});
