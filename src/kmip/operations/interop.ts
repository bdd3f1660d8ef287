/**
 * Interop (KMIP 2.0 §6.1.28): the test-harness markers Begin / End / Reset
 * of the OASIS interoperability vectors. The server keeps no per-test state,
 * so each is acknowledged with an empty payload.
 *
 * Errors (spec table): an Interop Function that is not an Enumeration →
 * Invalid Message.
 */
import { KmipError } from '../errors.js';
import { EmptyPayload, InteropRequest } from '../payloads/discovery.js';
import { Operation } from '../spec/index.js';
import { defineOperation } from './support/define.js';

export const interop = defineOperation({
  operation: Operation.Interop,
  since: '2.0',
  mutates: false,
  request: InteropRequest,
  response: EmptyPayload,
  handle(req) {
    if (req.interopFunction === undefined) {
      throw new KmipError('InvalidMessage', 'Interop Function is required');
    }
    return {};
  },
});
