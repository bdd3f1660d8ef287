/**
 * Hash (KMIP 1.2 §4.37, 2.1 Hash operation): the digest of Data with
 * the Hashing Algorithm of the request's Cryptographic Parameters (or, 2.x,
 * a SHA3 Cryptographic Algorithm). No managed object is involved.
 * Multi-part (1.3+): Init Indicator opens a stream answered with a
 * Correlation Value, later requests carry it back, Final Indicator returns
 * the digest; the final request may carry no Data (TC-STREAM-HASH-3).
 *
 * Response, in spec order: Data (one-shot or final), Correlation Value
 * (stream still open).
 *
 * Errors: no Cryptographic Parameters or no algorithm in them → Invalid
 * Message; an algorithm the server lacks → Unsupported Cryptographic
 * Parameters (2.x) / Invalid Field; an unknown Correlation Value → Invalid
 * Correlation Value / Invalid Field.
 */
import { createDigester, type Digester, hashName, hashNameOfAlgorithm } from '../../crypto/digest.js';
import { KmipError } from '../errors.js';
import { Operation, Tag } from '../spec/index.js';
import { byteString, childBytes, childEnum, childStruct } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { reason } from './common.js';
import { invalidCorrelation, streamFields, streamOwner } from './mac.js';
import type { OperationContext, OperationDefinition } from './types.js';

class HashStream {
  constructor(readonly digester: Digester) {}
}

function digesterFor(payload: TtlvStructure, ctx: OperationContext): Digester {
  const params = childStruct(payload, Tag.CryptographicParameters);
  if (params === undefined) throw new KmipError('InvalidMessage', 'Cryptographic Parameters are required');
  const hashing = childEnum(params, Tag.HashingAlgorithm);
  const algorithm = childEnum(params, Tag.CryptographicAlgorithm);
  if (hashing === undefined && algorithm === undefined) {
    throw new KmipError('InvalidMessage', 'Cryptographic Parameters name no Hashing Algorithm');
  }
  const name =
    hashing !== undefined
      ? hashName(hashing)
      : algorithm !== undefined
        ? hashNameOfAlgorithm(algorithm)
        : undefined;
  if (name === undefined) {
    throw new KmipError(
      reason(ctx, 'UnsupportedCryptographicParameters', 'InvalidField'),
      'the hashing algorithm is not supported',
    );
  }
  return createDigester(name);
}

export const hash: OperationDefinition = {
  operation: Operation.Hash,
  since: '1.2',
  mutates: false,
  needsObject: false,
  handle: (payload: TtlvStructure, ctx: OperationContext): TtlvItem[] => {
    const { cv, init, final } = streamFields(payload);
    const data = childBytes(payload, Tag.Data);
    if (cv !== undefined && !init) {
      const state = ctx.services.streams.resume(
        Operation.Hash,
        streamOwner(ctx),
        cv,
        final,
        invalidCorrelation(ctx),
      );
      if (!(state instanceof HashStream)) throw new KmipError(invalidCorrelation(ctx), 'not a Hash stream');
      if (data !== undefined) state.digester.update(data);
      return final ? [byteString(Tag.Data, state.digester.digest())] : [byteString(Tag.CorrelationValue, cv)];
    }
    if (data === undefined && !init) throw new KmipError('InvalidMessage', 'Data is required');
    const digester = digesterFor(payload, ctx);
    if (data !== undefined) digester.update(data);
    if (!init || final) return [byteString(Tag.Data, digester.digest())];
    const opened = ctx.services.streams.open(Operation.Hash, streamOwner(ctx), new HashStream(digester));
    return [byteString(Tag.CorrelationValue, opened)];
  },
};
