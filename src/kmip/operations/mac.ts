/**
 * MAC (KMIP 1.2 §4.33, 1.4 §4.33, 2.1 §6.1.29): the MAC of Data under a
 * Symmetric Key or Secret Data whose Cryptographic Usage Mask has MAC
 * Generate, with the algorithm of the request's Cryptographic Parameters,
 * else the key's Cryptographic Parameters attribute, else the key's
 * Cryptographic Algorithm (see macAlgorithm). Multi-part (1.3+): Init
 * Indicator opens a stream answered with a Correlation Value, later
 * requests carry it back, Final Indicator returns the MAC Data
 * (TC-STREAM-MAC-1).
 *
 * Response, in spec order: Unique Identifier, MAC Data (one-shot or final),
 * Correlation Value (stream still open).
 *
 * Errors (spec table): no such object → Item / Object Not Found; a key not
 * Active or past its Protect Stop Date → Wrong Key Lifecycle State (2.x) /
 * Permission Denied; no MAC Generate in the mask → Incompatible
 * Cryptographic Usage Mask / Permission Denied; Usage Limits used up →
 * Usage Limit Exceeded / Permission Denied; an object that is not a
 * Symmetric Key or Secret Data → Invalid Object Type / Illegal Operation;
 * an algorithm the server cannot MAC with → Unsupported Cryptographic
 * Parameters / Invalid Field; an unknown Correlation Value → Invalid
 * Correlation Value / Invalid Field.
 */
import { timingSafeEqual } from 'node:crypto';
import { createMac, type Digester, hashName, hmacHashName, type MacAlgorithm } from '../../crypto/digest.js';
import { KmipError } from '../errors.js';
import {
  BlockCipherMode,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  ObjectType,
  Operation,
  Tag,
} from '../spec/index.js';
import { byteString, childBoolean, childBytes, childEnum, childText } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { isDestroyed, notFound, reason, stateOf, uidItem } from './common.js';
import {
  type CryptoTarget,
  type CryptoUsage,
  checkUsableState,
  checkUsageMask,
  consumeUsage,
  loadCryptoTarget,
  secretBytes,
} from './crypto-common.js';
import type { OperationContext, OperationDefinition } from './types.js';

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

export function streamFields(payload: TtlvStructure): StreamFields {
  return {
    cv: childBytes(payload, Tag.CorrelationValue),
    init: childBoolean(payload, Tag.InitIndicator) === true,
    final: childBoolean(payload, Tag.FinalIndicator) === true,
  };
}

export function invalidCorrelation(ctx: OperationContext): string {
  return reason(ctx, 'InvalidCorrelationValue', 'InvalidField');
}

/** Result of one MAC or MAC Verify request: a finished MAC, or a stream left open. */
export type MacStep =
  | { readonly done: true; readonly stream: MacStream; readonly target: CryptoTarget | undefined }
  | { readonly done: false; readonly stream: MacStream; readonly cv: Uint8Array };

/**
 * Runs one request of MAC (`usage` = MAC_USAGE) or MAC Verify: one-shot,
 * the first of a stream, or a later one. A later request re-checks the
 * key's state and mask (it may have been revoked meanwhile) without
 * unsealing it again.
 */
export async function macStep(
  payload: TtlvStructure,
  ctx: OperationContext,
  operation: number,
  usage: CryptoUsage,
): Promise<MacStep> {
  const { cv, init, final } = streamFields(payload);
  const data = childBytes(payload, Tag.Data);
  const macData = childBytes(payload, Tag.MACData);
  if (cv !== undefined && !init) {
    const owner = streamOwner(ctx);
    const state = ctx.services.streams.resume(operation, owner, cv, final, invalidCorrelation(ctx));
    if (!(state instanceof MacStream)) throw new KmipError(invalidCorrelation(ctx), 'not a MAC stream');
    try {
      const id = childText(payload, Tag.UniqueIdentifier);
      if (id !== undefined && id !== state.id) {
        throw new KmipError(
          'InvalidField',
          'the Unique Identifier is not the key the stream was opened with',
        );
      }
      const obj = await ctx.services.objects.get(state.id);
      if (obj === undefined || obj.tombstoned) throw notFound(ctx, state.id);
      if (isDestroyed(stateOf(obj))) {
        throw new KmipError(reason(ctx, 'ObjectDestroyed', 'ItemNotFound'), `object ${obj.id} is destroyed`);
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
  if (data === undefined && !init) throw new KmipError('InvalidMessage', 'Data is required');
  const target = await loadCryptoTarget(payload, ctx, usage);
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

export const mac: OperationDefinition = {
  operation: Operation.MAC,
  since: '1.2',
  // Usage Limits are counted down after each MAC.
  mutates: true,
  needsObject: true,
  allowedStates: ['Active'],
  handle: async (payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> => {
    const step = await macStep(payload, ctx, Operation.MAC, MAC_USAGE);
    const { stream } = step;
    if (!step.done) return [uidItem(stream.id), byteString(Tag.CorrelationValue, step.cv)];
    const out = stream.mac.digest();
    const obj = step.target?.obj ?? (await ctx.services.objects.get(stream.id));
    if (obj !== undefined) await consumeUsage(ctx, obj, stream.bytes);
    return [uidItem(stream.id), byteString(Tag.MACData, out)];
  },
};
