/**
 * Asymmetric Key Format Types (KMIP 1.0 §2.1.3-2.1.7, 2.1 §2.1.3, §2.1.7): the
 * Key Material of a Public or Private Key in each Key Format Type, to and
 * from a node:crypto KeyObject, over the encodings of crypto/formats.ts.
 * DER formats are byte strings; the Transparent ones are structures whose
 * members are the JWK components (RSA, EC) or the DSA / DH parameters.
 *
 * A key in one format can be given in another when node:crypto can express
 * both: PKCS#1 (RSA), PKCS#8, EC Private Key (SEC1), X.509 SubjectPublicKeyInfo,
 * Transparent RSA and Transparent EC (and the 1.x ECDSA/ECDH/ECMQV variants,
 * which have the same components), Transparent DSA and DH.
 */
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { isCryptoError } from '../../crypto/errors.js';
import {
  b64u,
  CURVES,
  type CurveInfo,
  curveByName,
  type DerType,
  dsaDhComponents,
  dsaDhKey,
  ecPoint,
  ecPrivateJwk,
  ecPublicJwk,
  jwkBytes,
  jwkOf,
  keyAlgorithm,
  keyFromDer,
  keyFromJwk,
  keyToDer,
} from '../../crypto/formats.js';
import { KmipError } from '../errors.js';
import { CryptographicAlgorithm, KeyFormatType, ObjectType, RecommendedCurve, Tag } from '../spec/index.js';
import { bigInteger, byteString, child, childEnum, enumeration, integer, structure } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';

const F = KeyFormatType;

/** Recommended Curve enumeration value → the curve. */
const CURVE_ENUMS: ReadonlyArray<readonly [number, string]> = [
  [RecommendedCurve.P_256, 'P-256'],
  [RecommendedCurve.P_384, 'P-384'],
  [RecommendedCurve.P_521, 'P-521'],
  [RecommendedCurve.SECP256K1, 'secp256k1'],
];

export function curveByEnum(curve: number): CurveInfo | undefined {
  const name = CURVE_ENUMS.find(([value]) => value === curve)?.[1];
  return name === undefined ? undefined : curveByName(name);
}

function curveEnumOf(info: CurveInfo): number | undefined {
  return CURVE_ENUMS.find(([, name]) => name === info.jwk)?.[0];
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

const TRANSPARENT_EC_PRIVATE: ReadonlySet<number> = new Set([
  F.TransparentECPrivateKey,
  F.TransparentECDSAPrivateKey,
  F.TransparentECDHPrivateKey,
  F.TransparentECMQVPrivateKey,
]);
const TRANSPARENT_EC_PUBLIC: ReadonlySet<number> = new Set([
  F.TransparentECPublicKey,
  F.TransparentECDSAPublicKey,
  F.TransparentECDHPublicKey,
  F.TransparentECMQVPublicKey,
]);

/** Transparent DSA / DH (KMIP 1.0 §2.1.7.4-2.1.7.7). */
const DSA_DH_PRIVATE: ReadonlySet<number> = new Set([F.TransparentDSAPrivateKey, F.TransparentDHPrivateKey]);
const DSA_DH_PUBLIC: ReadonlySet<number> = new Set([F.TransparentDSAPublicKey, F.TransparentDHPublicKey]);

/** Key Format Type of a DER encoding. */
const DER_FORMATS: ReadonlyMap<number, DerType> = new Map([
  [F.PKCS_1, 'pkcs1'],
  [F.PKCS_8, 'pkcs8'],
  [F.X_509, 'spki'],
  [F.ECPrivateKey, 'sec1'],
]);

/** Key Format Types this module reads and writes, for Public and Private Keys. */
export const ASYMMETRIC_FORMATS: ReadonlySet<number> = new Set([
  ...DER_FORMATS.keys(),
  F.TransparentRSAPrivateKey,
  F.TransparentRSAPublicKey,
  ...TRANSPARENT_EC_PRIVATE,
  ...TRANSPARENT_EC_PUBLIC,
  ...DSA_DH_PRIVATE,
  ...DSA_DH_PUBLIC,
]);

/** Transparent RSA Private Key components (KMIP 1.0 §2.1.7.2) by JWK member, in item order. */
const RSA_PRIVATE_PARTS: ReadonlyArray<readonly [string, number]> = [
  ['n', Tag.Modulus],
  ['d', Tag.PrivateExponent],
  ['e', Tag.PublicExponent],
  ['p', Tag.P],
  ['q', Tag.Q],
  ['dp', Tag.PrimeExponentP],
  ['dq', Tag.PrimeExponentQ],
  ['qi', Tag.CRTCoefficient],
];

// ---------------------------------------------------------------------------
// Big Integer items (KMIP 1.0 §9.1.1.4: big-endian two's complement, length a multiple of 8)

/** An unsigned magnitude as a Big Integer value. */
export function toBigIntegerBytes(unsigned: Uint8Array): Uint8Array {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start++;
  const mag = unsigned.subarray(start);
  const sign = (mag[0] ?? 0) & 0x80 ? 1 : 0;
  const len = Math.ceil((mag.length + sign) / 8) * 8 || 8;
  const out = new Uint8Array(len);
  out.set(mag, len - mag.length);
  return out;
}

/** The unsigned magnitude of a non-negative Big Integer value, minimal length. */
export function fromBigIntegerBytes(value: Uint8Array): Uint8Array {
  if (((value[0] ?? 0) & 0x80) !== 0) throw new KmipError('InvalidField', 'a key component is negative');
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  return value.subarray(start);
}

// ---------------------------------------------------------------------------
// Reading Key Material

function invalid(message: string): KmipError {
  return new KmipError('InvalidField', message);
}

/** `fn`, with a crypto-layer failure reported as Invalid Field `message`. */
function reading<T>(message: string, fn: () => T): T {
  try {
    return fn();
  } catch (e: unknown) {
    if (isCryptoError(e)) throw invalid(message);
    throw e;
  }
}

const NOT_A_KEY = 'the Key Material is not a valid key in its Key Format Type';

function bigOf(material: TtlvItem, tag: number): Uint8Array | undefined {
  const c = child(material, tag);
  return c?.type === 'BigInteger' ? fromBigIntegerBytes(c.value) : undefined;
}

function rsaJwk(format: number, material: TtlvStructure): JsonWebKey {
  const n = bigOf(material, Tag.Modulus);
  const e = bigOf(material, Tag.PublicExponent);
  if (n === undefined || e === undefined) {
    throw invalid('a Transparent RSA key needs Modulus and Public Exponent');
  }
  const jwk: Record<string, string> = { kty: 'RSA', n: b64u(n), e: b64u(e) };
  if (format === F.TransparentRSAPrivateKey) {
    for (const [name, tag] of RSA_PRIVATE_PARTS) {
      if (name === 'n' || name === 'e') continue;
      const v = bigOf(material, tag);
      // node:crypto needs the CRT form; a key given as (n, e, d) only is refused.
      if (v === undefined) throw invalid('a Transparent RSA Private Key needs all its CRT components');
      jwk[name] = b64u(v);
    }
  }
  return jwk;
}

function ecJwk(format: number, material: TtlvStructure): JsonWebKey {
  const info = curveByEnum(childEnum(material, Tag.RecommendedCurve) ?? -1);
  if (info === undefined) throw invalid('unsupported or missing Recommended Curve');
  if (TRANSPARENT_EC_PRIVATE.has(format)) {
    const d = bigOf(material, Tag.D);
    if (d === undefined) throw invalid('a Transparent EC Private Key needs D');
    return reading('D is not a private key of the curve', () => ecPrivateJwk(info, d));
  }
  const q = child(material, Tag.QString);
  if (q?.type !== 'ByteString') throw invalid('a Transparent EC Public Key needs Q String');
  return reading('Q String is not a point of the curve', () => ecPublicJwk(info, q.value));
}

function dsaDhKeyOf(priv: boolean, format: number, material: TtlvStructure): KeyObject {
  const dsa = format === F.TransparentDSAPrivateKey || format === F.TransparentDSAPublicKey;
  const p = bigOf(material, Tag.P);
  const q = bigOf(material, Tag.Q);
  const g = bigOf(material, Tag.G);
  const j = bigOf(material, Tag.J);
  const value = bigOf(material, priv ? Tag.X : Tag.Y);
  if (p === undefined || g === undefined || value === undefined || (dsa && q === undefined)) {
    throw invalid(`a Transparent ${dsa ? 'DSA' : 'DH'} key needs P, ${dsa ? 'Q, ' : ''}G and its X or Y`);
  }
  const c = { dsa, p, g, value, ...(q === undefined ? {} : { q }), ...(j === undefined ? {} : { j }) };
  return reading(NOT_A_KEY, () => dsaDhKey(priv, c));
}

function transparentKey(priv: boolean, format: number, material: TtlvItem): KeyObject {
  if (material.type !== 'Structure') throw invalid('a Transparent key needs a Key Material structure');
  if (DSA_DH_PRIVATE.has(format) || DSA_DH_PUBLIC.has(format)) return dsaDhKeyOf(priv, format, material);
  const rsa = format === F.TransparentRSAPrivateKey || format === F.TransparentRSAPublicKey;
  const jwk = rsa ? rsaJwk(format, material) : ecJwk(format, material);
  return reading(NOT_A_KEY, () => keyFromJwk(priv, jwk));
}

function formatFits(objectType: number, format: number): boolean {
  if (objectType === ObjectType.PrivateKey) {
    return (
      format === F.PKCS_1 ||
      format === F.PKCS_8 ||
      format === F.ECPrivateKey ||
      format === F.TransparentRSAPrivateKey ||
      TRANSPARENT_EC_PRIVATE.has(format) ||
      DSA_DH_PRIVATE.has(format)
    );
  }
  if (objectType === ObjectType.PublicKey) {
    return (
      format === F.PKCS_1 ||
      format === F.X_509 ||
      format === F.TransparentRSAPublicKey ||
      TRANSPARENT_EC_PUBLIC.has(format) ||
      DSA_DH_PUBLIC.has(format)
    );
  }
  return false;
}

/**
 * The node:crypto key held by Key Material in `format`; Invalid Field when
 * the material is not such a key, Key Format Type Not Supported when the
 * format is not one of ours for this object type.
 */
export function keyFromMaterial(objectType: number, format: number, material: TtlvItem): KeyObject {
  if (!formatFits(objectType, format)) {
    throw new KmipError('KeyFormatTypeNotSupported', 'this Key Format Type cannot hold this kind of key');
  }
  const priv = objectType === ObjectType.PrivateKey;
  const derType = DER_FORMATS.get(format);
  if (material.type === 'ByteString') {
    if (derType !== undefined) return reading(NOT_A_KEY, () => keyFromDer(priv, material.value, derType));
    throw invalid('a Transparent key needs a Key Material structure');
  }
  if (derType !== undefined) throw invalid('this Key Format Type needs a Key Material byte string');
  return transparentKey(priv, format, material);
}

// ---------------------------------------------------------------------------
// Writing Key Material

function notSupported(): KmipError {
  return new KmipError('KeyFormatTypeNotSupported', 'the key cannot be given in that Key Format Type');
}

function jwkBig(jwk: JsonWebKey, name: string, tag: number): TtlvItem {
  const v = jwkBytes(jwk, name);
  if (v === undefined) throw notSupported();
  return bigInteger(tag, toBigIntegerBytes(v));
}

function dsaDhMaterial(key: KeyObject, format: number): TtlvItem {
  const dsaFormat = format === F.TransparentDSAPrivateKey || format === F.TransparentDSAPublicKey;
  const kind: string | undefined = key.asymmetricKeyType;
  // node:crypto loads X9.42 DH keys without naming their type.
  if (dsaFormat ? kind !== 'dsa' : kind !== 'dh' && kind !== undefined) throw notSupported();
  const c = dsaDhComponents(key);
  if (c.dsa !== dsaFormat) throw notSupported();
  const big = (tag: number, v: Uint8Array) => bigInteger(tag, toBigIntegerBytes(v));
  const items: TtlvItem[] = [big(Tag.P, c.p)];
  if (c.q !== undefined) items.push(big(Tag.Q, c.q));
  items.push(big(Tag.G, c.g));
  if (c.j !== undefined) items.push(big(Tag.J, c.j));
  items.push(big(key.type === 'private' ? Tag.X : Tag.Y, c.value));
  return structure(Tag.KeyMaterial, items);
}

function transparentMaterial(key: KeyObject, format: number): TtlvItem {
  if (DSA_DH_PRIVATE.has(format) || DSA_DH_PUBLIC.has(format)) return dsaDhMaterial(key, format);
  const jwk = jwkOf(key);
  if (format === F.TransparentRSAPublicKey) {
    return structure(Tag.KeyMaterial, [jwkBig(jwk, 'n', Tag.Modulus), jwkBig(jwk, 'e', Tag.PublicExponent)]);
  }
  if (format === F.TransparentRSAPrivateKey) {
    return structure(
      Tag.KeyMaterial,
      RSA_PRIVATE_PARTS.map(([name, tag]) => jwkBig(jwk, name, tag)),
    );
  }
  const info = curveByName(jwk.crv);
  const curveEnum = info === undefined ? undefined : curveEnumOf(info);
  if (info === undefined || curveEnum === undefined) throw notSupported();
  const curve = enumeration(Tag.RecommendedCurve, curveEnum);
  if (TRANSPARENT_EC_PRIVATE.has(format)) {
    return structure(Tag.KeyMaterial, [curve, jwkBig(jwk, 'd', Tag.D)]);
  }
  return structure(Tag.KeyMaterial, [curve, byteString(Tag.QString, ecPoint(info, jwk))]);
}

/** The Key Material item of `key` in `format`; Key Format Type Not Supported when impossible. */
export function materialFromKey(key: KeyObject, format: number): TtlvItem {
  const objectType = key.type === 'private' ? ObjectType.PrivateKey : ObjectType.PublicKey;
  if (!formatFits(objectType, format)) throw notSupported();
  const kind = key.asymmetricKeyType;
  if (format === F.PKCS_1 || format === F.TransparentRSAPrivateKey || format === F.TransparentRSAPublicKey) {
    if (kind !== 'rsa') throw notSupported();
  }
  if (format === F.ECPrivateKey || TRANSPARENT_EC_PRIVATE.has(format) || TRANSPARENT_EC_PUBLIC.has(format)) {
    if (kind !== 'ec') throw notSupported();
  }
  try {
    const derType = DER_FORMATS.get(format);
    if (derType !== undefined) return byteString(Tag.KeyMaterial, keyToDer(key, derType));
    return transparentMaterial(key, format);
  } catch (e: unknown) {
    if (isCryptoError(e)) throw notSupported();
    throw e;
  }
}

// ---------------------------------------------------------------------------
// Key Blocks

const ALGORITHMS = {
  rsa: CryptographicAlgorithm.RSA,
  ec: CryptographicAlgorithm.EC,
  dsa: CryptographicAlgorithm.DSA,
  dh: CryptographicAlgorithm.DH,
} as const;

/** KMIP Cryptographic Algorithm and Length of a node:crypto key. */
export function algorithmOf(key: KeyObject): { algorithm: number; length: number } | undefined {
  const a = keyAlgorithm(key);
  return a === undefined ? undefined : { algorithm: ALGORITHMS[a.family], length: a.bits };
}

/** A Private Key / Public Key object structure holding `key` in `format`. */
export function asymmetricContent(
  key: KeyObject,
  format: number,
  algorithm: number,
  length: number,
): TtlvStructure {
  const tag = key.type === 'private' ? Tag.PrivateKey : Tag.PublicKey;
  return structure(tag, [
    structure(Tag.KeyBlock, [
      enumeration(Tag.KeyFormatType, format),
      structure(Tag.KeyValue, [materialFromKey(key, format)]),
      enumeration(Tag.CryptographicAlgorithm, algorithm),
      integer(Tag.CryptographicLength, length),
    ]),
  ]);
}

/** The node:crypto key of a Private or Public Key's Key Block. */
export function keyFromBlock(objectType: number, block: TtlvStructure): KeyObject {
  const format = childEnum(block, Tag.KeyFormatType);
  const kv = child(block, Tag.KeyValue);
  const material = kv?.type === 'Structure' ? child(kv, Tag.KeyMaterial) : undefined;
  if (format === undefined || material === undefined) {
    throw new KmipError('InvalidField', 'the Key Block has no Key Format Type or Key Material');
  }
  return keyFromMaterial(objectType, format, material);
}

/**
 * The Key Block of a Private or Public Key in another Key Format Type, the
 * rest of the block (algorithm, length, attributes in the Key Value) kept;
 * Key Format Type Not Supported when the key cannot be expressed so.
 */
export function convertAsymmetricBlock(objectType: number, block: TtlvStructure, to: number): TtlvStructure {
  if (!ASYMMETRIC_FORMATS.has(to)) throw notSupported();
  const key = keyFromBlock(objectType, block);
  const material = materialFromKey(key, to);
  return structure(
    Tag.KeyBlock,
    block.value.map((c) => {
      if (c.tag === Tag.KeyFormatType) return enumeration(Tag.KeyFormatType, to);
      if (c.tag === Tag.KeyValue && c.type === 'Structure') {
        return structure(
          Tag.KeyValue,
          c.value.map((m) => (m.tag === Tag.KeyMaterial ? material : m)),
        );
      }
      return c;
    }),
  );
}
