/**
 * LocateFilter → MongoDB query, and the same predicate evaluated in memory
 * for the few documents an in-flight atomic() write has marked (their
 * visible image may be the `pre` image, which the server cannot choose).
 */

import type { Document } from 'mongodb';
import type { LocateFilter } from '../types.js';
import { customKey, dateKey, type ObjectImage } from './documents.js';

/** The query on the image stored under `prefix` ('' for the live fields, 'pre.' for the pre-image). */
export function buildQuery(filter: LocateFilter, prefix = ''): Document {
  const q: Document = {};
  const and: Document[] = [];
  const p = (field: string) => `${prefix}${field}`;
  if (filter.objectType !== undefined) q[p('objectType')] = filter.objectType;
  if (filter.state !== undefined) q[p('state')] = filter.state;
  if (filter.name !== undefined) q[p('names')] = filter.name;
  if (filter.objectGroup !== undefined) q[p('objectGroups')] = filter.objectGroup;
  if (filter.algorithm !== undefined) q[p('algorithm')] = filter.algorithm;
  if (filter.length !== undefined) q[p('length')] = filter.length;
  if (filter.owner !== undefined) q[p('owner')] = filter.owner;
  if (!filter.includeTombstoned) q[p('tombstoned')] = false;
  for (const range of filter.dates ?? []) {
    const v: Document = { $exists: true };
    if (range.from !== undefined) v.$gte = range.from;
    if (range.to !== undefined) v.$lte = range.to;
    and.push({ [p(`dates.${dateKey(range.field)}`)]: v });
  }
  for (const c of filter.custom ?? []) {
    and.push({ [p('custom')]: customKey(c.name, c.value) });
  }
  if (and.length > 0) q.$and = and;
  return q;
}

export function matches(filter: LocateFilter, d: ObjectImage): boolean {
  if (filter.objectType !== undefined && d.objectType !== filter.objectType) return false;
  if (filter.state !== undefined && d.state !== filter.state) return false;
  if (filter.name !== undefined && !d.names.includes(filter.name)) return false;
  if (filter.objectGroup !== undefined && !d.objectGroups.includes(filter.objectGroup)) return false;
  if (filter.algorithm !== undefined && d.algorithm !== filter.algorithm) return false;
  if (filter.length !== undefined && d.length !== filter.length) return false;
  if (filter.owner !== undefined && d.owner !== filter.owner) return false;
  if (!filter.includeTombstoned && d.tombstoned) return false;
  for (const r of filter.dates ?? []) {
    const v = d.dates[dateKey(r.field)];
    if (v === undefined) return false;
    if ((r.from !== undefined && v < r.from) || (r.to !== undefined && v > r.to)) return false;
  }
  for (const c of filter.custom ?? []) {
    if (!d.custom.includes(customKey(c.name, c.value))) return false;
  }
  return true;
}
