/**
 * Key derivation functions over node:crypto (OpenSSL 3) for the Derive Key
 * operation (KMIP 1.4 §4.6, 2.1 §6.1.12). Each takes bytes and returns
 * bytes; none knows about KMIP messages. Outputs are the method's full
 * output (or exactly `length` bytes for the variable-length methods); the
 * operation truncates to the Cryptographic Length it was asked for.
 *
 * Errors are RangeError (bad sizes, unknown ciphers) so the caller can map
 * them to a KMIP result reason.
 */
import {
  createCipheriv,
  createHash,
  createHmac,
  diffieHellman,
  getHashes,
  hkdf,
  type KeyObject,
  pbkdf2,
} from 'node:crypto';
import { promisify } from 'node:util';
import { createMac, type MacAlgorithm } from './digest.js';

const pbkdf2Async = promisify(pbkdf2);
const hkdfAsync = promisify(hkdf);

/** Output size in bytes of an OpenSSL digest. */
export function digestLength(hash: string): number {
  return createHash(hash).digest().length;
}

function checkHash(hash: string): void {
  if (!getHashes().includes(hash)) throw new RangeError(`unknown digest ${hash}`);
}

/**
 * HASH method: a digest over the derivation key followed by the Derivation
 * Data when there is some. KMIP 1.4 §4.6 says "a hash over the derivation key
 * or the derivation data"; hashing the data alone would let anyone compute
 * the key, so the key always goes in (TC-DERIVEKEY-1: SHA-256 of the key).
 */
export function deriveHash(hash: string, key: Uint8Array, data: Uint8Array | undefined): Buffer {
  const h = createHash(hash).update(key);
  if (data !== undefined) h.update(data);
  return h.digest();
}

/** HMAC method: HMAC(key, Derivation Data) (TC-DERIVEKEY-2). */
export function deriveHmac(hash: string, key: Uint8Array, data: Uint8Array): Buffer {
  return createHmac(hash, key).update(data).digest();
}

/**
 * PBKDF2 (RFC 8018 §5.2) with HMAC-`hash` as PRF; KMIP's default PRF is
 * HMAC-SHA-1 (TC-DERIVEKEY-3/4 are RFC 6070's vectors). Runs on the libuv
 * thread pool so a large Iteration Count does not stall the server.
 */
export async function derivePbkdf2(
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  length: number,
  hash = 'sha1',
): Promise<Buffer> {
  checkHash(hash);
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError('iteration count must be ≥ 1');
  return pbkdf2Async(password, salt, iterations, length, hash);
}

/** HKDF (RFC 5869): extract with `salt`, expand with `info` to `length` bytes (at most 255 × digest size). */
export async function deriveHkdf(
  hash: string,
  key: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
): Promise<Buffer> {
  checkHash(hash);
  if (length > 255 * digestLength(hash)) throw new RangeError(`HKDF-${hash} yields at most 255 blocks`);
  return Buffer.from(await hkdfAsync(hash, key, salt, info, length));
}

/** Block cipher modes the ENCRYPT method accepts (deterministic, no tag). */
export type DeriveCipherMode = 'ecb' | 'cbc' | 'cfb' | 'ofb' | 'ctr';

export interface EncryptDerivation {
  readonly cipher: 'aes' | 'des3';
  readonly mode: DeriveCipherMode;
  readonly key: Uint8Array;
  /** IV / initial counter block; absent: all zeros (ignored by ECB) */
  readonly iv?: Uint8Array;
  /** PKCS#5 padding; without it the data must fill whole blocks in ECB and CBC */
  readonly pad: boolean;
  readonly data: Uint8Array;
}

function cipherName(cipher: 'aes' | 'des3', mode: DeriveCipherMode, keyLength: number): string {
  if (cipher === 'aes') {
    if (keyLength !== 16 && keyLength !== 24 && keyLength !== 32) {
      throw new RangeError('AES needs a 128, 192 or 256-bit key');
    }
    return `aes-${keyLength * 8}-${mode}`;
  }
  if (mode === 'ctr') throw new RangeError('Triple DES in CTR mode is not available');
  const base = keyLength === 24 ? 'des-ede3' : keyLength === 16 ? 'des-ede' : undefined;
  if (base === undefined) throw new RangeError('Triple DES needs a 2-key (16-byte) or 3-key (24-byte) key');
  return mode === 'ecb' ? base : `${base}-${mode}`;
}

/** ENCRYPT method: the Derivation Data encrypted under the base key. */
export function deriveEncrypt(input: EncryptDerivation): Buffer {
  const name = cipherName(input.cipher, input.mode, input.key.length);
  const block = input.cipher === 'aes' ? 16 : 8;
  const iv = input.mode === 'ecb' ? null : (input.iv ?? Buffer.alloc(block));
  if (iv !== null && iv.length !== block) throw new RangeError(`the IV must be ${block} bytes`);
  if (!input.pad && (input.mode === 'ecb' || input.mode === 'cbc') && input.data.length % block !== 0) {
    throw new RangeError(`without padding the data must be a multiple of ${block} bytes`);
  }
  const c = createCipheriv(name, input.key, iv).setAutoPadding(input.pad);
  return Buffer.concat([c.update(input.data), c.final()]);
}

/** NIST SP 800-108 KDF modes: counter (§5.1), feedback (§5.2), double-pipeline iteration (§5.3). */
export type Sp800108Mode = 'counter' | 'feedback' | 'double-pipeline';

export interface Sp800108Input {
  readonly mode: Sp800108Mode;
  /** HMAC over a digest or CMAC over a block cipher */
  readonly prf: MacAlgorithm;
  readonly key: Uint8Array;
  /**
   * The fixed input data (Label ‖ 0x00 ‖ Context ‖ [L]₂ as the caller built
   * it): KMIP passes the Derivation Data as it is.
   */
  readonly fixed: Uint8Array;
  /** output length in bytes */
  readonly length: number;
  /** feedback mode's K(0); empty when absent */
  readonly iv?: Uint8Array;
}

function counter32(i: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(i);
  return b;
}

function prf(alg: MacAlgorithm, key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const m = createMac(alg, key);
  for (const p of parts) m.update(p);
  return m.digest();
}

/**
 * SP 800-108 with a 32-bit big-endian counter placed before the fixed data
 * (r = 32), the layout PyKMIP and most HSMs use for KMIP's NIST800-108-*.
 */
export function deriveSp800108(input: Sp800108Input): Buffer {
  const { mode, prf: alg, key, fixed, length } = input;
  const out: Buffer[] = [];
  let have = 0;
  let previous: Buffer = Buffer.from(input.iv ?? new Uint8Array(0));
  let a: Buffer = Buffer.from(fixed);
  for (let i = 1; have < length; i++) {
    if (i > 0xffffffff) throw new RangeError('SP 800-108 output too long');
    let k: Buffer;
    if (mode === 'counter') {
      k = prf(alg, key, counter32(i), fixed);
    } else if (mode === 'feedback') {
      k = prf(alg, key, previous, counter32(i), fixed);
      previous = k;
    } else {
      a = prf(alg, key, a);
      k = prf(alg, key, a, counter32(i), fixed);
    }
    out.push(k);
    have += k.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** AsymmetricKey method with (EC)DH: the raw shared secret (SEC 1 §3.3.1 x-coordinate for EC). */
export function deriveAgreement(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  return diffieHellman({ privateKey, publicKey });
}
