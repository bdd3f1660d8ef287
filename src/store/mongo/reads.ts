/**
 * Locate and Count over the objects collection. The server answers them
 * alone while no atomic() write is in flight; otherwise each marked document
 * is resolved here and matched in memory (its visible image may be `pre`).
 */

import type { Collection, Document } from 'mongodb';
import type { LocateFilter, LocatePage } from '../types.js';
import type { AtomicProtocol, ResolutionCache } from './atomic.js';
import { MARKED, UNMARKED } from './collections.js';
import type { ObjectDoc } from './documents.js';
import { buildQuery, matches } from './query.js';

export async function locateIds(
  objects: Collection<ObjectDoc>,
  atomic: AtomicProtocol,
  filter: LocateFilter,
  page: LocatePage,
): Promise<string[]> {
  const offset = Math.max(0, page.offset ?? 0);
  const limit = page.limit;
  if (limit !== undefined && limit <= 0) return [];
  let cursor = objects
    .find(buildQuery(filter), { projection: { _id: 1, txn: 1 } })
    .sort({ seq: 1 })
    .skip(offset);
  if (limit !== undefined) cursor = cursor.limit(limit);
  const fast = await cursor.toArray();
  // Checked after the query: an atomic() that began before it is seen here.
  if (!fast.some((d) => typeof d.txn === 'string') && !(await atomic.inFlight())) {
    return fast.map((d) => d._id);
  }
  return locateSlow(objects, atomic, filter, offset, limit);
}

export async function countVisible(
  objects: Collection<ObjectDoc>,
  atomic: AtomicProtocol,
  filter: LocateFilter,
): Promise<number> {
  let n = await objects.countDocuments(buildQuery(filter));
  if (!(await atomic.inFlight())) return n;
  const marked = await objects.find(markedQuery(filter)).toArray();
  const cache: ResolutionCache = new Map();
  for (const doc of marked) {
    const counted = matches(filter, doc);
    const img = await atomic.visibleImage(doc, cache);
    const visible = img !== undefined && matches(filter, img);
    n += (visible ? 1 : 0) - (counted ? 1 : 0);
  }
  return n;
}

function markedQuery(filter: LocateFilter): Document {
  return { txn: MARKED, $or: [buildQuery(filter), buildQuery(filter, 'pre.')] };
}

/** Objects matching the filter, resolving each marked document, paged here. */
async function locateSlow(
  objects: Collection<ObjectDoc>,
  atomic: AtomicProtocol,
  filter: LocateFilter,
  offset: number,
  limit: number | undefined,
): Promise<string[]> {
  const q = buildQuery(filter);
  const cursor = objects
    .find({ $or: [{ txn: UNMARKED, ...q }, markedQuery(filter)] })
    .sort({ seq: 1 })
    .batchSize(200);
  const cache: ResolutionCache = new Map();
  const ids: string[] = [];
  let skipped = 0;
  try {
    for await (const doc of cursor) {
      if (typeof doc.txn === 'string') {
        const img = await atomic.visibleImage(doc, cache);
        if (img === undefined || !matches(filter, img)) continue;
      }
      if (skipped < offset) {
        skipped++;
        continue;
      }
      ids.push(doc._id);
      if (limit !== undefined && ids.length >= limit) break;
    }
  } finally {
    await cursor.close().catch(() => undefined);
  }
  return ids;
}
