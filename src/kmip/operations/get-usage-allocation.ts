/**
 * Get Usage Allocation (KMIP 1.0 §4.14, 1.4 §4.15, 2.1 §6.1.24): reserves
 * Usage Limits Count uses of an object with Usage Limits (KMIP 1.4 §3.21)
 * by lowering its Usage Limits Count.
 *
 * Errors (spec table): no Usage Limits Count in the request → Invalid
 * Message; the object has no Usage Limits, or fewer uses remain →
 * Permission Denied; not Active → Permission Denied (1.x) / Wrong Key
 * Lifecycle State (2.x); archived → Object Archived.
 */
import { KmipError } from '../errors.js';
import { findValue, setStandard } from '../model/attributes.js';
import { GetUsageAllocationRequest, GetUsageAllocationResponse } from '../payloads/objects.js';
import { Operation, Tag } from '../spec/index.js';
import { longInteger, structure } from '../ttlv/build.js';
import { defineObjectOperation } from './support/define.js';
import { usageRemaining } from './support/usage.js';

export const getUsageAllocation = defineObjectOperation({
  operation: Operation.GetUsageAllocation,
  since: '1.0',
  mutates: true,
  request: GetUsageAllocationRequest,
  response: GetUsageAllocationResponse,
  object: { online: true, states: ['Active'] },
  async handle(req, _ctx, target) {
    const id = target.obj.id;
    const wanted = req.usageLimitsCount;
    if (wanted === undefined || wanted < 0n) {
      throw new KmipError('InvalidMessage', 'Usage Limits Count (a non-negative Long Integer) is required');
    }
    // The object rule (on-line, Active) is checked again on the current version inside the update.
    await target.update((obj) => {
      const limits = findValue(obj.attributes, Tag.UsageLimits);
      const remaining = usageRemaining(obj.attributes);
      if (limits?.type !== 'Structure' || remaining === undefined) {
        throw new KmipError('PermissionDenied', `object ${id} has no Usage Limits to allocate from`);
      }
      if (wanted > remaining) {
        throw new KmipError('PermissionDenied', `only ${remaining} uses of object ${id} are left`);
      }
      const left = longInteger(Tag.UsageLimitsCount, remaining - wanted);
      const items = limits.value.some((c) => c.tag === Tag.UsageLimitsCount)
        ? limits.value.map((c) => (c.tag === Tag.UsageLimitsCount ? left : c))
        : [
            ...limits.value.filter((c) => c.tag === Tag.UsageLimitsTotal),
            left,
            ...limits.value.filter((c) => c.tag !== Tag.UsageLimitsTotal),
          ];
      return { attributes: setStandard(obj.attributes, structure(Tag.UsageLimits, items)) };
    });
    return { uniqueIdentifier: id };
  },
});
