/**
 * RNG Seed (KMIP 1.2 §4.36, 2.1 RNG Seed): the client offers seed Data;
 * the response's Data Length is the amount the server accepted.
 *
 * What happens to the seed, honestly: nothing. The server's generator is
 * OpenSSL 3's CTR_DRBG, which seeds and reseeds itself from the operating
 * system's entropy source, and node:crypto offers no way to add input to it
 * (no RAND_add / RAND_seed binding). The seed is therefore acknowledged in
 * full, as CS-RNG-O-1 expects, and discarded; it can neither strengthen nor
 * weaken the generator, and accepting it from any client is harmless.
 *
 * Response: Data Length.
 *
 * Errors: no Data → Invalid Message.
 */
import { KmipError } from '../errors.js';
import { Operation, Tag } from '../spec/index.js';
import { childBytes, integer } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import type { OperationDefinition } from './types.js';

export const rngSeed: OperationDefinition = {
  operation: Operation.RNGSeed,
  since: '1.2',
  mutates: false,
  needsObject: false,
  handle: (payload: TtlvStructure): TtlvItem[] => {
    const data = childBytes(payload, Tag.Data);
    if (data === undefined) throw new KmipError('InvalidMessage', 'Data is required');
    return [integer(Tag.DataLength, data.length)];
  },
};
