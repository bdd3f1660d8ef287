/** Usage Limits left (KMIP 1.4 §3.21), as Check, Get Usage Allocation and the crypto operations read them. */
import { findValue } from '../../model/attributes.js';
import { Tag } from '../../spec/index.js';

/** What remains of the object's Usage Limits, undefined when it has none. */
export function usageRemaining(attrs: Parameters<typeof findValue>[0]): bigint | undefined {
  const limits = findValue(attrs, Tag.UsageLimits);
  if (limits?.type !== 'Structure') return undefined;
  const count = limits.value.find((c) => c.tag === Tag.UsageLimitsCount);
  if (count?.type === 'LongInteger') return count.value;
  const total = limits.value.find((c) => c.tag === Tag.UsageLimitsTotal);
  return total?.type === 'LongInteger' ? total.value : undefined;
}
