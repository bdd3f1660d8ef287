/**
 * Interop (KMIP 2.0 §6.1.28): the test-harness markers Begin / End / Reset
 * of the OASIS interoperability vectors. The server keeps no per-test state,
 * so each is acknowledged with an empty payload.
 *
 * Errors (spec table): an Interop Function that is not an Enumeration →
 * Invalid Message.
 */
import { KmipError } from '../errors.js';
import { Operation, Tag } from '../spec/index.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import type { OperationDefinition } from './types.js';

export const interop: OperationDefinition = {
  operation: Operation.Interop,
  since: '2.0',
  mutates: false,
  needsObject: false,
  handle(payload: TtlvStructure): TtlvItem[] {
    const fn = payload.value.find((c) => c.tag === Tag.InteropFunction);
    if (fn === undefined || fn.type !== 'Enumeration') {
      throw new KmipError('InvalidMessage', 'Interop Function is required');
    }
    return [];
  },
};
