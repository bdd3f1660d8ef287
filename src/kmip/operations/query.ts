/**
 * Query (KMIP 1.0 §4.25, 1.4 §4.25, 2.0 §6.1.37).
 *
 * Reports only what this server really implements, so the answer grows as
 * operations land. Response payload order follows the spec's table:
 * Operation*, Object Type*, Vendor Identification, Server Information,
 * Application Namespace*, Extension Information*, Attestation Type*,
 * RNG Parameters*, Profile Information*, Validation Information*,
 * Capability Information*, Client Registration Method*, Defaults Information,
 * Protection Storage Masks. Items the request's version lacks are removed by
 * the executor (pruneForVersion), not here.
 *
 * Errors: a Query Function that is not an Enumeration is Invalid Message;
 * unknown Query Function values are ignored (the spec lets the server answer
 * the subset it supports).
 */
import { type CapabilityInformation, QueryRequest, QueryResponse } from '../payloads/discovery.js';
import type { PayloadOf } from '../payloads/schema.js';
import { compareVersions, enumValueExistsIn, Operation, QueryFunction } from '../spec/index.js';
import { defineOperation } from './support/define.js';

const CAPABILITIES: PayloadOf<typeof CapabilityInformation> = {
  streamingCapability: false,
  asynchronousCapability: false,
  attestationCapability: false,
  // The batch executor journals and puts back writes for Undo, and honours Continue.
  batchUndoCapability: true,
  batchContinueCapability: true,
};

export const query = defineOperation({
  operation: Operation.Query,
  since: '1.0',
  mutates: false,
  request: QueryRequest,
  response: QueryResponse,
  handle(req, ctx) {
    const asked = new Set(req.queryFunctions ?? []);
    const s = ctx.server;
    const out: { -readonly [K in keyof QueryResponse]: QueryResponse[K] } = {};
    if (asked.has(QueryFunction.QueryOperations)) {
      // Discover Versions is answered in 1.0 messages too, but 1.0 has no
      // enumeration value for it, so it is only listed where it exists.
      out.operations = s.operations
        .filter(
          (op) =>
            compareVersions(op.since, ctx.version) <= 0 &&
            enumValueExistsIn('Operation', op.operation, ctx.version),
        )
        .map((op) => op.operation);
    }
    if (asked.has(QueryFunction.QueryObjects)) out.objectTypes = s.objectTypes;
    if (asked.has(QueryFunction.QueryServerInformation)) {
      out.vendorIdentification = s.vendorIdentification;
      out.serverInformation = {
        serverName: s.productName,
        serverVersion: s.productVersion,
        productName: s.productName,
      };
    }
    if (asked.has(QueryFunction.QueryCapabilities)) out.capabilityInformation = CAPABILITIES;
    return out;
  },
});
