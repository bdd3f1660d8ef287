/**
 * Check (KMIP 1.0 §4.9, 1.4 §4.10, 2.1 §6.1.4): would the object allow the
 * use the client describes? Each given item is compared with the object:
 * Cryptographic Usage Mask (every requested bit must be in the object's
 * mask), Usage Limits Count (no more than what is left of its Usage
 * Limits), Lease Time (no longer than the lease the server would grant,
 * obtain-lease.ts). Success echoes the Unique Identifier.
 *
 * Errors (spec table): a usage the object does not allow → Incompatible
 * Cryptographic Usage Mask (2.x mask) / Permission Denied; an archived
 * object → Object Archived; no such object → Item / Object Not Found.
 */
import { KmipError } from '../errors.js';
import { findInteger, findValue } from '../model/attributes.js';
import { isArchived } from '../model/lifecycle.js';
import { Operation, Tag } from '../spec/index.js';
import { childInteger, childInterval, childLongInteger } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { loadTarget, reason, uidItem } from './common.js';
import { leaseTimeOf } from './obtain-lease.js';
import type { OperationContext, OperationDefinition } from './types.js';

/** What remains of the object's Usage Limits, undefined when it has none. */
export function usageRemaining(attrs: Parameters<typeof findValue>[0]): bigint | undefined {
  const limits = findValue(attrs, Tag.UsageLimits);
  if (limits?.type !== 'Structure') return undefined;
  const count = limits.value.find((c) => c.tag === Tag.UsageLimitsCount);
  if (count?.type === 'LongInteger') return count.value;
  const total = limits.value.find((c) => c.tag === Tag.UsageLimitsTotal);
  return total?.type === 'LongInteger' ? total.value : undefined;
}

export const check: OperationDefinition = {
  operation: Operation.Check,
  since: '1.0',
  mutates: false,
  needsObject: true,
  handle: async (payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> => {
    const obj = await loadTarget(payload, ctx);
    if (isArchived(obj.attributes)) {
      throw new KmipError('ObjectArchived', `object ${obj.id} is archived; Recover it first`);
    }
    const mask = childInteger(payload, Tag.CryptographicUsageMask);
    if (mask !== undefined) {
      const allowed = findInteger(obj.attributes, Tag.CryptographicUsageMask) ?? 0;
      if ((allowed & mask) >>> 0 !== mask >>> 0) {
        throw new KmipError(
          reason(ctx, 'IncompatibleCryptographicUsageMask', 'PermissionDenied'),
          'Check Failed: the Cryptographic Usage Mask does not allow that use',
        );
      }
    }
    const count = childLongInteger(payload, Tag.UsageLimitsCount);
    const remaining = usageRemaining(obj.attributes);
    if (count !== undefined && remaining !== undefined && count > remaining) {
      throw new KmipError('PermissionDenied', `Check Failed: only ${remaining} uses are left`);
    }
    const lease = childInterval(payload, Tag.LeaseTime);
    if (lease !== undefined && lease > leaseTimeOf(obj.attributes)) {
      throw new KmipError(
        'PermissionDenied',
        `Check Failed: leases last at most ${leaseTimeOf(obj.attributes)} s`,
      );
    }
    return [uidItem(obj.id)];
  },
};
