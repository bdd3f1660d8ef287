/**
 * The MAC/Signature of MAC/sign and Encrypt then MAC/sign wrapped Key Blocks
 * (KMIP 1.4 §2.1.5; support/wrapping.ts): producing it on wrap, checking it
 * on unwrap and on Register/Import.
 */
import { createPublicKey, timingSafeEqual } from 'node:crypto';
import { RSA_HASHES } from '../../../crypto/cipher.js';
import { cmac, hmac } from '../../../crypto/digest.js';
import { type SignatureScheme, signData, verifyData } from '../../../crypto/signature.js';
import { KmipError } from '../../errors.js';
import { findEnum } from '../../model/attributes.js';
import { hashNameOf, hmacHashName } from '../../model/hash-names.js';
import {
  CryptographicAlgorithm,
  EncodingOption,
  ObjectType,
  PaddingMethod,
  Tag,
  WrappingMethod,
} from '../../spec/index.js';
import { encodeTtlv } from '../../ttlv/binary.js';
import { child, childBytes, childEnum, childStruct } from '../../ttlv/build.js';
import type { TtlvStructure } from '../../ttlv/types.js';
import type { OperationContext } from '../types.js';
import { asymmetricKey, type Direction, loadWrappingKey, symmetricBytes } from './wrapping-keys.js';

/** The Wrapping Methods supported. */
export const SUPPORTED_METHODS: ReadonlySet<number> = new Set([
  WrappingMethod.Encrypt,
  WrappingMethod.MACSign,
  WrappingMethod.EncryptThenMACSign,
]);

interface MacSigner {
  produce(data: Uint8Array): Uint8Array;
  check(data: Uint8Array, mac: Uint8Array): boolean;
}

/**
 * The MAC or signature of MAC/Signature Key Information: a Symmetric Key
 * MACs (HMAC by its HMAC_* algorithm or the parameters' Hashing Algorithm,
 * SHA-256 by default; CMAC for an AES or 3DES key unless a Hashing
 * Algorithm is given); a Private Key signs (RSA PKCS#1 v1.5 or PSS by
 * Padding Method, ECDSA, DSA, EdDSA; SHA-256 by default) and its public
 * part, a Public Key or a Certificate verifies.
 */
export async function macSignerFor(
  ctx: OperationContext,
  info: TtlvStructure | undefined,
  direction: Direction,
): Promise<MacSigner> {
  const { obj, params } = await loadWrappingKey(ctx, info, direction, 'mac');
  const content = await ctx.services.objects.content(obj);
  if (content === undefined) throw new KmipError('InvalidField', `key ${obj.id} has no key material`);
  const hashParam = childEnum(params, Tag.HashingAlgorithm);
  const hash = hashParam === undefined ? 'sha256' : hashNameOf(hashParam, RSA_HASHES);
  if (hash === undefined)
    throw new KmipError('FeatureNotSupported', 'unsupported Hashing Algorithm for MAC/sign');
  if (obj.objectType === ObjectType.SymmetricKey) {
    const key = symmetricBytes(content);
    if (key === undefined)
      throw new KmipError('InvalidField', `MAC key ${obj.id} has no usable key material`);
    const alg =
      childEnum(params, Tag.CryptographicAlgorithm) ?? findEnum(obj.attributes, Tag.CryptographicAlgorithm);
    const hmacHash = alg === undefined ? undefined : hmacHashName(alg);
    const useCmac =
      hmacHash === undefined &&
      hashParam === undefined &&
      (alg === CryptographicAlgorithm.AES || alg === CryptographicAlgorithm.DES3);
    const produce = (data: Uint8Array): Uint8Array => {
      try {
        return new Uint8Array(
          useCmac
            ? cmac(alg === CryptographicAlgorithm.AES ? 'aes' : 'des3', key, data)
            : hmac(hmacHash ?? hash, key, data),
        );
      } catch {
        throw new KmipError('CryptographicFailure', 'the MAC key cannot compute this MAC');
      }
    };
    return {
      produce,
      check: (data, mac) => {
        const want = produce(data);
        return want.length === mac.length && timingSafeEqual(want, mac);
      },
    };
  }
  const key = asymmetricKey(obj, content);
  const pm = childEnum(params, Tag.PaddingMethod);
  const scheme: SignatureScheme = {
    hash,
    ...(pm === PaddingMethod.PSS ? { rsaPadding: 'pss' as const } : {}),
  };
  const verifier = key.type === 'private' ? createPublicKey(key) : key;
  return {
    produce: (data) => {
      if (key.type !== 'private') {
        throw new KmipError('InvalidField', 'MAC/sign wrapping with an asymmetric key needs the Private Key');
      }
      return signData(key, scheme, data);
    },
    check: (data, sig) => verifyData(verifier, scheme, data, sig),
  };
}

/**
 * Checks the MAC/Signature of a MAC/sign or Encrypt-then-MAC/sign wrapped
 * Key Block (Register and Import of such keys); Encrypt-only blocks pass.
 */
export async function verifyWrappedBlock(
  ctx: OperationContext,
  block: TtlvStructure | undefined,
): Promise<void> {
  const wd = childStruct(block, Tag.KeyWrappingData);
  if (block === undefined || wd === undefined) return;
  const method = childEnum(wd, Tag.WrappingMethod) ?? WrappingMethod.Encrypt;
  if (method === WrappingMethod.Encrypt) return;
  if (!SUPPORTED_METHODS.has(method)) {
    throw new KmipError('FeatureNotSupported', 'this Wrapping Method is not supported');
  }
  const macer = await macSignerFor(ctx, childStruct(wd, Tag.MACSignatureKeyInformation), 'unwrap');
  const mac = childBytes(wd, Tag.MACSignature);
  const covered = macCoveredBytes(block, wd, method);
  if (mac === undefined || covered === undefined || !macer.check(covered, mac)) {
    throw new KmipError('CryptographicFailure', 'the MAC/Signature of the wrapped key does not verify');
  }
}

/** The bytes a MAC/Signature covers: the wrapped bytes, or the clear Key Value as the Encoding Option says. */
function macCoveredBytes(block: TtlvStructure, wd: TtlvStructure, method: number): Uint8Array | undefined {
  const kv = child(block, Tag.KeyValue);
  if (method === WrappingMethod.EncryptThenMACSign) {
    return kv?.type === 'ByteString'
      ? kv.value
      : kv?.type === 'Structure'
        ? childBytes(kv, Tag.KeyMaterial)
        : undefined;
  }
  if (kv?.type !== 'Structure') return undefined;
  const encoding = childEnum(wd, Tag.EncodingOption) ?? EncodingOption.TTLVEncoding;
  return encoding === EncodingOption.NoEncoding
    ? childBytes(kv, Tag.KeyMaterial)
    : new Uint8Array(encodeTtlv(kv));
}
