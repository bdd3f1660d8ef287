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
import { KmipError } from '../errors.js';
import { compareVersions, enumValueExistsIn, Operation, QueryFunction, Tag } from '../spec/index.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import type { OperationContext, OperationDefinition } from './types.js';

function capabilityInformation(): TtlvStructure {
  return {
    tag: Tag.CapabilityInformation,
    type: 'Structure',
    value: [
      { tag: Tag.StreamingCapability, type: 'Boolean', value: false },
      { tag: Tag.AsynchronousCapability, type: 'Boolean', value: false },
      { tag: Tag.AttestationCapability, type: 'Boolean', value: false },
      // The batch executor journals and puts back writes for Undo, and honours Continue.
      { tag: Tag.BatchUndoCapability, type: 'Boolean', value: true },
      { tag: Tag.BatchContinueCapability, type: 'Boolean', value: true },
    ],
  };
}

export const query: OperationDefinition = {
  operation: Operation.Query,
  since: '1.0',
  mutates: false,
  needsObject: false,
  handle(payload: TtlvStructure, ctx: OperationContext): TtlvItem[] {
    const asked = new Set<number>();
    for (const c of payload.value) {
      if (c.tag !== Tag.QueryFunction) continue;
      if (c.type !== 'Enumeration')
        throw new KmipError('InvalidMessage', 'Query Function must be an Enumeration');
      asked.add(c.value);
    }
    const out: TtlvItem[] = [];
    const s = ctx.server;
    if (asked.has(QueryFunction.QueryOperations)) {
      for (const op of s.operations) {
        // Discover Versions is answered in 1.0 messages too, but 1.0 has no
        // enumeration value for it, so it is only listed where it exists.
        if (
          compareVersions(op.since, ctx.version) <= 0 &&
          enumValueExistsIn('Operation', op.operation, ctx.version)
        ) {
          out.push({ tag: Tag.Operation, type: 'Enumeration', value: op.operation });
        }
      }
    }
    if (asked.has(QueryFunction.QueryObjects)) {
      for (const t of s.objectTypes) out.push({ tag: Tag.ObjectType, type: 'Enumeration', value: t });
    }
    if (asked.has(QueryFunction.QueryServerInformation)) {
      out.push({ tag: Tag.VendorIdentification, type: 'TextString', value: s.vendorIdentification });
      // Server Information is vendor-defined in 1.x; 2.x names its fields. The
      // 2.x fields are removed for 1.x requests by the version filter.
      out.push({
        tag: Tag.ServerInformation,
        type: 'Structure',
        value: [
          { tag: Tag.ServerName, type: 'TextString', value: s.productName },
          { tag: Tag.ServerVersion, type: 'TextString', value: s.productVersion },
          { tag: Tag.ProductName, type: 'TextString', value: s.productName },
        ],
      });
    }
    if (asked.has(QueryFunction.QueryCapabilities)) out.push(capabilityInformation());
    return out;
  },
};
