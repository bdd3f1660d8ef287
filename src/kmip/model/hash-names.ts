/**
 * KMIP hash enumerations → node:crypto (OpenSSL) digest names: the one table
 * of Hashing Algorithm values (KMIP 1.4 §9.1.3.2.16, 2.1 §11.20), and the
 * Cryptographic Algorithm values that name a hash or an HMAC.
 */
import { usableHash } from '../../crypto/digest.js';
import { CryptographicAlgorithm, HashingAlgorithm } from '../spec/index.js';

const H = HashingAlgorithm;
const A = CryptographicAlgorithm;

const HASHES: ReadonlyMap<number, string> = new Map([
  [H.MD5, 'md5'],
  [H.SHA_1, 'sha1'],
  [H.SHA_224, 'sha224'],
  [H.SHA_256, 'sha256'],
  [H.SHA_384, 'sha384'],
  [H.SHA_512, 'sha512'],
  [H.RIPEMD_160, 'ripemd160'],
  [H.SHA_512_224, 'sha512-224'],
  [H.SHA_512_256, 'sha512-256'],
  [H.SHA_3_224, 'sha3-224'],
  [H.SHA_3_256, 'sha3-256'],
  [H.SHA_3_384, 'sha3-384'],
  [H.SHA_3_512, 'sha3-512'],
]);

/** Cryptographic Algorithm values that name a hash (2.x SHA3 entries). */
const HASH_ALGORITHMS: ReadonlyMap<number, string> = new Map([
  [A.SHA3_224, 'sha3-224'],
  [A.SHA3_256, 'sha3-256'],
  [A.SHA3_384, 'sha3-384'],
  [A.SHA3_512, 'sha3-512'],
]);

/** HMAC_* Cryptographic Algorithm → digest name. */
const HMACS: ReadonlyMap<number, string> = new Map([
  [A.HMAC_SHA1, 'sha1'],
  [A.HMAC_SHA224, 'sha224'],
  [A.HMAC_SHA256, 'sha256'],
  [A.HMAC_SHA384, 'sha384'],
  [A.HMAC_SHA512, 'sha512'],
  [A.HMAC_MD5, 'md5'],
  [A.HMAC_SHA3_224, 'sha3-224'],
  [A.HMAC_SHA3_256, 'sha3-256'],
  [A.HMAC_SHA3_384, 'sha3-384'],
  [A.HMAC_SHA3_512, 'sha3-512'],
]);

/**
 * The digest name of a Hashing Algorithm value, undefined when unknown or
 * not in `allowed` (the digests a mechanism takes, e.g. RSA-OAEP's).
 */
export function hashNameOf<T extends string = string>(
  hashingAlgorithm: number,
  allowed?: readonly T[],
): T | undefined {
  const name = HASHES.get(hashingAlgorithm);
  if (name === undefined) return undefined;
  return allowed === undefined || (allowed as readonly string[]).includes(name) ? (name as T) : undefined;
}

/** The digest of a Hashing Algorithm value that this OpenSSL has, undefined when unsupported. */
export function hashName(hashingAlgorithm: number): string | undefined {
  return usableHash(HASHES.get(hashingAlgorithm));
}

/** The digest of a hash-valued Cryptographic Algorithm (SHA3_*), undefined otherwise. */
export function hashNameOfAlgorithm(cryptographicAlgorithm: number): string | undefined {
  return usableHash(HASH_ALGORITHMS.get(cryptographicAlgorithm));
}

/** The digest under an HMAC_* Cryptographic Algorithm, undefined for anything else. */
export function hmacHashName(cryptographicAlgorithm: number): string | undefined {
  return usableHash(HMACS.get(cryptographicAlgorithm));
}
