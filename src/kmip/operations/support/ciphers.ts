/**
 * What Encrypt and Decrypt share: reading Cryptographic Parameters into a
 * cipher plan, the server's default parameters, the multi-part (1.3+)
 * stream handling and the mapping of cipher errors to KMIP reasons
 * (operations/encrypt.ts documents the behaviour and the error table).
 */
import type { KeyObject } from 'node:crypto';
import {
  CipherError,
  type CipherMode,
  type CipherPadding,
  type CipherSpec,
  defaultIvLength,
  type PartCipher,
  RSA_HASHES,
  type RsaHash,
  type RsaParams,
  type SymmetricAlgorithm,
} from '../../../crypto/cipher.js';
import type { HsmCipher } from '../../../hsm/types.js';
import { KmipError } from '../../errors.js';
import { hashNameOf } from '../../model/hash-names.js';
import type { MultiPartRequest } from '../../payloads/crypto.js';
import {
  BlockCipherMode,
  CryptographicAlgorithm,
  MaskGenerator,
  ObjectType,
  PaddingMethod,
  Tag,
} from '../../spec/index.js';
import { childBytes, childEnum, childInteger } from '../../ttlv/build.js';
import type { OperationContext } from '../types.js';
import { reason } from './common.js';
import {
  asymmetricKeyOf,
  type CryptoTarget,
  type CryptoUsage,
  loadCryptoObject,
  secretBytes,
} from './crypto-common.js';
export const EMPTY = new Uint8Array(0);

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

export function unsupported(_ctx: OperationContext, message: string): KmipError {
  return new KmipError('UnsupportedCryptographicParameters', message);
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
  const h = hashNameOf(value, RSA_HASHES);
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

/** A request's place in a stream, and its Data. */
export function partRequest(req: MultiPartRequest & { readonly data?: Uint8Array }): PartRequest {
  return {
    init: req.initIndicator === true,
    final: req.finalIndicator === true,
    correlation: req.correlationValue,
    data: req.data,
  };
}

/** A request that carries a Correlation Value and no Init Indicator continues a stream (no key is resolved). */
export function continuesStream(req: MultiPartRequest): boolean {
  return req.correlationValue !== undefined && req.initIndicator !== true;
}

/** The stream a continuation part names, with its key re-checked for `usage`. */
export async function resumeStream(
  req: { readonly uniqueIdentifier?: string },
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
    'InvalidCorrelationValue',
  ) as StreamState;
  try {
    const named = req.uniqueIdentifier;
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

export function nonEmpty(b: Uint8Array): Uint8Array | undefined {
  return b.length > 0 ? b : undefined;
}
