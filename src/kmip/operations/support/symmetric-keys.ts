/**
 * Generating symmetric keys and building their managed-object content, as
 * Create, Re-key, Derive Key and Join Split Key do (operations/create.ts
 * documents the rules).
 */
import { randomBytes } from 'node:crypto';
import { KmipError } from '../../errors.js';
import { CryptographicAlgorithm, enumNameOf, KeyFormatType, Tag } from '../../spec/index.js';
import { byteString, enumeration, integer, structure } from '../../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../../ttlv/types.js';

const A = CryptographicAlgorithm;

/** Key sizes in bits per algorithm; bytes = bits / 8 except where noted. */
const FIXED: ReadonlyMap<number, readonly number[]> = new Map([
  [A.AES, [128, 192, 256]],
  [A.DES, [56, 64]],
  // 2-key (112) and 3-key (168) Triple DES; parity bits make them 16 and 24 bytes.
  [A.DES3, [112, 128, 168, 192]],
  [A.SKIPJACK, [80]],
  [A.ChaCha20, [256]],
  [A.ChaCha20Poly1305, [256]],
  [A.Camellia, [128, 192, 256]],
  [A.ARIA, [128, 192, 256]],
  [A.SM4, [128]],
  [A.SEED, [128]],
  [A.IDEA, [128]],
]);

/** Algorithms whose key may have any whole number of bytes in a range. */
const VARIABLE: ReadonlySet<number> = new Set([
  A.HMAC_SHA1,
  A.HMAC_SHA224,
  A.HMAC_SHA256,
  A.HMAC_SHA384,
  A.HMAC_SHA512,
  A.HMAC_MD5,
  A.HMAC_SHA3_224,
  A.HMAC_SHA3_256,
  A.HMAC_SHA3_384,
  A.HMAC_SHA3_512,
  A.Blowfish,
  A.CAST5,
  A.RC2,
  A.RC4,
  A.RC5,
  A.Twofish,
]);

function keyBytes(algorithm: number, bits: number): number | undefined {
  if (algorithm === A.DES && (bits === 56 || bits === 64)) return 8;
  if (algorithm === A.DES3)
    return bits === 112 || bits === 128 ? 16 : bits === 168 || bits === 192 ? 24 : undefined;
  if (FIXED.get(algorithm)?.includes(bits) === true) return bits / 8;
  if (VARIABLE.has(algorithm) && bits >= 40 && bits <= 4096 && bits % 8 === 0) return bits / 8;
  return undefined;
}

/** Key bytes for an algorithm and length in bits, or Invalid Field. */
export function generateSymmetricKey(algorithm: number | undefined, length: number | undefined): Buffer {
  if (algorithm === undefined) throw new KmipError('InvalidField', 'Cryptographic Algorithm is required');
  if (length === undefined) throw new KmipError('InvalidField', 'Cryptographic Length is required');
  const n = keyBytes(algorithm, length);
  if (n === undefined) {
    const name = enumNameOf('CryptographicAlgorithm', algorithm) ?? String(algorithm);
    throw new KmipError('InvalidField', `cannot generate a ${name} key of ${length} bits`);
  }
  return randomBytes(n);
}

export function symmetricKeyContent(key: Uint8Array, algorithm: number, length: number): TtlvStructure {
  const block: TtlvItem[] = [
    enumeration(Tag.KeyFormatType, KeyFormatType.Raw),
    structure(Tag.KeyValue, [byteString(Tag.KeyMaterial, key)]),
    enumeration(Tag.CryptographicAlgorithm, algorithm),
    integer(Tag.CryptographicLength, length),
  ];
  return structure(Tag.SymmetricKey, [structure(Tag.KeyBlock, block)]);
}
