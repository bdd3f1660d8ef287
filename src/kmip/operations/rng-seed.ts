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
import { RngSeedRequest, RngSeedResponse } from '../payloads/crypto.js';
import { Operation } from '../spec/index.js';
import { defineOperation } from './support/define.js';

export const rngSeed = defineOperation({
  operation: Operation.RNGSeed,
  since: '1.2',
  mutates: false,
  request: RngSeedRequest,
  response: RngSeedResponse,
  handle(req) {
    const { data } = req;
    if (data === undefined) throw new KmipError('InvalidMessage', 'Data is required');
    return { dataLength: data.length };
  },
});
