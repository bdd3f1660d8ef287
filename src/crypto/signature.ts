/**
 * Digital signatures with node:crypto: RSA PKCS#1 v1.5 and PSS, ECDSA
 * (DER-encoded, as the KMIP test vectors carry it: TC-ECDSA-SIGN-1), DSA,
 * Ed25519 and Ed448; over a message, over a message given in parts, or
 * over a digest the client computed (KMIP 1.4 §2.1.x Digested Data).
 *
 * node:crypto hashes whatever it signs, so signing a digest is done here:
 * RSA PKCS#1 v1.5 pads DigestInfo ‖ digest with privateEncrypt; RSA-PSS
 * encodes EMSA-PSS (RFC 8017 §9.1) and applies the raw RSA operation;
 * ECDSA (raw/ecdsa.ts, FIPS 186-4 §6.4) lets OpenSSL compute k·G (createECDH, constant
 * time) and does the scalar arithmetic mod n with BigInt. Verifying a
 * digest uses public values only.
 */
import {
  constants,
  createHash,
  createPublicKey,
  createSign,
  createVerify,
  type KeyObject,
  privateEncrypt,
  publicDecrypt,
  type Sign,
  sign,
  timingSafeEqual,
  type Verify,
  verify,
} from 'node:crypto';
import { failure, badInput as invalid, isCryptoError, unsupported } from './errors.js';
import { ecdsaSignDigest, ecdsaVerifyDigest } from './raw/ecdsa.js';
import {
  DIGEST_BY_LENGTH,
  DIGEST_INFO_PREFIX,
  emsaPssEncode,
  emsaPssVerify,
  HASH_LENGTHS,
} from './raw/pkcs1.js';

export { derSignature, parseDerSignature } from './raw/der-signature.js';
export { emsaPssEncode, emsaPssVerify } from './raw/pkcs1.js';

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

/** Digests the helpers know (for RSA DigestInfo and PSS). */
export const SIGNATURE_HASHES: readonly string[] = Object.keys(HASH_LENGTHS);

export function hashLength(hash: string): number | undefined {
  return HASH_LENGTHS[hash];
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

function cryptoFailure(e: unknown): Error {
  if (isCryptoError(e)) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return failure(`signing failed: ${detail}`);
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
    if (isCryptoError(e)) throw e;
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
