import {
  createCipheriv,
  createECDH,
  createHash,
  createHmac,
  createPrivateKey,
  generateKeyPairSync,
  hkdfSync,
  pbkdf2Sync,
  randomBytes,
} from 'node:crypto';
import { expect } from 'chai';
import {
  deriveAgreement,
  deriveEncrypt,
  deriveHash,
  deriveHkdf,
  deriveHmac,
  derivePbkdf2,
  deriveSp800108,
} from '../../src/crypto/derive.js';
import { cmac } from '../../src/crypto/digest.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const KEY = hex('00112233445566778899aabbccddeeff');
const PASSWORD = Buffer.from('password');
const SALT = Buffer.from('salt');

describe('crypto/derive', () => {
  describe('HASH', () => {
    it('hashes the key (TC-DERIVEKEY-1: SHA-256, first 128 bits a8faed6a…)', () => {
      const out = deriveHash('sha256', KEY, undefined);
      expect(out.subarray(0, 16).toString('hex')).to.equal('a8faed6abbf35c12a4b26e40f6feb19d');
      expect(out).to.deep.equal(createHash('sha256').update(KEY).digest());
    });

    it('hashes key ‖ Derivation Data when data is given', () => {
      const data = randomBytes(7);
      expect(deriveHash('sha384', KEY, data)).to.deep.equal(
        createHash('sha384')
          .update(Buffer.concat([KEY, data]))
          .digest(),
      );
    });
  });

  describe('HMAC', () => {
    it('is HMAC(key, data) (TC-DERIVEKEY-2: HMAC-SHA-256 over 0102 → 1e15c1f1…)', () => {
      const out = deriveHmac('sha256', KEY, hex('0102'));
      expect(out.subarray(0, 16).toString('hex')).to.equal('1e15c1f1da233629f770fb0a04a5020e');
      expect(out).to.deep.equal(createHmac('sha256', KEY).update(hex('0102')).digest());
    });
  });

  describe('PBKDF2', () => {
    // RFC 6070 §2 (the inputs of TC-DERIVEKEY-3/4/5).
    it('defaults to HMAC-SHA-1 and matches RFC 6070 (c = 1 and c = 4096)', async () => {
      expect((await derivePbkdf2(PASSWORD, SALT, 1, 20)).toString('hex')).to.equal(
        '0c60c80f961f0e71f3a9b524af6012062fe037a6',
      );
      expect((await derivePbkdf2(PASSWORD, SALT, 4096, 20)).toString('hex')).to.equal(
        '4b007901b765489abead49d926f721d065a429c1',
      );
    });

    it('takes another PRF hash (TC-DERIVEKEY-5: SHA-256, 4096 → c5e478d5…)', async () => {
      const out = await derivePbkdf2(PASSWORD, SALT, 4096, 32, 'sha256');
      expect(out.toString('hex')).to.equal(
        'c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a',
      );
      expect(out).to.deep.equal(pbkdf2Sync(PASSWORD, SALT, 4096, 32, 'sha256'));
    });

    it('refuses an iteration count below 1 and an unknown digest', async () => {
      let err: unknown;
      await derivePbkdf2(PASSWORD, SALT, 0, 16).catch((e: unknown) => {
        err = e;
      });
      expect(err).to.be.instanceOf(RangeError);
      err = undefined;
      await derivePbkdf2(PASSWORD, SALT, 1, 16, 'nope').catch((e: unknown) => {
        err = e;
      });
      expect(err).to.be.instanceOf(RangeError);
    });
  });

  describe('HKDF', () => {
    it('matches RFC 5869 test case 1 and hkdfSync', async () => {
      const ikm = Buffer.alloc(22, 0x0b);
      const salt = hex('000102030405060708090a0b0c');
      const info = hex('f0f1f2f3f4f5f6f7f8f9');
      const out = await deriveHkdf('sha256', ikm, salt, info, 42);
      expect(out.toString('hex')).to.equal(
        '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
      );
      expect(out).to.deep.equal(Buffer.from(hkdfSync('sha256', ikm, salt, info, 42)));
    });

    it('refuses more than 255 blocks', async () => {
      let err: unknown;
      await deriveHkdf('sha256', KEY, SALT, SALT, 255 * 32 + 1).catch((e: unknown) => {
        err = e;
      });
      expect(err).to.be.instanceOf(RangeError);
    });
  });

  describe('ENCRYPT', () => {
    it('AES-128 ECB matches FIPS-197 C.1', () => {
      const out = deriveEncrypt({
        cipher: 'aes',
        mode: 'ecb',
        key: hex('000102030405060708090a0b0c0d0e0f'),
        pad: false,
        data: KEY,
      });
      expect(out.toString('hex')).to.equal('69c4e0d86a7b0430d8cdb78070b4c55a');
    });

    it('CBC with an IV, and PKCS5 padding, match createCipheriv', () => {
      const key = randomBytes(32);
      const iv = randomBytes(16);
      const data = randomBytes(32);
      const c = createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
      expect(deriveEncrypt({ cipher: 'aes', mode: 'cbc', key, iv, pad: false, data })).to.deep.equal(
        Buffer.concat([c.update(data), c.final()]),
      );
      const odd = randomBytes(20);
      const p = createCipheriv('aes-256-cbc', key, Buffer.alloc(16));
      expect(deriveEncrypt({ cipher: 'aes', mode: 'cbc', key, pad: true, data: odd })).to.deep.equal(
        Buffer.concat([p.update(odd), p.final()]),
      );
    });

    it('Triple DES 3-key CBC matches createCipheriv', () => {
      const key = randomBytes(24);
      const data = randomBytes(16);
      const c = createCipheriv('des-ede3-cbc', key, Buffer.alloc(8)).setAutoPadding(false);
      expect(deriveEncrypt({ cipher: 'des3', mode: 'cbc', key, pad: false, data })).to.deep.equal(
        Buffer.concat([c.update(data), c.final()]),
      );
    });

    it('refuses partial blocks without padding, bad IVs and bad key sizes', () => {
      const base = { cipher: 'aes', mode: 'cbc', key: randomBytes(16), pad: false } as const;
      expect(() => deriveEncrypt({ ...base, data: randomBytes(15) })).to.throw(RangeError);
      expect(() => deriveEncrypt({ ...base, iv: randomBytes(8), data: randomBytes(16) })).to.throw(
        RangeError,
      );
      expect(() => deriveEncrypt({ ...base, key: randomBytes(10), data: randomBytes(16) })).to.throw(
        RangeError,
      );
      expect(() =>
        deriveEncrypt({
          cipher: 'des3',
          mode: 'ctr',
          key: randomBytes(24),
          pad: false,
          data: randomBytes(8),
        }),
      ).to.throw(RangeError);
    });
  });

  describe('NIST SP 800-108', () => {
    const key = randomBytes(32);
    const fixed = randomBytes(24);
    const ctr = (i: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(i);
      return b;
    };
    const hm = (...parts: Buffer[]): Buffer =>
      createHmac('sha256', key).update(Buffer.concat(parts)).digest();
    const hmacKdf = (mode: 'counter' | 'feedback' | 'double-pipeline', length: number, iv?: Buffer) =>
      deriveSp800108({
        mode,
        prf: { kind: 'hmac', hash: 'sha256' },
        key,
        fixed,
        length,
        ...(iv ? { iv } : {}),
      });

    it('counter mode: HMAC([i]₃₂ ‖ fixed) blocks, cut to length', () => {
      const out = hmacKdf('counter', 40);
      expect(out).to.deep.equal(Buffer.concat([hm(ctr(1), fixed), hm(ctr(2), fixed)]).subarray(0, 40));
    });

    it('feedback mode chains the previous block after the IV', () => {
      const iv = randomBytes(32);
      const out = hmacKdf('feedback', 64, iv);
      const k1 = hm(iv, ctr(1), fixed);
      const k2 = hm(k1, ctr(2), fixed);
      expect(out).to.deep.equal(Buffer.concat([k1, k2]));
    });

    it('double-pipeline mode iterates A(i) = PRF(A(i-1))', () => {
      const out = hmacKdf('double-pipeline', 48);
      const a1 = hm(fixed);
      const a2 = hm(a1);
      expect(out).to.deep.equal(
        Buffer.concat([hm(a1, ctr(1), fixed), hm(a2, ctr(2), fixed)]).subarray(0, 48),
      );
    });

    it('counter mode with CMAC-AES', () => {
      const k = randomBytes(16);
      const out = deriveSp800108({
        mode: 'counter',
        prf: { kind: 'cmac', cipher: 'aes' },
        key: k,
        fixed,
        length: 32,
      });
      expect(out).to.deep.equal(
        Buffer.concat([
          cmac('aes', k, Buffer.concat([ctr(1), fixed])),
          cmac('aes', k, Buffer.concat([ctr(2), fixed])),
        ]),
      );
    });
  });

  describe('AsymmetricKey agreement', () => {
    it('ECDH on secp256k1 gives both sides the secret createECDH computes', () => {
      const a = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
      const b = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
      const ab = deriveAgreement(a.privateKey, b.publicKey);
      expect(ab).to.deep.equal(deriveAgreement(b.privateKey, a.publicKey));
      expect(ab.length).to.equal(32);
      const jwk = a.privateKey.export({ format: 'jwk' });
      const ecdh = createECDH('secp256k1');
      ecdh.setPrivateKey(Buffer.from(jwk.d ?? '', 'base64url'));
      const pubB = b.publicKey.export({ format: 'jwk' });
      const point = Buffer.concat([
        Buffer.from([4]),
        Buffer.from(pubB.x ?? '', 'base64url'),
        Buffer.from(pubB.y ?? '', 'base64url'),
      ]);
      expect(ecdh.computeSecret(point)).to.deep.equal(ab);
    });

    it('X25519 works too; mismatched curves throw', () => {
      const a = generateKeyPairSync('x25519');
      const b = generateKeyPairSync('x25519');
      expect(deriveAgreement(a.privateKey, b.publicKey)).to.deep.equal(
        deriveAgreement(b.privateKey, a.publicKey),
      );
      const p = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      expect(() =>
        deriveAgreement(createPrivateKey(a.privateKey.export({ format: 'pem', type: 'pkcs8' })), p.publicKey),
      ).to.throw();
    });
  });
});
