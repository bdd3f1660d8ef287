/**
 * The audit trail's records: built from the executor's ItemEvent, and their
 * export form (JSON lines for a SIEM). No record field ever holds key
 * material: an ItemEvent carries identifiers, names and the purpose only.
 */
import type { ItemEvent } from '../kmip/hooks.js';
import { enumNameOf } from '../kmip/spec/index.js';
import type { AuditRecord } from '../store/types.js';
import { AuditKind } from './chain.js';
import { MAX_PURPOSE_CHARS, type Purpose } from './purpose.js';

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** One batch item as an (unchained) audit record. */
export function itemRecord(event: ItemEvent, purpose: Purpose | undefined): AuditRecord {
  const detail: Record<string, string> = {
    kind: AuditKind.Item,
    tenant: event.principal.tenant,
    clientAddress: event.client.remoteAddress,
    version: event.version,
    index: String(event.index),
  };
  if (event.client.commonName !== undefined) detail.commonName = event.client.commonName;
  if (event.client.certificateFingerprint !== undefined)
    detail.fingerprint = event.client.certificateFingerprint;
  if (event.resultReason !== undefined)
    detail.reason = enumNameOf('ResultReason', event.resultReason) ?? hex(event.resultReason);
  if (event.objectIds.length > 1) detail.objectIds = JSON.stringify(event.objectIds);
  if (purpose !== undefined) {
    const cut = purpose.value.length > MAX_PURPOSE_CHARS;
    detail.purpose = cut ? purpose.value.slice(0, MAX_PURPOSE_CHARS) : purpose.value;
    detail.purposeSource = purpose.source;
    if (cut) detail.purposeTruncated = String(purpose.value.length);
  }
  return {
    at: event.at.getTime(),
    actor: event.principal.identity,
    operation:
      event.operation === undefined
        ? 'Unknown'
        : (enumNameOf('Operation', event.operation) ?? hex(event.operation)),
    objectId: event.objectIds[0],
    outcome: enumNameOf('ResultStatus', event.resultStatus) ?? hex(event.resultStatus),
    detail,
  };
}

/** One line of `audit export` and of the sinks. */
export interface ExportedRecord {
  readonly time: string;
  readonly seq: number | undefined;
  readonly kind: string;
  readonly identity: string | null;
  readonly tenant: string | null;
  readonly operation: string;
  readonly uniqueIdentifier: string | null;
  readonly objectIds: readonly string[];
  readonly result: string;
  readonly reason: string | null;
  readonly purpose: string | null;
  readonly purposeSource: string | null;
  readonly clientAddress: string | null;
  readonly certificateFingerprint: string | null;
  readonly protocolVersion: string | null;
  readonly chain: string | null;
  readonly n: number | null;
  readonly hash: string | null;
}

function objectIdsOf(r: AuditRecord): string[] {
  const many = r.detail.objectIds;
  if (many !== undefined) {
    try {
      const parsed: unknown = JSON.parse(many);
      if (Array.isArray(parsed)) return parsed.map(String);
    } catch {
      // a damaged field exports as the single id; `audit verify` reports the damage
    }
  }
  return r.objectId === undefined ? [] : [r.objectId];
}

/** Meta records (segment opening) hold the sealed audit key: nothing a SIEM needs. */
export function isExported(r: AuditRecord): boolean {
  return r.detail.kind !== AuditKind.Open;
}

export function exportRecord(r: AuditRecord & { readonly seq?: number }): ExportedRecord {
  const d = r.detail;
  const n = d.n === undefined ? null : Number(d.n);
  return {
    time: new Date(r.at).toISOString(),
    seq: r.seq,
    kind: d.kind ?? AuditKind.Admin,
    identity: r.actor ?? null,
    tenant: d.tenant ?? null,
    operation: r.operation,
    uniqueIdentifier: r.objectId ?? null,
    objectIds: objectIdsOf(r),
    result: r.outcome,
    reason: d.reason ?? null,
    purpose: d.purpose ?? null,
    purposeSource: d.purposeSource ?? null,
    clientAddress: d.clientAddress ?? null,
    certificateFingerprint: d.fingerprint ?? null,
    protocolVersion: d.version ?? null,
    chain: d.chain ?? null,
    n: Number.isSafeInteger(n) ? n : null,
    hash: d.hash ?? null,
  };
}
