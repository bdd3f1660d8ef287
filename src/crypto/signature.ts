/**
 * Digital signatures with node:crypto: RSA PKCS#1 v1.5 and PSS, ECDSA
 * (DER-encoded, as the KMIP test vectors carry it: TC-ECDSA-SIGN-1), DSA,
 * Ed25519 and Ed448; over a message, over a message given in parts, or
 * over a digest the client computed (KMIP 1.4 §2.1.x Digested Data).
 *
 * node:crypto hashes whatever it signs, so signing a digest is done here:
 * RSA PKCS#1 v1.5 pads DigestInfo ‖ digest with privateEncrypt; RSA-PSS
 * encodes EMSA-PSS (RFC 8017 §9.1) and applies the raw RSA operation;
 * ECDSA (FIPS 186-4 §6.4) lets OpenSSL compute k·G (createECDH, constant
 * time) and does the scalar arithmetic mod n with BigInt. Verifying a
 * digest uses public values only.
 */
import {
  constants,
  createECDH,
  createHash,
  createPublicKey,
  createSign,
  createVerify,
  type JsonWebKey,
  type KeyObject,
  privateEncrypt,
  publicDecrypt,
  randomBytes,
  type Sign,
  sign,
  timingSafeEqual,
  type Verify,
  verify,
} from 'node:crypto';
import { KmipError } from '../kmip/errors.js';

/** What kind of signature a key makes. */
export type SignatureKind = 'rsa' | 'ec' | 'dsa' | 'ed25519' | 'ed448';

export type RsaSignaturePadding = 'pkcs1' | 'pss';

/** How to sign; hash names are node:crypto's ("sha256", "sha3-384"…). */
export interface SignatureScheme {
  /**
   * Message digest. Ignored by Ed25519/Ed448. Over a digest: RSA PKCS#1
   * v1.5 without it signs the given bytes as they are (no DigestInfo); PSS
   * without it infers it from the digest length.
   */
  readonly hash: string | undefined;
  /** RSA only; PKCS#1 v1.5 when absent */
  readonly rsaPadding?: RsaSignaturePadding;
  /** PSS salt length in bytes; signing: the hash length when absent; verifying: any when absent */
  readonly saltLength?: number;
  /** PSS MGF1 digest; the message digest when absent */
  readonly mgf1Hash?: string;
}

/** A signature being computed over data given in parts. */
export interface MessageSigner {
  update(data: Uint8Array): void;
  sign(): Uint8Array;
}

export interface MessageVerifier {
  update(data: Uint8Array): void;
  verify(signature: Uint8Array): boolean;
}

/** Ed25519/Ed448 cannot sign in parts (the message is hashed twice), so parts are kept up to this. */
export const MAX_BUFFERED_MESSAGE = 16 * 1024 * 1024;

const HASH_LENGTHS: Readonly<Record<string, number>> = {
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
const DIGEST_INFO_PREFIX: Readonly<Record<string, string>> = {
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

/** Digests the helpers know (for RSA DigestInfo and PSS). */
export const SIGNATURE_HASHES: readonly string[] = Object.keys(HASH_LENGTHS);

export function hashLength(hash: string): number | undefined {
  return HASH_LENGTHS[hash];
}

function invalid(message: string): KmipError {
  return new KmipError('InvalidField', message);
}

function unsupported(message: string): KmipError {
  return new KmipError('FeatureNotSupported', message);
}

export function signatureKind(key: KeyObject): SignatureKind | undefined {
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return 'rsa';
    case 'ec':
      return 'ec';
    case 'dsa':
      return 'dsa';
    case 'ed25519':
      return 'ed25519';
    case 'ed448':
      return 'ed448';
    default:
      return undefined;
  }
}

function kindOf(key: KeyObject): SignatureKind {
  const kind = signatureKind(key);
  if (kind === undefined) throw invalid(`a ${key.asymmetricKeyType ?? 'secret'} key cannot sign`);
  return kind;
}

function requireHash(scheme: SignatureScheme): string {
  if (scheme.hash === undefined) throw invalid('no Hashing Algorithm for the signature');
  return scheme.hash;
}

function pssSaltLength(scheme: SignatureScheme, hash: string, signing: boolean): number {
  if (scheme.saltLength !== undefined) return scheme.saltLength;
  return signing ? (HASH_LENGTHS[hash] ?? 32) : constants.RSA_PSS_SALTLEN_AUTO;
}

/** node:crypto's one-shot PSS uses the message digest for MGF1; another MGF1 digest goes through the digest path. */
function needsManualPss(scheme: SignatureScheme): boolean {
  return scheme.rsaPadding === 'pss' && scheme.mgf1Hash !== undefined && scheme.mgf1Hash !== scheme.hash;
}

function signOptions(key: KeyObject, kind: SignatureKind, scheme: SignatureScheme, hash: string) {
  if (kind === 'rsa') {
    if (scheme.rsaPadding !== 'pss') return { key, padding: constants.RSA_PKCS1_PADDING };
    const saltLength = pssSaltLength(scheme, hash, true);
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (Math.ceil((bits - 1) / 8) < (HASH_LENGTHS[hash] ?? 0) + saltLength + 2) {
      throw invalid('the PSS Salt Length is too long for the key');
    }
    return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength };
  }
  return { key, dsaEncoding: 'der' as const };
}

function verifyOptions(key: KeyObject, kind: SignatureKind, scheme: SignatureScheme, hash: string) {
  if (kind === 'rsa' && scheme.rsaPadding === 'pss') {
    return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pssSaltLength(scheme, hash, false) };
  }
  return signOptions(key, kind, scheme, hash);
}

function cryptoFailure(e: unknown): KmipError {
  if (e instanceof KmipError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return new KmipError('CryptographicFailure', `signing failed: ${detail}`);
}

// ---------------------------------------------------------------------------
// Messages

export function signData(key: KeyObject, scheme: SignatureScheme, data: Uint8Array): Uint8Array {
  if (key.type !== 'private') throw invalid('only a private key can sign');
  const kind = kindOf(key);
  try {
    if (kind === 'ed25519' || kind === 'ed448') return new Uint8Array(sign(null, data, key));
    const hash = requireHash(scheme);
    if (kind === 'rsa' && needsManualPss(scheme)) {
      return signDigest(key, scheme, createHash(hash).update(data).digest());
    }
    return new Uint8Array(sign(hash, data, signOptions(key, kind, scheme, hash)));
  } catch (e: unknown) {
    throw cryptoFailure(e);
  }
}

/** False for any signature that does not verify, malformed ones included. */
export function verifyData(
  key: KeyObject,
  scheme: SignatureScheme,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  const kind = kindOf(key);
  try {
    if (kind === 'ed25519' || kind === 'ed448') return verify(null, data, key, signature);
    const hash = requireHash(scheme);
    if (kind === 'rsa' && needsManualPss(scheme)) {
      return verifyDigest(key, scheme, createHash(hash).update(data).digest(), signature);
    }
    return verify(hash, data, verifyOptions(key, kind, scheme, hash), signature);
  } catch (e: unknown) {
    if (e instanceof KmipError) throw e;
    return false;
  }
}

class BufferedMessage {
  readonly #parts: Uint8Array[] = [];
  #size = 0;

  add(data: Uint8Array): void {
    this.#size += data.length;
    if (this.#size > MAX_BUFFERED_MESSAGE) {
      throw invalid(`an Ed25519/Ed448 message given in parts may not exceed ${MAX_BUFFERED_MESSAGE} bytes`);
    }
    this.#parts.push(Uint8Array.from(data));
  }

  get bytes(): Uint8Array {
    return Buffer.concat(this.#parts);
  }
}

export function createMessageSigner(key: KeyObject, scheme: SignatureScheme): MessageSigner {
  if (key.type !== 'private') throw invalid('only a private key can sign');
  const kind = kindOf(key);
  if (kind === 'ed25519' || kind === 'ed448') {
    const parts = new BufferedMessage();
    return { update: (d) => parts.add(d), sign: () => signData(key, scheme, parts.bytes) };
  }
  const hash = requireHash(scheme);
  if (kind === 'rsa' && needsManualPss(scheme)) {
    const h = createHash(hash);
    return { update: (d) => h.update(d), sign: () => signDigest(key, scheme, h.digest()) };
  }
  const options = signOptions(key, kind, scheme, hash);
  let signer: Sign;
  try {
    signer = createSign(hash);
  } catch (e: unknown) {
    throw cryptoFailure(e);
  }
  return {
    update: (d) => signer.update(d),
    sign: () => {
      try {
        return new Uint8Array(signer.sign(options));
      } catch (e: unknown) {
        throw cryptoFailure(e);
      }
    },
  };
}

export function createMessageVerifier(key: KeyObject, scheme: SignatureScheme): MessageVerifier {
  const kind = kindOf(key);
  if (kind === 'ed25519' || kind === 'ed448') {
    const parts = new BufferedMessage();
    return { update: (d) => parts.add(d), verify: (s) => verifyData(key, scheme, parts.bytes, s) };
  }
  const hash = requireHash(scheme);
  if (kind === 'rsa' && needsManualPss(scheme)) {
    const h = createHash(hash);
    return { update: (d) => h.update(d), verify: (s) => verifyDigest(key, scheme, h.digest(), s) };
  }
  let verifier: Verify;
  try {
    verifier = createVerify(hash);
  } catch (e: unknown) {
    throw cryptoFailure(e);
  }
  return {
    update: (d) => verifier.update(d),
    verify: (s) => {
      try {
        return verifier.verify(verifyOptions(key, kind, scheme, hash), s);
      } catch {
        return false;
      }
    },
  };
}

// ---------------------------------------------------------------------------
// Digests

function pkcs1Body(scheme: SignatureScheme, digest: Uint8Array): Uint8Array {
  if (scheme.hash === undefined) return digest;
  const prefix = DIGEST_INFO_PREFIX[scheme.hash];
  const len = HASH_LENGTHS[scheme.hash];
  if (prefix === undefined || len === undefined) throw unsupported(`no DigestInfo for ${scheme.hash}`);
  if (digest.length !== len) {
    throw invalid(`a ${scheme.hash} digest has ${len} bytes, not ${digest.length}`);
  }
  return Buffer.concat([Buffer.from(prefix, 'hex'), digest]);
}

const DIGEST_BY_LENGTH: Readonly<Record<number, string>> = {
  20: 'sha1',
  28: 'sha224',
  32: 'sha256',
  48: 'sha384',
  64: 'sha512',
};

function pssHash(scheme: SignatureScheme, digest: Uint8Array): string {
  const hash = scheme.hash ?? DIGEST_BY_LENGTH[digest.length];
  const len = hash === undefined ? undefined : HASH_LENGTHS[hash];
  if (hash === undefined || len === undefined) {
    throw invalid(`cannot tell which digest a ${digest.length}-byte Digested Data is`);
  }
  if (len !== digest.length) throw invalid(`a ${hash} digest has ${len} bytes, not ${digest.length}`);
  return hash;
}

function modulusBits(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits === undefined) throw invalid('the RSA key has no modulus length');
  return bits;
}

export function signDigest(key: KeyObject, scheme: SignatureScheme, digest: Uint8Array): Uint8Array {
  if (key.type !== 'private') throw invalid('only a private key can sign');
  const kind = kindOf(key);
  try {
    if (kind === 'rsa') {
      if (scheme.rsaPadding === 'pss') {
        const hash = pssHash(scheme, digest);
        const bits = modulusBits(key);
        const k = Math.ceil(bits / 8);
        const em = emsaPssEncode(
          digest,
          bits - 1,
          hash,
          scheme.mgf1Hash ?? hash,
          pssSaltLength(scheme, hash, true),
        );
        const block = new Uint8Array(k);
        block.set(em, k - em.length);
        return new Uint8Array(privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, block));
      }
      const body = pkcs1Body(scheme, digest);
      if (body.length > Math.ceil(modulusBits(key) / 8) - 11)
        throw invalid('the digest is too long for the key');
      return new Uint8Array(privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, body));
    }
    if (kind === 'ec') return ecdsaSignDigest(key, digest);
  } catch (e: unknown) {
    throw cryptoFailure(e);
  }
  throw unsupported(`${kind} signatures over Digested Data are not supported`);
}

export function verifyDigest(
  key: KeyObject,
  scheme: SignatureScheme,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  const kind = kindOf(key);
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (kind === 'rsa') {
    const bits = modulusBits(pub);
    const k = Math.ceil(bits / 8);
    if (signature.length !== k) return false;
    if (scheme.rsaPadding === 'pss') {
      const hash = pssHash(scheme, digest);
      let block: Buffer;
      try {
        block = publicDecrypt({ key: pub, padding: constants.RSA_NO_PADDING }, signature);
      } catch {
        return false;
      }
      const emLen = Math.ceil((bits - 1) / 8);
      if (block.length !== k || block.subarray(0, k - emLen).some((b) => b !== 0)) return false;
      return emsaPssVerify(
        digest,
        block.subarray(k - emLen),
        bits - 1,
        hash,
        scheme.mgf1Hash ?? hash,
        scheme.saltLength,
      );
    }
    const body = pkcs1Body(scheme, digest);
    let recovered: Buffer;
    try {
      recovered = publicDecrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, signature);
    } catch {
      return false;
    }
    return recovered.length === body.length && timingSafeEqual(recovered, body);
  }
  if (kind === 'ec') return ecdsaVerifyDigest(pub, digest, signature);
  throw unsupported(`${kind} signatures over Digested Data are not supported`);
}

// ---------------------------------------------------------------------------
// EMSA-PSS (RFC 8017 §9.1)

function mgf1(seed: Uint8Array, length: number, hash: string): Buffer {
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
    throw invalid('the PSS Salt Length is too long for the key');
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

// ---------------------------------------------------------------------------
// ECDSA over a digest (FIPS 186-4 §6.4, SEC 1 §4.1)

interface Curve {
  readonly openssl: string;
  readonly p: bigint;
  readonly a: bigint;
  readonly n: bigint;
  readonly bytes: number;
}

const CURVES: Readonly<Record<string, Curve>> = {
  'P-256': {
    openssl: 'prime256v1',
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    a: 0xffffffff00000001000000000000000000000000fffffffffffffffffffffffcn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    bytes: 32,
  },
  'P-384': {
    openssl: 'secp384r1',
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    a: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffcn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    bytes: 48,
  },
  'P-521': {
    openssl: 'secp521r1',
    p: (1n << 521n) - 1n,
    a: (1n << 521n) - 4n,
    n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    bytes: 66,
  },
  secp256k1: {
    openssl: 'secp256k1',
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn,
    a: 0n,
    n: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n,
    bytes: 32,
  },
};

function b64uInt(s: string | undefined): bigint {
  if (s === undefined) throw invalid('the EC key cannot be read');
  return bytesToInt(Buffer.from(s, 'base64url'));
}

function bytesToInt(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`);
}

function intToBytes(x: bigint, length: number): Buffer {
  return Buffer.from(x.toString(16).padStart(length * 2, '0'), 'hex');
}

function mod(x: bigint, m: bigint): bigint {
  const r = x % m;
  return r < 0n ? r + m : r;
}

function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return result;
}

/** Inverse modulo a prime. */
function modInv(x: bigint, m: bigint): bigint {
  return modPow(x, m - 2n, m);
}

function bitLength(x: bigint): number {
  return x.toString(2).length;
}

/** The digest as an integer, truncated to the bit length of n (FIPS 186-4 §6.4). */
function digestInt(digest: Uint8Array, n: bigint): bigint {
  const e = bytesToInt(digest);
  const excess = digest.length * 8 - bitLength(n);
  return excess > 0 ? e >> BigInt(excess) : e;
}

function ecKey(key: KeyObject): { curve: Curve; jwk: JsonWebKey } {
  const jwk = key.export({ format: 'jwk' });
  const curve = jwk.crv === undefined ? undefined : CURVES[jwk.crv];
  if (curve === undefined)
    throw unsupported(`ECDSA over Digested Data is not supported on ${jwk.crv ?? 'this curve'}`);
  return { curve, jwk };
}

function ecdsaSignDigest(key: KeyObject, digest: Uint8Array): Uint8Array {
  const { curve, jwk } = ecKey(key);
  const { n } = curve;
  const d = b64uInt(jwk.d);
  const e = digestInt(digest, n);
  const ecdh = createECDH(curve.openssl);
  for (;;) {
    // 64 extra random bits make the bias of the reduction negligible (FIPS 186-4 §B.5.1).
    const k = (bytesToInt(randomBytes(curve.bytes + 8)) % (n - 1n)) + 1n;
    ecdh.setPrivateKey(intToBytes(k, curve.bytes));
    const point = ecdh.getPublicKey();
    const r = bytesToInt(point.subarray(1, 1 + curve.bytes)) % n;
    if (r === 0n) continue;
    // Blinded with a random b (s = (b·k)⁻¹ · (b·e + (b·r)·d)): BigInt is not
    // constant-time, so the inversion runs on b·k, not on k, and d is only
    // multiplied by a fresh random value.
    const b = (bytesToInt(randomBytes(curve.bytes + 8)) % (n - 1n)) + 1n;
    const s = mod(modInv((b * k) % n, n) * mod(b * e + ((b * r) % n) * d, n), n);
    if (s === 0n) continue;
    return derSignature(r, s);
  }
}

type Jacobian = readonly [bigint, bigint, bigint];
const INFINITY: Jacobian = [0n, 1n, 0n];

function pointDouble(c: Curve, [x, y, z]: Jacobian): Jacobian {
  const { p } = c;
  if (z === 0n || y === 0n) return INFINITY;
  const yy = (y * y) % p;
  const s = (4n * x * yy) % p;
  const zz = (z * z) % p;
  const m = (3n * x * x + c.a * zz * zz) % p;
  const x3 = mod(m * m - 2n * s, p);
  const y3 = mod(m * (s - x3) - 8n * yy * yy, p);
  const z3 = (2n * y * z) % p;
  return [x3, y3, z3];
}

function pointAdd(c: Curve, a: Jacobian, b: Jacobian): Jacobian {
  const { p } = c;
  const [x1, y1, z1] = a;
  const [x2, y2, z2] = b;
  if (z1 === 0n) return b;
  if (z2 === 0n) return a;
  const z1z1 = (z1 * z1) % p;
  const z2z2 = (z2 * z2) % p;
  const u1 = (x1 * z2z2) % p;
  const u2 = (x2 * z1z1) % p;
  const s1 = (y1 * z2 * z2z2) % p;
  const s2 = (y2 * z1 * z1z1) % p;
  if (u1 === u2) return s1 === s2 ? pointDouble(c, a) : INFINITY;
  const h = mod(u2 - u1, p);
  const r = mod(s2 - s1, p);
  const hh = (h * h) % p;
  const hhh = (h * hh) % p;
  const x3 = mod(r * r - hhh - 2n * u1 * hh, p);
  const y3 = mod(r * (u1 * hh - x3) - s1 * hhh, p);
  const z3 = (h * z1 * z2) % p;
  return [x3, y3, z3];
}

/** u1·G + u2·Q (Shamir's trick); public values only. */
function twoScalarMul(c: Curve, u1: bigint, g: Jacobian, u2: bigint, q: Jacobian): Jacobian {
  const gq = pointAdd(c, g, q);
  let acc: Jacobian = INFINITY;
  for (let i = Math.max(bitLength(u1), bitLength(u2)) - 1; i >= 0; i--) {
    acc = pointDouble(c, acc);
    const bit1 = (u1 >> BigInt(i)) & 1n;
    const bit2 = (u2 >> BigInt(i)) & 1n;
    if (bit1 && bit2) acc = pointAdd(c, acc, gq);
    else if (bit1) acc = pointAdd(c, acc, g);
    else if (bit2) acc = pointAdd(c, acc, q);
  }
  return acc;
}

const generators = new Map<string, Jacobian>();

/** The base point, from OpenSSL (1·G) rather than a constant typed here. */
function generator(c: Curve): Jacobian {
  let g = generators.get(c.openssl);
  if (g === undefined) {
    const ecdh = createECDH(c.openssl);
    ecdh.setPrivateKey(intToBytes(1n, c.bytes));
    const pt = ecdh.getPublicKey();
    g = [bytesToInt(pt.subarray(1, 1 + c.bytes)), bytesToInt(pt.subarray(1 + c.bytes)), 1n];
    generators.set(c.openssl, g);
  }
  return g;
}

function ecdsaVerifyDigest(pub: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean {
  const { curve, jwk } = ecKey(pub);
  const { n, p } = curve;
  const rs = parseDerSignature(signature);
  if (rs === undefined) return false;
  const [r, s] = rs;
  if (r <= 0n || r >= n || s <= 0n || s >= n) return false;
  const q: Jacobian = [b64uInt(jwk.x), b64uInt(jwk.y), 1n];
  const w = modInv(s, n);
  const u1 = (digestInt(digest, n) * w) % n;
  const u2 = (r * w) % n;
  const [x, , z] = twoScalarMul(curve, u1, generator(curve), u2, q);
  if (z === 0n) return false;
  const zInv = modInv(z, p);
  const affineX = (x * zInv * zInv) % p;
  return affineX % n === r;
}

// ---------------------------------------------------------------------------
// ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 §2.2.3), DER

function derLength(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  const bytes: number[] = [];
  for (let l = len; l > 0; l >>= 8) bytes.unshift(l & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function derInteger(x: bigint): Buffer {
  let hex = x.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let body = Buffer.from(hex, 'hex');
  if ((body[0] ?? 0) & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return Buffer.concat([Buffer.from([0x02]), derLength(body.length), body]);
}

export function derSignature(r: bigint, s: bigint): Uint8Array {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return new Uint8Array(Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]));
}

/** (r, s) of a DER ECDSA signature; undefined unless it is exactly one well-formed SEQUENCE of two INTEGERs. */
export function parseDerSignature(sig: Uint8Array): [bigint, bigint] | undefined {
  let pos = 0;
  const readLength = (): number | undefined => {
    const first = sig[pos++];
    if (first === undefined) return undefined;
    if (first < 0x80) return first;
    const count = first & 0x7f;
    if (count === 0 || count > 2) return undefined;
    let len = 0;
    for (let i = 0; i < count; i++) {
      const b = sig[pos++];
      if (b === undefined) return undefined;
      len = (len << 8) | b;
    }
    return len < 0x80 ? undefined : len;
  };
  const readInteger = (): bigint | undefined => {
    if (sig[pos++] !== 0x02) return undefined;
    const len = readLength();
    if (len === undefined || len === 0 || pos + len > sig.length) return undefined;
    const body = sig.subarray(pos, pos + len);
    pos += len;
    if ((body[0] ?? 0) & 0x80) return undefined;
    if (len > 1 && body[0] === 0 && ((body[1] ?? 0) & 0x80) === 0) return undefined;
    return bytesToInt(body);
  };
  if (sig[pos++] !== 0x30) return undefined;
  const total = readLength();
  if (total === undefined || pos + total !== sig.length) return undefined;
  const r = readInteger();
  const s = readInteger();
  if (r === undefined || s === undefined || pos !== sig.length) return undefined;
  return [r, s];
}
