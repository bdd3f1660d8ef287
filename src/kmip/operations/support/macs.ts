/**
 * What MAC, MAC Verify and Hash share: the MAC step (HMAC, CMAC) over a
 * loaded key, multi-part stream fields and owners, and the comparison of
 * MAC values (operations/mac.ts documents the behaviour and errors).
 */
import { timingSafeEqual } from 'node:crypto';
import { createMac, type Digester, type MacAlgorithm } from '../../../crypto/digest.js';
import { KmipError, type ResultReasonName } from '../../errors.js';
import { hashName, hmacHashName } from '../../model/hash-names.js';
import type { MacVerifyRequest, MultiPartRequest } from '../../payloads/crypto.js';
import {
  BlockCipherMode,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  ObjectType,
  Tag,
} from '../../spec/index.js';
import { childEnum } from '../../ttlv/build.js';
import type { OperationContext } from '../types.js';
import { isDestroyed, notFound, reason, stateOf } from './common.js';
import {
  type CryptoTarget,
  type CryptoUsage,
  checkUsableState,
  checkUsageMask,
  secretBytes,
} from './crypto-common.js';

const A = CryptographicAlgorithm;

export const MAC_USAGE: CryptoUsage = {
  use: 'protect',
  mask: CryptographicUsageMask.MACGenerate,
  what: 'MAC',
};
export const MAC_VERIFY_USAGE: CryptoUsage = {
  use: 'process',
  mask: CryptographicUsageMask.MACVerify,
  what: 'verify a MAC',
};

function unsupported(ctx: OperationContext, message: string): KmipError {
  return new KmipError(reason(ctx, 'UnsupportedCryptographicParameters', 'InvalidField'), message);
}

/**
 * The MAC algorithm for a key: an HMAC_* algorithm (parameters first, then
 * the key's own); CMAC for an AES or Triple DES key with Block Cipher Mode
 * CMAC or no mode (SP 800-38B is the MAC those keys define); else HMAC over
 * the parameters' Hashing Algorithm (a Secret Data has no algorithm).
 */
export function macAlgorithm(ctx: OperationContext, target: CryptoTarget): MacAlgorithm {
  const params = target.params;
  const algorithm = childEnum(params, Tag.CryptographicAlgorithm) ?? target.algorithm;
  const mode = childEnum(params, Tag.BlockCipherMode);
  const hashing = childEnum(params, Tag.HashingAlgorithm);
  if (algorithm !== undefined) {
    const hash = hmacHashName(algorithm);
    if (hash !== undefined) return { kind: 'hmac', hash };
  }
  const cipher = algorithm === A.AES ? 'aes' : algorithm === A.DES3 ? 'des3' : undefined;
  if (cipher !== undefined && mode === BlockCipherMode.CMAC) return { kind: 'cmac', cipher };
  if (hashing !== undefined) {
    const hash = hashName(hashing);
    if (hash === undefined) throw unsupported(ctx, 'the Hashing Algorithm is not supported');
    return { kind: 'hmac', hash };
  }
  if (cipher !== undefined && mode === undefined) return { kind: 'cmac', cipher };
  throw unsupported(ctx, 'no supported MAC algorithm: use HMAC_* or an AES key with CMAC');
}

/** What a multi-part MAC or MAC Verify keeps between requests. */
export class MacStream {
  bytes = 0;
  constructor(
    readonly id: string,
    readonly mac: Digester,
    /** MAC Verify: the MAC Data given so far (the last one wins) */
    public macData: Uint8Array | undefined,
  ) {}

  update(data: Uint8Array | undefined): void {
    if (data === undefined) return;
    this.mac.update(data);
    this.bytes += data.length;
  }
}

export function streamOwner(ctx: OperationContext): string {
  return ctx.client.commonName ?? ctx.client.remoteAddress;
}

/** Init / Final Indicators and Correlation Value of a multi-part request (KMIP 1.3 §4.33). */
export interface StreamFields {
  readonly cv: Uint8Array | undefined;
  readonly init: boolean;
  readonly final: boolean;
}

export function streamFields(req: MultiPartRequest): StreamFields {
  return {
    cv: req.correlationValue,
    init: req.initIndicator === true,
    final: req.finalIndicator === true,
  };
}

export function invalidCorrelation(_ctx: OperationContext): ResultReasonName {
  return 'InvalidCorrelationValue';
}

/** A MAC request (MAC Verify's adds MAC Data). */
export type MacStepRequest = Omit<MacVerifyRequest, 'macData'> & { readonly macData?: Uint8Array };

/**
 * Whether a MAC or MAC Verify request continues a stream (a Correlation
 * Value without Init Indicator): then no key is resolved. A request that
 * starts no stream needs Data, refused before any key is looked up.
 */
export function continuesMac(req: MacStepRequest): boolean {
  const { cv, init } = streamFields(req);
  if (cv !== undefined && !init) return true;
  if (req.data === undefined && !init) throw new KmipError('InvalidMessage', 'Data is required');
  return false;
}

/** Result of one MAC or MAC Verify request: a finished MAC, or a stream left open. */
export type MacStep =
  | { readonly done: true; readonly stream: MacStream; readonly target: CryptoTarget | undefined }
  | { readonly done: false; readonly stream: MacStream; readonly cv: Uint8Array };

/**
 * Runs one request of MAC (`usage` = MAC_USAGE) or MAC Verify: one-shot or
 * the first of a stream with the key the pipeline resolved (`target`), or
 * a later one (`target` undefined, continuesMac). A later request re-checks
 * the key's state and mask (it may have been revoked meanwhile) without
 * unsealing it again.
 */
export async function macStep(
  req: MacStepRequest,
  ctx: OperationContext,
  operation: number,
  usage: CryptoUsage,
  target: CryptoTarget | undefined,
): Promise<MacStep> {
  const { cv, init, final } = streamFields(req);
  const { data, macData } = req;
  if (target === undefined) {
    if (cv === undefined) throw new KmipError(invalidCorrelation(ctx), 'no Correlation Value');
    const owner = streamOwner(ctx);
    const state = ctx.services.streams.resume(operation, owner, cv, final, invalidCorrelation(ctx));
    if (!(state instanceof MacStream)) throw new KmipError(invalidCorrelation(ctx), 'not a MAC stream');
    try {
      const id = req.uniqueIdentifier;
      if (id !== undefined && id !== state.id) {
        throw new KmipError(
          'InvalidField',
          'the Unique Identifier is not the key the stream was opened with',
        );
      }
      const obj = await ctx.services.objects.get(state.id);
      if (obj === undefined || obj.tombstoned) throw notFound(ctx, state.id);
      if (isDestroyed(stateOf(obj))) {
        throw new KmipError('ObjectDestroyed', `object ${obj.id} is destroyed`);
      }
      checkUsableState(ctx, obj, usage.use, usage.what);
      checkUsageMask(ctx, obj, usage);
      state.update(data);
      if (macData !== undefined) state.macData = macData;
    } catch (e: unknown) {
      ctx.services.streams.close(cv);
      throw e;
    }
    return final ? { done: true, stream: state, target: undefined } : { done: false, stream: state, cv };
  }
  if (target.obj.objectType !== ObjectType.SymmetricKey && target.obj.objectType !== ObjectType.SecretData) {
    throw new KmipError(
      reason(ctx, 'InvalidObjectType', 'IllegalOperation'),
      `object ${target.obj.id} is not a Symmetric Key or Secret Data`,
    );
  }
  const alg = macAlgorithm(ctx, target);
  let mac: Digester;
  try {
    mac = createMac(alg, secretBytes(target));
  } catch (e: unknown) {
    if (e instanceof RangeError) throw new KmipError('InvalidField', e.message);
    throw e;
  }
  const stream = new MacStream(target.obj.id, mac, macData);
  stream.update(data);
  if (!init || final) return { done: true, stream, target };
  return { done: false, stream, cv: ctx.services.streams.open(operation, streamOwner(ctx), stream) };
}

/** MAC Data equal to the computed MAC, in constant time for equal lengths. */
export function macMatches(expected: Uint8Array, given: Uint8Array | undefined): boolean {
  return given !== undefined && given.length === expected.length && timingSafeEqual(expected, given);
}
