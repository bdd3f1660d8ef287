/**
 * Short-Weierstrass curve arithmetic in Jacobian coordinates with BigInt, for
 * verifying ECDSA over a digest. Public values only: none of it is constant time.
 */
import { createECDH } from 'node:crypto';
import { bitLength, bytesToInt, intToBytes, mod } from './bigint.js';

export interface Curve {
  readonly openssl: string;
  readonly p: bigint;
  readonly a: bigint;
  readonly n: bigint;
  readonly bytes: number;
}

export const CURVES: Readonly<Record<string, Curve>> = {
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

export type Jacobian = readonly [bigint, bigint, bigint];
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
export function twoScalarMul(c: Curve, u1: bigint, g: Jacobian, u2: bigint, q: Jacobian): Jacobian {
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
export function generator(c: Curve): Jacobian {
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
