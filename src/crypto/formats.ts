/**
 * Asymmetric key formats (KMIP 1.0 §2.1.3-2.1.7, 2.1 §2.1.3, §2.1.7): the Key
 * Material of a Public or Private Key in each Key Format Type, to and from a
 * node:crypto KeyObject. DER formats go through `format: 'der'`; the
 * Transparent ones through JWK, whose members are exactly their components.
 *
 * A key in one format can be given in another when node:crypto can express
 * both: PKCS#1 (RSA), PKCS#8, EC Private Key (SEC1), X.509 SubjectPublicKeyInfo,
 * Transparent RSA and Transparent EC (and the 1.x ECDSA/ECDH/ECMQV variants,
 * which have the same components), and Transparent DSA and DH, which
 * node:crypto has no JWK for: they are built as and read from PKCS#8 / SPKI
 * DER with asn1js (DH as PKCS#3 without Q, X9.42 with Q).
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
import { KmipError } from '../kmip/errors.js';
import {
  CryptographicAlgorithm,
  KeyFormatType,
  ObjectType,
  RecommendedCurve,
  Tag,
} from '../kmip/spec/index.js';
import {
  bigInteger,
  byteString,
  child,
  childEnum,
  enumeration,
  integer,
  structure,
} from '../kmip/ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../kmip/ttlv/types.js';

const F = KeyFormatType;

export interface CurveInfo {
  /** Recommended Curve enumeration value */
  readonly curve: number;
  /** JWK "crv" and node:crypto namedCurve */
  readonly jwk: string;
  /** OpenSSL name, for createECDH */
  readonly openssl: string;
  /** field size in bits (Cryptographic Length of the key) */
  readonly bits: number;
}

/** The curves node:crypto can export as JWK, hence convert to the Transparent formats. */
export const CURVES: readonly CurveInfo[] = [
  { curve: RecommendedCurve.P_256, jwk: 'P-256', openssl: 'prime256v1', bits: 256 },
  { curve: RecommendedCurve.P_384, jwk: 'P-384', openssl: 'secp384r1', bits: 384 },
  { curve: RecommendedCurve.P_521, jwk: 'P-521', openssl: 'secp521r1', bits: 521 },
  { curve: RecommendedCurve.SECP256K1, jwk: 'secp256k1', openssl: 'secp256k1', bits: 256 },
];

export function curveByEnum(curve: number): CurveInfo | undefined {
  return CURVES.find((c) => c.curve === curve);
}

function curveByJwk(crv: string | undefined): CurveInfo | undefined {
  return CURVES.find((c) => c.jwk === crv);
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

/** Transparent DSA / DH (KMIP 1.0 §2.1.7.4-2.1.7.7): node:crypto has no JWK for them, so they go through DER. */
const DSA_DH_PRIVATE: ReadonlySet<number> = new Set([F.TransparentDSAPrivateKey, F.TransparentDHPrivateKey]);
const DSA_DH_PUBLIC: ReadonlySet<number> = new Set([F.TransparentDSAPublicKey, F.TransparentDHPublicKey]);

/** Key Format Types this module reads and writes, for Public and Private Keys. */
export const ASYMMETRIC_FORMATS: ReadonlySet<number> = new Set([
  F.PKCS_1,
  F.PKCS_8,
  F.X_509,
  F.ECPrivateKey,
  F.TransparentRSAPrivateKey,
  F.TransparentRSAPublicKey,
  ...TRANSPARENT_EC_PRIVATE,
  ...TRANSPARENT_EC_PUBLIC,
  ...DSA_DH_PRIVATE,
  ...DSA_DH_PUBLIC,
]);

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

function leftPad(bytes: Uint8Array, len: number): Uint8Array {
  if (bytes.length >= len) return bytes;
  const out = new Uint8Array(len);
  out.set(bytes, len - bytes.length);
  return out;
}

function b64u(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function unb64u(s: string | undefined): Uint8Array | undefined {
  return s === undefined ? undefined : new Uint8Array(Buffer.from(s, 'base64url'));
}

// ---------------------------------------------------------------------------
// Reading Key Material

function invalid(message: string): KmipError {
  return new KmipError('InvalidField', message);
}

function bigOf(material: TtlvItem, tag: number): Uint8Array | undefined {
  const c = child(material, tag);
  return c?.type === 'BigInteger' ? fromBigIntegerBytes(c.value) : undefined;
}

function derKey(objectType: number, der: Uint8Array, type: 'pkcs1' | 'pkcs8' | 'spki' | 'sec1'): KeyObject {
  const key = Buffer.from(der);
  try {
    return objectType === ObjectType.PrivateKey
      ? createPrivateKey({ key, format: 'der', type: type as 'pkcs1' | 'pkcs8' | 'sec1' })
      : createPublicKey({ key, format: 'der', type: type as 'pkcs1' | 'spki' });
  } catch {
    throw invalid('the Key Material is not a valid key in its Key Format Type');
  }
}

function ecPublicJwk(info: CurveInfo, q: Uint8Array): JsonWebKey {
  let point: Buffer;
  try {
    // Validates the point and decompresses a compressed one (SEC1 §2.3.3).
    point = Buffer.from(ECDH.convertKey(Buffer.from(q), info.openssl, undefined, undefined, 'uncompressed'));
  } catch {
    throw invalid('Q String is not a point of the curve');
  }
  const n = Math.ceil(info.bits / 8);
  if (point.length !== 1 + 2 * n || point[0] !== 4) throw invalid('Q String is not a point of the curve');
  return { kty: 'EC', crv: info.jwk, x: b64u(point.subarray(1, 1 + n)), y: b64u(point.subarray(1 + n)) };
}

function transparentKey(objectType: number, format: number, material: TtlvItem): KeyObject {
  if (material.type !== 'Structure') throw invalid('a Transparent key needs a Key Material structure');
  if (DSA_DH_PRIVATE.has(format) || DSA_DH_PUBLIC.has(format)) return dsaDhKey(objectType, format, material);
  let jwk: JsonWebKey;
  if (format === F.TransparentRSAPrivateKey || format === F.TransparentRSAPublicKey) {
    const n = bigOf(material, Tag.Modulus);
    const e = bigOf(material, Tag.PublicExponent);
    if (n === undefined || e === undefined) {
      throw invalid('a Transparent RSA key needs Modulus and Public Exponent');
    }
    jwk = { kty: 'RSA', n: b64u(n), e: b64u(e) };
    if (format === F.TransparentRSAPrivateKey) {
      const parts: [string, number][] = [
        ['d', Tag.PrivateExponent],
        ['p', Tag.P],
        ['q', Tag.Q],
        ['dp', Tag.PrimeExponentP],
        ['dq', Tag.PrimeExponentQ],
        ['qi', Tag.CRTCoefficient],
      ];
      for (const [name, tag] of parts) {
        const v = bigOf(material, tag);
        // node:crypto needs the CRT form; a key given as (n, e, d) only is refused.
        if (v === undefined) throw invalid('a Transparent RSA Private Key needs all its CRT components');
        (jwk as Record<string, string>)[name] = b64u(v);
      }
    }
  } else {
    const info = curveByEnum(childEnum(material, Tag.RecommendedCurve) ?? -1);
    if (info === undefined) throw new KmipError('InvalidField', 'unsupported or missing Recommended Curve');
    if (TRANSPARENT_EC_PRIVATE.has(format)) {
      const d = bigOf(material, Tag.D);
      if (d === undefined) throw invalid('a Transparent EC Private Key needs D');
      const ecdh = createECDH(info.openssl);
      try {
        ecdh.setPrivateKey(Buffer.from(d));
      } catch {
        throw invalid('D is not a private key of the curve');
      }
      const n = Math.ceil(info.bits / 8);
      jwk = { ...ecPublicJwk(info, ecdh.getPublicKey()), d: b64u(leftPad(d, n)) };
    } else {
      const q = child(material, Tag.QString);
      if (q?.type !== 'ByteString') throw invalid('a Transparent EC Public Key needs Q String');
      jwk = ecPublicJwk(info, q.value);
    }
  }
  try {
    return objectType === ObjectType.PrivateKey
      ? createPrivateKey({ key: jwk, format: 'jwk' })
      : createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    throw invalid('the Key Material is not a valid key in its Key Format Type');
  }
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
  if (material.type === 'ByteString') {
    if (format === F.PKCS_1) return derKey(objectType, material.value, 'pkcs1');
    if (format === F.PKCS_8) return derKey(objectType, material.value, 'pkcs8');
    if (format === F.X_509) return derKey(objectType, material.value, 'spki');
    if (format === F.ECPrivateKey) return derKey(objectType, material.value, 'sec1');
    throw invalid('a Transparent key needs a Key Material structure');
  }
  if (format === F.PKCS_1 || format === F.PKCS_8 || format === F.X_509 || format === F.ECPrivateKey) {
    throw invalid('this Key Format Type needs a Key Material byte string');
  }
  return transparentKey(objectType, format, material);
}

// ---------------------------------------------------------------------------
// Writing Key Material

function notSupported(): KmipError {
  return new KmipError('KeyFormatTypeNotSupported', 'the key cannot be given in that Key Format Type');
}

function der(key: KeyObject, type: 'pkcs1' | 'pkcs8' | 'spki' | 'sec1'): Uint8Array {
  try {
    const out =
      key.type === 'private'
        ? key.export({ format: 'der', type: type as 'pkcs1' | 'pkcs8' | 'sec1' })
        : key.export({ format: 'der', type: type as 'pkcs1' | 'spki' });
    return new Uint8Array(out);
  } catch {
    throw notSupported();
  }
}

function jwkBig(jwk: JsonWebKey, name: string, tag: number): TtlvItem {
  const v = unb64u((jwk as Record<string, unknown>)[name] as string | undefined);
  if (v === undefined) throw notSupported();
  return bigInteger(tag, toBigIntegerBytes(v));
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
  if (format === F.PKCS_1) return byteString(Tag.KeyMaterial, der(key, 'pkcs1'));
  if (format === F.PKCS_8) return byteString(Tag.KeyMaterial, der(key, 'pkcs8'));
  if (format === F.X_509) return byteString(Tag.KeyMaterial, der(key, 'spki'));
  if (format === F.ECPrivateKey) return byteString(Tag.KeyMaterial, der(key, 'sec1'));
  if (DSA_DH_PRIVATE.has(format) || DSA_DH_PUBLIC.has(format)) return dsaDhMaterial(key, format);
  const jwk = key.export({ format: 'jwk' });
  if (format === F.TransparentRSAPublicKey) {
    return structure(Tag.KeyMaterial, [jwkBig(jwk, 'n', Tag.Modulus), jwkBig(jwk, 'e', Tag.PublicExponent)]);
  }
  if (format === F.TransparentRSAPrivateKey) {
    return structure(Tag.KeyMaterial, [
      jwkBig(jwk, 'n', Tag.Modulus),
      jwkBig(jwk, 'd', Tag.PrivateExponent),
      jwkBig(jwk, 'e', Tag.PublicExponent),
      jwkBig(jwk, 'p', Tag.P),
      jwkBig(jwk, 'q', Tag.Q),
      jwkBig(jwk, 'dp', Tag.PrimeExponentP),
      jwkBig(jwk, 'dq', Tag.PrimeExponentQ),
      jwkBig(jwk, 'qi', Tag.CRTCoefficient),
    ]);
  }
  const info = curveByJwk(jwk.crv);
  if (info === undefined) throw notSupported();
  const curve = enumeration(Tag.RecommendedCurve, info.curve);
  if (TRANSPARENT_EC_PRIVATE.has(format)) {
    return structure(Tag.KeyMaterial, [curve, jwkBig(jwk, 'd', Tag.D)]);
  }
  const x = unb64u(jwk.x);
  const y = unb64u(jwk.y);
  if (x === undefined || y === undefined) throw notSupported();
  const n = Math.ceil(info.bits / 8);
  const q = new Uint8Array(1 + 2 * n);
  q[0] = 4;
  q.set(leftPad(x, n), 1);
  q.set(leftPad(y, n), 1 + n);
  return structure(Tag.KeyMaterial, [curve, byteString(Tag.QString, q)]);
}

// ---------------------------------------------------------------------------
// Key Blocks

/** KMIP Cryptographic Algorithm and Length of a node:crypto key. */
export function algorithmOf(key: KeyObject): { algorithm: number; length: number } | undefined {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa' && d?.modulusLength !== undefined) {
    return { algorithm: CryptographicAlgorithm.RSA, length: d.modulusLength };
  }
  if (key.asymmetricKeyType === 'ec') {
    const info = CURVES.find((c) => c.jwk === d?.namedCurve || c.openssl === d?.namedCurve);
    if (info !== undefined) return { algorithm: CryptographicAlgorithm.EC, length: info.bits };
  }
  // @types/node lacks 'dh' in asymmetricKeyType, which node:crypto does report.
  const kind: string | undefined = key.asymmetricKeyType;
  if (kind === 'dsa' || kind === 'dh' || kind === undefined) {
    try {
      const c = dsaDhComponents(key);
      return {
        algorithm: c.oid === OID_DSA ? CryptographicAlgorithm.DSA : CryptographicAlgorithm.DH,
        length: bitLength(c.p),
      };
    } catch {
      return undefined;
    }
  }
  return undefined;
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

// ---------------------------------------------------------------------------
// DSA and DH (KMIP 1.0 §2.1.7.4-2.1.7.7) through their DER forms

const OID_DSA = '1.2.840.10040.4.1';
/** PKCS#3 dhKeyAgreement: parameters (p, g); node:crypto's own DH keys */
const OID_DH = '1.2.840.113549.1.3.1';
/** ANSI X9.42 dhpublicnumber: parameters (p, g, q [, j]) */
const OID_DHX = '1.2.840.10046.2.1';

interface DsaDhComponents {
  readonly oid: string;
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

function asnInt(unsigned: Uint8Array): asn1js.Integer {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start++;
  const v = unsigned.subarray(start);
  const bytes = ((v[0] ?? 0) & 0x80) !== 0 ? Buffer.concat([Buffer.alloc(1), v]) : Buffer.from(v);
  return new asn1js.Integer({ valueHex: bytes });
}

function intBytes(node: asn1js.AsnType | undefined): Uint8Array {
  if (!(node instanceof asn1js.Integer)) throw notSupported();
  return fromBigIntegerBytes(new Uint8Array(node.valueBlock.valueHexView));
}

function children(node: asn1js.AsnType | undefined): asn1js.AsnType[] {
  if (node instanceof asn1js.Sequence) return node.valueBlock.value;
  throw notSupported();
}

function dsaDhDer(objectType: number, c: DsaDhComponents): Buffer {
  const params =
    c.oid === OID_DSA
      ? [asnInt(c.p), asnInt(c.q ?? new Uint8Array()), asnInt(c.g)]
      : c.oid === OID_DHX
        ? [
            asnInt(c.p),
            asnInt(c.g),
            asnInt(c.q ?? new Uint8Array()),
            ...(c.j === undefined ? [] : [asnInt(c.j)]),
          ]
        : [asnInt(c.p), asnInt(c.g)];
  const alg = new asn1js.Sequence({
    value: [new asn1js.ObjectIdentifier({ value: c.oid }), new asn1js.Sequence({ value: params })],
  });
  const inner = asnInt(c.value).toBER(false);
  const outer =
    objectType === ObjectType.PrivateKey
      ? new asn1js.Sequence({
          value: [new asn1js.Integer({ value: 0 }), alg, new asn1js.OctetString({ valueHex: inner })],
        })
      : new asn1js.Sequence({ value: [alg, new asn1js.BitString({ valueHex: inner })] });
  return Buffer.from(outer.toBER(false));
}

function dsaDhKey(objectType: number, format: number, material: TtlvStructure): KeyObject {
  const dsa = format === F.TransparentDSAPrivateKey || format === F.TransparentDSAPublicKey;
  const p = bigOf(material, Tag.P);
  const q = bigOf(material, Tag.Q);
  const g = bigOf(material, Tag.G);
  const j = bigOf(material, Tag.J);
  const value = bigOf(material, objectType === ObjectType.PrivateKey ? Tag.X : Tag.Y);
  if (p === undefined || g === undefined || value === undefined || (dsa && q === undefined)) {
    throw invalid(`a Transparent ${dsa ? 'DSA' : 'DH'} key needs P, ${dsa ? 'Q, ' : ''}G and its X or Y`);
  }
  const oid = dsa ? OID_DSA : q === undefined ? OID_DH : OID_DHX;
  const c: DsaDhComponents = {
    oid,
    p,
    g,
    value,
    ...(q === undefined ? {} : { q }),
    ...(j === undefined ? {} : { j }),
  };
  const key = dsaDhDer(objectType, c);
  try {
    return objectType === ObjectType.PrivateKey
      ? createPrivateKey({ key, format: 'der', type: 'pkcs8' })
      : createPublicKey({ key, format: 'der', type: 'spki' });
  } catch {
    throw invalid('the Key Material is not a valid key in its Key Format Type');
  }
}

/** The domain parameters and private or public value of a DSA or DH key, from its DER. */
function dsaDhComponents(key: KeyObject): DsaDhComponents {
  const priv = key.type === 'private';
  const bytes = priv
    ? key.export({ format: 'der', type: 'pkcs8' })
    : key.export({ format: 'der', type: 'spki' });
  const top = children(asn1js.fromBER(bytes).result);
  const alg = children(priv ? top[1] : top[0]);
  const oidNode = alg[0];
  const oid = oidNode instanceof asn1js.ObjectIdentifier ? oidNode.valueBlock.toString() : '';
  const params = children(alg[1]);
  const container = priv ? top[2] : top[1];
  let inner: ArrayBuffer;
  if (priv && container instanceof asn1js.OctetString)
    inner = container.valueBlock.valueHexView.slice().buffer;
  else if (!priv && container instanceof asn1js.BitString)
    inner = container.valueBlock.valueHexView.slice().buffer;
  else throw notSupported();
  const value = intBytes(asn1js.fromBER(inner).result);
  if (oid === OID_DSA) {
    return { oid, p: intBytes(params[0]), q: intBytes(params[1]), g: intBytes(params[2]), value };
  }
  if (oid === OID_DHX) {
    const j = params[3] instanceof asn1js.Integer ? { j: intBytes(params[3]) } : {};
    return { oid, p: intBytes(params[0]), g: intBytes(params[1]), q: intBytes(params[2]), ...j, value };
  }
  if (oid === OID_DH) return { oid, p: intBytes(params[0]), g: intBytes(params[1]), value };
  throw notSupported();
}

function dsaDhMaterial(key: KeyObject, format: number): TtlvItem {
  const dsaFormat = format === F.TransparentDSAPrivateKey || format === F.TransparentDSAPublicKey;
  const kind: string | undefined = key.asymmetricKeyType;
  // node:crypto loads X9.42 DH keys without naming their type.
  if (dsaFormat ? kind !== 'dsa' : kind !== 'dh' && kind !== undefined) throw notSupported();
  const c = dsaDhComponents(key);
  if ((c.oid === OID_DSA) !== dsaFormat) throw notSupported();
  const big = (tag: number, v: Uint8Array) => bigInteger(tag, toBigIntegerBytes(v));
  const items: TtlvItem[] = [big(Tag.P, c.p)];
  if (c.q !== undefined) items.push(big(Tag.Q, c.q));
  items.push(big(Tag.G, c.g));
  if (c.j !== undefined) items.push(big(Tag.J, c.j));
  items.push(big(key.type === 'private' ? Tag.X : Tag.Y, c.value));
  return structure(Tag.KeyMaterial, items);
}
