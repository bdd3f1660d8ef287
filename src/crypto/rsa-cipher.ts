/**
 * RSA encryption for Encrypt / Decrypt: OAEP (RFC 8017 §7.1, any hash,
 * separate MGF1 hash, label) written out over the raw RSA operation, and
 * PKCS#1 v1.5 (§7.2) with implicit rejection on decryption.
 */
import {
  constants,
  createHash,
  createHmac,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { CipherError } from './errors.js';
import { mgf1 } from './raw/pkcs1.js';

/** The digests RSA-OAEP and RSA key wrapping take here (SHA-1 and SHA-2). */
export const RSA_HASHES = ['sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
export type RsaHash = (typeof RSA_HASHES)[number];

export interface RsaParams {
  readonly padding: 'oaep' | 'pkcs1';
  /** OAEP hash; SHA-1 when undefined (PKCS #1 v2.2 RSAES-OAEP-params default) */
  readonly hash?: RsaHash | undefined;
  /** MGF1 hash; SHA-1 when undefined */
  readonly mgf1Hash?: RsaHash | undefined;
  /** OAEP label (KMIP P Source) */
  readonly label?: Uint8Array | undefined;
}

function modulusBytes(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (key.asymmetricKeyType !== 'rsa' || bits === undefined) {
    throw new CipherError('invalid', 'RSA encryption needs an RSA key');
  }
  return Math.ceil(bits / 8);
}

function digest(hash: RsaHash, data: Uint8Array): Buffer {
  return createHash(hash).update(data).digest();
}

function xorInto(target: Buffer, mask: Uint8Array): void {
  for (let i = 0; i < target.length; i++) target[i] = (target[i] ?? 0) ^ (mask[i] ?? 0);
}

/** EME-OAEP encoding (RFC 8017 §7.1.1 step 2), for an MGF1 hash other than the label hash. */
function oaepEncode(
  k: number,
  p: Required<Pick<RsaParams, 'hash' | 'mgf1Hash'>>,
  label: Uint8Array,
  m: Uint8Array,
): Buffer {
  const lHash = digest(p.hash, label);
  const hLen = lHash.length;
  if (m.length > k - 2 * hLen - 2) {
    throw new CipherError('invalid', `message too long for RSA-OAEP: at most ${k - 2 * hLen - 2} bytes`);
  }
  const db = Buffer.concat([lHash, Buffer.alloc(k - m.length - 2 * hLen - 2), Buffer.from([1]), m]);
  const seed = randomBytes(hLen);
  xorInto(db, mgf1(seed, db.length, p.mgf1Hash));
  xorInto(seed, mgf1(db, hLen, p.mgf1Hash));
  return Buffer.concat([Buffer.alloc(1), seed, db]);
}

/** EME-OAEP decoding (RFC 8017 §7.1.2 step 3); one error whatever the cause. */
function oaepDecode(
  k: number,
  p: Required<Pick<RsaParams, 'hash' | 'mgf1Hash'>>,
  label: Uint8Array,
  em: Uint8Array,
): Uint8Array {
  const lHash = digest(p.hash, label);
  const hLen = lHash.length;
  const fail = new CipherError('crypto', 'RSA-OAEP decryption failed');
  if (em.length !== k || k < 2 * hLen + 2) throw fail;
  const seed = Buffer.from(em.subarray(1, 1 + hLen));
  const db = Buffer.from(em.subarray(1 + hLen));
  xorInto(seed, mgf1(db, hLen, p.mgf1Hash));
  xorInto(db, mgf1(seed, db.length, p.mgf1Hash));
  let bad = (em[0] ?? 1) | (timingSafeEqual(db.subarray(0, hLen), lHash) ? 0 : 1);
  let index = -1;
  for (let i = hLen; i < db.length; i++) {
    const b = db[i] ?? 0;
    if (index < 0 && b === 1) index = i;
    else if (index < 0 && b !== 0) bad |= 1;
  }
  if (bad !== 0 || index < 0) throw fail;
  return new Uint8Array(db.subarray(index + 1));
}

function rsaRaw(key: KeyObject, data: Uint8Array, direction: 'public' | 'private'): Buffer {
  try {
    return direction === 'public'
      ? publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, data)
      : privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, data);
  } catch {
    throw new CipherError('crypto', 'RSA operation failed');
  }
}

/** RSA encryption with a public key. */
export function rsaEncrypt(key: KeyObject, p: RsaParams, data: Uint8Array): Uint8Array {
  const k = modulusBytes(key);
  if (p.padding === 'pkcs1') {
    if (data.length > k - 11) {
      throw new CipherError('invalid', `message too long for RSA PKCS#1 v1.5: at most ${k - 11} bytes`);
    }
    try {
      return new Uint8Array(publicEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, data));
    } catch {
      throw new CipherError('crypto', 'RSA PKCS#1 v1.5 encryption failed');
    }
  }
  const hashes = { hash: p.hash ?? 'sha1', mgf1Hash: p.mgf1Hash ?? 'sha1' } as const;
  const label = p.label ?? new Uint8Array(0);
  return new Uint8Array(rsaRaw(key, oaepEncode(k, hashes, label, data), 'public'));
}

/**
 * PKCS#1 v1.5 decryption with implicit rejection (the countermeasure to
 * Bleichenbacher/Marvin attacks that OpenSSL 3.2 adopted and Node 20
 * requires before it decrypts PKCS#1 v1.5 itself): a malformed padding
 * yields a pseudo-random message derived from the key and ciphertext, not
 * a distinguishable error.
 */
function pkcs1Decrypt(key: KeyObject, k: number, ct: Uint8Array): Uint8Array {
  const em = rsaRaw(key, ct, 'private');
  const kdk = createHash('sha256')
    .update(key.export({ format: 'der', type: 'pkcs8' }))
    .digest();
  const prf = createHmac('sha256', kdk).update(ct).digest();
  const synthLength = prf.readUInt16BE(0) % Math.max(1, k - 10);
  const synthetic = Buffer.alloc(synthLength);
  for (let off = 0, i = 1; off < synthLength; i++) {
    const block = createHmac('sha256', kdk)
      .update(ct)
      .update(Buffer.from([i >> 8, i & 0xff]))
      .digest();
    block.copy(synthetic, off);
    off += block.length;
  }
  let bad = (em[0] ?? 1) | ((em[1] ?? 0) ^ 2);
  let index = -1;
  for (let i = 2; i < em.length; i++) {
    if (index < 0 && em[i] === 0) index = i;
  }
  if (index < 10) bad |= 1;
  return bad !== 0 ? new Uint8Array(synthetic) : new Uint8Array(em.subarray(index + 1));
}

/** RSA decryption with a private key. */
export function rsaDecrypt(key: KeyObject, p: RsaParams, data: Uint8Array): Uint8Array {
  const k = modulusBytes(key);
  if (data.length !== k) {
    throw new CipherError('crypto', `RSA ciphertext must be ${k} bytes, not ${data.length}`);
  }
  if (p.padding === 'pkcs1') return pkcs1Decrypt(key, k, data);
  const hashes = { hash: p.hash ?? 'sha1', mgf1Hash: p.mgf1Hash ?? 'sha1' } as const;
  const em = rsaRaw(key, data, 'private');
  return oaepDecode(k, hashes, p.label ?? new Uint8Array(0), em);
}
