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
import { MacRequest, MacResponse } from '../payloads/crypto.js';
import { Operation } from '../spec/index.js';
import { defineCryptoOperation } from './support/define.js';
import { continuesMac, MAC_USAGE, macStep } from './support/macs.js';

export const mac = defineCryptoOperation({
  operation: Operation.MAC,
  since: '1.2',
  // Usage Limits are counted down after each MAC.
  mutates: true,
  request: MacRequest,
  response: MacResponse,
  usage: MAC_USAGE,
  continues: continuesMac,
  async handle(req, ctx, target, count) {
    const step = await macStep(req, ctx, Operation.MAC, MAC_USAGE, target);
    const { stream } = step;
    if (!step.done) return { uniqueIdentifier: stream.id, correlationValue: step.cv };
    const out = stream.mac.digest();
    const obj = step.target?.obj ?? (await ctx.services.objects.get(stream.id));
    if (obj !== undefined) count(obj, stream.bytes);
    return { uniqueIdentifier: stream.id, macData: out };
  },
});
