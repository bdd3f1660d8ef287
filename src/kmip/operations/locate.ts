/**
 * Locate (KMIP 1.0 §4.8, 1.4 §4.9, 2.1 §6.1.29): identifiers of the objects
 * that match every given attribute.
 *
 * Order: newest first — creation order reversed, stable because the store
 * keeps creation order (the order the OASIS TC-OFFSET-*-14/-20 vectors
 * expect); with Object Group Member, oldest first (a group is a pool handed
 * out in creation order, TC-152/TC-153). Maximum Items and Offset Items
 * (1.3+) page that order; a page past the end is empty. Located Items is
 * returned from 1.3 on.
 *
 * Matching, attribute by attribute (all must hold):
 * - exact value equality (a Name finds only that object, CLIENTS.md 10),
 *   custom attributes of any TTLV type included;
 * - Cryptographic Usage Mask: the object has every requested bit;
 * - two instances of a date attribute give an inclusive range, one an exact date;
 * - several values of a multi-instance attribute (Name, Object Group, Link,
 *   custom...): the object has all of them; of a single-instance attribute:
 *   it has one of them (requiring all could never match).
 * Object Group Member (1.1+): Group Member Fresh finds only fresh objects;
 * Group Member Default finds the group's default object, by this server's
 * policy the oldest fresh member, or the oldest member when none is fresh —
 * members are handed out in creation order, then the first again (TC-153).
 * Destroyed objects are found only by a State filter naming a destroyed
 * state, or Storage Status Mask Destroyed Storage. One located object
 * becomes the ID Placeholder.
 *
 * Filters the store indexes (Object Type, Name, Object Group, Algorithm,
 * Length, State, dates, custom attributes) are pushed down; any other
 * attribute is matched on the loaded objects.
 *
 * Bounds (limits.locateMaxItems, limits.locateMaxScan; docs/security.md):
 * - at most locateMaxItems identifiers per answer, when the client gives no
 *   Maximum Items or a larger one (KMIP 1.0 §4.8: the server MAY return
 *   fewer); Located Items still counts every match, so a 1.3+ client pages on
 *   with Offset Items;
 * - a Locate the store answers alone (no Group Member Default, nothing
 *   matched in memory) costs a count and one page of identifiers;
 * - otherwise at most locateMaxScan candidates are loaded, nearest to where
 *   the listing starts. When there are more, the answer stops once its page
 *   is full and omits Located Items (KMIP 1.3 §4.9: a server MAY when it is
 *   unwilling to determine the total); a page it cannot fill within the
 *   budget fails (Server Limit Exceeded; General Failure before 2.0, which
 *   lacks it) rather than pretending the list ends there.
 *
 * Errors (spec table): a malformed attribute → Invalid Message / Invalid
 * Field; negative Maximum/Offset Items → Invalid Field; a payload field that
 * is not one of Locate's → Invalid Field (a message of bare Attribute Name
 * items would otherwise be an unfiltered Locate, the most expensive one).
 */

import type { DateRange, LocateFilter } from '../../store/types.js';
import { KmipError } from '../errors.js';
import type { ModelAttribute } from '../messages/attributes.js';
import { findAll, findValue, isMultiInstance, sameValue, standardKey } from '../model/attributes.js';
import { isArchived } from '../model/lifecycle.js';
import type { ManagedObject } from '../model/object.js';
import { customIndexName, valueText } from '../model/record.js';
import { LocateRequest, LocateResponse } from '../payloads/locate.js';
import {
  enumNameOf,
  ObjectGroupMember,
  Operation,
  State,
  StorageStatusMask,
  Tag,
  tagInfo,
} from '../spec/index.js';
import { boolean } from '../ttlv/build.js';
import type { TtlvItem } from '../ttlv/types.js';
import { defineOperation } from './support/define.js';
import type { OperationContext } from './types.js';

/** limits.locateMaxItems by default: identifiers in one Locate answer (~48 KB of them). */
export const DEFAULT_LOCATE_MAX_ITEMS = 1000;
/** limits.locateMaxScan by default: candidate objects one Locate loads and matches in memory. */
export const DEFAULT_LOCATE_MAX_SCAN = 10_000;

/** Matched on loaded objects: one of the alternatives must match. */
type Condition = readonly ModelAttribute[];

interface Plan {
  filter: LocateFilter;
  rest: Condition[];
}

function isDestroyedState(v: TtlvItem): boolean {
  return v.type === 'Enumeration' && (v.value === State.Destroyed || v.value === State.DestroyedCompromised);
}

/** Single-instance attributes (dates aside) given more than once: any value may match. */
function alternativesOf(attrs: readonly ModelAttribute[]): Map<number, ModelAttribute[]> {
  const byTag = new Map<number, ModelAttribute[]>();
  for (const a of attrs) {
    if (a.key.kind !== 'standard' || a.value.type === 'DateTime' || isMultiInstance(a.key)) continue;
    byTag.set(a.key.tag, [...(byTag.get(a.key.tag) ?? []), a]);
  }
  for (const [tag, list] of byTag) if (list.length < 2) byTag.delete(tag);
  return byTag;
}

function plan(attrs: readonly ModelAttribute[], storageMask: number | undefined): Plan {
  const f: {
    objectType?: string;
    state?: string;
    name?: string;
    objectGroup?: string;
    algorithm?: string;
    length?: number;
    dates?: DateRange[];
    custom?: { name: string; value: string }[];
    includeTombstoned?: boolean;
  } = {};
  const rest: Condition[] = [];
  const custom: { name: string; value: string }[] = [];
  const ranges: DateRange[] = [];
  const dates = new Map<string, bigint[]>();
  const alternatives = alternativesOf(attrs);
  for (const [tag, list] of alternatives) {
    rest.push(list);
    if (tag === Tag.State && list.some((a) => isDestroyedState(a.value))) f.includeTombstoned = true;
  }
  for (const a of attrs) {
    const v = a.value;
    if (a.key.kind === 'custom') {
      custom.push({ name: customIndexName(a.key.vendor, a.key.name), value: valueText(v) });
      continue;
    }
    const tag = a.key.tag;
    if (alternatives.has(tag)) continue;
    if (tag === Tag.ObjectType && v.type === 'Enumeration' && f.objectType === undefined) {
      f.objectType = enumNameOf('ObjectType', v.value) ?? String(v.value);
    } else if (tag === Tag.State && v.type === 'Enumeration' && f.state === undefined) {
      f.state = enumNameOf('State', v.value) ?? String(v.value);
      if (isDestroyedState(v)) f.includeTombstoned = true;
    } else if (tag === Tag.Name && v.type === 'Structure' && f.name === undefined) {
      const nv = v.value.find((c) => c.tag === Tag.NameValue);
      if (nv?.type === 'TextString') f.name = nv.value;
      // The index holds the Name Value only; the Name Type is checked in memory.
      rest.push([a]);
    } else if (tag === Tag.ObjectGroup && v.type === 'TextString' && f.objectGroup === undefined) {
      f.objectGroup = v.value;
    } else if (tag === Tag.CryptographicAlgorithm && v.type === 'Enumeration' && f.algorithm === undefined) {
      f.algorithm = enumNameOf('CryptographicAlgorithm', v.value) ?? String(v.value);
    } else if (tag === Tag.CryptographicLength && v.type === 'Integer' && f.length === undefined) {
      f.length = v.value;
    } else if (v.type === 'DateTime') {
      const field = tagInfo(tag)?.name ?? String(tag);
      dates.set(field, [...(dates.get(field) ?? []), v.value]);
    } else {
      rest.push([a]);
    }
  }
  for (const [field, values] of dates) {
    const nums = values.map(Number);
    ranges.push({ field, from: Math.min(...nums), to: Math.max(...nums) });
  }
  if (custom.length > 0) f.custom = custom;
  if (ranges.length > 0) f.dates = ranges;
  if (storageMask !== undefined && (storageMask & StorageStatusMask.DestroyedStorage) !== 0) {
    f.includeTombstoned = true;
  }
  return { filter: f, rest };
}

/** Usage Mask matches when the object has every requested bit; other values exactly. */
function matchesOne(obj: ManagedObject, w: ModelAttribute): boolean {
  const have = findAll(obj.attributes, w.key);
  if (w.key.kind === 'standard' && w.key.tag === Tag.CryptographicUsageMask && w.value.type === 'Integer') {
    const bits = w.value.value;
    return have.some((h) => h.value.type === 'Integer' && (h.value.value & bits) === bits);
  }
  return have.some((h) => sameValue(h.value, w.value));
}

function matches(obj: ManagedObject, conditions: readonly Condition[]): boolean {
  return conditions.every((alts) => alts.some((w) => matchesOne(obj, w)));
}

const freshTrue: ModelAttribute = {
  key: standardKey(Tag.Fresh),
  index: undefined,
  value: boolean(Tag.Fresh, true),
};

function isFresh(obj: ManagedObject): boolean {
  return findValue(obj.attributes, Tag.Fresh)?.value === true;
}

function nonNegative(n: number | undefined, what: string): number | undefined {
  if (n !== undefined && n < 0) throw new KmipError('InvalidField', `${what} must not be negative`);
  return n;
}

interface Found {
  /** identifiers of the page, in listing order */
  ids: string[];
  /** every match; undefined when the budget left it unknown */
  total: number | undefined;
}

/**
 * Matches loaded objects, at most `budget` of them, from where the listing
 * starts: the newest for a plain Locate, the oldest for a group (a pool handed
 * out in creation order, TC-152, TC-153).
 */
async function scan(
  ctx: OperationContext,
  filter: LocateFilter,
  rest: readonly Condition[],
  hideArchived: boolean,
  groupMember: number | undefined,
  offset: number,
  max: number,
  budget: number,
): Promise<Found> {
  const objects = ctx.services.objects;
  const newestFirst = groupMember === undefined;
  const n = await objects.count(filter);
  const window = Math.min(n, budget);
  const whole = window === n;
  let candidates: string[] = [];
  if (window > 0) {
    candidates = await objects.locate(
      filter,
      newestFirst ? { offset: n - window, limit: window } : { limit: window },
    );
    if (newestFirst) candidates.reverse();
  }
  const isDefault = groupMember === ObjectGroupMember.GroupMemberDefault;
  const found: string[] = [];
  let firstFresh: string | undefined;
  for (const id of candidates) {
    // Past the budget's reach the total is unknown anyway: stop once the answer is known.
    if (!whole && (isDefault ? firstFresh !== undefined : found.length >= offset + max)) break;
    if (ctx.signal.aborted) throw new KmipError('OperationCanceledByRequester', 'the connection closed');
    const obj = await objects.get(id);
    if (obj === undefined || !matches(obj, rest) || (hideArchived && isArchived(obj.attributes))) continue;
    found.push(id);
    if (firstFresh === undefined && isFresh(obj)) firstFresh = id;
  }
  const unfilled = isDefault ? firstFresh === undefined : found.length < offset + max;
  if (!whole && unfilled) {
    throw new KmipError(
      'ServerLimitExceeded',
      `Locate would load more than ${budget} candidate objects (limits.locateMaxScan); narrow it with attributes the store indexes (Object Type, Name, Object Group, Cryptographic Algorithm, Cryptographic Length, State, dates, custom attributes) or a smaller Offset Items`,
    );
  }
  if (isDefault) {
    const chosen = firstFresh ?? found[0];
    return { ids: chosen === undefined ? [] : [chosen], total: chosen === undefined ? 0 : 1 };
  }
  return { ids: found.slice(offset, offset + max), total: whole ? found.length : undefined };
}

/**
 * A Locate the store answers but for archived objects, which it cannot leave
 * out: their identifiers (few, and at most `budget`) are set aside by set
 * membership, nothing is loaded. Undefined when there are more of them.
 */
async function withoutArchived(
  ctx: OperationContext,
  filter: LocateFilter,
  archived: LocateFilter,
  offset: number,
  max: number,
  budget: number,
): Promise<Found | undefined> {
  const objects = ctx.services.objects;
  const hidden = await objects.count(archived);
  if (hidden > budget) return undefined;
  const skip = new Set(hidden === 0 ? [] : await objects.locate(archived));
  const n = await objects.count(filter);
  const total = Math.max(0, n - skip.size);
  if (offset >= total || max === 0) return { ids: [], total };
  // The newest offset + max + |archived| identifiers hold the page whatever the archived ones' places.
  const window = Math.min(n, offset + max + skip.size);
  const ids = (await objects.locate(filter, { offset: n - window, limit: window }))
    .reverse()
    .filter((id) => !skip.has(id));
  return { ids: ids.slice(offset, offset + max), total };
}

export const locate = defineOperation({
  operation: Operation.Locate,
  since: '1.0',
  mutates: false,
  request: LocateRequest,
  response: LocateResponse,
  async handle(req, ctx) {
    const cap = ctx.services.limits?.locateMaxItems ?? DEFAULT_LOCATE_MAX_ITEMS;
    const budget = ctx.services.limits?.locateMaxScan ?? DEFAULT_LOCATE_MAX_SCAN;
    const asked = nonNegative(req.maximumItems, 'Maximum Items');
    const max = asked === undefined ? cap : Math.min(asked, cap);
    const offset = nonNegative(req.offsetItems, 'Offset Items') ?? 0;
    const storageMask = req.storageStatusMask;
    const groupMember = req.objectGroupMember;
    const { filter: planned, rest } = plan(req.attributes ?? [], storageMask);
    if (groupMember === ObjectGroupMember.GroupMemberFresh) rest.push([freshTrue]);
    const objects = ctx.services.objects;
    // Storage Status Mask (KMIP 1.0 §4.9): on-line objects only unless it asks for
    // archived ones; an archived object is one with an Archive Date.
    const mask = storageMask ?? StorageStatusMask.OnLineStorage;
    const wantOnline = (mask & StorageStatusMask.OnLineStorage) !== 0;
    const wantArchived = (mask & StorageStatusMask.ArchivalStorage) !== 0;
    const archivedRange = {
      field: 'ArchiveDate',
      from: Number.MIN_SAFE_INTEGER,
      to: Number.MAX_SAFE_INTEGER,
    };
    const archivedOnly = { ...planned, dates: [...(planned.dates ?? []), archivedRange] };
    const filter = wantArchived && !wantOnline ? archivedOnly : planned;
    // Archived objects are hidden unless the mask asks for them. Where each candidate is
    // loaded anyway (conditions the store cannot filter), that look decides; the
    // store-only path first asks whether any archived object matches at all.
    const mayHideArchived = wantOnline && !wantArchived;
    const storeOnly = rest.length === 0 && groupMember !== ObjectGroupMember.GroupMemberDefault;
    const hideArchived =
      mayHideArchived && (!storeOnly || (await objects.count({ ...planned, dates: [archivedRange] })) > 0);
    let found: Found | undefined;
    if (storeOnly && !hideArchived) {
      const total = await objects.count(filter);
      // The store pages in creation order; newest first is that order reversed.
      const end = Math.max(0, total - offset);
      const start = Math.max(0, end - max);
      const ids =
        end === start ? [] : (await objects.locate(filter, { offset: start, limit: end - start })).reverse();
      found = { ids, total };
    } else if (storeOnly && groupMember === undefined) {
      found = await withoutArchived(ctx, filter, archivedOnly, offset, max, budget);
    }
    found ??= await scan(ctx, filter, rest, hideArchived, groupMember, offset, max, budget);
    const { ids, total } = found;
    if (ids.length === 1) ctx.idPlaceholder = ids[0];
    // Located Items from 1.3 on (the payload field's range), whenever the total is known
    // (the spec allows it without Offset Items, KMIP 1.3 §4.9): paging clients such as
    // Percona's keyring_kmip read it (CLIENTS.md).
    return { locatedItems: total, uniqueIdentifiers: ids };
  },
});
