/** Lease Time (KMIP 1.0 §3.15) as Obtain Lease, Check and Get Attributes compute it. */
import { findValue, type ModelAttribute } from '../../model/attributes.js';
import { Tag } from '../../spec/index.js';

/** Lease granted when the object has no Lease Time attribute: one hour. */
export const DEFAULT_LEASE_SECONDS = 3600;

export function leaseTimeOf(attrs: readonly ModelAttribute[]): number {
  const v = findValue(attrs, Tag.LeaseTime);
  return v?.type === 'Interval' ? v.value : DEFAULT_LEASE_SECONDS;
}
