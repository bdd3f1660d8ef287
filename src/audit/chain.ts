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

export const OPEN_OPERATION = 'AuditOpen';
export const SEAL_OPERATION = 'AuditSeal';

const CANONICAL_TAG = 'kmip-server audit/1';

/**
 * Length-unambiguous text of a record: a JSON array of the fixed fields and
 * the detail entries sorted by key, without the fields named in `omit`.
 */
export function canonicalForm(record: AuditRecord, omit: readonly string[]): string {
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

export function recordHash(record: AuditRecord): string {
  return createHash('sha256')
    .update(canonicalForm(record, ['hash']), 'utf8')
    .digest('hex');
}

export function sealMac(record: AuditRecord, key: Uint8Array): string {
  return createHmac('sha256', key)
    .update(canonicalForm(record, ['hash', 'mac']), 'utf8')
    .digest('hex');
}

export function macMatches(record: AuditRecord, key: Uint8Array): boolean {
  const stored = record.detail.mac;
  if (stored === undefined || !/^[0-9a-f]{64}$/.test(stored)) return false;
  return timingSafeEqual(Buffer.from(stored, 'hex'), Buffer.from(sealMac(record, key), 'hex'));
}

/** Adds `hash` to a record whose detail already has chain, n and prev. */
export function withHash(record: AuditRecord): AuditRecord {
  return { ...record, detail: { ...record.detail, hash: recordHash(record) } };
}

/** The Sealer object id under which a segment's HMAC key is sealed (AAD binds it). */
export function auditKeyObjectId(chain: string): string {
  return `audit-hmac-key:${chain}`;
}
