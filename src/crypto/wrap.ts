/**
 * Key wrapping primitives for Get/Export with a Key Wrapping Specification
 * and Register/Import of wrapped keys (KMIP 1.0 §2.1.5, 2.1 §2.1.5):
 * AES Key Wrap (RFC 3394 / NIST SP 800-38F KW), AES Key Wrap with Padding
 * (RFC 5649 / KWP), AES-GCM, and RSA (OAEP, PKCS#1 v1.5).
 *
 * KW and KWP are written out from the RFCs over AES-ECB so the tests can
 * check them against OpenSSL's `id-aes*-wrap` ciphers independently.
 * Every failure is a CryptoError (`failure`, or `bad-input` for unusable
 * sizes), so operations can let it propagate.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
} from 'node:crypto';
import { badInput, failure } from './errors.js';

/** RFC 3394 §2.2.3.1 default initial value. */
const KW_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');
/** RFC 5649 §3 alternative initial value prefix. */
const KWP_PREFIX = Buffer.from('a65959a6', 'hex');

function ecbName(kek: Uint8Array): string {
  if (kek.length !== 16 && kek.length !== 24 && kek.length !== 32) {
    throw badInput(`an AES key wrapping key must be 128, 192 or 256 bits, not ${kek.length * 8}`);
  }
  return `aes-${kek.length * 8}-ecb`;
}

function xorCounter(a: Buffer, t: number): void {
  const v = a.readBigUInt64BE(0) ^ BigInt(t);
  a.writeBigUInt64BE(v, 0);
}

/** RFC 3394 §2.2.1 wrapping process with initial value `iv` over 64-bit blocks. */
function kwWrapRaw(kek: Uint8Array, iv: Buffer, plain: Uint8Array): Uint8Array {
  const n = plain.length / 8;
  const cipher = createCipheriv(ecbName(kek), kek, null).setAutoPadding(false);
  const a = Buffer.from(iv);
  const r = Buffer.from(plain);
  const block = Buffer.alloc(16);
  for (let j = 0; j <= 5; j++) {
    for (let i = 1; i <= n; i++) {
      a.copy(block, 0);
      r.copy(block, 8, (i - 1) * 8, i * 8);
      const b = cipher.update(block);
      b.copy(a, 0, 0, 8);
      xorCounter(a, n * j + i);
      b.copy(r, (i - 1) * 8, 8, 16);
    }
  }
  return new Uint8Array(Buffer.concat([a, r]));
}

/** RFC 3394 §2.2.2 unwrapping process; returns the recovered initial value and plaintext. */
function kwUnwrapRaw(kek: Uint8Array, wrapped: Uint8Array): { iv: Buffer; plain: Buffer } {
  const n = wrapped.length / 8 - 1;
  const decipher = createDecipheriv(ecbName(kek), kek, null).setAutoPadding(false);
  const a = Buffer.from(wrapped.subarray(0, 8));
  const r = Buffer.from(wrapped.subarray(8));
  const block = Buffer.alloc(16);
  for (let j = 5; j >= 0; j--) {
    for (let i = n; i >= 1; i--) {
      xorCounter(a, n * j + i);
      a.copy(block, 0);
      r.copy(block, 8, (i - 1) * 8, i * 8);
      const b = decipher.update(block);
      b.copy(a, 0, 0, 8);
      b.copy(r, (i - 1) * 8, 8, 16);
    }
  }
  return { iv: a, plain: r };
}

/** AES Key Wrap (RFC 3394): plaintext of at least 16 bytes, a multiple of 8. */
export function aesKeyWrap(kek: Uint8Array, plain: Uint8Array): Uint8Array {
  if (plain.length < 16 || plain.length % 8 !== 0) {
    throw badInput(
      'AES Key Wrap (RFC 3394) needs at least 16 bytes in multiples of 8; use AES Key Wrap with Padding',
    );
  }
  return kwWrapRaw(kek, KW_IV, plain);
}

/** AES Key Unwrap (RFC 3394); Cryptographic Failure when the integrity check fails. */
export function aesKeyUnwrap(kek: Uint8Array, wrapped: Uint8Array): Uint8Array {
  if (wrapped.length < 24 || wrapped.length % 8 !== 0) throw failure('the wrapped key has an invalid length');
  const { iv, plain } = kwUnwrapRaw(kek, wrapped);
  if (!iv.equals(KW_IV)) throw failure('AES Key Unwrap integrity check failed');
  return new Uint8Array(plain);
}

/** AES Key Wrap with Padding (RFC 5649): any plaintext of 1 byte or more. */
export function aesKeyWrapPad(kek: Uint8Array, plain: Uint8Array): Uint8Array {
  if (plain.length === 0) throw badInput('nothing to wrap');
  const aiv = Buffer.alloc(8);
  KWP_PREFIX.copy(aiv, 0);
  aiv.writeUInt32BE(plain.length, 4);
  const padded = Buffer.alloc(Math.ceil(plain.length / 8) * 8);
  padded.set(plain);
  if (padded.length === 8) {
    // RFC 5649 §4.1: a single block is encrypted once with AES in ECB mode.
    const cipher = createCipheriv(ecbName(kek), kek, null).setAutoPadding(false);
    return new Uint8Array(cipher.update(Buffer.concat([aiv, padded])));
  }
  return kwWrapRaw(kek, aiv, padded);
}

/** AES Key Unwrap with Padding (RFC 5649 §4.2 with its integrity checks). */
export function aesKeyUnwrapPad(kek: Uint8Array, wrapped: Uint8Array): Uint8Array {
  if (wrapped.length < 16 || wrapped.length % 8 !== 0) throw failure('the wrapped key has an invalid length');
  let aiv: Buffer;
  let padded: Buffer;
  if (wrapped.length === 16) {
    const decipher = createDecipheriv(ecbName(kek), kek, null).setAutoPadding(false);
    const b = decipher.update(wrapped);
    aiv = b.subarray(0, 8);
    padded = b.subarray(8);
  } else {
    const out = kwUnwrapRaw(kek, wrapped);
    aiv = out.iv;
    padded = out.plain;
  }
  const mli = aiv.readUInt32BE(4);
  const ok =
    aiv.subarray(0, 4).equals(KWP_PREFIX) &&
    mli > padded.length - 8 &&
    mli <= padded.length &&
    padded.subarray(mli).every((x) => x === 0);
  if (!ok) throw failure('AES Key Unwrap with Padding integrity check failed');
  return new Uint8Array(padded.subarray(0, mli));
}

function gcmName(key: Uint8Array): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  if (key.length === 16) return 'aes-128-gcm';
  if (key.length === 24) return 'aes-192-gcm';
  if (key.length === 32) return 'aes-256-gcm';
  throw badInput(`an AES key must be 128, 192 or 256 bits, not ${key.length * 8}`);
}

/** AES-GCM encryption; the result is ciphertext ‖ tag (tagLength bytes, 16 by default). */
export function aesGcmWrap(key: Uint8Array, iv: Uint8Array, plain: Uint8Array, tagLength = 16): Uint8Array {
  const cipher = createCipheriv(gcmName(key), key, iv, { authTagLength: tagLength });
  const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
  return new Uint8Array(Buffer.concat([ct, cipher.getAuthTag()]));
}

/** AES-GCM decryption of ciphertext ‖ tag; Cryptographic Failure when the tag does not verify. */
export function aesGcmUnwrap(key: Uint8Array, iv: Uint8Array, data: Uint8Array, tagLength = 16): Uint8Array {
  if (data.length < tagLength) throw failure('the wrapped key is shorter than the GCM tag');
  const decipher = createDecipheriv(gcmName(key), key, iv, { authTagLength: tagLength });
  decipher.setAuthTag(data.subarray(data.length - tagLength));
  try {
    const pt = Buffer.concat([decipher.update(data.subarray(0, data.length - tagLength)), decipher.final()]);
    return new Uint8Array(pt);
  } catch {
    throw failure('AES-GCM authentication failed');
  }
}

export type RsaWrapPadding = 'oaep' | 'pkcs1';

function rsaOptions(key: KeyObject, padding: RsaWrapPadding, hash: string) {
  return padding === 'oaep'
    ? { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }
    : { key, padding: constants.RSA_PKCS1_PADDING };
}

/** RSA encryption with a public key: OAEP (MGF1 with the same hash) or PKCS#1 v1.5. */
export function rsaWrap(
  key: KeyObject,
  padding: RsaWrapPadding,
  hash: string,
  plain: Uint8Array,
): Uint8Array {
  try {
    const out = publicEncrypt(rsaOptions(key, padding, hash), plain);
    return new Uint8Array(out);
  } catch (e) {
    throw failure(`RSA wrapping failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** RSA decryption with a private key (inverse of rsaWrap). */
export function rsaUnwrap(
  key: KeyObject,
  padding: RsaWrapPadding,
  hash: string,
  wrapped: Uint8Array,
): Uint8Array {
  try {
    const out = privateDecrypt(rsaOptions(key, padding, hash), wrapped);
    return new Uint8Array(out);
  } catch {
    throw failure('RSA unwrapping failed');
  }
}
