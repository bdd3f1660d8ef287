/**
 * Obtain Lease (KMIP 1.0 §4.13, 1.4 §4.14, 2.1 §6.1.31): a lease on an
 * Active object, for as long as its Lease Time attribute says (the server's
 * DEFAULT_LEASE_SECONDS when unset), with the object's Last Change Date so
 * that the client can tell whether its cached attributes are stale.
 *
 * Errors (spec table): the object is not Active (e.g. Compromised, TC-95)
 * → Permission Denied (1.x) / Wrong Key Lifecycle State (2.x); archived →
 * Object Archived.
 */
import { findDate } from '../model/attributes.js';
import { ObtainLeaseRequest, ObtainLeaseResponse } from '../payloads/objects.js';
import { Operation, Tag } from '../spec/index.js';
import { stateName } from './support/common.js';
import { defineObjectOperation } from './support/define.js';
import { leaseTimeOf } from './support/lease.js';

export const obtainLease = defineObjectOperation({
  operation: Operation.ObtainLease,
  since: '1.0',
  mutates: false,
  request: ObtainLeaseRequest,
  response: ObtainLeaseResponse,
  object: {
    online: true,
    states: ['Active'],
    stateMessage: (obj, state) =>
      `object ${obj.id} is ${stateName(state)}; leases are given on Active objects only`,
  },
  handle(_req, _ctx, { obj }) {
    const changed = findDate(obj.attributes, Tag.LastChangeDate) ?? BigInt(Math.floor(obj.createdAt / 1000));
    return {
      uniqueIdentifier: obj.id,
      leaseTime: leaseTimeOf(obj.attributes),
      lastChangeDate: changed,
    };
  },
});
