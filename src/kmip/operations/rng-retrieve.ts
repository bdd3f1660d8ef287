/**
 * RNG Retrieve (KMIP 1.2 §4.35, 2.1 RNG Retrieve): Data Length bytes from
 * the server's random number generator, node:crypto's randomBytes, i.e.
 * OpenSSL 3's CTR_DRBG (crypto/rng.ts describes it as the Random Number
 * Generator attribute).
 *
 * Response: Data.
 *
 * Errors: no Data Length → Invalid Message; a length below 1 or above
 * MAX_RNG_BYTES → Invalid Field (a bound, so that one request cannot make
 * the server allocate at will); a length the response has no room left for
 * (the smaller of the client's Maximum Response Size and the server's
 * limits.maxResponseBytes, less what earlier items of the batch answered) →
 * Response Too Large, before any random byte is made.
 */
import { randomBytes } from 'node:crypto';
import { KmipError } from '../errors.js';
import { RngRetrieveRequest, RngRetrieveResponse } from '../payloads/crypto.js';
import { Operation } from '../spec/index.js';
import { defineOperation } from './support/define.js';

export const MAX_RNG_BYTES = 1024 * 1024;

/**
 * What the answer takes besides the random bytes, at the least: the Batch
 * Item, Operation, Result Status, Response Payload and Data headers (a Unique
 * Batch Item ID adds to it; the executor's own check is the exact one).
 */
const ANSWER_MINIMUM = 8 + 16 + 16 + 8 + 8;

export const rngRetrieve = defineOperation({
  operation: Operation.RNGRetrieve,
  since: '1.2',
  mutates: false,
  request: RngRetrieveRequest,
  response: RngRetrieveResponse,
  handle(req, ctx) {
    const length = req.dataLength;
    if (length === undefined) throw new KmipError('InvalidMessage', 'Data Length is required');
    if (length < 1 || length > MAX_RNG_BYTES) {
      throw new KmipError('InvalidField', `Data Length must be 1 to ${MAX_RNG_BYTES} bytes`);
    }
    const left = ctx.responseBytesLeft;
    if (left !== undefined && ANSWER_MINIMUM + length + ((8 - (length % 8)) % 8) > left) {
      throw new KmipError(
        'ResponseTooLarge',
        `Data Length ${length} does not fit in the ${Math.max(0, left)} bytes the response has left (Maximum Response Size, limits.maxResponseBytes)`,
      );
    }
    return { data: randomBytes(length) };
  },
});
