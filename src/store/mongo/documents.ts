/**
 * ObjectRecord ⇄ BSON document mapping.
 *
 * FerretDB 1.24 rejects $elemMatch with field conditions ("unknown operator"),
 * so the maps are shaped for plain equality and range queries that MongoDB
 * and FerretDB both run and index:
 * - dates: a subdocument keyed by the (escaped) 2.x tag name, one index per
 *   standard date attribute: `dates.ActivationDate: {$gte, $lte}`;
 * - custom: an array of JSON texts `["name","value"]` (`["name",null]` for a
 *   name without values), one multikey index, queried by equality. Attribute
 *   names never become BSON keys, so "a.b" or "$x" is harmless.
 */

import { Binary, ObjectId } from 'mongodb';
import type { AuditRecord, KekRecord, ObjectRecord, SealedBlob } from '../types.js';

/** The fields Locate filters on, in both the live image and the `pre` image. */
export interface ObjectImage {
  version: number;
  objectType: string;
  state: string;
  owner: string | null;
  names: string[];
  objectGroups: string[];
  algorithm: string | null;
  length: number | null;
  dates: Record<string, number>;
  custom: string[];
  attributes: Binary;
  sealed: { kekId: string; nonce: Binary; ciphertext: Binary } | null;
  createdAt: number;
  updatedAt: number;
  tombstoned: boolean;
}

export interface ObjectDoc extends ObjectImage {
  _id: string;
  /** creation order; see newSeq */
  seq: ObjectId;
  /** set while an atomic() write that touched this document is in flight */
  txn?: string | null;
  /** the committed image an in-flight atomic() update replaced; null for its inserts */
  pre?: ObjectImage | null;
}

export interface AuditDoc {
  _id: ObjectId;
  seq: number;
  at: number;
  actor: string | null;
  operation: string;
  objectId: string | null;
  outcome: string;
  detail: Record<string, string>;
  txn?: string | null;
}

export interface KekDoc {
  _id: string;
  masterKeyId: string;
  wrapped: Binary;
  createdAt: number;
  active: boolean;
}

/** The indexed text of one custom attribute value. */
export function customKey(name: string, value: string | null): string {
  return JSON.stringify([name, value]);
}

/** A date tag name as a BSON key: anything but [A-Za-z0-9] is escaped as _XXXX. */
export function dateKey(field: string): string {
  return field.replace(/[^A-Za-z0-9]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function unDateKey(key: string): string {
  return key.replace(/_([0-9a-f]{4})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** The KMIP 2.x date attributes (KMIP 2.1 §4), each indexed as dates.<name>. */
export const indexedDateFields = [
  'ActivationDate',
  'ArchiveDate',
  'CompromiseDate',
  'CompromiseOccurrenceDate',
  'DeactivationDate',
  'DestroyDate',
  'InitialDate',
  'LastChangeDate',
  'OriginalCreationDate',
  'ProcessStartDate',
  'ProtectStopDate',
] as const;

const bin = (u: Uint8Array): Binary => new Binary(u);
// A plain Uint8Array, not the driver's Buffer view, so records compare equal to what was stored.
const bytes = (b: Binary): Uint8Array => Uint8Array.from(b.buffer);

export function toImage(r: ObjectRecord): ObjectImage {
  const custom: string[] = [];
  for (const [n, values] of Object.entries(r.custom)) {
    if (values.length === 0) custom.push(customKey(n, null));
    for (const v of values) custom.push(customKey(n, v));
  }
  const dates: Record<string, number> = {};
  for (const [f, v] of Object.entries(r.dates)) dates[dateKey(f)] = v;
  return {
    version: r.version,
    objectType: r.objectType,
    state: r.state,
    owner: r.owner ?? null,
    names: [...r.names],
    objectGroups: [...r.objectGroups],
    algorithm: r.algorithm ?? null,
    length: r.length ?? null,
    dates,
    custom,
    attributes: bin(r.attributes),
    sealed: r.sealed
      ? { kekId: r.sealed.kekId, nonce: bin(r.sealed.nonce), ciphertext: bin(r.sealed.ciphertext) }
      : null,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    tombstoned: r.tombstoned,
  };
}

export function fromImage(id: string, d: ObjectImage): ObjectRecord {
  const dates: Record<string, number> = {};
  for (const [f, v] of Object.entries(d.dates)) dates[unDateKey(f)] = v;
  const custom: Record<string, string[]> = {};
  for (const key of d.custom) {
    const [n, v] = JSON.parse(key) as [string, string | null];
    const list = custom[n] ?? [];
    custom[n] = list;
    if (v !== null) list.push(v);
  }
  const sealed: SealedBlob | undefined = d.sealed
    ? { kekId: d.sealed.kekId, nonce: bytes(d.sealed.nonce), ciphertext: bytes(d.sealed.ciphertext) }
    : undefined;
  return {
    id,
    version: d.version,
    objectType: d.objectType,
    state: d.state,
    owner: d.owner ?? undefined,
    names: [...d.names],
    objectGroups: [...d.objectGroups],
    algorithm: d.algorithm ?? undefined,
    length: d.length ?? undefined,
    dates,
    custom,
    attributes: bytes(d.attributes),
    sealed,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    tombstoned: d.tombstoned,
  };
}

/** The image fields of a stored document, without _id, seq and transaction markers. */
export function imageOf(d: ObjectImage): ObjectImage {
  return {
    version: d.version,
    objectType: d.objectType,
    state: d.state,
    owner: d.owner,
    names: d.names,
    objectGroups: d.objectGroups,
    algorithm: d.algorithm,
    length: d.length,
    dates: d.dates,
    custom: d.custom,
    attributes: d.attributes,
    sealed: d.sealed,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    tombstoned: d.tombstoned,
  };
}

export function toAuditDoc(r: AuditRecord, seq: number, txn: string | null): AuditDoc {
  return {
    _id: new ObjectId(),
    seq,
    at: r.at,
    actor: r.actor ?? null,
    operation: r.operation,
    objectId: r.objectId ?? null,
    outcome: r.outcome,
    detail: { ...r.detail },
    txn,
  };
}

export function fromAuditDoc(d: AuditDoc): AuditRecord & { readonly seq: number } {
  return {
    seq: d.seq,
    at: d.at,
    actor: d.actor ?? undefined,
    operation: d.operation,
    objectId: d.objectId ?? undefined,
    outcome: d.outcome,
    detail: { ...d.detail },
  };
}

export function toKekDoc(k: KekRecord): KekDoc {
  return {
    _id: k.id,
    masterKeyId: k.masterKeyId,
    wrapped: bin(k.wrapped),
    createdAt: k.createdAt,
    active: k.active,
  };
}

export function fromKekDoc(d: KekDoc): KekRecord {
  return {
    id: d._id,
    masterKeyId: d.masterKeyId,
    wrapped: bytes(d.wrapped),
    createdAt: d.createdAt,
    active: d.active,
  };
}

/**
 * Creation-order keys without a shared counter: 6 bytes of milliseconds, 3
 * random bytes naming this node, 3 bytes of a per-node counter. ObjectIds
 * compare bytewise, so keys are strictly increasing per node and ordered by
 * millisecond across nodes (ties between nodes broken by the node bytes).
 */
export function seqGenerator(): () => ObjectId {
  const node = new Uint8Array(3);
  crypto.getRandomValues(node);
  let lastMs = 0;
  let counter = 0;
  return () => {
    const now = Date.now();
    if (now > lastMs) {
      lastMs = now;
      counter = 0;
    } else if (++counter > 0xffffff) {
      // more than 16M keys in one millisecond: borrow the next millisecond
      lastMs += 1;
      counter = 0;
    }
    const b = new Uint8Array(12);
    let ms = lastMs;
    for (let i = 5; i >= 0; i--) {
      b[i] = ms % 256;
      ms = Math.floor(ms / 256);
    }
    b.set(node, 6);
    b[9] = (counter >>> 16) & 0xff;
    b[10] = (counter >>> 8) & 0xff;
    b[11] = counter & 0xff;
    return new ObjectId(b);
  };
}
