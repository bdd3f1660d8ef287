/**
 * Derive Key (KMIP 1.0 §4.6, 1.4 §4.6, 2.1 §6.1.12): the server derives a
 * Symmetric Key or Secret Data from one or two objects it holds and
 * registers the result as a new object, with the attributes the client gives
 * (1.x Template-Attribute and Templates, 2.x Attributes) as Create does.
 *
 * Base objects: at most two Unique Identifiers (1.4 §4.6). The first is the
 * derivation key (the password for PBKDF2, the private key for
 * AsymmetricKey); a second Symmetric Key or Secret Data supplies the
 * Derivation Data (the Salt for PBKDF2) when the request carries none. Each
 * must be Active with the Derive Key bit in its Cryptographic Usage Mask
 * (Key Agreement also allowed for AsymmetricKey). The ID Placeholder is not
 * used for the base objects (1.4 §4.6), and is set to the new object.
 *
 * Output: Cryptographic Length bits of the method's output, leftmost first
 * (TC-DERIVEKEY-1/2 truncate SHA-256 / HMAC-SHA-256 to 128 bits). Links:
 * Derivation Base Object on the new object, Derived Key on each base (1.4
 * §3.35). State: Pre-Active unless an Activation Date ≤ now is given.
 *
 * Errors: Object Type not Symmetric Key / Secret Data, no or more than two
 * identifiers, a missing Derivation Method, Derivation Parameters, Salt,
 * Iteration Count, Derivation Data, hash, Cryptographic Length (or
 * Algorithm for a key), or a length past what the method yields → Invalid
 * Field; AWS Signature Version 4 → Feature Not Supported; a base object
 * not Active → Wrong Key Lifecycle State (2.x) / Permission Denied (1.x);
 * without Derive Key in its mask → Incompatible Cryptographic Usage Mask
 * (2.x) / Permission Denied (1.x); the cryptography failing (mismatched
 * curves, bad key size) → Cryptographic Failure.
 */

import {
  type DeriveCipherMode,
  deriveAgreement,
  deriveEncrypt,
  deriveHash,
  deriveHkdf,
  deriveHmac,
  derivePbkdf2,
  deriveSp800108,
  digestLength,
  type Sp800108Mode,
} from '../../crypto/derive.js';
import type { MacAlgorithm } from '../../crypto/digest.js';
import { isKmipServerError, KmipError } from '../errors.js';
import { findEnum, findInteger } from '../model/attributes.js';
import { hashName, hmacHashName } from '../model/hash-names.js';
import { newObjectAttributes } from '../model/lifecycle.js';
import type { ManagedObject } from '../model/object.js';
import { DeriveKeyRequest, DeriveKeyResponse } from '../payloads/create.js';
import type { PayloadOf } from '../payloads/schema.js';
import {
  BlockCipherMode,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  DerivationMethod,
  enumNameOf,
  KeyFormatType,
  LinkType,
  ObjectType,
  Operation,
  PaddingMethod,
  SecretDataType,
  Tag,
} from '../spec/index.js';
import {
  byteString,
  childBytes,
  childEnum,
  childInteger,
  childStruct,
  enumeration,
  structure,
} from '../ttlv/build.js';
import type { TtlvStructure } from '../ttlv/types.js';
import { checkNameUnique, requestedAttributes } from './support/common.js';
import {
  asymmetricKeyOf,
  type CryptoTarget,
  type CryptoUsage,
  consumeUsage,
  loadCryptoObject,
  secretBytes,
} from './support/crypto-common.js';
import { defineOperation } from './support/define.js';
import { withLink } from './support/key-pairs.js';
import { generateSymmetricKey, symmetricKeyContent } from './support/symmetric-keys.js';

const M = DerivationMethod;
const A = CryptographicAlgorithm;

/** Iteration Counts above this would hold a thread-pool thread for minutes. */
const MAX_PBKDF2_ITERATIONS = 10_000_000;

const SP800_108: ReadonlyMap<number, Sp800108Mode> = new Map([
  [M.NIST800_108_C, 'counter'],
  [M.NIST800_108_F, 'feedback'],
  [M.NIST800_108_DPI, 'double-pipeline'],
]);

const MODES: ReadonlyMap<number, DeriveCipherMode> = new Map([
  [BlockCipherMode.ECB, 'ecb'],
  [BlockCipherMode.CBC, 'cbc'],
  [BlockCipherMode.CFB, 'cfb'],
  [BlockCipherMode.OFB, 'ofb'],
  [BlockCipherMode.CTR, 'ctr'],
]);

function invalid(message: string): KmipError {
  return new KmipError('InvalidField', message);
}

function methodName(method: number): string {
  return enumNameOf('DerivationMethod', method) ?? String(method);
}

/** What the request asks for, read before any object is loaded. */
interface DeriveRequest {
  readonly objectType: number;
  readonly ids: readonly string[];
  readonly method: number;
  readonly params: TtlvStructure;
  /** Cryptographic Parameters inside Derivation Parameters */
  readonly cryptoParams: TtlvStructure | undefined;
}

function readRequest(req: PayloadOf<typeof DeriveKeyRequest>): DeriveRequest {
  const objectType = req.objectType;
  if (objectType !== ObjectType.SymmetricKey && objectType !== ObjectType.SecretData) {
    throw invalid('Derive Key makes a Symmetric Key or Secret Data only');
  }
  const ids = req.uniqueIdentifiers ?? [];
  if (ids.length === 0) throw invalid('Derive Key needs the Unique Identifier of its base object');
  if (ids.length > 2) throw invalid('Derive Key takes at most two base objects');
  const method = req.derivationMethod;
  if (method === undefined) throw invalid('Derivation Method is required');
  const params = req.derivationParameters;
  if (params === undefined) throw invalid('Derivation Parameters is required');
  return { objectType, ids, method, params, cryptoParams: childStruct(params, Tag.CryptographicParameters) };
}

/** The number of bytes to derive for the new object; validates algorithm and length as Create does. */
function outputBytes(objectType: number, algorithm: number | undefined, length: number | undefined): number {
  if (length === undefined) throw invalid('Cryptographic Length of the derived object is required');
  if (objectType === ObjectType.SymmetricKey) {
    // Create's size rules (AES 128/192/256, 2- and 3-key Triple DES…); the
    // random bytes it makes are only measured.
    const probe = generateSymmetricKey(algorithm, length);
    const n = probe.length;
    probe.fill(0);
    return n;
  }
  if (length <= 0 || length % 8 !== 0) {
    throw invalid('Cryptographic Length of derived Secret Data must be a positive multiple of 8 bits');
  }
  return length / 8;
}

/** The digest to use: the Hashing Algorithm given, else the HMAC key's own, else `fallback`. */
function digestFor(target: CryptoTarget, fallback: string | undefined, method: number): string {
  const ha = childEnum(target.params, Tag.HashingAlgorithm);
  if (ha !== undefined) {
    const name = hashName(ha);
    if (name === undefined) {
      const label = enumNameOf('HashingAlgorithm', ha) ?? String(ha);
      throw new KmipError('CryptographicFailure', `Hashing Algorithm ${label} is not supported`);
    }
    return name;
  }
  const own = target.algorithm === undefined ? undefined : hmacHashName(target.algorithm);
  const name = own ?? fallback;
  if (name === undefined) {
    throw invalid(`${methodName(method)} needs a Hashing Algorithm in the Cryptographic Parameters`);
  }
  return name;
}

function cipherOf(algorithm: number | undefined): 'aes' | 'des3' | undefined {
  if (algorithm === A.AES) return 'aes';
  if (algorithm === A.DES3) return 'des3';
  return undefined;
}

/** SP 800-108 PRF: HMAC when a hash is named (or the key is an HMAC key), CMAC for AES / Triple DES. */
function prfFor(target: CryptoTarget, method: number): MacAlgorithm {
  const p = target.params;
  const cmacAsked = childEnum(p, Tag.BlockCipherMode) === BlockCipherMode.CMAC;
  const paramAlgorithm = childEnum(p, Tag.CryptographicAlgorithm);
  if (
    !cmacAsked &&
    (childEnum(p, Tag.HashingAlgorithm) !== undefined || hmacOf(target) || paramAlgorithm === undefined)
  ) {
    return { kind: 'hmac', hash: digestFor(target, undefined, method) };
  }
  const cipher = cipherOf(paramAlgorithm ?? target.algorithm);
  if (cipher === undefined) throw invalid(`${methodName(method)} with CMAC needs an AES or Triple DES key`);
  return { kind: 'cmac', cipher };
}

function hmacOf(target: CryptoTarget): boolean {
  return target.algorithm !== undefined && hmacHashName(target.algorithm) !== undefined;
}

/** The Derivation Data, or the second base object's bytes standing in for it. */
function dataOf(
  params: TtlvStructure,
  tag: number,
  second: CryptoTarget | undefined,
): Uint8Array | undefined {
  const given = childBytes(params, tag);
  if (given !== undefined && second !== undefined) {
    throw invalid('give the derivation input either in the request or as a second object, not both');
  }
  return given ?? (second === undefined ? undefined : secretBytes(second));
}

function requireData(data: Uint8Array | undefined, method: number): Uint8Array {
  if (data === undefined) throw invalid(`${methodName(method)} needs Derivation Data`);
  return data;
}

/** Runs the derivation; RangeErrors from node:crypto become Cryptographic Failure. */
async function derive(req: DeriveRequest, bases: readonly CryptoTarget[], bytes: number): Promise<Buffer> {
  const [first, second] = bases;
  if (first === undefined) throw invalid('Derive Key needs a base object');
  const { method, params } = req;
  try {
    switch (method) {
      case M.PBKDF2: {
        const salt = dataOf(params, Tag.Salt, second);
        if (salt === undefined) throw invalid('PBKDF2 needs a Salt');
        const iterations = childInteger(params, Tag.IterationCount);
        if (iterations === undefined || iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) {
          throw invalid(`PBKDF2 needs an Iteration Count from 1 to ${MAX_PBKDF2_ITERATIONS}`);
        }
        // KMIP's default PRF is HMAC-SHA-1 (PKCS #5 §A.2; TC-DERIVEKEY-3/4 send none).
        const hash = digestFor(first, 'sha1', method);
        return await derivePbkdf2(secretBytes(first), salt, iterations, bytes, hash);
      }
      case M.HASH:
        return deriveHash(
          digestFor(first, undefined, method),
          secretBytes(first),
          dataOf(params, Tag.DerivationData, second),
        );
      case M.HMAC: {
        const data = requireData(dataOf(params, Tag.DerivationData, second), method);
        return deriveHmac(digestFor(first, undefined, method), secretBytes(first), data);
      }
      case M.ENCRYPT:
        return encrypt(first, requireData(dataOf(params, Tag.DerivationData, second), method), params);
      case M.NIST800_108_C:
      case M.NIST800_108_F:
      case M.NIST800_108_DPI:
        return deriveSp800108({
          mode: SP800_108.get(method) ?? 'counter',
          prf: prfFor(first, method),
          key: secretBytes(first),
          fixed: requireData(dataOf(params, Tag.DerivationData, second), method),
          length: bytes,
          iv: childBytes(params, Tag.InitializationVector),
        });
      case M.HKDF: {
        const info = dataOf(params, Tag.DerivationData, second) ?? new Uint8Array(0);
        const hash = digestFor(first, undefined, method);
        if (bytes > 255 * digestLength(hash)) throw invalid('HKDF cannot yield that Cryptographic Length');
        const salt = childBytes(params, Tag.Salt) ?? new Uint8Array(0);
        return await deriveHkdf(hash, secretBytes(first), salt, info, bytes);
      }
      case M.AsymmetricKey:
        return agree(bases);
      case M.AWSSignatureVersion4:
        throw new KmipError(
          'FeatureNotSupported',
          'Derivation Method AWS Signature Version 4 is not supported',
        );
      default:
        throw invalid(`Derivation Method ${method} is not defined`);
    }
  } catch (e: unknown) {
    if (e instanceof RangeError) {
      throw new KmipError('CryptographicFailure', `${methodName(method)} derivation failed: ${e.message}`);
    }
    // OpenSSL refusing the keys (mismatched curves, bad sizes): its text stays out of the response.
    if (
      !isKmipServerError(e) &&
      e instanceof Error &&
      /^ERR_(OSSL|CRYPTO)/.test(String(Reflect.get(e, 'code')))
    ) {
      throw new KmipError('CryptographicFailure', `${methodName(method)} derivation failed`);
    }
    throw e;
  }
}

/** ENCRYPT: the Derivation Data under the base key, mode/padding from the Cryptographic Parameters. */
function encrypt(base: CryptoTarget, data: Uint8Array, params: TtlvStructure): Buffer {
  const p = base.params;
  const cipher = cipherOf(childEnum(p, Tag.CryptographicAlgorithm) ?? base.algorithm);
  if (cipher === undefined) throw invalid('ENCRYPT derivation needs an AES or Triple DES key');
  const modeValue = childEnum(p, Tag.BlockCipherMode) ?? BlockCipherMode.CBC;
  const mode = MODES.get(modeValue);
  if (mode === undefined) {
    const label = enumNameOf('BlockCipherMode', modeValue) ?? String(modeValue);
    throw new KmipError('FeatureNotSupported', `ENCRYPT derivation does not support ${label} mode`);
  }
  const padding = childEnum(p, Tag.PaddingMethod) ?? PaddingMethod.None;
  if (padding !== PaddingMethod.None && padding !== PaddingMethod.PKCS5) {
    throw new KmipError('FeatureNotSupported', 'ENCRYPT derivation pads with PKCS5 or not at all');
  }
  return deriveEncrypt({
    cipher,
    mode,
    key: secretBytes(base),
    iv: childBytes(params, Tag.InitializationVector),
    pad: padding === PaddingMethod.PKCS5,
    data,
  });
}

/** AsymmetricKey: (EC)DH between a Private Key and a Public Key (either order, TC-DERIVEKEY-6). */
function agree(bases: readonly CryptoTarget[]): Buffer {
  const priv = bases.find((b) => b.obj.objectType === ObjectType.PrivateKey);
  const pub = bases.find(
    (b) => b.obj.objectType === ObjectType.PublicKey || b.obj.objectType === ObjectType.Certificate,
  );
  if (bases.length !== 2 || priv === undefined || pub === undefined) {
    throw invalid('AsymmetricKey derivation needs one Private Key and one Public Key');
  }
  return deriveAgreement(asymmetricKeyOf(priv), asymmetricKeyOf(pub));
}

function secretDataContent(bytes: Uint8Array): TtlvStructure {
  return structure(Tag.SecretData, [
    enumeration(Tag.SecretDataType, SecretDataType.Seed),
    structure(Tag.KeyBlock, [
      enumeration(Tag.KeyFormatType, KeyFormatType.Opaque),
      structure(Tag.KeyValue, [byteString(Tag.KeyMaterial, bytes)]),
    ]),
  ]);
}

// The base objects are never taken from the ID Placeholder (1.4 §4.6): not an object operation.
export const deriveKey = defineOperation({
  operation: Operation.DeriveKey,
  since: '1.0',
  mutates: true,
  request: DeriveKeyRequest,
  response: DeriveKeyResponse,
  async handle(payload, ctx) {
    const req = readRequest(payload);
    let attrs = await requestedAttributes(ctx, payload);
    await checkNameUnique(ctx, attrs, undefined);
    const algorithm = findEnum(attrs, Tag.CryptographicAlgorithm);
    const length = findInteger(attrs, Tag.CryptographicLength);
    const bytes = outputBytes(req.objectType, algorithm, length);

    const mask =
      req.method === M.AsymmetricKey
        ? CryptographicUsageMask.DeriveKey | CryptographicUsageMask.KeyAgreement
        : CryptographicUsageMask.DeriveKey;
    const usage: CryptoUsage = { use: 'protect', mask, what: 'derive keys' };
    const bases: CryptoTarget[] = [];
    for (const id of req.ids) bases.push(await loadCryptoObject(ctx, id, usage, req.cryptoParams));

    const output = await derive(req, bases, bytes);
    try {
      if (output.length < bytes) {
        throw invalid(
          `${methodName(req.method)} yields ${output.length * 8} bits, less than the ${length ?? 0} asked for`,
        );
      }
      const material = output.subarray(0, bytes);
      const content =
        req.objectType === ObjectType.SymmetricKey
          ? symmetricKeyContent(material, algorithm ?? 0, length ?? 0)
          : secretDataContent(material);
      for (const id of req.ids) attrs = withLink(attrs, LinkType.DerivationBaseObjectLink, id);
      const id = ctx.services.objects.newId();
      // The derived key and its bases' Derived Key Links: one atomic write.
      await ctx.services.objects.writeTogether(
        [
          {
            id,
            objectType: req.objectType,
            attributes: newObjectAttributes({
              objectType: req.objectType,
              attributes: attrs,
              content,
              now: ctx.services.clock(),
              generated: true,
            }),
            content,
            owner: ctx.client.commonName,
          },
        ],
        [...new Set(bases.map((b) => b.obj.id))].map((baseId) => ({
          id: baseId,
          mutate: (cur: ManagedObject) => ({
            attributes: withLink(cur.attributes, LinkType.DerivedKeyLink, id),
          }),
        })),
      );
      for (const base of bases) await consumeUsage(ctx, base.obj);
      ctx.idPlaceholder = id;
      return { uniqueIdentifier: id };
    } finally {
      output.fill(0);
    }
  },
});
