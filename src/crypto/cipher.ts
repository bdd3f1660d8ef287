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
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  type Decipher,
  type DecipherGCM,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { aesKeyUnwrap, aesKeyUnwrapPad, aesKeyWrap, aesKeyWrapPad } from './wrap.js';

export type SymmetricAlgorithm = 'aes' | 'des3' | 'chacha20' | 'chacha20-poly1305';
export type CipherMode = 'ecb' | 'cbc' | 'ctr' | 'gcm' | 'ccm' | 'xts' | 'kw' | 'kwp' | 'stream' | 'aead';
export type CipherPadding = 'none' | 'pkcs5';

/**
 * What went wrong: `invalid` a parameter or input that cannot work
 * (lengths), `missing-iv` decryption without the IV it needs,
 * `tag-length` an AEAD tag length the mode does not allow, `crypto` a
 * failed integrity check, `unsupported` a combination not implemented.
 */
export type CipherErrorKind = 'invalid' | 'missing-iv' | 'tag-length' | 'crypto' | 'unsupported';

export class CipherError extends Error {
  readonly code = 'KMIP_CIPHER_ERROR';
  constructor(
    readonly kind: CipherErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'CipherError';
  }
}

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

function openCipher(spec: CipherSpec, r: Resolved, plainLength: number | undefined): Cipher {
  const opts: CipherGCMOptions | undefined =
    r.tagLength === undefined ? undefined : { authTagLength: r.tagLength };
  let c: Cipher;
  try {
    c = createCipheriv(r.name, spec.key, r.iv, opts);
  } catch (e) {
    throw new CipherError(
      'invalid',
      `cannot set up ${r.name}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (spec.mode === 'ecb' || spec.mode === 'cbc') c.setAutoPadding(spec.padding === 'pkcs5');
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
  const opts: CipherGCMOptions | undefined =
    r.tagLength === undefined ? undefined : { authTagLength: r.tagLength };
  let d: Decipher;
  try {
    d = createDecipheriv(r.name, spec.key, r.iv, opts);
  } catch (e) {
    throw new CipherError(
      'invalid',
      `cannot set up ${r.name}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (spec.mode === 'ecb' || spec.mode === 'cbc') d.setAutoPadding(spec.padding === 'pkcs5');
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

// ---------------------------------------------------------------------------
// RSA

export type RsaHash = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

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

/** MGF1 (RFC 8017 §B.2.1). */
function mgf1(hash: RsaHash, seed: Uint8Array, length: number): Buffer {
  const out: Buffer[] = [];
  let have = 0;
  const counter = Buffer.alloc(4);
  for (let i = 0; have < length; i++) {
    counter.writeUInt32BE(i, 0);
    const block = createHash(hash).update(seed).update(counter).digest();
    out.push(block);
    have += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
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
  xorInto(db, mgf1(p.mgf1Hash, seed, db.length));
  xorInto(seed, mgf1(p.mgf1Hash, db, hLen));
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
  xorInto(seed, mgf1(p.mgf1Hash, db, hLen));
  xorInto(db, mgf1(p.mgf1Hash, seed, db.length));
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
