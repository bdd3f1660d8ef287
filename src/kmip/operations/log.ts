/**
 * Log (KMIP 2.0 §6.1.29, 2.1 §6.1.30): a test operation; the client asks
 * the server to record a Log Message. The executor's audit already records
 * every operation, so the message is accepted and the response payload is
 * empty (BL-M-1-21).
 *
 * Errors: no Log Message → Invalid Message.
 */
import { KmipError } from '../errors.js';
import { Operation, Tag } from '../spec/index.js';
import { childText } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import type { OperationDefinition } from './types.js';

export const log: OperationDefinition = {
  operation: Operation.Log,
  since: '2.0',
  mutates: false,
  needsObject: false,
  handle(payload: TtlvStructure): TtlvItem[] {
    if (childText(payload, Tag.LogMessage) === undefined) {
      throw new KmipError('InvalidMessage', 'Log Message is required');
    }
    return [];
  },
};
