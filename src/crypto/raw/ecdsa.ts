/**
 * ECDSA over a digest the client computed (FIPS 186-4 §6.4, SEC 1 §4.1),
 * which node:crypto cannot do: OpenSSL computes k·G (createECDH, constant
 * time) and the scalar arithmetic mod n is BigInt, blinded when signing.
 */
import { createECDH, type JsonWebKey, type KeyObject, randomBytes } from 'node:crypto';
import { badInput, unsupported } from '../errors.js';
import { bitLength, bytesToInt, intToBytes, mod, modInv } from './bigint.js';
import { CURVES, type Curve, generator, type Jacobian, twoScalarMul } from './curve.js';
import { derSignature, parseDerSignature } from './der-signature.js';

function b64uInt(s: string | undefined): bigint {
  if (s === undefined) throw badInput('the EC key cannot be read');
  return bytesToInt(Buffer.from(s, 'base64url'));
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

export function ecdsaSignDigest(key: KeyObject, digest: Uint8Array): Uint8Array {
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

export function ecdsaVerifyDigest(pub: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean {
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
