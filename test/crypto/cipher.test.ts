import {
  type CipherCCMTypes,
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
import fc from 'fast-check';
import {
  CipherError,
  type CipherErrorKind,
  type CipherSpec,
  decrypt,
  encrypt,
  openPartCipher,
  type RsaHash,
  rsaDecrypt,
  rsaEncrypt,
} from '../../src/crypto/cipher.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

function nodeCrypt(
  name: string,
  key: Uint8Array,
  iv: Uint8Array | null,
  data: Uint8Array,
  dir: 'enc' | 'dec',
  padding = false,
): Uint8Array {
  const c = dir === 'enc' ? createCipheriv(name, key, iv) : createDecipheriv(name, key, iv);
  c.setAutoPadding(padding);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

function failsWith(kind: CipherErrorKind, f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(CipherError);
    expect((e as CipherError).kind, (e as CipherError).message).to.equal(kind);
    return;
  }
  expect.fail(`expected a ${kind} CipherError`);
}

describe('crypto/cipher', () => {
  describe('AES against node:crypto, both directions', () => {
    for (const bits of [128, 192, 256]) {
      const key = rnd(bits / 8);
      const iv = rnd(16);
      for (const [mode, padding, len] of [
        ['ecb', 'none', 48],
        ['ecb', 'pkcs5', 37],
        ['cbc', 'none', 32],
        ['cbc', 'pkcs5', 21],
        ['ctr', 'none', 45],
      ] as const) {
        it(`AES-${bits}-${mode} ${padding}`, () => {
          const data = rnd(len);
          const spec: CipherSpec = {
            algorithm: 'aes',
            mode,
            padding,
            key,
            iv: mode === 'ecb' ? undefined : iv,
          };
          const name = `aes-${bits}-${mode}`;
          const nodeIv = mode === 'ecb' ? null : iv;
          const ours = encrypt(spec, data).data;
          expect(toHex(nodeCrypt(name, key, nodeIv, ours, 'dec', padding === 'pkcs5'))).to.equal(toHex(data));
          const theirs = nodeCrypt(name, key, nodeIv, data, 'enc', padding === 'pkcs5');
          expect(toHex(decrypt(spec, theirs))).to.equal(toHex(data));
        });
      }
      it(`AES-${bits}-GCM with AAD and a 12-byte tag`, () => {
        const data = rnd(33);
        const aad = rnd(20);
        const nonce = rnd(12);
        const spec: CipherSpec = {
          algorithm: 'aes',
          mode: 'gcm',
          padding: 'none',
          key,
          iv: nonce,
          aad,
          tagLength: 12,
        };
        const out = encrypt(spec, data);
        const d = createDecipheriv(`aes-${bits}-gcm` as CipherGCMTypes, key, nonce, { authTagLength: 12 });
        d.setAAD(aad);
        d.setAuthTag(out.tag ?? new Uint8Array(0));
        expect(toHex(Buffer.concat([d.update(out.data), d.final()]))).to.equal(toHex(data));
        const c = createCipheriv(`aes-${bits}-gcm` as CipherGCMTypes, key, nonce, { authTagLength: 12 });
        c.setAAD(aad);
        const ct = Buffer.concat([c.update(data), c.final()]);
        expect(toHex(decrypt(spec, ct, c.getAuthTag()))).to.equal(toHex(data));
      });
      it(`AES-${bits}-CCM with AAD`, () => {
        const data = rnd(40);
        const aad = rnd(7);
        const nonce = rnd(11);
        const spec: CipherSpec = {
          algorithm: 'aes',
          mode: 'ccm',
          padding: 'none',
          key,
          iv: nonce,
          aad,
          tagLength: 8,
        };
        const out = encrypt(spec, data);
        const d = createDecipheriv(`aes-${bits}-ccm` as CipherCCMTypes, key, nonce, { authTagLength: 8 });
        d.setAuthTag(out.tag ?? new Uint8Array(0));
        d.setAAD(aad, { plaintextLength: out.data.length });
        expect(toHex(Buffer.concat([d.update(out.data), d.final()]))).to.equal(toHex(data));
        expect(toHex(decrypt(spec, out.data, out.tag))).to.equal(toHex(data));
      });
    }

    it('AES-XTS (two AES-128 keys, two AES-256 keys)', () => {
      for (const bytes of [32, 64]) {
        const key = rnd(bytes);
        const tweak = rnd(16);
        const data = rnd(53);
        const spec: CipherSpec = { algorithm: 'aes', mode: 'xts', padding: 'none', key, iv: tweak };
        const ours = encrypt(spec, data).data;
        const name = `aes-${bytes * 4}-xts`;
        expect(toHex(nodeCrypt(name, key, tweak, ours, 'dec'))).to.equal(toHex(data));
        expect(toHex(decrypt(spec, nodeCrypt(name, key, tweak, data, 'enc')))).to.equal(toHex(data));
      }
    });

    it('NIST key wrap and key wrap with padding agree with OpenSSL id-aes*-wrap(-pad)', () => {
      const kek = rnd(32);
      const plain = rnd(24);
      const kw = encrypt({ algorithm: 'aes', mode: 'kw', padding: 'none', key: kek }, plain).data;
      expect(toHex(nodeCrypt('id-aes256-wrap', kek, hex('a6a6a6a6a6a6a6a6'), kw, 'dec'))).to.equal(
        toHex(plain),
      );
      const odd = rnd(13);
      const kwp = encrypt({ algorithm: 'aes', mode: 'kwp', padding: 'none', key: kek }, odd).data;
      expect(toHex(nodeCrypt('id-aes256-wrap-pad', kek, hex('a65959a6'), kwp, 'dec'))).to.equal(toHex(odd));
      expect(toHex(decrypt({ algorithm: 'aes', mode: 'kwp', padding: 'none', key: kek }, kwp))).to.equal(
        toHex(odd),
      );
    });
  });

  describe('known answers (the KMIP CS-BC vectors)', () => {
    it('AES-128-ECB (CS-BC-M-6-14)', () => {
      const spec: CipherSpec = {
        algorithm: 'aes',
        mode: 'ecb',
        padding: 'none',
        key: hex('0123456789abcdef0123456789abcdef'),
      };
      expect(toHex(encrypt(spec, hex('01020304050607080910111213141516')).data)).to.equal(
        'd9bcce11b0b437b90239552df3a360c9',
      );
    });

    it('AES-128-CBC PKCS5 (CS-BC-M-11)', () => {
      const spec: CipherSpec = {
        algorithm: 'aes',
        mode: 'cbc',
        padding: 'pkcs5',
        key: hex('0123456789abcdef0123456789abcdef'),
        iv: hex('ff020304050607080910111213141516'),
      };
      expect(
        toHex(encrypt(spec, hex('010203040506070809101112131415160102030405060708091011121314151601')).data),
      ).to.equal(
        'e768203ba72b6e157daaad34b1e791d8e88457dc147942f01bfaff7b28a3cdde2203d4d5a4c7928ba9e9cc78b66a6546',
      );
    });

    it('AES-128-GCM, zero key and nonce (CS-BC-M-GCM-1)', () => {
      const spec: CipherSpec = {
        algorithm: 'aes',
        mode: 'gcm',
        padding: 'none',
        key: new Uint8Array(16),
        iv: new Uint8Array(12),
      };
      const out = encrypt(spec, new Uint8Array(16));
      expect(toHex(out.data)).to.equal('0388dace60b6a392f328c2b971b2fe78');
      expect(toHex(out.tag ?? new Uint8Array(0))).to.equal('ab6e47d42cec13bdf53a67b21257bddf');
      // A truncated tag is the prefix of the full one.
      expect(toHex(decrypt({ ...spec, tagLength: 12 }, out.data, hex('ab6e47d42cec13bdf53a67b2')))).to.equal(
        toHex(new Uint8Array(16)),
      );
    });

    it('Triple DES ECB (CS-BC-M-4-12-3DES)', () => {
      const key = hex('010101010101010101010101010101010101010101010101');
      const spec: CipherSpec = { algorithm: 'des3', mode: 'ecb', padding: 'none', key };
      expect(toHex(encrypt(spec, hex('010203040506070809101112131415161718192021222324')).data)).to.equal(
        'cead373db80eabf87477d921e6d5a5d116c10e3814ebe004',
      );
    });

    it('ChaCha20 with 64-bit nonces (CS-BC-M-CHACHA20-1 and -3)', () => {
      const key = new Uint8Array(32);
      const spec: CipherSpec = {
        algorithm: 'chacha20',
        mode: 'stream',
        padding: 'none',
        key,
        iv: new Uint8Array(8),
      };
      expect(toHex(encrypt(spec, new Uint8Array(24)).data)).to.equal(
        '76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1a',
      );
      const one = encrypt({ ...spec, iv: hex('0000000000000001') }, new Uint8Array(24)).data;
      expect(toHex(one)).to.equal('de9cba7bf3d69ef5e786dc63973f653a0b49e015adbff713');
    });

    it('ChaCha20-Poly1305 (RFC 7539 §2.8.2, CS-BC-M-CHACHA20POLY1305-1)', () => {
      const spec: CipherSpec = {
        algorithm: 'chacha20-poly1305',
        mode: 'aead',
        padding: 'none',
        key: hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'),
        iv: hex('070000004041424344454647'),
        aad: hex('50515253c0c1c2c3c4c5c6c7'),
      };
      const plain = new TextEncoder().encode(
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
      );
      const out = encrypt(spec, plain);
      expect(toHex(out.data).slice(0, 32)).to.equal('d31a8d34648e60db7b86afbc53ef7ec2');
      expect(toHex(out.tag ?? new Uint8Array(0))).to.equal('1ae10b594f09e26a7e902ecbd0600691');
      expect(toHex(decrypt(spec, out.data, out.tag))).to.equal(toHex(plain));
    });

    it('Triple DES CBC against node:crypto', () => {
      const key = rnd(24);
      const iv = rnd(8);
      const data = rnd(19);
      const spec: CipherSpec = { algorithm: 'des3', mode: 'cbc', padding: 'pkcs5', key, iv };
      expect(toHex(nodeCrypt('des-ede3-cbc', key, iv, encrypt(spec, data).data, 'dec', true))).to.equal(
        toHex(data),
      );
    });
  });

  describe('multi-part equals one-shot', () => {
    const specs: CipherSpec[] = [
      { algorithm: 'aes', mode: 'ecb', padding: 'none', key: rnd(16) },
      { algorithm: 'aes', mode: 'cbc', padding: 'pkcs5', key: rnd(32), iv: rnd(16) },
      { algorithm: 'aes', mode: 'ctr', padding: 'none', key: rnd(24), iv: rnd(16) },
      { algorithm: 'aes', mode: 'gcm', padding: 'none', key: rnd(16), iv: rnd(12), aad: rnd(9) },
      { algorithm: 'chacha20', mode: 'stream', padding: 'none', key: rnd(32), iv: rnd(12) },
      {
        algorithm: 'chacha20-poly1305',
        mode: 'aead',
        padding: 'none',
        key: rnd(32),
        iv: rnd(12),
        aad: rnd(3),
      },
    ];
    for (const spec of specs) {
      it(`${spec.algorithm}-${spec.mode}: any split of the input gives the one-shot output`, () => {
        fc.assert(
          fc.property(
            fc.uint8Array({ minLength: 0, maxLength: 80 }),
            fc.array(fc.nat(80), { maxLength: 4 }),
            (raw, cuts) => {
              const data =
                spec.padding === 'none' && spec.mode === 'ecb'
                  ? raw.subarray(0, raw.length - (raw.length % 16))
                  : raw;
              const once = encrypt(spec, data);
              const points = [...new Set(cuts.map((c) => Math.min(c, data.length)))].sort((a, b) => a - b);
              const enc = openPartCipher(spec, 'encrypt');
              const parts: Uint8Array[] = [];
              let prev = 0;
              for (const p of [...points, data.length]) {
                parts.push(enc.update(data.subarray(prev, p)));
                prev = p;
              }
              const last = enc.final();
              parts.push(last.data);
              const joined = Buffer.concat(parts);
              expect(joined.toString('hex')).to.equal(toHex(once.data));
              expect(toHex(last.tag ?? new Uint8Array(0))).to.equal(toHex(once.tag ?? new Uint8Array(0)));
              const dec = openPartCipher(spec, 'decrypt');
              const back = Buffer.concat([
                dec.update(joined.subarray(0, Math.floor(joined.length / 2))),
                dec.update(joined.subarray(Math.floor(joined.length / 2))),
                dec.final(once.tag).data,
              ]);
              expect(back.toString('hex')).to.equal(toHex(data));
            },
          ),
          { numRuns: 40 },
        );
      });
    }

    it('refuses modes that need the whole input (CCM, XTS, key wrap)', () => {
      for (const mode of ['ccm', 'xts', 'kw', 'kwp'] as const) {
        failsWith('unsupported', () =>
          openPartCipher({ algorithm: 'aes', mode, padding: 'none', key: rnd(32), iv: rnd(12) }, 'encrypt'),
        );
      }
    });
  });

  describe('hostile parameters: a CipherError, never an OpenSSL throw', () => {
    const key = rnd(16);
    it('wrong key and IV lengths', () => {
      failsWith('invalid', () =>
        encrypt({ algorithm: 'aes', mode: 'ecb', padding: 'none', key: rnd(15) }, rnd(16)),
      );
      failsWith('invalid', () =>
        encrypt({ algorithm: 'aes', mode: 'cbc', padding: 'none', key, iv: rnd(15) }, rnd(16)),
      );
      failsWith('invalid', () =>
        encrypt({ algorithm: 'aes', mode: 'xts', padding: 'none', key, iv: rnd(16) }, rnd(16)),
      );
      failsWith('invalid', () =>
        encrypt({ algorithm: 'des3', mode: 'ecb', padding: 'none', key: rnd(8) }, rnd(8)),
      );
      failsWith('invalid', () =>
        encrypt({ algorithm: 'chacha20', mode: 'stream', padding: 'none', key, iv: rnd(12) }, rnd(8)),
      );
      failsWith('invalid', () =>
        encrypt({ algorithm: 'chacha20', mode: 'stream', padding: 'none', key: rnd(32), iv: rnd(7) }, rnd(8)),
      );
      failsWith('invalid', () =>
        encrypt({ algorithm: 'aes', mode: 'ccm', padding: 'none', key, iv: rnd(14) }, rnd(8)),
      );
      failsWith('invalid', () =>
        encrypt({ algorithm: 'aes', mode: 'gcm', padding: 'none', key, iv: rnd(0) }, rnd(8)),
      );
    });
    it('data that is not a block multiple without padding; short XTS data', () => {
      failsWith('invalid', () => encrypt({ algorithm: 'aes', mode: 'ecb', padding: 'none', key }, rnd(17)));
      failsWith('invalid', () =>
        decrypt({ algorithm: 'aes', mode: 'cbc', padding: 'pkcs5', key, iv: rnd(16) }, rnd(20)),
      );
      failsWith('invalid', () =>
        encrypt({ algorithm: 'aes', mode: 'xts', padding: 'none', key: rnd(32), iv: rnd(16) }, rnd(15)),
      );
    });
    it('missing IV is missing-iv; bad tag lengths are tag-length', () => {
      failsWith('missing-iv', () =>
        decrypt({ algorithm: 'aes', mode: 'cbc', padding: 'pkcs5', key }, rnd(16)),
      );
      for (const tagLength of [0, 1, 3, 17, 32]) {
        failsWith('tag-length', () =>
          encrypt({ algorithm: 'aes', mode: 'gcm', padding: 'none', key, iv: rnd(12), tagLength }, rnd(16)),
        );
      }
    });
    it('wrong tag, IV, AAD or padding is crypto', () => {
      const spec: CipherSpec = {
        algorithm: 'aes',
        mode: 'gcm',
        padding: 'none',
        key,
        iv: rnd(12),
        aad: rnd(4),
      };
      const out = encrypt(spec, rnd(20));
      const badTag = Uint8Array.from(out.tag ?? []);
      badTag[0] = (badTag[0] ?? 0) ^ 1;
      failsWith('crypto', () => decrypt(spec, out.data, badTag));
      failsWith('crypto', () => decrypt({ ...spec, aad: rnd(4) }, out.data, out.tag));
      failsWith('invalid', () => decrypt(spec, out.data, undefined));
      failsWith('invalid', () => decrypt(spec, out.data, out.tag?.subarray(0, 12)));
      const cbc: CipherSpec = { algorithm: 'aes', mode: 'cbc', padding: 'pkcs5', key, iv: rnd(16) };
      const ct = encrypt(cbc, rnd(5)).data;
      // Another key: the padding check fails (with overwhelming probability).
      let caught = 0;
      for (let i = 0; i < 4; i++) {
        try {
          decrypt({ ...cbc, key: rnd(16) }, ct);
        } catch (e) {
          expect(e).to.be.instanceOf(CipherError);
          caught++;
        }
      }
      expect(caught).to.be.greaterThan(0);
    });
    it('random specs never throw anything but CipherError', () => {
      fc.assert(
        fc.property(
          fc.constantFrom('aes', 'des3', 'chacha20', 'chacha20-poly1305'),
          fc.constantFrom('ecb', 'cbc', 'ctr', 'gcm', 'ccm', 'xts', 'kw', 'kwp', 'stream', 'aead'),
          fc.constantFrom('none', 'pkcs5'),
          fc.uint8Array({ maxLength: 70 }),
          fc.option(fc.uint8Array({ maxLength: 20 })),
          fc.option(fc.integer({ min: -2, max: 40 })),
          fc.uint8Array({ maxLength: 40 }),
          (algorithm, mode, padding, k, iv, tagLength, data) => {
            const spec: CipherSpec = {
              algorithm,
              mode,
              padding,
              key: k,
              iv: iv ?? undefined,
              tagLength: tagLength ?? undefined,
            };
            for (const f of [() => encrypt(spec, data), () => decrypt(spec, data, rnd(16))]) {
              try {
                f();
              } catch (e) {
                if (!(e instanceof CipherError) && !(e instanceof Error && e.name === 'CryptoError')) throw e;
              }
            }
          },
        ),
        { numRuns: 400 },
      );
    });
  });

  describe('RSA', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const hashes: RsaHash[] = ['sha1', 'sha224', 'sha256', 'sha384', 'sha512'];
    for (const hash of hashes) {
      it(`OAEP ${hash} against node:crypto both ways`, () => {
        const msg = rnd(32);
        const ct = rsaEncrypt(publicKey, { padding: 'oaep', hash, mgf1Hash: hash }, msg);
        const back = privateDecrypt(
          { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash },
          ct,
        );
        expect(toHex(back)).to.equal(toHex(msg));
        const theirs = publicEncrypt(
          { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash },
          msg,
        );
        expect(toHex(rsaDecrypt(privateKey, { padding: 'oaep', hash, mgf1Hash: hash }, theirs))).to.equal(
          toHex(msg),
        );
      });
    }
    it('OAEP with an MGF1 hash other than the label hash, and a label (CS-AC-M-OAEP-9/10)', () => {
      const p = {
        padding: 'oaep',
        hash: 'sha384',
        mgf1Hash: 'sha256',
        label: hex('4b696c726f79207761732068657265'),
      } as const;
      const msg = rnd(40);
      expect(toHex(rsaDecrypt(privateKey, p, rsaEncrypt(publicKey, p, msg)))).to.equal(toHex(msg));
      const withLabel = publicEncrypt(
        { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: p.label },
        msg,
      );
      expect(toHex(rsaDecrypt(privateKey, { ...p, hash: 'sha256' }, withLabel))).to.equal(toHex(msg));
      failsWith('crypto', () =>
        rsaDecrypt(privateKey, { ...p, label: undefined }, rsaEncrypt(publicKey, p, msg)),
      );
    });
    it('OAEP defaults to SHA-1 and refuses too long a message', () => {
      const msg = rnd(10);
      const ct = rsaEncrypt(publicKey, { padding: 'oaep' }, msg);
      expect(
        toHex(privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING }, ct)),
      ).to.equal(toHex(msg));
      failsWith('invalid', () => rsaEncrypt(publicKey, { padding: 'oaep', hash: 'sha512' }, rnd(200)));
    });
    it('PKCS#1 v1.5: node encrypts, we decrypt; we encrypt, the raw block is 00 02 PS 00 M', () => {
      const msg = rnd(48);
      const theirs = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, msg);
      expect(toHex(rsaDecrypt(privateKey, { padding: 'pkcs1' }, theirs))).to.equal(toHex(msg));
      const ours = rsaEncrypt(publicKey, { padding: 'pkcs1' }, msg);
      const em = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, ours);
      expect(em[0]).to.equal(0);
      expect(em[1]).to.equal(2);
      expect(toHex(em.subarray(em.length - msg.length))).to.equal(toHex(msg));
      expect(em[em.length - msg.length - 1]).to.equal(0);
    });
    it('PKCS#1 v1.5 implicit rejection: a forged ciphertext gives stable unrelated bytes, not an error', () => {
      const forged = publicEncrypt(
        { key: publicKey, padding: constants.RSA_NO_PADDING },
        Buffer.alloc(256, 7),
      );
      const a = rsaDecrypt(privateKey, { padding: 'pkcs1' }, forged);
      const b = rsaDecrypt(privateKey, { padding: 'pkcs1' }, forged);
      expect(toHex(a)).to.equal(toHex(b));
      failsWith('crypto', () => rsaDecrypt(privateKey, { padding: 'pkcs1' }, rnd(12)));
    });
    it('refuses non-RSA keys', () => {
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      failsWith('invalid', () => rsaEncrypt(ec.publicKey, { padding: 'oaep' }, rnd(4)));
    });
  });
});
