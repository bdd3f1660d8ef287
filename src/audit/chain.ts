/**
 * The hash chain of the audit trail (docs/audit.md). A record's chain fields
 * live in its `detail` (so the store contract needs nothing new):
 *
 *   chain  the segment id: one per writer process run (server, CLI command)
 *   n      position in the segment, 0 for its opening record
 *   prev   SHA-256 (hex) of the previous record of the segment; for the
 *          opening record, of the last record stored when the segment opened
 *          (GENESIS when the trail was empty)
 *   hash   SHA-256 (hex) of this record's canonical form (everything but `hash`)
 *   mac    seals only: HMAC-SHA256 under the segment's audit key of the
 *          canonical form without `mac` and `hash`
 */
import * as crypto from 'node:crypto';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditRecord } from '../store/types.js';

export const GENESIS = '0'.repeat(64);

/** Record kinds, in detail.kind. */
export const AuditKind = {
  /** one KMIP batch item */
  Item: 'item',
  /** opens a segment; carries the segment's HMAC key sealed under a KEK */
  Open: 'open',
  /** an HMAC over the segment up to here */
  Seal: 'seal',
  /** an administrative event (CLI) */
  Admin: 'admin',
} as const;
export type AuditKind = (typeof AuditKind)[keyof typeof AuditKind];

export { AUDIT_OPEN_OPERATION as OPEN_OPERATION } from '../store/types.js';
export const SEAL_OPERATION = 'AuditSeal';

const CANONICAL_TAG = 'kmip-server audit/1';

/**
 * Length-unambiguous text of a record: a JSON array of the fixed fields and
 * the detail entries sorted by key, without the fields named in `omit`, i.e.
 * `JSON.stringify([tag, at, actor ?? null, operation, objectId ?? null,
 * outcome, [[key, value], ...]])`. It runs for every batch item, so the text is
 * built by hand; records written before verify because it is the same text
 * (test/audit/chain.test.ts holds the JSON.stringify form as the oracle).
 */
export function canonicalForm(record: AuditRecord, omit: readonly string[]): string {
  const { at, actor, operation, objectId, outcome, detail } = record;
  if (
    typeof at !== 'number' ||
    typeof operation !== 'string' ||
    typeof outcome !== 'string' ||
    !(actor == null || typeof actor === 'string') ||
    !(objectId == null || typeof objectId === 'string')
  )
    return genericCanonicalForm(record, omit);
  let entries = '';
  for (const k of sortedKeys(detail)) {
    if (omit.includes(k)) continue;
    const v: unknown = detail[k];
    // a record read back from a damaged store may hold anything: JSON.stringify says how it reads
    if (typeof v !== 'string') return genericCanonicalForm(record, omit);
    entries += `${entries === '' ? '[' : ',['}${quoteKey(k)},${quote(v)}]`;
  }
  return `${CANONICAL_HEAD}${Number.isFinite(at) ? at : 'null'},${actor == null ? 'null' : quote(actor)},${quote(operation)},${objectId == null ? 'null' : quote(objectId)},${quote(outcome)},[${entries}]]`;
}

const CANONICAL_HEAD = `[${JSON.stringify(CANONICAL_TAG)},`;

/** The canonical form of any record, whatever its fields hold. */
function genericCanonicalForm(record: AuditRecord, omit: readonly string[]): string {
  const detail = Object.entries(record.detail)
    .filter(([k]) => !omit.includes(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([
    CANONICAL_TAG,
    record.at,
    record.actor ?? null,
    record.operation,
    record.objectId ?? null,
    record.outcome,
    detail,
  ]);
}

/** JSON.stringify(s): it escapes only '"', '\\', U+0000-U+001F and lone surrogates. */
function quote(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/** Detail keys come from a handful of names: their quoted form is kept. */
const quotedKeys = new Map<string, string>();
const MAX_QUOTED_KEYS = 256;
const MAX_QUOTED_KEY_CHARS = 64;

function quoteKey(k: string): string {
  let q = quotedKeys.get(k);
  if (q === undefined) {
    q = quote(k);
    if (k.length > MAX_QUOTED_KEY_CHARS) return q;
    if (quotedKeys.size >= MAX_QUOTED_KEYS) quotedKeys.clear();
    quotedKeys.set(k, q);
  }
  return q;
}

/** Consecutive records mostly share one key list: its sorted order is kept. */
let lastKeys: readonly string[] = [];
let lastSorted: readonly string[] = [];

function sortedKeys(detail: object): readonly string[] {
  const keys = Object.keys(detail);
  if (keys.length === lastKeys.length && keys.every((k, i) => k === lastKeys[i])) return lastSorted;
  // code-unit order, as the `<` comparison of the JSON.stringify form
  const sorted = [...keys].sort();
  lastKeys = keys;
  lastSorted = sorted;
  return sorted;
}

// crypto.hash (Node 20.12+; read off the namespace, as a named import of it fails to link on
// older 20.x) builds no Hash object: 40 % less on a record
const oneShot = (crypto as { hash?: typeof crypto.hash }).hash;
const sha256Hex: (text: string) => string =
  oneShot === undefined
    ? (text) => createHash('sha256').update(text, 'utf8').digest('hex')
    : (text) => oneShot('sha256', text, 'hex');

const HASH_OMIT: readonly string[] = ['hash'];

export function recordHash(record: AuditRecord): string {
  return sha256Hex(canonicalForm(record, HASH_OMIT));
}

export function sealMac(record: AuditRecord, key: Uint8Array): string {
  return createHmac('sha256', key)
    .update(canonicalForm(record, ['hash', 'mac']), 'utf8')
    .digest('hex');
}

/**
 * A seal record of segment `chain`, MAC'd under the segment's key (the
 * caller adds its hash): `records` records sealed since the last seal;
 * `flags` such as final: 'true'.
 */
export function sealRecord(
  seal: {
    at: number;
    actor: string | undefined;
    chain: string;
    n: number;
    prev: string;
    records: number;
    flags?: Readonly<Record<string, string>>;
  },
  key: Uint8Array,
): AuditRecord {
  const body: AuditRecord = {
    at: seal.at,
    actor: seal.actor,
    operation: SEAL_OPERATION,
    objectId: undefined,
    outcome: 'Success',
    detail: {
      kind: AuditKind.Seal,
      chain: seal.chain,
      n: String(seal.n),
      prev: seal.prev,
      records: String(seal.records),
      ...seal.flags,
    },
  };
  return { ...body, detail: { ...body.detail, mac: sealMac(body, key) } };
}

export function macMatches(record: AuditRecord, key: Uint8Array): boolean {
  const stored = record.detail.mac;
  if (stored === undefined || !/^[0-9a-f]{64}$/.test(stored)) return false;
  return timingSafeEqual(Buffer.from(stored, 'hex'), Buffer.from(sealMac(record, key), 'hex'));
}

/** Adds `hash` to a record whose detail already has chain, n and prev. */
export function withHash(record: AuditRecord): AuditRecord {
  const detail = copyDetail(record.detail);
  detail.hash = recordHash(record);
  return Object.assign({}, record, { detail });
}

/**
 * `{ ...detail }`, in the same key order, to which the caller adds keys: V8
 * (Node 20) makes an object literal spread that more keys follow twenty times
 * slower than Object.assign. Object.assign would set the prototype for an own
 * `__proto__` key (a record read back from a store may have one) where the
 * spread copies it.
 */
export function copyDetail(detail: Readonly<Record<string, string>>): Record<string, string> {
  return Object.hasOwn(detail, '__proto__') ? { ...detail } : Object.assign({}, detail);
}

/** The Sealer object id under which a segment's HMAC key is sealed (AAD binds it). */
export function auditKeyObjectId(chain: string): string {
  return `audit-hmac-key:${chain}`;
}
