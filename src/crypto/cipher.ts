/**
 * Symmetric and RSA encryption for the Encrypt and Decrypt operations, over
 * node:crypto (OpenSSL 3). Nothing here knows KMIP: callers describe the
 * cipher with a CipherSpec and get a CipherError (with a kind the operation
 * maps to a Result Reason) for anything unusable, never an OpenSSL throw.
 *
 * Supported: AES-128/192/256 in ECB, CBC (no padding or PKCS#5/7), CTR,
 * GCM, CCM, XTS, RFC 3394 key wrap and RFC 5649 key wrap with padding;
 * Triple DES (two- or three-key) in ECB and CBC; ChaCha20 (RFC 7539 and the
 * original 64-bit-nonce form) and ChaCha20-Poly1305; RSA with OAEP (any
 * hash, separate MGF1 hash, label) and PKCS#1 v1.5.
 */
import {
  type Cipher,
  type CipherCCM,
  type CipherGCM,
  type CipherGCMOptions,
  createCipheriv,
  createDecipheriv,
  type Decipher,
  type DecipherGCM,
  randomBytes,
} from 'node:crypto';
import { CipherError } from './errors.js';
import { aesKeyUnwrap, aesKeyUnwrapPad, aesKeyWrap, aesKeyWrapPad } from './wrap.js';

export { CipherError, type CipherErrorKind } from './errors.js';
export { RSA_HASHES, type RsaHash, type RsaParams, rsaDecrypt, rsaEncrypt } from './rsa-cipher.js';

export type SymmetricAlgorithm = 'aes' | 'des3' | 'chacha20' | 'chacha20-poly1305';
export type CipherMode = 'ecb' | 'cbc' | 'ctr' | 'gcm' | 'ccm' | 'xts' | 'kw' | 'kwp' | 'stream' | 'aead';
export type CipherPadding = 'none' | 'pkcs5';

export interface CipherSpec {
  readonly algorithm: SymmetricAlgorithm;
  readonly mode: CipherMode;
  readonly padding: CipherPadding;
  readonly key: Uint8Array;
  /** IV, counter block, nonce or tweak; undefined for modes that take none */
  readonly iv?: Uint8Array | undefined;
  /** AEAD tag length in bytes (GCM, CCM, ChaCha20-Poly1305); 16 when undefined */
  readonly tagLength?: number | undefined;
  readonly aad?: Uint8Array | undefined;
}

export interface EncryptResult {
  readonly data: Uint8Array;
  /** AEAD modes only */
  readonly tag?: Uint8Array;
}

const AEAD_MODES: ReadonlySet<CipherMode> = new Set(['gcm', 'ccm', 'aead']);
const GCM_TAG_LENGTHS = new Set([4, 8, 12, 13, 14, 15, 16]);
const CCM_TAG_LENGTHS = new Set([4, 6, 8, 10, 12, 14, 16]);

export function isAead(mode: CipherMode): boolean {
  return AEAD_MODES.has(mode);
}

/** Block size in bytes, for padding checks; 1 for stream-like modes. */
export function blockSize(spec: Pick<CipherSpec, 'algorithm' | 'mode'>): number {
  if (spec.mode !== 'ecb' && spec.mode !== 'cbc') return 1;
  return spec.algorithm === 'des3' ? 8 : 16;
}

/**
 * The IV length a server generates for `mode` (bytes), or 0 when the mode
 * takes no IV. GCM: 96 bits (NIST SP 800-38D §8.2); CCM: 12-byte nonce.
 */
export function defaultIvLength(spec: Pick<CipherSpec, 'algorithm' | 'mode'>): number {
  switch (spec.mode) {
    case 'cbc':
      return spec.algorithm === 'des3' ? 8 : 16;
    case 'ctr':
    case 'xts':
      return 16;
    case 'gcm':
    case 'ccm':
    case 'aead':
      return 12;
    case 'stream':
      return 12;
    default:
      return 0;
  }
}

export function needsIv(spec: Pick<CipherSpec, 'algorithm' | 'mode'>): boolean {
  return defaultIvLength(spec) > 0;
}

export function randomIv(spec: Pick<CipherSpec, 'algorithm' | 'mode'>, length?: number): Uint8Array {
  return new Uint8Array(randomBytes(length ?? defaultIvLength(spec)));
}

function aesBits(key: Uint8Array): 128 | 192 | 256 {
  if (key.length === 16) return 128;
  if (key.length === 24) return 192;
  if (key.length === 32) return 256;
  throw new CipherError('invalid', `an AES key must be 128, 192 or 256 bits, not ${key.length * 8}`);
}

interface Resolved {
  readonly name: string;
  readonly iv: Buffer | null;
  readonly tagLength: number | undefined;
}

/**
 * ChaCha20 IV as OpenSSL takes it: 32-bit little-endian block counter then
 * a 96-bit nonce (RFC 7539 §2.3). An 8-byte nonce is the original form with
 * a 64-bit counter (the KMIP 2.0 CS-BC-M-CHACHA20 vectors); 16 bytes are
 * counter and nonce as given.
 */
function chachaIv(iv: Uint8Array): Buffer {
  if (iv.length === 16) return Buffer.from(iv);
  if (iv.length === 12) return Buffer.concat([Buffer.alloc(4), iv]);
  if (iv.length === 8) return Buffer.concat([Buffer.alloc(8), iv]);
  throw new CipherError('invalid', `a ChaCha20 nonce must be 8, 12 or 16 bytes, not ${iv.length}`);
}

function requireIv(spec: CipherSpec, lengths: readonly number[] | 'any'): Buffer {
  const iv = spec.iv;
  if (iv === undefined) {
    throw new CipherError('missing-iv', `the ${spec.mode.toUpperCase()} mode needs an IV/Counter/Nonce`);
  }
  if (lengths === 'any') {
    if (iv.length === 0) throw new CipherError('invalid', 'the IV/Counter/Nonce is empty');
  } else if (!lengths.includes(iv.length)) {
    throw new CipherError(
      'invalid',
      `the IV/Counter/Nonce for ${spec.mode.toUpperCase()} must be ${lengths.join(' or ')} bytes, not ${iv.length}`,
    );
  }
  return Buffer.from(iv);
}

function checkTagLength(spec: CipherSpec): number {
  const t = spec.tagLength ?? 16;
  const allowed = spec.mode === 'ccm' ? CCM_TAG_LENGTHS : GCM_TAG_LENGTHS;
  if (!allowed.has(t)) {
    throw new CipherError(
      'tag-length',
      `invalid tag length ${t} for ${spec.mode.toUpperCase()}; allowed: ${[...allowed].join(', ')} bytes`,
    );
  }
  return t;
}

/** Checks the spec and names the OpenSSL cipher; throws CipherError when it cannot work. */
function resolve(spec: CipherSpec): Resolved {
  const { algorithm, mode, key } = spec;
  if (algorithm === 'aes') {
    switch (mode) {
      case 'ecb':
        return { name: `aes-${aesBits(key)}-ecb`, iv: null, tagLength: undefined };
      case 'cbc':
        return { name: `aes-${aesBits(key)}-cbc`, iv: requireIv(spec, [16]), tagLength: undefined };
      case 'ctr':
        return { name: `aes-${aesBits(key)}-ctr`, iv: requireIv(spec, [16]), tagLength: undefined };
      case 'gcm': {
        const name = `aes-${aesBits(key)}-gcm`;
        return { name, iv: requireIv(spec, 'any'), tagLength: checkTagLength(spec) };
      }
      case 'ccm': {
        const name = `aes-${aesBits(key)}-ccm`;
        return { name, iv: requireIv(spec, [7, 8, 9, 10, 11, 12, 13]), tagLength: checkTagLength(spec) };
      }
      case 'xts': {
        // XTS takes two AES keys of equal size (IEEE 1619): 256 bits for AES-128, 512 for AES-256.
        if (key.length !== 32 && key.length !== 64) {
          throw new CipherError(
            'invalid',
            `an AES-XTS key must be 256 or 512 bits (two AES keys), not ${key.length * 8}`,
          );
        }
        return { name: `aes-${key.length * 4}-xts`, iv: requireIv(spec, [16]), tagLength: undefined };
      }
      case 'kw':
      case 'kwp':
        aesBits(key);
        return { name: mode, iv: null, tagLength: undefined };
      default:
        throw new CipherError('unsupported', `AES in ${mode.toUpperCase()} mode is not supported`);
    }
  }
  if (algorithm === 'des3') {
    if (key.length !== 16 && key.length !== 24) {
      throw new CipherError('invalid', `a Triple DES key must be 128 or 192 bits, not ${key.length * 8}`);
    }
    const base = key.length === 24 ? 'des-ede3' : 'des-ede';
    if (mode === 'ecb') return { name: `${base}-ecb`, iv: null, tagLength: undefined };
    if (mode === 'cbc') return { name: `${base}-cbc`, iv: requireIv(spec, [8]), tagLength: undefined };
    throw new CipherError('unsupported', `Triple DES in ${mode.toUpperCase()} mode is not supported`);
  }
  if (key.length !== 32) {
    throw new CipherError('invalid', `a ChaCha20 key must be 256 bits, not ${key.length * 8}`);
  }
  if (algorithm === 'chacha20') {
    if (mode !== 'stream') throw new CipherError('unsupported', 'ChaCha20 is a stream cipher: no block mode');
    return { name: 'chacha20', iv: chachaIv(requireIv(spec, [8, 12, 16])), tagLength: undefined };
  }
  if (mode !== 'aead') {
    throw new CipherError('unsupported', 'ChaCha20-Poly1305 takes no block mode other than AEAD');
  }
  return { name: 'chacha20-poly1305', iv: requireIv(spec, [12]), tagLength: checkTagLength(spec) };
}

/** Checks a spec without encrypting anything (throws CipherError). */
export function validateSpec(spec: CipherSpec): void {
  resolve(spec);
}

function checkBlocks(spec: CipherSpec, length: number, decrypting: boolean): void {
  const bs = blockSize(spec);
  if (bs === 1) return;
  if ((spec.padding === 'none' || decrypting) && length % bs !== 0) {
    throw new CipherError(
      'invalid',
      decrypting
        ? `the ciphertext must be a multiple of ${bs} bytes`
        : `with no padding the data must be a multiple of ${bs} bytes, not ${length}`,
    );
  }
}

function open<T extends Cipher | Decipher>(
  spec: CipherSpec,
  r: Resolved,
  create: typeof createCipheriv | typeof createDecipheriv,
): T {
  const opts: CipherGCMOptions | undefined =
    r.tagLength === undefined ? undefined : { authTagLength: r.tagLength };
  let c: T;
  try {
    c = create(r.name, spec.key, r.iv, opts) as T;
  } catch (e) {
    throw new CipherError(
      'invalid',
      `cannot set up ${r.name}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (spec.mode === 'ecb' || spec.mode === 'cbc') c.setAutoPadding(spec.padding === 'pkcs5');
  return c;
}

function openCipher(spec: CipherSpec, r: Resolved, plainLength: number | undefined): Cipher {
  const c = open<Cipher>(spec, r, createCipheriv);
  addAad(c, spec, plainLength);
  return c;
}

/** AEAD decryption sets the tag before the AAD (CCM needs it before any input). */
function openDecipher(
  spec: CipherSpec,
  r: Resolved,
  plainLength: number | undefined,
  tag: Uint8Array | undefined,
): Decipher {
  const d = open<Decipher>(spec, r, createDecipheriv);
  if (tag !== undefined) setTag(d, spec, tag);
  addAad(d, spec, plainLength);
  return d;
}

function addAad(c: Cipher | Decipher, spec: CipherSpec, plainLength: number | undefined): void {
  if (!isAead(spec.mode)) return;
  const aad = spec.aad ?? new Uint8Array(0);
  try {
    if (spec.mode === 'ccm') {
      if (plainLength === undefined) throw new CipherError('unsupported', 'CCM cannot be used in parts');
      (c as CipherCCM).setAAD(aad, { plaintextLength: plainLength });
    } else if (aad.length > 0) {
      (c as CipherGCM).setAAD(aad);
    }
  } catch (e) {
    if (e instanceof CipherError) throw e;
    throw new CipherError(
      'invalid',
      `unusable additional data: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/** One-shot encryption. */
export function encrypt(spec: CipherSpec, data: Uint8Array): EncryptResult {
  const r = resolve(spec);
  if (spec.mode === 'kw') return { data: aesKeyWrap(spec.key, data) };
  if (spec.mode === 'kwp') return { data: aesKeyWrapPad(spec.key, data) };
  checkBlocks(spec, data.length, false);
  if (spec.mode === 'xts' && data.length < 16) {
    throw new CipherError('invalid', 'AES-XTS needs at least 16 bytes of data');
  }
  const c = openCipher(spec, r, data.length);
  let out: Buffer;
  try {
    out = Buffer.concat([c.update(data), c.final()]);
  } catch (e) {
    throw new CipherError('invalid', `encryption failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isAead(spec.mode)) return { data: new Uint8Array(out) };
  return { data: new Uint8Array(out), tag: new Uint8Array((c as CipherGCM).getAuthTag()) };
}

function setTag(d: Decipher | undefined, spec: CipherSpec, tag: Uint8Array | undefined): void {
  if (tag === undefined) {
    throw new CipherError(
      'invalid',
      `${spec.mode.toUpperCase()} decryption needs the Authenticated Encryption Tag`,
    );
  }
  const expected = spec.tagLength ?? 16;
  if (tag.length !== expected) {
    throw new CipherError('invalid', `the tag is ${tag.length} bytes but Tag Length says ${expected}`);
  }
  try {
    (d as DecipherGCM | undefined)?.setAuthTag(tag);
  } catch (e) {
    throw new CipherError('invalid', `unusable tag: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** One-shot decryption; a wrong tag, key or padding is a `crypto` CipherError. */
export function decrypt(spec: CipherSpec, data: Uint8Array, tag?: Uint8Array): Uint8Array {
  const r = resolve(spec);
  if (spec.mode === 'kw') return aesKeyUnwrap(spec.key, data);
  if (spec.mode === 'kwp') return aesKeyUnwrapPad(spec.key, data);
  checkBlocks(spec, data.length, true);
  if (spec.mode === 'xts' && data.length < 16) {
    throw new CipherError('invalid', 'AES-XTS needs at least 16 bytes of data');
  }
  if (isAead(spec.mode) && tag === undefined) setTag(undefined, spec, tag);
  const d = openDecipher(spec, r, data.length, tag);
  try {
    return new Uint8Array(Buffer.concat([d.update(data), d.final()]));
  } catch {
    throw new CipherError(
      'crypto',
      isAead(spec.mode)
        ? 'authentication failed: wrong tag, IV, data or key'
        : 'decryption failed (bad padding?)',
    );
  }
}

/** A cipher fed in parts (KMIP multi-part Encrypt/Decrypt). */
export interface PartCipher {
  update(data: Uint8Array): Uint8Array;
  /** the remaining output; for AEAD encryption also the tag; `tag` is required for AEAD decryption */
  final(tag?: Uint8Array): EncryptResult;
}

/**
 * A cipher kept between the parts of a multi-part operation. Modes that
 * need the whole input at once (CCM, XTS, key wrap) are refused.
 */
export function openPartCipher(spec: CipherSpec, direction: 'encrypt' | 'decrypt'): PartCipher {
  if (spec.mode === 'ccm' || spec.mode === 'xts' || spec.mode === 'kw' || spec.mode === 'kwp') {
    throw new CipherError(
      'unsupported',
      `${spec.mode.toUpperCase()} cannot be used in a multi-part operation`,
    );
  }
  const r = resolve(spec);
  const decrypting = direction === 'decrypt';
  const c = decrypting ? openDecipher(spec, r, undefined, undefined) : openCipher(spec, r, undefined);
  const bs = blockSize(spec);
  let total = 0;
  return {
    update(data) {
      total += data.length;
      try {
        return new Uint8Array(c.update(data));
      } catch (e) {
        throw new CipherError(
          'invalid',
          `cipher update failed: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    },
    final(tag) {
      if (bs > 1 && (spec.padding === 'none' || decrypting) && total % bs !== 0) {
        throw new CipherError('invalid', `the data of all parts must add up to a multiple of ${bs} bytes`);
      }
      if (decrypting && isAead(spec.mode)) setTag(c as Decipher, spec, tag);
      let out: Buffer;
      try {
        out = c.final();
      } catch {
        throw new CipherError(
          decrypting ? 'crypto' : 'invalid',
          isAead(spec.mode)
            ? 'authentication failed: wrong tag, IV, data or key'
            : 'the cipher could not finish',
        );
      }
      if (!decrypting && isAead(spec.mode)) {
        return { data: new Uint8Array(out), tag: new Uint8Array((c as CipherGCM).getAuthTag()) };
      }
      return { data: new Uint8Array(out) };
    },
  };
}
