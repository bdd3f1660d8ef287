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
import { createDigester, type Digester } from '../../crypto/digest.js';
import { KmipError } from '../errors.js';
import { hashName, hashNameOfAlgorithm } from '../model/hash-names.js';
import { HashRequest, HashResponse } from '../payloads/crypto.js';
import { Operation, Tag } from '../spec/index.js';
import { childEnum } from '../ttlv/build.js';
import { reason } from './support/common.js';
import { defineOperation } from './support/define.js';
import { invalidCorrelation, streamFields, streamOwner } from './support/macs.js';
import type { OperationContext } from './types.js';

class HashStream {
  constructor(readonly digester: Digester) {}
}

function digesterFor(req: HashRequest, ctx: OperationContext): Digester {
  const params = req.cryptographicParameters;
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

export const hash = defineOperation({
  operation: Operation.Hash,
  since: '1.2',
  mutates: false,
  request: HashRequest,
  response: HashResponse,
  handle(req, ctx): HashResponse {
    const { cv, init, final } = streamFields(req);
    const { data } = req;
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
      return final ? { data: state.digester.digest() } : { correlationValue: cv };
    }
    if (data === undefined && !init) throw new KmipError('InvalidMessage', 'Data is required');
    const digester = digesterFor(req, ctx);
    if (data !== undefined) digester.update(data);
    if (!init || final) return { data: digester.digest() };
    const opened = ctx.services.streams.open(Operation.Hash, streamOwner(ctx), new HashStream(digester));
    return { correlationValue: opened };
  },
});
