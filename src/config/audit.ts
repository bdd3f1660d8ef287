/**
 * The `audit` section: sealing cadence, purpose policy and optional sinks of
 * the audit trail (docs/audit.md). Validated at load time; used by src/audit/.
 */
import path from 'node:path';
import { enumValueOf } from '../kmip/spec/index.js';

export type AuditDurability = 'sync' | 'batched';

export interface AuditConfig {
  /** sync (absent): answer once the record is durable; batched: answer at once, the record follows in the next commit */
  durability?: AuditDurability;
  /** seal after this many records */
  sealEveryRecords: number;
  /** seal unsealed records at least this often */
  sealIntervalSeconds: number;
  /** absolute path of the anchor file (the last seal, kept outside the store) */
  anchorFile: string;
  /** operation names that need a purpose */
  requirePurpose: string[];
  /** identity, `group:NAME` or `*` → default purpose */
  defaultPurpose: Record<string, string>;
  /** absolute path of a JSON-lines copy of the trail */
  file?: string;
  /** udp://HOST:PORT or tcp://HOST:PORT: RFC 5424 syslog copy of the trail */
  syslog?: string;
  /** a batch item whose audit record cannot be written fails (General Failure) instead of being answered */
  failClosed?: boolean;
}

export function checkRequirePurpose(value: unknown): string[] {
  if (!Array.isArray(value)) return ['audit.requirePurpose: must be a list of operation names'];
  return value
    .filter((v) => typeof v !== 'string' || enumValueOf('Operation', v) === undefined)
    .map((v) => `audit.requirePurpose: '${String(v)}' is not a KMIP operation name (e.g. Get, Destroy)`);
}

export function checkDefaultPurpose(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return ['audit.defaultPurpose: must be a mapping of identity, group:NAME or * to a purpose'];
  return Object.entries(value)
    .filter(([, v]) => typeof v !== 'string' || v === '')
    .map(([k]) => `audit.defaultPurpose.${k}: must be a non-empty string`);
}

export function checkSyslog(value: unknown): string[] {
  return typeof value === 'string' && /^(udp|tcp):\/\/(\[[^\]]+\]|[^:/]+)(:\d{1,5})?\/?$/.test(value)
    ? []
    : [`audit.syslog: must be udp://HOST:PORT or tcp://HOST:PORT, got ${JSON.stringify(value)}`];
}

export function buildAuditConfig(v: {
  dataDir: string;
  durability?: string;
  sealEveryRecords: number;
  sealIntervalSeconds: number;
  anchorFile: string | undefined;
  requirePurpose: unknown;
  defaultPurpose: unknown;
  file: string | undefined;
  syslog: string | undefined;
  failClosed?: boolean;
}): AuditConfig {
  return {
    ...(v.durability === 'batched' ? { durability: 'batched' as const } : {}),
    sealEveryRecords: v.sealEveryRecords,
    sealIntervalSeconds: v.sealIntervalSeconds,
    anchorFile: v.anchorFile ?? path.join(v.dataDir, 'audit-anchor.json'),
    requirePurpose: Array.isArray(v.requirePurpose) ? v.requirePurpose.map(String) : [],
    defaultPurpose:
      typeof v.defaultPurpose === 'object' && v.defaultPurpose !== null && !Array.isArray(v.defaultPurpose)
        ? Object.fromEntries(Object.entries(v.defaultPurpose).map(([k, p]) => [k, String(p)]))
        : {},
    ...(v.file === undefined ? {} : { file: v.file }),
    ...(v.syslog === undefined ? {} : { syslog: v.syslog }),
    ...(v.failClosed === true ? { failClosed: true } : {}),
  };
}
