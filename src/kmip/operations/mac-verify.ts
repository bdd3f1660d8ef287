/**
 * MAC Verify (KMIP 1.2 §4.34, 1.4 §4.34, 2.1 §6.1.30): recomputes the MAC
 * of Data under a key whose Cryptographic Usage Mask has MAC Verify (the
 * algorithm is chosen as for MAC, mac.ts) and compares it with MAC Data in
 * constant time. A mismatch is not an error: Success with Validity
 * Indicator Invalid (CS-AC-M-5). Multi-part as MAC; MAC Data may come with
 * any request of the stream, usually the first (TC-STREAM-MAC-1).
 *
 * Response, in spec order: Unique Identifier, Validity Indicator (one-shot
 * or final), Correlation Value (stream still open).
 *
 * Errors (spec table): as MAC, except that Active, Deactivated and
 * Compromised keys may verify (from their Process Start Date), and Usage
 * Limits are not counted down (they limit protection, 1.4 §3.21).
 */
import { MacVerifyRequest, MacVerifyResponse } from '../payloads/crypto.js';
import { Operation, ValidityIndicator } from '../spec/index.js';
import { defineCryptoOperation } from './support/define.js';
import { continuesMac, MAC_VERIFY_USAGE, macMatches, macStep } from './support/macs.js';

export const macVerify = defineCryptoOperation({
  operation: Operation.MACVerify,
  since: '1.2',
  mutates: false,
  request: MacVerifyRequest,
  response: MacVerifyResponse,
  usage: MAC_VERIFY_USAGE,
  continues: continuesMac,
  async handle(req, ctx, target) {
    const step = await macStep(req, ctx, Operation.MACVerify, MAC_VERIFY_USAGE, target);
    const { stream } = step;
    if (!step.done) return { uniqueIdentifier: stream.id, correlationValue: step.cv };
    const valid = macMatches(stream.mac.digest(), stream.macData);
    return {
      uniqueIdentifier: stream.id,
      validityIndicator: valid ? ValidityIndicator.Valid : ValidityIndicator.Invalid,
    };
  },
});
