/**
 * Sign (KMIP 1.2 §4.31, 1.4 §4.32, 2.1 §6.1.51): signs Data, or Digested
 * Data the client already hashed, with a Private Key whose Cryptographic
 * Usage Mask has Sign; returns Signature Data. Multi-part (1.3+): Init
 * Indicator opens a stream answered with a Correlation Value, later parts
 * carry it back, Final Indicator returns the signature (TC-STREAM-SIGN-1).
 *
 * The scheme comes from the request's Cryptographic Parameters, else the
 * key's Cryptographic Parameters attribute: Digital Signature Algorithm, or
 * Hashing Algorithm + Padding Method (PKCS1 v1.5 by default, PSS with Salt
 * Length = hash length by default and MGF1 over Mask Generator Hashing
 * Algorithm); SHA-256 by default (SHA-384 / SHA-512 on P-384 / P-521).
 * RSA PKCS#1 v1.5 over Digested Data prefixes DigestInfo only when the
 * Hashing Algorithm is known; otherwise the bytes are signed as given
 * (TC-RSA-SIGN-DIGESTEDDATA-1).
 *
 * Errors (spec table): not Active or past Protect Stop Date → Wrong Key
 * Lifecycle State (2.x) / Permission Denied (1.x) (CS-AC-M-8); no Sign in
 * the mask → Incompatible Cryptographic Usage Mask / Permission Denied; not
 * a Private Key → Invalid Object Type / Invalid Field; parameters that
 * contradict the key → Bad Cryptographic Parameters / Invalid Field;
 * unsupported ones → Unsupported Cryptographic Parameters / Feature Not
 * Supported; unknown Correlation Value → Invalid Correlation Value /
 * Invalid Field.
 */
import type { KeyObject } from 'node:crypto';
import {
  createMessageSigner,
  type MessageSigner,
  type SignatureKind,
  type SignatureScheme,
  signatureKind,
  signData,
  signDigest,
} from '../../crypto/signature.js';
import { KmipError } from '../errors.js';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  DigitalSignatureAlgorithm,
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
import { reason, uidItem } from './common.js';
import {
  asymmetricKeyOf,
  type CryptoTarget,
  type CryptoUsage,
  consumeUsage,
  loadCryptoObject,
  loadCryptoTarget,
} from './crypto-common.js';
import { linkedPublicKey, signInHsm } from './hsm-resident.js';
import type { OperationContext, OperationDefinition } from './types.js';

const H = HashingAlgorithm;
const HASH_NAMES: Readonly<Record<number, string>> = {
  [H.MD5]: 'md5',
  [H.SHA_1]: 'sha1',
  [H.SHA_224]: 'sha224',
  [H.SHA_256]: 'sha256',
  [H.SHA_384]: 'sha384',
  [H.SHA_512]: 'sha512',
  [H.SHA_512_224]: 'sha512-224',
  [H.SHA_512_256]: 'sha512-256',
  [H.SHA_3_224]: 'sha3-224',
  [H.SHA_3_256]: 'sha3-256',
  [H.SHA_3_384]: 'sha3-384',
  [H.SHA_3_512]: 'sha3-512',
};

interface DsaInfo {
  readonly kind: SignatureKind;
  /** undefined: RSASSA-PSS, whose digest is the Hashing Algorithm */
  readonly hash: string | undefined;
  readonly padding?: 'pkcs1' | 'pss';
}

const DSA = DigitalSignatureAlgorithm;
const DIGITAL_SIGNATURE_ALGORITHMS: Readonly<Record<number, DsaInfo>> = {
  [DSA.MD5WithRSAEncryption]: { kind: 'rsa', hash: 'md5', padding: 'pkcs1' },
  [DSA.SHA_1WithRSAEncryption]: { kind: 'rsa', hash: 'sha1', padding: 'pkcs1' },
  [DSA.SHA_224WithRSAEncryption]: { kind: 'rsa', hash: 'sha224', padding: 'pkcs1' },
  [DSA.SHA_256WithRSAEncryption]: { kind: 'rsa', hash: 'sha256', padding: 'pkcs1' },
  [DSA.SHA_384WithRSAEncryption]: { kind: 'rsa', hash: 'sha384', padding: 'pkcs1' },
  [DSA.SHA_512WithRSAEncryption]: { kind: 'rsa', hash: 'sha512', padding: 'pkcs1' },
  [DSA.SHA3_256WithRSAEncryption]: { kind: 'rsa', hash: 'sha3-256', padding: 'pkcs1' },
  [DSA.SHA3_384WithRSAEncryption]: { kind: 'rsa', hash: 'sha3-384', padding: 'pkcs1' },
  [DSA.SHA3_512WithRSAEncryption]: { kind: 'rsa', hash: 'sha3-512', padding: 'pkcs1' },
  [DSA.RSASSA_PSS]: { kind: 'rsa', hash: undefined, padding: 'pss' },
  [DSA.DSAWithSHA_1]: { kind: 'dsa', hash: 'sha1' },
  [DSA.DSAWithSHA224]: { kind: 'dsa', hash: 'sha224' },
  [DSA.DSAWithSHA256]: { kind: 'dsa', hash: 'sha256' },
  [DSA.ECDSAWithSHA_1]: { kind: 'ec', hash: 'sha1' },
  [DSA.ECDSAWithSHA224]: { kind: 'ec', hash: 'sha224' },
  [DSA.ECDSAWithSHA256]: { kind: 'ec', hash: 'sha256' },
  [DSA.ECDSAWithSHA384]: { kind: 'ec', hash: 'sha384' },
  [DSA.ECDSAWithSHA512]: { kind: 'ec', hash: 'sha512' },
};

const A = CryptographicAlgorithm;
const ALGORITHM_KINDS: Readonly<Record<number, SignatureKind>> = {
  [A.RSA]: 'rsa',
  [A.DSA]: 'dsa',
  [A.ECDSA]: 'ec',
  [A.EC]: 'ec',
  [A.Ed25519]: 'ed25519',
  [A.Ed448]: 'ed448',
};

/** The digest a signature uses when the parameters name none. */
function defaultHash(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === 'secp384r1' || curve === 'P-384') return 'sha384';
  if (curve === 'secp521r1' || curve === 'P-521') return 'sha512';
  return 'sha256';
}

export interface ResolvedScheme {
  /** the scheme with the default digest filled in, for messages */
  readonly message: SignatureScheme;
  /** the scheme with only the digest the parameters name, for Digested Data */
  readonly digest: SignatureScheme;
}

function unsupported(ctx: OperationContext, message: string): KmipError {
  return new KmipError(reason(ctx, 'UnsupportedCryptographicParameters', 'FeatureNotSupported'), message);
}

function hashName(ctx: OperationContext, value: number | undefined, what: string): string | undefined {
  if (value === undefined) return undefined;
  const name = HASH_NAMES[value];
  if (name === undefined) throw unsupported(ctx, `${what} ${value} is not supported for signatures`);
  return name;
}

/**
 * The signature scheme for `key` under `params`. The key's type decides the
 * kind of signature. Sign refuses request parameters naming another kind or
 * a padding that does not sign (`strict`). Otherwise (Signature Verify, or
 * parameters taken from the key's attribute, which may describe its
 * encryption use) the algorithm and padding they name for another kind are
 * ignored and their digest kept, as CS-AC-M-3-ECC-13 expects (it verifies an
 * ECDSA signature under RSA/PSS/SHA-256 parameters: Valid, and under
 * RSA/PSS/SHA-1: Invalid).
 */
export function resolveScheme(
  ctx: OperationContext,
  key: KeyObject,
  params: TtlvStructure | undefined,
  strict: boolean,
): ResolvedScheme {
  const kind = signatureKind(key);
  if (kind === undefined) {
    throw new KmipError(reason(ctx, 'InvalidObjectType', 'InvalidField'), 'the key cannot make signatures');
  }
  const mismatch = (named: SignatureKind, what: string): void => {
    if (strict && named !== kind) {
      throw new KmipError(
        reason(ctx, 'BadCryptographicParameters', 'InvalidField'),
        `the Cryptographic Parameters ask for ${what} but the key is ${kind.toUpperCase()}`,
      );
    }
  };
  const dsaValue = childEnum(params, Tag.DigitalSignatureAlgorithm);
  const dsa = dsaValue === undefined ? undefined : DIGITAL_SIGNATURE_ALGORITHMS[dsaValue];
  if (dsaValue !== undefined && dsa === undefined) {
    throw unsupported(ctx, `Digital Signature Algorithm ${dsaValue} is not supported`);
  }
  if (dsa !== undefined) mismatch(dsa.kind, 'another Digital Signature Algorithm');
  const alg = childEnum(params, Tag.CryptographicAlgorithm);
  if (alg !== undefined) {
    const named = ALGORITHM_KINDS[alg];
    if (named === undefined) {
      if (strict) throw unsupported(ctx, `Cryptographic Algorithm ${alg} does not sign`);
    } else {
      mismatch(named, 'another Cryptographic Algorithm');
    }
  }
  const explicitHash =
    dsa?.hash ?? hashName(ctx, childEnum(params, Tag.HashingAlgorithm), 'Hashing Algorithm');
  if (kind !== 'rsa') {
    const base: SignatureScheme = { hash: explicitHash };
    return { message: { hash: explicitHash ?? defaultHash(key) }, digest: base };
  }
  const paddingValue = childEnum(params, Tag.PaddingMethod);
  let padding: 'pkcs1' | 'pss' = dsa?.kind === 'rsa' && dsa.padding !== undefined ? dsa.padding : 'pkcs1';
  if (paddingValue === PaddingMethod.PSS) padding = 'pss';
  else if (paddingValue === PaddingMethod.PKCS1V1_5) padding = 'pkcs1';
  else if (paddingValue !== undefined && strict) {
    throw unsupported(ctx, `Padding Method ${paddingValue} is not a signature padding (PKCS1 v1.5 or PSS)`);
  }
  const generator = childEnum(params, Tag.MaskGenerator);
  if (generator !== undefined && generator !== MaskGenerator.MGF1) {
    throw unsupported(ctx, `Mask Generator ${generator} is not supported`);
  }
  const trailer = childInteger(params, Tag.TrailerField);
  if (trailer !== undefined && trailer !== 1) {
    throw unsupported(ctx, 'only the trailer field 0xBC (Trailer Field 1) is supported');
  }
  const saltLength = childInteger(params, Tag.SaltLength);
  if (saltLength !== undefined && saltLength < 0) {
    throw new KmipError(reason(ctx, 'BadCryptographicParameters', 'InvalidField'), 'Salt Length is negative');
  }
  const mgf1Hash = hashName(
    ctx,
    childEnum(params, Tag.MaskGeneratorHashingAlgorithm),
    'Mask Generator Hashing Algorithm',
  );
  const rest = {
    rsaPadding: padding,
    ...(padding === 'pss' && saltLength !== undefined ? { saltLength } : {}),
    ...(padding === 'pss' && mgf1Hash !== undefined ? { mgf1Hash } : {}),
  };
  return {
    message: { hash: explicitHash ?? defaultHash(key), ...rest },
    digest: { hash: explicitHash, ...rest },
  };
}

// ---------------------------------------------------------------------------
// Multi-part requests (KMIP 1.3 §4.31 ff.)

export interface StreamPart {
  readonly init: boolean;
  readonly final: boolean;
  readonly correlation: Uint8Array | undefined;
}

export function streamPart(payload: TtlvStructure): StreamPart {
  const init = childBoolean(payload, Tag.InitIndicator) === true;
  const final = childBoolean(payload, Tag.FinalIndicator) === true;
  const correlation = childBytes(payload, Tag.CorrelationValue);
  if (init && correlation !== undefined) {
    throw new KmipError('InvalidField', 'Init Indicator starts a stream; it takes no Correlation Value');
  }
  return { init, final, correlation };
}

export function streamOwner(ctx: OperationContext): string {
  return ctx.client.commonName ?? ctx.client.remoteAddress;
}

/** Data or Digested Data, never both. */
export function signedInput(payload: TtlvStructure): {
  data: Uint8Array | undefined;
  digested: Uint8Array | undefined;
} {
  const data = childBytes(payload, Tag.Data);
  const digested = childBytes(payload, Tag.DigestedData);
  if (data !== undefined && digested !== undefined) {
    throw new KmipError('InvalidField', 'give Data or Digested Data, not both');
  }
  return { data, digested };
}

/** The Unique Identifier of a later part, when given, must name the stream's key. */
export function checkStreamTarget(payload: TtlvStructure, id: string): void {
  const named = childText(payload, Tag.UniqueIdentifier);
  if (named !== undefined && named !== id) {
    throw new KmipError('InvalidField', 'the Correlation Value belongs to a stream of another key');
  }
}

export function correlationReason(ctx: OperationContext): string {
  return reason(ctx, 'InvalidCorrelationValue', 'InvalidField');
}

class SignStream {
  bytes = 0;
  constructor(
    readonly id: string,
    readonly signer: MessageSigner,
  ) {}
}

const SIGN_USAGE: CryptoUsage = { use: 'protect', mask: CryptographicUsageMask.Sign, what: 'sign' };

function checkPrivateKey(ctx: OperationContext, target: CryptoTarget): void {
  if (target.obj.objectType !== ObjectType.PrivateKey) {
    throw new KmipError(
      reason(ctx, 'InvalidObjectType', 'InvalidField'),
      `object ${target.obj.id} is not a Private Key; only a Private Key signs`,
    );
  }
}

function privateKeyOf(ctx: OperationContext, target: CryptoTarget): KeyObject {
  checkPrivateKey(ctx, target);
  return asymmetricKeyOf(target);
}

async function continueSign(
  payload: TtlvStructure,
  ctx: OperationContext,
  cv: Uint8Array,
  final: boolean,
): Promise<TtlvItem[]> {
  const streams = ctx.services.streams;
  const state = streams.resume(Operation.Sign, streamOwner(ctx), cv, final, correlationReason(ctx));
  if (!(state instanceof SignStream)) throw new KmipError(correlationReason(ctx), 'not a Sign stream');
  try {
    checkStreamTarget(payload, state.id);
    const { data, digested } = signedInput(payload);
    if (digested !== undefined) {
      throw new KmipError('InvalidField', 'Digested Data cannot be given in parts; send Data');
    }
    // The key must still allow signing (it may have been revoked since the stream began).
    const target = await loadCryptoObject(ctx, state.id, SIGN_USAGE, undefined);
    if (data !== undefined) {
      state.signer.update(data);
      state.bytes += data.length;
    }
    if (!final) return [uidItem(state.id), byteString(Tag.CorrelationValue, cv)];
    const signature = state.signer.sign();
    await consumeUsage(ctx, target.obj, state.bytes);
    return [uidItem(state.id), byteString(Tag.SignatureData, signature)];
  } catch (e: unknown) {
    streams.close(cv);
    throw e;
  }
}

export const sign: OperationDefinition = {
  operation: Operation.Sign,
  since: '1.2',
  mutates: false,
  needsObject: true,
  allowedStates: ['Active'],
  handle: async (payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> => {
    const part = streamPart(payload);
    if (part.correlation !== undefined) return continueSign(payload, ctx, part.correlation, part.final);
    const { data, digested } = signedInput(payload);
    const target = await loadCryptoTarget(payload, ctx, SIGN_USAGE);
    const fromRequest = childStruct(payload, Tag.CryptographicParameters) !== undefined;
    const id = target.obj.id;
    if (target.hsm !== undefined) {
      // A private key inside the HSM: the scheme is resolved on its public key, the token signs.
      checkPrivateKey(ctx, target);
      const pub = await linkedPublicKey(ctx, target.obj);
      const scheme = resolveScheme(ctx, pub, target.params, fromRequest);
      const kind = signatureKind(pub);
      if (part.init && !part.final) throw unsupported(ctx, 'a key inside the HSM signs in one part only');
      if (kind !== 'rsa' && kind !== 'ec')
        throw unsupported(ctx, 'a key inside the HSM signs with RSA or ECDSA');
      let signature: Uint8Array;
      if (digested !== undefined)
        signature = await signInHsm(ctx, target.hsm, kind, scheme.digest, { digested });
      else if (data !== undefined)
        signature = await signInHsm(ctx, target.hsm, kind, scheme.message, { data });
      else throw new KmipError('InvalidField', 'Sign needs Data or Digested Data');
      await consumeUsage(ctx, target.obj, (data ?? digested)?.length ?? 0);
      return [uidItem(id), byteString(Tag.SignatureData, signature)];
    }
    const key = privateKeyOf(ctx, target);
    const scheme = resolveScheme(ctx, key, target.params, fromRequest);
    if (part.init && !part.final) {
      if (digested !== undefined) {
        throw new KmipError('InvalidField', 'Digested Data cannot be given in parts; send Data');
      }
      const stream = new SignStream(id, createMessageSigner(key, scheme.message));
      if (data !== undefined) {
        stream.signer.update(data);
        stream.bytes += data.length;
      }
      const cv = ctx.services.streams.open(Operation.Sign, streamOwner(ctx), stream);
      return [uidItem(id), byteString(Tag.CorrelationValue, cv)];
    }
    let signature: Uint8Array;
    if (digested !== undefined) signature = signDigest(key, scheme.digest, digested);
    else if (data !== undefined) signature = signData(key, scheme.message, data);
    else throw new KmipError('InvalidField', 'Sign needs Data or Digested Data');
    await consumeUsage(ctx, target.obj, (data ?? digested)?.length ?? 0);
    return [uidItem(id), byteString(Tag.SignatureData, signature)];
  },
};
