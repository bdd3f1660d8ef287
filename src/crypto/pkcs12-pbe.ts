/**
 * Password-based encryption of PKCS#12 contents: the RFC 7292 Appendix B
 * key derivation with its PBE schemes (pbeWithSHAAnd3-KeyTripleDES-CBC and
 * the 2-key variant), and PBES2 (RFC 8018 §6.2: PBKDF2 with AES-CBC or 3DES).
 */
import { createCipheriv, createDecipheriv, createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import { int, octets, oid, seq } from './asn1.js';
import { badInput as invalid } from './errors.js';

const OID = {
  pbeSha1Des3: '1.2.840.113549.1.12.1.3',
  pbeSha1Des2: '1.2.840.113549.1.12.1.4',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacSha256: '1.2.840.113549.2.9',
  aes256cbc: '2.16.840.1.101.3.4.1.42',
} as const;

/** PBKDF2 PRFs (RFC 8018 §B.1.2). */
const PRFS: Readonly<Record<string, string>> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  [OID.hmacSha256]: 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
const PBES2_CIPHERS: Readonly<Record<string, { name: string; keyLength: number }>> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  [OID.aes256cbc]: { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
};

// Key derivation (RFC 7292 Appendix B)

/** The PKCS#12 password: BMPString (UTF-16BE) of the UTF-8 text, with a 2-byte NUL terminator (B.1). */
export function bmpPassword(password: Uint8Array): Uint8Array {
  const text = Buffer.from(password).toString('utf8');
  const out = Buffer.alloc(text.length * 2 + 2);
  for (let i = 0; i < text.length; i++) out.writeUInt16BE(text.charCodeAt(i), i * 2);
  return new Uint8Array(out);
}

function repeatTo(bytes: Uint8Array, v: number): Buffer {
  if (bytes.length === 0) return Buffer.alloc(0);
  const len = v * Math.ceil(bytes.length / v);
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i++) out[i] = bytes[i % bytes.length] ?? 0;
  return out;
}

/** RFC 7292 B.2: `n` bytes of key (id 1), IV (id 2) or MAC key (id 3). */
export function pkcs12Kdf(
  hash: string,
  blockSize: number,
  password: Uint8Array,
  salt: Uint8Array,
  id: 1 | 2 | 3,
  iterations: number,
  n: number,
): Uint8Array {
  const v = blockSize;
  const d = Buffer.alloc(v, id);
  const i = Buffer.concat([repeatTo(salt, v), repeatTo(bmpPassword(password), v)]);
  const chunks: Buffer[] = [];
  let produced = 0;
  while (produced < n) {
    let a = createHash(hash).update(d).update(i).digest();
    for (let r = 1; r < iterations; r++) a = createHash(hash).update(a).digest();
    chunks.push(a);
    produced += a.length;
    if (produced >= n) break;
    const b = repeatTo(a, v).subarray(0, v);
    // I_j = (I_j + B + 1) mod 2^(8v) for each v-byte block of I.
    for (let off = 0; off < i.length; off += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = (i[off + k] ?? 0) + (b[k] ?? 0) + carry;
        i[off + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return new Uint8Array(Buffer.concat(chunks).subarray(0, n));
}

// Decryption of PKCS#12 PBE and PBES2

export function decrypt(alg: asn1js.AsnType | undefined, data: Uint8Array, password: Uint8Array): Uint8Array {
  const parts = seq(alg, 'encryption algorithm');
  const id = oid(parts[0], 'encryption algorithm');
  let cipher: string;
  let key: Uint8Array;
  let iv: Uint8Array;
  if (id === OID.pbeSha1Des3 || id === OID.pbeSha1Des2) {
    const [salt, iter] = seq(parts[1], 'PBE parameters');
    const s = octets(salt, 'PBE salt');
    const n = int(iter, 'PBE iterations');
    const three = id === OID.pbeSha1Des3;
    cipher = three ? 'des-ede3-cbc' : 'des-ede-cbc';
    key = pkcs12Kdf('sha1', 64, password, s, 1, n, three ? 24 : 16);
    iv = pkcs12Kdf('sha1', 64, password, s, 2, n, 8);
  } else if (id === OID.pbes2) {
    const [kdf, scheme] = seq(parts[1], 'PBES2 parameters');
    const kdfParts = seq(kdf, 'PBES2 key derivation');
    if (oid(kdfParts[0], 'PBES2 key derivation') !== OID.pbkdf2) {
      throw invalid('PKCS#12: only PBKDF2 is supported in PBES2');
    }
    const kp = seq(kdfParts[1], 'PBKDF2 parameters');
    const salt = octets(kp[0], 'PBKDF2 salt');
    const iterations = int(kp[1], 'PBKDF2 iterations');
    let prf = 'sha1';
    for (const extra of kp.slice(2)) {
      if (extra instanceof asn1js.Sequence) {
        const p = PRFS[oid(extra.valueBlock.value[0], 'PBKDF2 PRF')];
        if (p === undefined) throw invalid('PKCS#12: unsupported PBKDF2 PRF');
        prf = p;
      }
    }
    const sp = seq(scheme, 'PBES2 encryption scheme');
    const c = PBES2_CIPHERS[oid(sp[0], 'PBES2 encryption scheme')];
    if (c === undefined) throw invalid('PKCS#12: unsupported PBES2 cipher');
    cipher = c.name;
    iv = octets(sp[1], 'PBES2 IV');
    // RFC 8018 leaves the password encoding to the application; PKCS#12 producers use the UTF-8 bytes.
    key = new Uint8Array(pbkdf2Sync(password, salt, iterations, c.keyLength, prf));
  } else {
    throw invalid(`PKCS#12: unsupported encryption algorithm ${id}`);
  }
  try {
    const d = createDecipheriv(cipher, key, iv);
    return new Uint8Array(Buffer.concat([d.update(data), d.final()]));
  } catch {
    throw invalid('PKCS#12: the password does not decrypt the contents');
  }
}

/** PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC, as OpenSSL 3 writes by default. */
export function pbes2Encrypt(
  plain: Uint8Array,
  password: Uint8Array,
  iterations: number,
): { alg: asn1js.Sequence; data: Uint8Array } {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const c = createCipheriv('aes-256-cbc', key, iv);
  const data = new Uint8Array(Buffer.concat([c.update(plain), c.final()]));
  const alg = new asn1js.Sequence({
    value: [
      new asn1js.ObjectIdentifier({ value: OID.pbes2 }),
      new asn1js.Sequence({
        value: [
          new asn1js.Sequence({
            value: [
              new asn1js.ObjectIdentifier({ value: OID.pbkdf2 }),
              new asn1js.Sequence({
                value: [
                  new asn1js.OctetString({ valueHex: salt }),
                  new asn1js.Integer({ value: iterations }),
                  new asn1js.Sequence({
                    value: [new asn1js.ObjectIdentifier({ value: OID.hmacSha256 }), new asn1js.Null()],
                  }),
                ],
              }),
            ],
          }),
          new asn1js.Sequence({
            value: [
              new asn1js.ObjectIdentifier({ value: OID.aes256cbc }),
              new asn1js.OctetString({ valueHex: iv }),
            ],
          }),
        ],
      }),
    ],
  });
  return { alg, data };
}
