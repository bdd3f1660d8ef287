/**
 * What Sign and Signature Verify share: resolving the signature scheme from
 * Cryptographic Parameters and the key, the signed input (data or digested
 * data), and multi-part streams (operations/sign.ts documents the errors).
 */
import type { KeyObject } from 'node:crypto';
import {
  SIGNATURE_HASHES,
  type SignatureKind,
  type SignatureScheme,
  signatureKind,
} from '../../../crypto/signature.js';
import { KmipError, type ResultReasonName } from '../../errors.js';
import { hashNameOf } from '../../model/hash-names.js';
import type { MultiPartRequest } from '../../payloads/crypto.js';
import {
  CryptographicAlgorithm,
  DigitalSignatureAlgorithm,
  MaskGenerator,
  PaddingMethod,
  Tag,
} from '../../spec/index.js';
import { childEnum, childInteger } from '../../ttlv/build.js';
import type { TtlvStructure } from '../../ttlv/types.js';
import type { OperationContext } from '../types.js';

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

export const A = CryptographicAlgorithm;
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

export function unsupported(_ctx: OperationContext, message: string): KmipError {
  return new KmipError('UnsupportedCryptographicParameters', message);
}

function hashName(ctx: OperationContext, value: number | undefined, what: string): string | undefined {
  if (value === undefined) return undefined;
  const name = hashNameOf(value, SIGNATURE_HASHES);
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
    throw new KmipError('InvalidObjectType', 'the key cannot make signatures');
  }
  const mismatch = (named: SignatureKind, what: string): void => {
    if (strict && named !== kind) {
      throw new KmipError(
        'BadCryptographicParameters',
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
    throw new KmipError('BadCryptographicParameters', 'Salt Length is negative');
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

export function streamPart(req: MultiPartRequest): StreamPart {
  const init = req.initIndicator === true;
  const final = req.finalIndicator === true;
  const correlation = req.correlationValue;
  if (init && correlation !== undefined) {
    throw new KmipError('InvalidField', 'Init Indicator starts a stream; it takes no Correlation Value');
  }
  return { init, final, correlation };
}

export function streamOwner(ctx: OperationContext): string {
  return ctx.client.commonName ?? ctx.client.remoteAddress;
}

/** What Sign and Signature Verify sign or verify. */
export interface SignedInputRequest {
  readonly data?: Uint8Array;
  readonly digestedData?: Uint8Array;
}

/** Data or Digested Data, never both. */
export function signedInput(req: SignedInputRequest): {
  data: Uint8Array | undefined;
  digested: Uint8Array | undefined;
} {
  const { data, digestedData: digested } = req;
  if (data !== undefined && digested !== undefined) {
    throw new KmipError('InvalidField', 'give Data or Digested Data, not both');
  }
  return { data, digested };
}

/**
 * Whether a Sign or Signature Verify request continues a stream (it carries
 * a Correlation Value). The shape of the request is checked here, before
 * any key is resolved, as it always was: Init Indicator with a Correlation
 * Value, or a first request with both Data and Digested Data, is Invalid
 * Field whatever the key.
 */
export function continuesSigning(req: MultiPartRequest & SignedInputRequest): boolean {
  if (streamPart(req).correlation !== undefined) return true;
  signedInput(req);
  return false;
}

/** The Unique Identifier of a later part, when given, must name the stream's key. */
export function checkStreamTarget(req: { readonly uniqueIdentifier?: string }, id: string): void {
  const named = req.uniqueIdentifier;
  if (named !== undefined && named !== id) {
    throw new KmipError('InvalidField', 'the Correlation Value belongs to a stream of another key');
  }
}

export function correlationReason(_ctx: OperationContext): ResultReasonName {
  return 'InvalidCorrelationValue';
}
