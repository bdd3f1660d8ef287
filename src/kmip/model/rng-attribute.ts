/**
 * The Random Number Generator attribute (KMIP 1.3 §3.44, 2.1 §4.48) of the
 * keys this server generates. Key material comes from node:crypto, i.e.
 * OpenSSL 3's default RAND: CTR_DRBG with AES-256 (NIST SP 800-90A).
 *
 * The OASIS vectors expect the reference server's ANSI X9.31 generator here;
 * we describe ours truthfully instead (see conformance-tests/RESULTS.md).
 */
import { CryptographicAlgorithm, DRBGAlgorithm, RNGAlgorithm, Tag } from '../spec/index.js';
import { enumeration, integer, structure } from '../ttlv/build.js';
import type { TtlvStructure } from '../ttlv/types.js';

export function serverRngAttribute(): TtlvStructure {
  return structure(Tag.RandomNumberGenerator, [
    enumeration(Tag.RNGAlgorithm, RNGAlgorithm.DRBG),
    enumeration(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
    integer(Tag.CryptographicLength, 256),
    enumeration(Tag.DRBGAlgorithm, DRBGAlgorithm.CTR),
  ]);
}
