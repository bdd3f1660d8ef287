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
 * the server allocate at will; Maximum Response Size still applies).
 */
import { randomBytes } from 'node:crypto';
import { KmipError } from '../errors.js';
import { Operation, Tag } from '../spec/index.js';
import { byteString, childInteger } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import type { OperationDefinition } from './types.js';

export const MAX_RNG_BYTES = 1024 * 1024;

export const rngRetrieve: OperationDefinition = {
  operation: Operation.RNGRetrieve,
  since: '1.2',
  mutates: false,
  needsObject: false,
  handle: (payload: TtlvStructure): TtlvItem[] => {
    const length = childInteger(payload, Tag.DataLength);
    if (length === undefined) throw new KmipError('InvalidMessage', 'Data Length is required');
    if (length < 1 || length > MAX_RNG_BYTES) {
      throw new KmipError('InvalidField', `Data Length must be 1 to ${MAX_RNG_BYTES} bytes`);
    }
    return [byteString(Tag.Data, randomBytes(length))];
  },
};
