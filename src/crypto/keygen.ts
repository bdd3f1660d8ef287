/**
 * Asymmetric key pair generation with node:crypto (OpenSSL): RSA and the
 * named elliptic curves of formats.ts. Generation runs off the event loop
 * (`generateKeyPair`): an RSA-4096 key takes seconds.
 */
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { badInput } from './errors.js';
import type { CurveInfo } from './formats.js';

const generate = promisify(generateKeyPair);

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export const RSA_MIN_BITS = 1024;
export const RSA_MAX_BITS = 4096;

export async function generateRsaKeyPair(bits: number): Promise<KeyPair> {
  if (!Number.isInteger(bits) || bits < RSA_MIN_BITS || bits > RSA_MAX_BITS || bits % 8 !== 0) {
    throw badInput(`RSA keys are ${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits, a multiple of 8`);
  }
  return generate('rsa', { modulusLength: bits, publicExponent: 0x10001 });
}

export async function generateEcKeyPair(curve: CurveInfo): Promise<KeyPair> {
  return generate('ec', { namedCurve: curve.openssl });
}
