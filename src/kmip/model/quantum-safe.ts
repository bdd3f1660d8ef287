/**
 * The Quantum Safe attribute (KMIP 2.0 §4.50, 2.1 §4.51): a client that asks
 * for a quantum-safe object must not silently get one that is not. The
 * Quantum Safe profile's QS-M-2 vectors ask Create for an AES-128 key with
 * Quantum Safe True and expect the request refused.
 *
 * Policy: a symmetric key is quantum safe from 256 bits (Grover's search
 * halves the security of a symmetric key; CNSA 2.0 requires AES-256); keys of
 * RSA, DSA, DH and the elliptic-curve algorithms are never (Shor's algorithm);
 * the hash-based and code-based algorithms KMIP lists (XMSS, SPHINCS-256,
 * McEliece) are.
 */
import { KmipError } from '../errors.js';
import { CryptographicAlgorithm as A, enumNameOf, Tag } from '../spec/index.js';
import { findValue, type ModelAttribute } from './attributes.js';

const POST_QUANTUM: ReadonlySet<number> = new Set([
  A.XMSS,
  A.SPHINCS_256,
  A.McEliece,
  A.McEliece_6960119,
  A.McEliece_8192128,
]);

const PUBLIC_KEY: ReadonlySet<number> = new Set([
  A.RSA,
  A.DSA,
  A.ECDSA,
  A.DH,
  A.ECDH,
  A.ECMQV,
  A.EC,
  A.SM2,
  A.GOSTR34_10_2012,
  A.Ed25519,
  A.Ed448,
]);

/** Whether a key of this algorithm and length (bits) is quantum safe under the policy above. */
export function isQuantumSafe(algorithm: number, length: number | undefined): boolean {
  if (POST_QUANTUM.has(algorithm)) return true;
  if (PUBLIC_KEY.has(algorithm)) return false;
  return length !== undefined && length >= 256;
}

/** Refuses a new object whose attributes ask for Quantum Safe True when its algorithm is not. */
export function checkQuantumSafe(
  attrs: readonly ModelAttribute[],
  algorithm: number | undefined,
  length: number | undefined,
): void {
  const qs = findValue(attrs, Tag.QuantumSafe);
  if (qs?.type !== 'Boolean' || !qs.value || algorithm === undefined) return;
  if (isQuantumSafe(algorithm, length)) return;
  const name = enumNameOf('CryptographicAlgorithm', algorithm) ?? String(algorithm);
  // KMIP defines no Result Reason for this; QS-M-2-20/21 expect General Failure.
  throw new KmipError(
    'GeneralFailure',
    `NOT_SAFE: Quantum Safe was requested but a ${name}${length === undefined ? '' : `-${length}`} key is not quantum safe`,
  );
}
