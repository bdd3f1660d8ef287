/**
 * Encrypt (KMIP 1.2 §4.29, 1.4 §4.29, 2.1 §6.1.18): encrypts Data with a
 * Symmetric Key (AES, Triple DES, ChaCha20, ChaCha20-Poly1305) or a Public
 * Key / Certificate (RSA OAEP, PKCS#1 v1.5) the object's Cryptographic
 * Usage Mask allows to Encrypt. This file also holds what Decrypt shares:
 * reading Cryptographic Parameters into a cipher, and the multi-part
 * (1.3+) stream handling.
 *
 * Cryptographic Parameters: the request's, else the key's Cryptographic
 * Parameters attribute. With neither (MongoDB Enterprise sends only Unique
 * Identifier and Data), the server's default is AES-CBC with PKCS#5
 * padding and a random 16-byte IV returned as IV/Counter/Nonce; Decrypt
 * given Data and that IV reverses it. When parameters name a block cipher
 * mode but no Padding Method, there is no padding (CS-BC-M-1: ECB,
 * 16 bytes in, 16 out). A mode that needs an IV gets a random one when the
 * request has none (Random IV, or absent), and the response returns it.
 * Triple DES is refused unless the crypto.allowTripleDes option is on.
 *
 * Multi-part: Init Indicator starts a stream (answered with a Correlation
 * Value), later parts carry the Correlation Value, the last one Final
 * Indicator. Output is returned as the cipher produces it; a part that
 * produces nothing has no Data. Usage Limits are counted once, at the end.
 *
 * Errors (spec table and the CS-BC vectors): no such object → Item / Object
 * Not Found; not Active or past Protect Stop Date → Permission Denied (1.x)
 * / Wrong Key Lifecycle State (2.x); mask without Encrypt → Permission
 * Denied / Incompatible Cryptographic Usage Mask; unusable lengths (key,
 * IV, data without padding) → Invalid Field; a tag length GCM/CCM/Poly1305
 * do not allow → General Failure (CS-BC-M-GCM-1); unsupported algorithm or
 * mode → Feature Not Supported / Unsupported Cryptographic Parameters;
 * unknown Correlation Value → Invalid Field / Invalid Correlation Value.
 */
import type { KeyObject } from 'node:crypto';
import {
  CipherError,
  type CipherMode,
  type CipherPadding,
  type CipherSpec,
  defaultIvLength,
  encrypt as encryptOnce,
  needsIv,
  openPartCipher,
  type PartCipher,
  type RsaHash,
  type RsaParams,
  randomIv,
  rsaEncrypt,
  type SymmetricAlgorithm,
} from '../../crypto/cipher.js';
import type { HsmCipher } from '../../hsm/types.js';
import { KmipError } from '../errors.js';
import {
  BlockCipherMode,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  HashingAlgorithm,
  MaskGenerator,
  ObjectType,
  Operation,
  PaddingMethod,
  Tag,
} from '../spec/index.js';
import {
  byteString,
  childBoolean,
  childBytes,
  childEnum,
  childInteger,
  childStruct,
  childText,
} from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { reason, targetId, uidItem } from './common.js';
import {
  asymmetricKeyOf,
  type CryptoTarget,
  type CryptoUsage,
  consumeUsage,
  loadCryptoObject,
  secretBytes,
} from './crypto-common.js';
import { hsmFailure } from './hsm-resident.js';
import type { OperationContext, OperationDefinition } from './types.js';

export const ENCRYPT_USAGE: CryptoUsage = {
  use: 'protect',
  mask: CryptographicUsageMask.Encrypt,
  what: 'encrypt',
};

const EMPTY = new Uint8Array(0);

/** How a loaded key encrypts: a symmetric cipher spec (IV still open) or RSA. */
export type CipherPlan =
  | { readonly kind: 'symmetric'; readonly spec: Omit<CipherSpec, 'iv'>; readonly ivLength: number }
  | { readonly kind: 'rsa'; readonly key: KeyObject; readonly params: RsaParams };

const MODES: Readonly<Record<number, CipherMode>> = {
  [BlockCipherMode.ECB]: 'ecb',
  [BlockCipherMode.CBC]: 'cbc',
  [BlockCipherMode.CTR]: 'ctr',
  [BlockCipherMode.GCM]: 'gcm',
  [BlockCipherMode.CCM]: 'ccm',
  [BlockCipherMode.XTS]: 'xts',
  [BlockCipherMode.NISTKeyWrap]: 'kw',
  [BlockCipherMode.AESKeyWrapPadding]: 'kwp',
};

const HASHES: Readonly<Record<number, RsaHash>> = {
  [HashingAlgorithm.SHA_1]: 'sha1',
  [HashingAlgorithm.SHA_224]: 'sha224',
  [HashingAlgorithm.SHA_256]: 'sha256',
  [HashingAlgorithm.SHA_384]: 'sha384',
  [HashingAlgorithm.SHA_512]: 'sha512',
};

export function unsupported(ctx: OperationContext, message: string): KmipError {
  return new KmipError(reason(ctx, 'UnsupportedCryptographicParameters', 'FeatureNotSupported'), message);
}

/** A CipherError as the KMIP result the CS-BC vectors expect; anything else unchanged. */
export function asKmipError(ctx: OperationContext, e: unknown): unknown {
  if (!(e instanceof CipherError)) return e;
  switch (e.kind) {
    case 'missing-iv':
      // CS-BC-M-11/12/13 (1.x and 2.x alike): Decrypt without the IV is Invalid Message.
      return new KmipError('InvalidMessage', e.message);
    case 'tag-length':
      return new KmipError('GeneralFailure', e.message);
    case 'crypto':
      return new KmipError('CryptographicFailure', e.message);
    case 'unsupported':
      return unsupported(ctx, e.message);
    default:
      return new KmipError('InvalidField', e.message);
  }
}

function hashOf(ctx: OperationContext, value: number | undefined, what: string): RsaHash | undefined {
  if (value === undefined) return undefined;
  const h = HASHES[value];
  if (h === undefined) throw unsupported(ctx, `${what} ${value} is not supported for RSA encryption`);
  return h;
}

function symmetricAlgorithm(ctx: OperationContext, alg: number | undefined): SymmetricAlgorithm {
  switch (alg) {
    case undefined:
    case CryptographicAlgorithm.AES:
      return 'aes';
    case CryptographicAlgorithm.DES3:
      if (ctx.services.policy?.allowTripleDes !== true) {
        throw unsupported(
          ctx,
          'Triple DES is disabled on this server (NIST SP 800-131A); the crypto.allowTripleDes option enables it',
        );
      }
      return 'des3';
    case CryptographicAlgorithm.ChaCha20:
      return 'chacha20';
    case CryptographicAlgorithm.ChaCha20Poly1305:
      return 'chacha20-poly1305';
    default:
      throw unsupported(ctx, `Cryptographic Algorithm ${alg} cannot encrypt on this server`);
  }
}

/**
 * The cipher for `target` under its Cryptographic Parameters (see the
 * file comment for the defaults). Throws KmipError.
 */
export function planCipher(ctx: OperationContext, target: CryptoTarget): CipherPlan {
  const params = target.params;
  const algorithm = childEnum(params, Tag.CryptographicAlgorithm) ?? target.algorithm;
  const type = target.obj.objectType;
  if (type === ObjectType.PublicKey || type === ObjectType.PrivateKey || type === ObjectType.Certificate) {
    if (algorithm !== undefined && algorithm !== CryptographicAlgorithm.RSA) {
      throw unsupported(ctx, 'only RSA keys encrypt with asymmetric cryptography on this server');
    }
    const padding = childEnum(params, Tag.PaddingMethod) ?? PaddingMethod.OAEP;
    if (padding !== PaddingMethod.OAEP && padding !== PaddingMethod.PKCS1V1_5) {
      throw unsupported(ctx, 'RSA encryption takes Padding Method OAEP or PKCS1 v1.5');
    }
    const mgf = childEnum(params, Tag.MaskGenerator);
    if (mgf !== undefined && mgf !== MaskGenerator.MGF1) throw unsupported(ctx, 'only MGF1 is supported');
    let key: KeyObject;
    try {
      key = asymmetricKeyOf(target);
    } catch (e) {
      if (e instanceof KmipError) throw e;
      throw new KmipError('InvalidField', `object ${target.obj.id} holds no usable RSA key`);
    }
    return {
      kind: 'rsa',
      key,
      params: {
        padding: padding === PaddingMethod.OAEP ? 'oaep' : 'pkcs1',
        hash: hashOf(ctx, childEnum(params, Tag.HashingAlgorithm), 'Hashing Algorithm'),
        mgf1Hash: hashOf(
          ctx,
          childEnum(params, Tag.MaskGeneratorHashingAlgorithm),
          'Mask Generator Hashing Algorithm',
        ),
        label: childBytes(params, Tag.PSource),
      },
    };
  }
  if (type !== ObjectType.SymmetricKey) {
    throw new KmipError(
      reason(ctx, 'InvalidObjectType', 'IllegalOperation'),
      `object ${target.obj.id} is not a key that can encrypt`,
    );
  }
  const alg = symmetricAlgorithm(ctx, algorithm);
  const modeValue = childEnum(params, Tag.BlockCipherMode);
  let mode: CipherMode;
  if (alg === 'chacha20' || alg === 'chacha20-poly1305') {
    const want = alg === 'chacha20' ? undefined : BlockCipherMode.AEAD;
    if (modeValue !== undefined && modeValue !== want) {
      throw unsupported(
        ctx,
        `${alg === 'chacha20' ? 'ChaCha20' : 'ChaCha20-Poly1305'} takes no such Block Cipher Mode`,
      );
    }
    mode = alg === 'chacha20' ? 'stream' : 'aead';
  } else if (modeValue === undefined) {
    mode = 'cbc';
  } else {
    const m = MODES[modeValue];
    if (m === undefined) throw unsupported(ctx, `Block Cipher Mode ${modeValue} is not supported`);
    mode = m;
  }
  const paddingValue =
    childEnum(params, Tag.PaddingMethod) ??
    (modeValue === undefined ? PaddingMethod.PKCS5 : PaddingMethod.None);
  let padding: CipherPadding = 'none';
  if (mode === 'ecb' || mode === 'cbc') {
    if (paddingValue === PaddingMethod.PKCS5) padding = 'pkcs5';
    else if (paddingValue !== PaddingMethod.None) {
      throw unsupported(ctx, `Padding Method ${paddingValue} is not supported; use None or PKCS5`);
    }
  }
  const ivBits = childInteger(params, Tag.IVLength);
  if (ivBits !== undefined && (ivBits <= 0 || ivBits % 8 !== 0 || ivBits > 1024)) {
    throw new KmipError('InvalidField', `IV Length ${ivBits} is not a whole number of bytes up to 1024 bits`);
  }
  const spec = {
    algorithm: alg,
    mode,
    padding,
    // A key inside the HSM is used there (hsmCipher): no bytes here.
    key: target.hsm === undefined ? secretBytes(target) : EMPTY,
    tagLength: childInteger(params, Tag.TagLength),
  };
  return { kind: 'symmetric', spec, ivLength: ivBits === undefined ? defaultIvLength(spec) : ivBits / 8 };
}

/**
 * The PKCS#11 mechanism for a key inside the HSM (docs/hsm.md): AES-GCM
 * (CKM_AES_GCM), AES-CBC with PKCS#5 padding (CKM_AES_CBC_PAD) or without
 * (CKM_AES_CBC), AES-ECB without padding (CKM_AES_ECB); one part only.
 */
export function hsmCipher(ctx: OperationContext, spec: CipherSpec, streaming: boolean): HsmCipher {
  if (streaming) throw unsupported(ctx, 'a key inside the HSM encrypts and decrypts in one part only');
  if ((spec.mode === 'gcm' || spec.mode === 'cbc') && spec.iv === undefined) {
    // CS-BC-M-11/12/13: a missing IV is Invalid Message, as for keys in the store.
    throw new KmipError('InvalidMessage', 'the Block Cipher Mode needs an IV/Counter/Nonce');
  }
  if (spec.algorithm === 'aes') {
    if (spec.mode === 'gcm' && spec.iv !== undefined) {
      return { mode: 'gcm', iv: spec.iv, aad: spec.aad, tagBytes: spec.tagLength ?? 16 };
    }
    if (spec.mode === 'cbc' && spec.iv !== undefined) {
      if (spec.iv.length !== 16) throw new KmipError('InvalidField', 'AES-CBC takes a 16-byte IV');
      return { mode: 'cbc', iv: spec.iv, pad: spec.padding === 'pkcs5' };
    }
    if (spec.mode === 'ecb' && spec.padding === 'none') return { mode: 'ecb' };
  }
  throw unsupported(ctx, 'a key inside the HSM takes AES GCM, CBC (PKCS5 or no padding) or ECB (no padding)');
}

export function streamOwner(ctx: OperationContext): string {
  return ctx.client.commonName ?? ctx.client.remoteAddress;
}

/** What a multi-part Encrypt or Decrypt keeps between requests. */
export interface StreamState {
  readonly keyId: string;
  readonly cipher: PartCipher;
  bytes: number;
}

export interface PartRequest {
  readonly init: boolean;
  readonly final: boolean;
  readonly correlation: Uint8Array | undefined;
  readonly data: Uint8Array | undefined;
}

export function partRequest(payload: TtlvStructure): PartRequest {
  return {
    init: childBoolean(payload, Tag.InitIndicator) === true,
    final: childBoolean(payload, Tag.FinalIndicator) === true,
    correlation: childBytes(payload, Tag.CorrelationValue),
    data: childBytes(payload, Tag.Data),
  };
}

/** The stream a continuation part names, with its key re-checked for `usage`. */
export async function resumeStream(
  payload: TtlvStructure,
  ctx: OperationContext,
  operation: number,
  usage: CryptoUsage,
  part: PartRequest & { readonly correlation: Uint8Array },
): Promise<{ state: StreamState; target: CryptoTarget }> {
  const state = ctx.services.streams.resume(
    operation,
    streamOwner(ctx),
    part.correlation,
    part.final,
    reason(ctx, 'InvalidCorrelationValue', 'InvalidField'),
  ) as StreamState;
  try {
    const named = childText(payload, Tag.UniqueIdentifier);
    if (named !== undefined && named !== state.keyId) {
      throw new KmipError('InvalidField', 'the Correlation Value belongs to a stream on another key');
    }
    // The key is checked again on every part: a key revoked mid-stream stops it.
    const target = await loadCryptoObject(ctx, state.keyId, usage, undefined);
    return { state, target };
  } catch (e) {
    ctx.services.streams.close(part.correlation);
    throw e;
  }
}

/** Response items in spec order (1.4 §4.29 / 2.1 §6.1.18). */
export function responseItems(
  id: string,
  out: {
    data?: Uint8Array | undefined;
    iv?: Uint8Array | undefined;
    correlation?: Uint8Array | undefined;
    tag?: Uint8Array | undefined;
  },
): TtlvItem[] {
  const items: TtlvItem[] = [uidItem(id)];
  if (out.data !== undefined) items.push(byteString(Tag.Data, out.data));
  if (out.iv !== undefined) items.push(byteString(Tag.IVCounterNonce, out.iv));
  if (out.correlation !== undefined) items.push(byteString(Tag.CorrelationValue, out.correlation));
  if (out.tag !== undefined) items.push(byteString(Tag.AuthenticatedEncryptionTag, out.tag));
  return items;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return new Uint8Array(Buffer.concat([a, b]));
}

export function nonEmpty(b: Uint8Array): Uint8Array | undefined {
  return b.length > 0 ? b : undefined;
}

async function continueStream(
  payload: TtlvStructure,
  ctx: OperationContext,
  part: PartRequest & { readonly correlation: Uint8Array },
): Promise<TtlvItem[]> {
  const { state, target } = await resumeStream(payload, ctx, Operation.Encrypt, ENCRYPT_USAGE, part);
  try {
    const data = part.data ?? EMPTY;
    state.bytes += data.length;
    const out = state.cipher.update(data);
    if (!part.final) {
      return responseItems(state.keyId, { data: nonEmpty(out), correlation: part.correlation });
    }
    const last = state.cipher.final();
    await consumeUsage(ctx, target.obj, state.bytes);
    return responseItems(state.keyId, { data: nonEmpty(concat(out, last.data)), tag: last.tag });
  } catch (e) {
    ctx.services.streams.close(part.correlation);
    throw asKmipError(ctx, e);
  }
}

async function encryptHandler(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
  const part = partRequest(payload);
  if (part.correlation !== undefined && !part.init) {
    return continueStream(payload, ctx, { ...part, correlation: part.correlation });
  }
  const target = await loadCryptoObject(
    ctx,
    targetId(payload),
    ENCRYPT_USAGE,
    childStruct(payload, Tag.CryptographicParameters),
  );
  const plan = planCipher(ctx, target);
  const streaming = part.init && !part.final;
  if (part.data === undefined && !streaming) {
    throw new KmipError('InvalidMessage', 'Encrypt needs Data');
  }
  const data = part.data ?? EMPTY;
  try {
    if (plan.kind === 'rsa') {
      if (streaming)
        throw new CipherError('unsupported', 'RSA encryption cannot be used in a multi-part operation');
      const out = rsaEncrypt(plan.key, plan.params, data);
      await consumeUsage(ctx, target.obj, data.length);
      return responseItems(target.obj.id, { data: out });
    }
    const given = childBytes(payload, Tag.IVCounterNonce);
    const generated =
      given === undefined && needsIv(plan.spec) ? randomIv(plan.spec, plan.ivLength) : undefined;
    const spec: CipherSpec = {
      ...plan.spec,
      iv: needsIv(plan.spec) ? (given ?? generated) : undefined,
      aad: childBytes(payload, Tag.AuthenticatedEncryptionAdditionalData),
    };
    if (target.hsm !== undefined) {
      const mech = hsmCipher(ctx, spec, streaming);
      let out: { data: Uint8Array; tag?: Uint8Array };
      try {
        out = await target.hsm.service.encrypt(target.hsm.label, mech, data);
      } catch (e) {
        throw hsmFailure(e);
      }
      await consumeUsage(ctx, target.obj, data.length);
      return responseItems(target.obj.id, { data: out.data, iv: generated, tag: out.tag });
    }
    if (streaming) {
      const cipher = openPartCipher(spec, 'encrypt');
      const out = cipher.update(data);
      const state: StreamState = { keyId: target.obj.id, cipher, bytes: data.length };
      const correlation = ctx.services.streams.open(Operation.Encrypt, streamOwner(ctx), state);
      return responseItems(target.obj.id, { data: nonEmpty(out), iv: generated, correlation });
    }
    const out = encryptOnce(spec, data);
    await consumeUsage(ctx, target.obj, data.length);
    return responseItems(target.obj.id, { data: out.data, iv: generated, tag: out.tag });
  } catch (e) {
    throw asKmipError(ctx, e);
  }
}

export const encrypt: OperationDefinition = {
  operation: Operation.Encrypt,
  since: '1.2',
  mutates: true,
  needsObject: true,
  allowedStates: ['Active'],
  handle: encryptHandler,
};
