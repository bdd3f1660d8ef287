/**
 * Log (KMIP 2.0 §6.1.29, 2.1 §6.1.30): a test operation; the client asks
 * the server to record a Log Message. The executor's audit already records
 * every operation, so the message is accepted and the response payload is
 * empty (BL-M-1-21).
 *
 * Errors: no Log Message → Invalid Message.
 */
import { KmipError } from '../errors.js';
import { EmptyPayload, LogRequest } from '../payloads/discovery.js';
import { Operation } from '../spec/index.js';
import { defineOperation } from './support/define.js';

export const log = defineOperation({
  operation: Operation.Log,
  since: '2.0',
  mutates: false,
  request: LogRequest,
  response: EmptyPayload,
  handle(req) {
    if (req.logMessage === undefined) throw new KmipError('InvalidMessage', 'Log Message is required');
    return {};
  },
});
