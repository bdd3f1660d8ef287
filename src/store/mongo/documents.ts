/**
 * ObjectRecord ⇄ BSON document mapping. Maps become arrays of small
 * subdocuments so that one multikey index serves every date field and every
 * custom attribute (field names never become BSON keys, so a custom attribute
 * called "a.b" or "$x" is harmless).
 */

import { Binary, ObjectId } from 'mongodb';
import type { AuditRecord, KekRecord, ObjectRecord, SealedBlob } from '../types.js';

export interface DateEntry {
  f: string;
  v: number;
}

/** one entry per value; a name with no values is kept as { n, v: null } */
export interface CustomEntry {
  n: string;
  v: string | null;
}

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
  dates: DateEntry[];
  custom: CustomEntry[];
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

const bin = (u: Uint8Array): Binary => new Binary(u);
// A plain Uint8Array, not the driver's Buffer view, so records compare equal to what was stored.
const bytes = (b: Binary): Uint8Array => Uint8Array.from(b.buffer);

export function toImage(r: ObjectRecord): ObjectImage {
  const custom: CustomEntry[] = [];
  for (const [n, values] of Object.entries(r.custom)) {
    if (values.length === 0) custom.push({ n, v: null });
    for (const v of values) custom.push({ n, v });
  }
  return {
    version: r.version,
    objectType: r.objectType,
    state: r.state,
    owner: r.owner ?? null,
    names: [...r.names],
    objectGroups: [...r.objectGroups],
    algorithm: r.algorithm ?? null,
    length: r.length ?? null,
    dates: Object.entries(r.dates).map(([f, v]) => ({ f, v })),
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
  for (const { f, v } of d.dates) dates[f] = v;
  const custom: Record<string, string[]> = {};
  for (const { n, v } of d.custom) {
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
