/**
 * Asymmetric key pair generation with node:crypto (OpenSSL): RSA and the
 * named elliptic curves of formats.ts. Generation runs off the event loop
 * (`generateKeyPair`): an RSA-4096 key takes seconds.
 */
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { KmipError } from '../kmip/errors.js';
import { CURVES, type CurveInfo, curveByEnum } from './formats.js';

const generate = promisify(generateKeyPair);

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export const RSA_MIN_BITS = 1024;
export const RSA_MAX_BITS = 4096;

export async function generateRsaKeyPair(bits: number): Promise<KeyPair> {
  if (!Number.isInteger(bits) || bits < RSA_MIN_BITS || bits > RSA_MAX_BITS || bits % 8 !== 0) {
    throw new KmipError(
      'InvalidField',
      `RSA keys are ${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits, a multiple of 8`,
    );
  }
  return generate('rsa', { modulusLength: bits, publicExponent: 0x10001 });
}

/**
 * The curve of an EC key request: a Recommended Curve, else the NIST prime
 * curve of the Cryptographic Length (256, 384, 521).
 */
export function pickCurve(recommendedCurve: number | undefined, length: number | undefined): CurveInfo {
  if (recommendedCurve !== undefined) {
    const info = curveByEnum(recommendedCurve);
    if (info === undefined) throw new KmipError('InvalidField', 'unsupported Recommended Curve');
    if (length !== undefined && length !== info.bits) {
      throw new KmipError('InvalidField', 'Cryptographic Length does not match the Recommended Curve');
    }
    return info;
  }
  const info = CURVES.find((c) => c.bits === length && c.jwk.startsWith('P-'));
  if (info === undefined) {
    throw new KmipError('InvalidField', 'EC keys need a Recommended Curve or a length of 256, 384 or 521');
  }
  return info;
}

export async function generateEcKeyPair(curve: CurveInfo): Promise<KeyPair> {
  return generate('ec', { namedCurve: curve.openssl });
}
