/**
 * The keys of key wrapping (support/wrapping.ts): the wrapping key named by
 * Encryption Key Information (or MAC/Signature Key Information), checked for
 * state and usage, and the cipher it wraps and unwraps with. Its
 * Cryptographic Parameters come from the Key Information or else from the
 * wrapping key's own Cryptographic Parameters attribute:
 * - AES: Block Cipher Mode NIST Key Wrap (RFC 3394, the default), AES Key
 *   Wrap Padding (RFC 5649) or GCM (server-chosen 96-bit IV returned in IV/
 *   Counter/Nonce, the tag appended to the ciphertext);
 * - RSA public key (or a certificate's key): Padding Method OAEP (default,
 *   Hashing Algorithm SHA-1 by default) or PKCS#1 v1.5.
 */
import { createPublicKey, type KeyObject, randomBytes, X509Certificate } from 'node:crypto';
import { RSA_HASHES } from '../../../crypto/cipher.js';
import {
  aesGcmUnwrap,
  aesGcmWrap,
  aesKeyUnwrap,
  aesKeyUnwrapPad,
  aesKeyWrap,
  aesKeyWrapPad,
  type RsaWrapPadding,
  rsaUnwrap,
  rsaWrap,
} from '../../../crypto/wrap.js';
import { KmipError } from '../../errors.js';
import { findAll, findInteger, findValue, standardKey } from '../../model/attributes.js';
import { hashNameOf } from '../../model/hash-names.js';
import { keyFromBlock } from '../../model/key-formats.js';
import { isArchived } from '../../model/lifecycle.js';
import { keyBlockOf, type ManagedObject } from '../../model/object.js';
import {
  BlockCipherMode,
  CryptographicUsageMask,
  HashingAlgorithm,
  LinkType,
  ObjectType,
  PaddingMethod,
  State,
  Tag,
} from '../../spec/index.js';
import { child, childBytes, childEnum, childInteger, childStruct, childText } from '../../ttlv/build.js';
import type { TtlvStructure } from '../../ttlv/types.js';
import type { OperationContext } from '../types.js';
import { isDestroyed, stateOf, wrongState } from './common.js';

export type Direction = 'wrap' | 'unwrap';

export async function loadWrappingKey(
  ctx: OperationContext,
  info: TtlvStructure | undefined,
  direction: Direction,
  purpose: 'encrypt' | 'mac' = 'encrypt',
): Promise<{ obj: ManagedObject; params: TtlvStructure | undefined }> {
  const id = childText(info, Tag.UniqueIdentifier);
  if (info === undefined || id === undefined) {
    throw new KmipError(
      'InvalidField',
      `${purpose === 'mac' ? 'MAC/Signature' : 'Encryption'} Key Information with a Unique Identifier is required`,
    );
  }
  const obj = await ctx.services.objects.get(id);
  if (obj === undefined || obj.tombstoned) {
    throw new KmipError('WrappingObjectNotFound', `wrapping key ${id} does not exist`);
  }
  const state = stateOf(obj);
  if (isDestroyed(state) || obj.sealed === undefined) {
    throw new KmipError('WrappingObjectDestroyed', `wrapping key ${id} has been destroyed`);
  }
  if (isArchived(obj.attributes)) {
    throw new KmipError('WrappingObjectArchived', `wrapping key ${id} is archived`);
  }
  // Wrapping protects (needs an Active key); unwrapping processes, which a
  // Deactivated or Compromised key may still do (KMIP 1.4 §3.22 table).
  if (direction === 'wrap' ? state !== State.Active : state === State.PreActive) {
    throw wrongState(ctx, `wrapping key ${id} is not in a state that allows ${direction}ping`);
  }
  const mask = findInteger(obj.attributes, Tag.CryptographicUsageMask) ?? 0;
  // The test cases register KEKs with Wrap Key only and expect them to unwrap too (TC-WRAP-2).
  let needed =
    direction === 'wrap'
      ? CryptographicUsageMask.WrapKey
      : CryptographicUsageMask.WrapKey | CryptographicUsageMask.UnwrapKey;
  // A MAC/signature key may instead carry the usage of what it does to the Key Value.
  if (purpose === 'mac') {
    needed |=
      direction === 'wrap'
        ? CryptographicUsageMask.Sign | CryptographicUsageMask.MACGenerate
        : CryptographicUsageMask.Verify | CryptographicUsageMask.MACVerify | CryptographicUsageMask.Sign;
  }
  if ((mask & needed) === 0) {
    throw new KmipError(
      'IncompatibleCryptographicUsageMask',
      `wrapping key ${id} does not have the ${direction === 'wrap' ? 'Wrap' : 'Unwrap'} Key usage`,
    );
  }
  const given = childStruct(info, Tag.CryptographicParameters);
  const own = findValue(obj.attributes, Tag.CryptographicParameters);
  return { obj, params: given ?? (own?.type === 'Structure' ? own : undefined) };
}

export function symmetricBytes(content: TtlvStructure): Uint8Array | undefined {
  const kb = keyBlockOf(content);
  const kv = child(kb, Tag.KeyValue);
  if (kv?.type !== 'Structure') return undefined;
  const km = child(kv, Tag.KeyMaterial);
  if (km?.type === 'ByteString') return km.value;
  if (km?.type === 'Structure') return childBytes(km, Tag.Key);
  return undefined;
}

function rsaSettings(params: TtlvStructure | undefined): { padding: RsaWrapPadding; hash: string } {
  const pm = childEnum(params, Tag.PaddingMethod) ?? PaddingMethod.OAEP;
  if (pm !== PaddingMethod.OAEP && pm !== PaddingMethod.PKCS1V1_5) {
    throw new KmipError('CryptographicFailure', 'RSA key wrapping needs Padding Method OAEP or PKCS1 v1.5');
  }
  const ha = childEnum(params, Tag.HashingAlgorithm) ?? HashingAlgorithm.SHA_1;
  const hash = hashNameOf(ha, RSA_HASHES);
  const mgf = childEnum(params, Tag.MaskGeneratorHashingAlgorithm);
  if (hash === undefined || (pm === PaddingMethod.OAEP && mgf !== undefined && mgf !== ha)) {
    throw new KmipError(
      'FeatureNotSupported',
      'this Hashing Algorithm is not supported for RSA-OAEP key wrapping',
    );
  }
  return { padding: pm === PaddingMethod.OAEP ? 'oaep' : 'pkcs1', hash };
}

/** The node:crypto key of a Public Key, Private Key or Certificate object. */
export function asymmetricKey(obj: ManagedObject, content: TtlvStructure): KeyObject {
  if (obj.objectType === ObjectType.Certificate) {
    const value = childBytes(content, Tag.CertificateValue);
    if (value === undefined) throw new KmipError('InvalidField', 'the wrapping certificate has no value');
    return createPublicKey(new X509Certificate(value).publicKey.export({ format: 'der', type: 'spki' }));
  }
  const block = keyBlockOf(content);
  if (block === undefined) throw new KmipError('InvalidField', 'the wrapping key has no Key Block');
  return keyFromBlock(obj.objectType, block);
}

/** For unwrapping with a public key's pair: its Private Key Link target. */
async function privatePartner(ctx: OperationContext, obj: ManagedObject): Promise<ManagedObject> {
  if (obj.objectType === ObjectType.PrivateKey) return obj;
  for (const link of findAll(obj.attributes, standardKey(Tag.Link))) {
    if (childEnum(link.value, Tag.LinkType) !== LinkType.PrivateKeyLink) continue;
    const pid = childText(link.value, Tag.LinkedObjectIdentifier);
    const priv = pid === undefined ? undefined : await ctx.services.objects.get(pid);
    if (priv?.sealed !== undefined) return priv;
  }
  throw new KmipError('CryptographicFailure', `no private key is available to unwrap with ${obj.id}`);
}

export async function cipherFor(
  ctx: OperationContext,
  obj: ManagedObject,
  params: TtlvStructure | undefined,
  iv: Uint8Array | undefined,
  direction: Direction,
): Promise<{ run(data: Uint8Array): Uint8Array; iv: Uint8Array | undefined }> {
  if (obj.objectType === ObjectType.SymmetricKey) {
    const content = await ctx.services.objects.content(obj);
    const kek = content === undefined ? undefined : symmetricBytes(content);
    if (kek === undefined)
      throw new KmipError('InvalidField', `wrapping key ${obj.id} has no usable key material`);
    const mode = childEnum(params, Tag.BlockCipherMode) ?? BlockCipherMode.NISTKeyWrap;
    if (mode === BlockCipherMode.NISTKeyWrap) {
      return {
        run: (d) => (direction === 'wrap' ? aesKeyWrap(kek, d) : aesKeyUnwrap(kek, d)),
        iv: undefined,
      };
    }
    if (mode === BlockCipherMode.AESKeyWrapPadding) {
      return {
        run: (d) => (direction === 'wrap' ? aesKeyWrapPad(kek, d) : aesKeyUnwrapPad(kek, d)),
        iv: undefined,
      };
    }
    if (mode === BlockCipherMode.GCM) {
      const tagLen = childInteger(params, Tag.TagLength) ?? 16;
      const nonce = iv ?? (direction === 'wrap' ? new Uint8Array(randomBytes(12)) : undefined);
      if (nonce === undefined)
        throw new KmipError('MissingData', 'AES-GCM unwrapping needs the IV/Counter/Nonce');
      return {
        run: (d) =>
          direction === 'wrap' ? aesGcmWrap(kek, nonce, d, tagLen) : aesGcmUnwrap(kek, nonce, d, tagLen),
        iv: nonce,
      };
    }
    throw new KmipError(
      'FeatureNotSupported',
      'key wrapping supports NIST Key Wrap, AES Key Wrap Padding and GCM',
    );
  }
  if (
    obj.objectType === ObjectType.PublicKey ||
    obj.objectType === ObjectType.PrivateKey ||
    obj.objectType === ObjectType.Certificate
  ) {
    const { padding, hash } = rsaSettings(params);
    const holder = direction === 'wrap' ? obj : await privatePartner(ctx, obj);
    const content = await ctx.services.objects.content(holder);
    if (content === undefined) throw new KmipError('InvalidField', `key ${holder.id} has no key material`);
    const key = asymmetricKey(holder, content);
    if (key.asymmetricKeyType !== 'rsa') {
      throw new KmipError('FeatureNotSupported', 'only RSA keys can wrap asymmetrically');
    }
    if (direction === 'wrap' && key.type !== 'public') {
      throw new KmipError('InvalidField', 'RSA key wrapping uses the public key');
    }
    return {
      run: (d) => (direction === 'wrap' ? rsaWrap(key, padding, hash, d) : rsaUnwrap(key, padding, hash, d)),
      iv: undefined,
    };
  }
  throw new KmipError('InvalidField', `object ${obj.id} cannot be used as a wrapping key`);
}
