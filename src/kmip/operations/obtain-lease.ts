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
import { KmipError } from '../errors.js';
import { findDate, findValue, type ModelAttribute } from '../model/attributes.js';
import { isArchived } from '../model/lifecycle.js';
import { Operation, State, Tag } from '../spec/index.js';
import { dateTime, interval } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { loadTarget, stateName, stateOf, uidItem, wrongState } from './common.js';
import type { OperationContext, OperationDefinition } from './types.js';

/** Lease granted when the object has no Lease Time attribute: one hour. */
export const DEFAULT_LEASE_SECONDS = 3600;

export function leaseTimeOf(attrs: readonly ModelAttribute[]): number {
  const v = findValue(attrs, Tag.LeaseTime);
  return v?.type === 'Interval' ? v.value : DEFAULT_LEASE_SECONDS;
}

export const obtainLease: OperationDefinition = {
  operation: Operation.ObtainLease,
  since: '1.0',
  mutates: false,
  needsObject: true,
  allowedStates: ['Active'],
  async handle(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
    const obj = await loadTarget(payload, ctx);
    if (isArchived(obj.attributes)) {
      throw new KmipError('ObjectArchived', `object ${obj.id} is archived; Recover it first`);
    }
    const state = stateOf(obj);
    if (state !== State.Active) {
      throw wrongState(
        ctx,
        `object ${obj.id} is ${stateName(state)}; leases are given on Active objects only`,
      );
    }
    const changed = findDate(obj.attributes, Tag.LastChangeDate) ?? BigInt(Math.floor(obj.createdAt / 1000));
    return [
      uidItem(obj.id),
      interval(Tag.LeaseTime, leaseTimeOf(obj.attributes)),
      dateTime(Tag.LastChangeDate, changed),
    ];
  },
};
