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
import { Operation, Tag, ValidityIndicator } from '../spec/index.js';
import { byteString, enumeration } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { uidItem } from './common.js';
import { MAC_VERIFY_USAGE, macMatches, macStep } from './mac.js';
import type { OperationContext, OperationDefinition } from './types.js';

export const macVerify: OperationDefinition = {
  operation: Operation.MACVerify,
  since: '1.2',
  mutates: false,
  needsObject: true,
  allowedStates: ['Active', 'Deactivated', 'Compromised'],
  handle: async (payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> => {
    const step = await macStep(payload, ctx, Operation.MACVerify, MAC_VERIFY_USAGE);
    const { stream } = step;
    if (!step.done) return [uidItem(stream.id), byteString(Tag.CorrelationValue, step.cv)];
    const valid = macMatches(stream.mac.digest(), stream.macData);
    return [
      uidItem(stream.id),
      enumeration(Tag.ValidityIndicator, valid ? ValidityIndicator.Valid : ValidityIndicator.Invalid),
    ];
  },
};
