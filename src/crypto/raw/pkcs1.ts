/**
 * PKCS #1 (RFC 8017) encodings that node:crypto does not expose: MGF1,
 * EMSA-PSS over a given digest (§9.1), and the DigestInfo prefixes of
 * EMSA-PKCS1-v1_5 (§9.2 note 1, RFC 5754).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { badInput } from '../errors.js';

export const HASH_LENGTHS: Readonly<Record<string, number>> = {
  md5: 16,
  sha1: 20,
  sha224: 28,
  sha256: 32,
  sha384: 48,
  sha512: 64,
  'sha512-224': 28,
  'sha512-256': 32,
  'sha3-224': 28,
  'sha3-256': 32,
  'sha3-384': 48,
  'sha3-512': 64,
};

/** DER of DigestInfo up to the digest's OCTET STRING contents (RFC 8017 §9.2 note 1, RFC 5754). */
export const DIGEST_INFO_PREFIX: Readonly<Record<string, string>> = {
  md5: '3020300c06082a864886f70d020505000410',
  sha1: '3021300906052b0e03021a05000414',
  sha224: '302d300d06096086480165030402040500041c',
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
  'sha512-224': '302d300d06096086480165030402050500041c',
  'sha512-256': '3031300d060960864801650304020605000420',
  'sha3-224': '302d300d06096086480165030402070500041c',
  'sha3-256': '3031300d060960864801650304020805000420',
  'sha3-384': '3041300d060960864801650304020905000430',
  'sha3-512': '3051300d060960864801650304020a05000440',
};

/** The SHA-1/SHA-2 digest a Digested Data of that length is taken to be. */
export const DIGEST_BY_LENGTH: Readonly<Record<number, string>> = {
  20: 'sha1',
  28: 'sha224',
  32: 'sha256',
  48: 'sha384',
  64: 'sha512',
};

// EMSA-PSS (RFC 8017 §9.1)

/** MGF1 (RFC 8017 §B.2.1). */
export function mgf1(seed: Uint8Array, length: number, hash: string): Buffer {
  const out: Buffer[] = [];
  let have = 0;
  const counter = Buffer.alloc(4);
  for (let c = 0; have < length; c++) {
    counter.writeUInt32BE(c);
    const block = createHash(hash).update(seed).update(counter).digest();
    out.push(block);
    have += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

function pssHashOf(hash: string, mHash: Uint8Array, salt: Uint8Array): Buffer {
  return createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
}

export function emsaPssEncode(
  mHash: Uint8Array,
  emBits: number,
  hash: string,
  mgfHash: string,
  saltLength: number,
): Uint8Array {
  const hLen = mHash.length;
  const emLen = Math.ceil(emBits / 8);
  if (saltLength < 0 || emLen < hLen + saltLength + 2)
    throw badInput('the PSS Salt Length is too long for the key');
  const salt = randomBytes(saltLength);
  const h = pssHashOf(hash, mHash, salt);
  const db = Buffer.alloc(emLen - hLen - 1);
  db[emLen - saltLength - hLen - 2] = 0x01;
  salt.copy(db, emLen - saltLength - hLen - 1);
  const mask = mgf1(h, db.length, mgfHash);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] ?? 0) ^ (mask[i] ?? 0);
  db[0] = (db[0] ?? 0) & (0xff >> (8 * emLen - emBits));
  return Buffer.concat([db, h, Buffer.from([0xbc])]);
}

/** `saltLength` undefined: any salt length (RSA_PSS_SALTLEN_AUTO). */
export function emsaPssVerify(
  mHash: Uint8Array,
  em: Uint8Array,
  emBits: number,
  hash: string,
  mgfHash: string,
  saltLength: number | undefined,
): boolean {
  const hLen = mHash.length;
  const emLen = Math.ceil(emBits / 8);
  if (em.length !== emLen || emLen < hLen + (saltLength ?? 0) + 2 || em[emLen - 1] !== 0xbc) return false;
  const topMask = 0xff >> (8 * emLen - emBits);
  if (((em[0] ?? 0) & ~topMask) !== 0) return false;
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const mask = mgf1(h, emLen - hLen - 1, mgfHash);
  const db = Buffer.alloc(emLen - hLen - 1);
  for (let i = 0; i < db.length; i++) db[i] = (em[i] ?? 0) ^ (mask[i] ?? 0);
  db[0] = (db[0] ?? 0) & topMask;
  let one = 0;
  while (one < db.length && db[one] === 0) one++;
  if (one >= db.length || db[one] !== 0x01) return false;
  const salt = db.subarray(one + 1);
  if (saltLength !== undefined && salt.length !== saltLength) return false;
  return timingSafeEqual(pssHashOf(hash, mHash, salt), h);
}
