/**
 * Key splitting for Create Split Key / Join Split Key (KMIP 1.2 §4.38-4.39,
 * 2.0 §6.1.9 and §6.1.31) with the Split Key Methods of KMIP 1.0 §9.1.3.2.8:
 *
 * - XOR: n-1 random parts, the last one the key XOR all others; every part is
 *   needed (threshold = parts).
 * - Polynomial Sharing GF(2^8): Shamir's scheme byte by byte over GF(2^8) with
 *   the reduction polynomial x^8+x^4+x^3+x^2+1 (0x11D), part i being the
 *   polynomial's value at x = i. The OASIS TC-SJ-2/3 vectors' parts of the key
 *   0102…10 are reproduced by this field and no other (0x11B gives another
 *   fourth part).
 * - Polynomial Sharing Prime Field: Shamir's scheme over GF(p), p the Prime
 *   Field Size, the key read as one big-endian integer below p.
 *
 * Polynomial Sharing GF(2^16) is refused: KMIP does not name its field polynomial.
 */
import { randomBytes } from 'node:crypto';
import { KmipError } from '../../errors.js';
import { SplitKeyMethod } from '../../spec/index.js';

const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255] as number;
}

function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[(LOG[a] as number) + (LOG[b] as number)] as number;
}

function gfDiv(a: number, b: number): number {
  if (a === 0) return 0;
  return EXP[(LOG[a] as number) + 255 - (LOG[b] as number)] as number;
}

export interface SplitParameters {
  readonly parts: number;
  readonly threshold: number;
  readonly method: number;
  /** Prime Field Size, for Polynomial Sharing Prime Field */
  readonly prime?: bigint;
}

export interface KeyPart {
  /** Key Part Identifier: the x coordinate, 1..parts */
  readonly id: number;
  readonly bytes: Uint8Array;
}

/** Invalid Field unless the parameters describe a split this server can make. */
export function checkSplitParameters(p: SplitParameters): void {
  if (!Number.isInteger(p.parts) || p.parts < 1 || p.parts > 255) {
    throw new KmipError('InvalidField', 'Split Key Parts must be between 1 and 255');
  }
  if (!Number.isInteger(p.threshold) || p.threshold < 1 || p.threshold > p.parts) {
    throw new KmipError('InvalidField', 'Split Key Threshold must be between 1 and Split Key Parts');
  }
  if (p.method === SplitKeyMethod.XOR) {
    if (p.threshold !== p.parts) {
      throw new KmipError(
        'InvalidField',
        'XOR splitting needs every part: Split Key Threshold must equal the parts',
      );
    }
  } else if (p.method === SplitKeyMethod.PolynomialSharingPrimeField) {
    if (p.prime === undefined || p.prime <= BigInt(p.parts)) {
      throw new KmipError(
        'InvalidField',
        'Polynomial Sharing Prime Field needs a Prime Field Size above the parts',
      );
    }
  } else if (p.method !== SplitKeyMethod.PolynomialSharingGF2_8) {
    throw new KmipError('InvalidField', 'Split Key Method not supported (XOR, GF(2^8) and prime field are)');
  }
}

export function splitSecret(secret: Uint8Array, p: SplitParameters): KeyPart[] {
  checkSplitParameters(p);
  if (p.method === SplitKeyMethod.XOR) {
    const parts: KeyPart[] = [];
    const last = Buffer.from(secret);
    for (let i = 1; i < p.parts; i++) {
      const r = randomBytes(secret.length);
      for (let b = 0; b < last.length; b++) last[b] = (last[b] as number) ^ (r[b] as number);
      parts.push({ id: i, bytes: r });
    }
    parts.push({ id: p.parts, bytes: last });
    return parts;
  }
  if (p.method === SplitKeyMethod.PolynomialSharingPrimeField) return splitPrime(secret, p);
  const coefficients = Array.from({ length: p.threshold - 1 }, () => randomBytes(secret.length));
  const parts: KeyPart[] = [];
  for (let x = 1; x <= p.parts; x++) {
    const out = new Uint8Array(secret.length);
    for (let b = 0; b < secret.length; b++) {
      // Horner's rule from the highest coefficient down to the secret.
      let y = 0;
      for (let j = coefficients.length - 1; j >= 0; j--)
        y = gfMul(y ^ ((coefficients[j] as Buffer)[b] as number), x);
      out[b] = y ^ (secret[b] as number);
    }
    parts.push({ id: x, bytes: out });
  }
  for (const c of coefficients) c.fill(0);
  return parts;
}

/**
 * The secret from at least `threshold` distinct parts; Cryptographic Failure
 * with fewer (TC-SJ-1/3 join below the threshold and expect it).
 */
export function joinSecret(parts: readonly KeyPart[], p: SplitParameters, length: number): Uint8Array {
  const ids = new Set(parts.map((k) => k.id));
  if (ids.size !== parts.length)
    throw new KmipError('CryptographicFailure', 'the same key part was given twice');
  if (parts.length < p.threshold) {
    throw new KmipError(
      'CryptographicFailure',
      `${parts.length} key parts given; the Split Key Threshold is ${p.threshold}`,
    );
  }
  const used = parts.slice(0, p.method === SplitKeyMethod.XOR ? parts.length : p.threshold);
  if (p.method === SplitKeyMethod.XOR) {
    const out = new Uint8Array(length);
    for (const k of used) for (let b = 0; b < length; b++) out[b] = (out[b] as number) ^ (k.bytes[b] ?? 0);
    return out;
  }
  if (p.method === SplitKeyMethod.PolynomialSharingPrimeField) return joinPrime(used, p.prime ?? 0n, length);
  const out = new Uint8Array(length);
  for (const [i, k] of used.entries()) {
    // Lagrange basis at 0: prod x_j / (x_j - x_i); subtraction is XOR in GF(2^8).
    let basis = 1;
    for (const [j, other] of used.entries()) {
      if (i !== j) basis = gfMul(basis, gfDiv(other.id, other.id ^ k.id));
    }
    for (let b = 0; b < length; b++) out[b] = (out[b] as number) ^ gfMul(k.bytes[b] ?? 0, basis);
  }
  return out;
}

function toBigint(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function toBytes(n: bigint, length: number): Uint8Array {
  const hex = n.toString(16).padStart(length * 2, '0');
  if (hex.length > length * 2)
    throw new KmipError('CryptographicFailure', 'joined value does not fit the key length');
  return Buffer.from(hex, 'hex');
}

function mod(a: bigint, p: bigint): bigint {
  const r = a % p;
  return r < 0n ? r + p : r;
}

function modInverse(a: bigint, p: bigint): bigint {
  let [r0, r1] = [mod(a, p), p];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new KmipError('CryptographicFailure', 'Prime Field Size is not prime');
  return mod(s0, p);
}

function splitPrime(secret: Uint8Array, p: SplitParameters): KeyPart[] {
  const prime = p.prime ?? 0n;
  const s = toBigint(secret);
  if (s >= prime) throw new KmipError('InvalidField', 'the key is not below the Prime Field Size');
  const width = Math.ceil(prime.toString(16).length / 2);
  const coefficients = Array.from({ length: p.threshold - 1 }, () =>
    mod(toBigint(randomBytes(width + 8)), prime),
  );
  const parts: KeyPart[] = [];
  for (let x = 1; x <= p.parts; x++) {
    let y = 0n;
    for (let j = coefficients.length - 1; j >= 0; j--)
      y = mod((y + (coefficients[j] as bigint)) * BigInt(x), prime);
    parts.push({ id: x, bytes: toBytes(mod(y + s, prime), width) });
  }
  return parts;
}

function joinPrime(parts: readonly KeyPart[], prime: bigint, length: number): Uint8Array {
  let s = 0n;
  for (const [i, k] of parts.entries()) {
    let num = 1n;
    let den = 1n;
    for (const [j, other] of parts.entries()) {
      if (i === j) continue;
      num = mod(num * BigInt(other.id), prime);
      den = mod(den * BigInt(other.id - k.id), prime);
    }
    s = mod(s + toBigint(k.bytes) * num * modInverse(den, prime), prime);
  }
  return toBytes(s, length);
}
