/**
 * Asymmetric keys to and from their encodings: DER (PKCS#1, PKCS#8, SEC1,
 * SubjectPublicKeyInfo), JWK components (RSA, EC) and, for DSA and DH, which
 * node:crypto has no JWK for, their domain parameters read from and written
 * as PKCS#8 / SPKI DER with asn1js (DH as PKCS#3 without Q, X9.42 with Q).
 * Component values are unsigned big-endian magnitudes.
 *
 * Reading fails with a bad-input CryptoError, writing with a `format` one
 * (the key cannot be given so); kmip/model/key-formats.ts words both for
 * the Key Format Types that use these encodings.
 */
import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  ECDH,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import * as asn1js from 'asn1js';
import { oid, parseDer, seq, uint, uintNode } from './asn1.js';
import { badInput, CryptoError } from './errors.js';

export interface CurveInfo {
  /** JWK "crv" and node:crypto namedCurve */
  readonly jwk: string;
  /** OpenSSL name, for createECDH */
  readonly openssl: string;
  /** field size in bits */
  readonly bits: number;
}

/** The curves node:crypto can export as JWK, hence give as components. */
export const CURVES: readonly CurveInfo[] = [
  { jwk: 'P-256', openssl: 'prime256v1', bits: 256 },
  { jwk: 'P-384', openssl: 'secp384r1', bits: 384 },
  { jwk: 'P-521', openssl: 'secp521r1', bits: 521 },
  { jwk: 'secp256k1', openssl: 'secp256k1', bits: 256 },
];

/** The curve of a JWK "crv" or an OpenSSL / node:crypto curve name. */
export function curveByName(name: string | undefined): CurveInfo | undefined {
  return CURVES.find((c) => c.jwk === name || c.openssl === name);
}

function cannot(): CryptoError {
  return new CryptoError('format', 'the key cannot be given in that format');
}

export type DerType = 'pkcs1' | 'pkcs8' | 'spki' | 'sec1';

export function keyFromDer(priv: boolean, der: Uint8Array, type: DerType): KeyObject {
  const key = Buffer.from(der);
  try {
    return priv
      ? createPrivateKey({ key, format: 'der', type: type as 'pkcs1' | 'pkcs8' | 'sec1' })
      : createPublicKey({ key, format: 'der', type: type as 'pkcs1' | 'spki' });
  } catch {
    throw badInput('not a valid key in that encoding');
  }
}

export function keyToDer(key: KeyObject, type: DerType): Uint8Array {
  try {
    const out =
      key.type === 'private'
        ? key.export({ format: 'der', type: type as 'pkcs1' | 'pkcs8' | 'sec1' })
        : key.export({ format: 'der', type: type as 'pkcs1' | 'spki' });
    return new Uint8Array(out);
  } catch {
    throw cannot();
  }
}

export function keyFromJwk(priv: boolean, jwk: JsonWebKey): KeyObject {
  try {
    return priv
      ? createPrivateKey({ key: jwk, format: 'jwk' })
      : createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    throw badInput('not a valid key');
  }
}

export function b64u(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

/** A JWK member's bytes; undefined when absent. */
export function jwkBytes(jwk: JsonWebKey, name: string): Uint8Array | undefined {
  const s = (jwk as Record<string, unknown>)[name];
  return typeof s === 'string' ? new Uint8Array(Buffer.from(s, 'base64url')) : undefined;
}

function leftPad(bytes: Uint8Array, len: number): Uint8Array {
  if (bytes.length >= len) return bytes;
  const out = new Uint8Array(len);
  out.set(bytes, len - bytes.length);
  return out;
}

/** The public JWK of an encoded point; decompresses a compressed one (SEC1 §2.3.3). */
export function ecPublicJwk(info: CurveInfo, q: Uint8Array): JsonWebKey {
  let point: Buffer;
  try {
    point = Buffer.from(ECDH.convertKey(Buffer.from(q), info.openssl, undefined, undefined, 'uncompressed'));
  } catch {
    throw badInput('not a point of the curve');
  }
  const n = Math.ceil(info.bits / 8);
  if (point.length !== 1 + 2 * n || point[0] !== 4) throw badInput('not a point of the curve');
  return { kty: 'EC', crv: info.jwk, x: b64u(point.subarray(1, 1 + n)), y: b64u(point.subarray(1 + n)) };
}

/** The private JWK of scalar `d`, its public point computed. */
export function ecPrivateJwk(info: CurveInfo, d: Uint8Array): JsonWebKey {
  const ecdh = createECDH(info.openssl);
  try {
    ecdh.setPrivateKey(Buffer.from(d));
  } catch {
    throw badInput('not a private key of the curve');
  }
  return { ...ecPublicJwk(info, ecdh.getPublicKey()), d: b64u(leftPad(d, Math.ceil(info.bits / 8))) };
}

/** The uncompressed point (SEC1 §2.3.3) of an EC JWK. */
export function ecPoint(info: CurveInfo, jwk: JsonWebKey): Uint8Array {
  const x = jwkBytes(jwk, 'x');
  const y = jwkBytes(jwk, 'y');
  if (x === undefined || y === undefined) throw cannot();
  const n = Math.ceil(info.bits / 8);
  const q = new Uint8Array(1 + 2 * n);
  q[0] = 4;
  q.set(leftPad(x, n), 1);
  q.set(leftPad(y, n), 1 + n);
  return q;
}

/** The JWK of an RSA or EC key; a `format` error for other keys. */
export function jwkOf(key: KeyObject): JsonWebKey {
  try {
    return key.export({ format: 'jwk' });
  } catch {
    throw cannot();
  }
}

export type KeyFamily = 'rsa' | 'ec' | 'dsa' | 'dh';

/** Family and size (modulus, field or prime bits) of an RSA, EC, DSA or DH key. */
export function keyAlgorithm(key: KeyObject): { family: KeyFamily; bits: number } | undefined {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa' && d?.modulusLength !== undefined) {
    return { family: 'rsa', bits: d.modulusLength };
  }
  if (key.asymmetricKeyType === 'ec') {
    const info = curveByName(d?.namedCurve);
    if (info !== undefined) return { family: 'ec', bits: info.bits };
  }
  // @types/node lacks 'dh' in asymmetricKeyType, which node:crypto does report.
  const kind: string | undefined = key.asymmetricKeyType;
  if (kind === 'dsa' || kind === 'dh' || kind === undefined) {
    try {
      const c = dsaDhComponents(key);
      return { family: c.oid === OID_DSA ? 'dsa' : 'dh', bits: bitLength(c.p) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// DSA and DH through their DER forms

const OID_DSA = '1.2.840.10040.4.1';
/** PKCS#3 dhKeyAgreement: parameters (p, g); node:crypto's own DH keys */
const OID_DH = '1.2.840.113549.1.3.1';
/** ANSI X9.42 dhpublicnumber: parameters (p, g, q [, j]) */
const OID_DHX = '1.2.840.10046.2.1';

export interface DsaDhComponents {
  readonly dsa: boolean;
  readonly p: Uint8Array;
  readonly q?: Uint8Array;
  readonly g: Uint8Array;
  readonly j?: Uint8Array;
  /** private value x, or public value y, by the key's type */
  readonly value: Uint8Array;
}

function bitLength(v: Uint8Array): number {
  const top = v[0] ?? 0;
  return top === 0 ? 0 : (v.length - 1) * 8 + (32 - Math.clz32(top));
}

function dsaDhDer(priv: boolean, c: DsaDhComponents): Buffer {
  const q = uintNode(c.q ?? new Uint8Array());
  const params = c.dsa
    ? [uintNode(c.p), q, uintNode(c.g)]
    : c.q !== undefined
      ? [uintNode(c.p), uintNode(c.g), q, ...(c.j === undefined ? [] : [uintNode(c.j)])]
      : [uintNode(c.p), uintNode(c.g)];
  const id = c.dsa ? OID_DSA : c.q === undefined ? OID_DH : OID_DHX;
  const alg = new asn1js.Sequence({
    value: [new asn1js.ObjectIdentifier({ value: id }), new asn1js.Sequence({ value: params })],
  });
  const inner = uintNode(c.value).toBER(false);
  const outer = priv
    ? new asn1js.Sequence({
        value: [new asn1js.Integer({ value: 0 }), alg, new asn1js.OctetString({ valueHex: inner })],
      })
    : new asn1js.Sequence({ value: [alg, new asn1js.BitString({ valueHex: inner })] });
  return Buffer.from(outer.toBER(false));
}

/** A DSA key (or a DH one: PKCS#3 without Q, X9.42 with Q) of its components. */
export function dsaDhKey(priv: boolean, c: DsaDhComponents): KeyObject {
  return keyFromDer(priv, dsaDhDer(priv, c), priv ? 'pkcs8' : 'spki');
}

/** The domain parameters and private or public value of a DSA or DH key, from its DER. */
export function dsaDhComponents(key: KeyObject): DsaDhComponents & { readonly oid: string } {
  const priv = key.type === 'private';
  const bytes = priv
    ? key.export({ format: 'der', type: 'pkcs8' })
    : key.export({ format: 'der', type: 'spki' });
  const top = seq(parseDer(bytes, 'key'), 'key');
  const alg = seq(priv ? top[1] : top[0], 'key algorithm');
  const id = oid(alg[0], 'key algorithm');
  const params = seq(alg[1], 'key parameters');
  const container = priv ? top[2] : top[1];
  let inner: ArrayBuffer;
  if (priv && container instanceof asn1js.OctetString)
    inner = container.valueBlock.valueHexView.slice().buffer;
  else if (!priv && container instanceof asn1js.BitString)
    inner = container.valueBlock.valueHexView.slice().buffer;
  else throw cannot();
  const value = uint(parseDer(inner, 'key value'), 'key value');
  const at = (i: number) => uint(params[i], 'key parameter');
  if (id === OID_DSA) return { oid: id, dsa: true, p: at(0), q: at(1), g: at(2), value };
  if (id === OID_DHX) {
    const j = params[3] instanceof asn1js.Integer ? { j: at(3) } : {};
    return { oid: id, dsa: false, p: at(0), g: at(1), q: at(2), ...j, value };
  }
  if (id === OID_DH) return { oid: id, dsa: false, p: at(0), g: at(1), value };
  throw cannot();
}
