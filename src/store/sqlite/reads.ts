/**
 * The read side of the SQLite store: prepared statements of the read
 * connection, rows → records, and the WHERE clause of a Locate filter.
 */

import type Database from 'better-sqlite3';
import type { AuditRecord, KekRecord, LocateFilter, ObjectRecord } from '../types.js';
import { AUDIT_SCHEMA } from './schema.js';

export interface ObjectRow {
  seq: number;
  id: string;
  version: number;
  object_type: string;
  state: string;
  owner: string | null;
  algorithm: string | null;
  length: number | null;
  created_at: number;
  updated_at: number;
  tombstoned: number;
  attributes: Buffer;
  sealed_kek: string | null;
  sealed_nonce: Buffer | null;
  sealed_ct: Buffer | null;
}

interface AuditRow {
  seq: number;
  at: number;
  actor: string | null;
  operation: string;
  object_id: string | null;
  outcome: string;
  detail: string;
}

interface KekRow {
  id: string;
  master_key_id: string;
  wrapped: Buffer;
  created_at: number;
  active: number;
}

const OBJECT_COLUMNS =
  'seq, id, version, object_type, state, owner, algorithm, length, created_at, updated_at, tombstoned, attributes, sealed_kek, sealed_nonce, sealed_ct';
const AUDIT_COLUMNS = 'seq, at, actor, operation, object_id, outcome, detail';
const KEK_COLUMNS = 'id, master_key_id, wrapped, created_at, active';

export function prepareStatements(db: Database.Database) {
  const p = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
  return {
    getObject: p<ObjectRow>(`SELECT ${OBJECT_COLUMNS} FROM objects WHERE id = ?`),
    dataVersion: db.prepare<[], number>('PRAGMA main.data_version').pluck(),
    objectsAfter: p<ObjectRow>(`SELECT ${OBJECT_COLUMNS} FROM objects WHERE seq > ? ORDER BY seq LIMIT ?`),
    names: p<{ name: string }>('SELECT name FROM object_names WHERE oid = ? ORDER BY pos'),
    groups: p<{ grp: string }>('SELECT grp FROM object_groups WHERE oid = ? ORDER BY pos'),
    dates: p<{ field: string; value: number }>(
      'SELECT field, value FROM object_dates WHERE oid = ? ORDER BY rowid',
    ),
    custom: p<{ name: string; value: string }>(
      'SELECT name, value FROM object_custom WHERE oid = ? ORDER BY rowid',
    ),
    auditAfter: p<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM ${AUDIT_SCHEMA}.audit WHERE seq > ? ORDER BY seq LIMIT ?`,
    ),
    lastAudit: p<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM ${AUDIT_SCHEMA}.audit ORDER BY seq DESC LIMIT 1`),
    getKek: p<KekRow>(`SELECT ${KEK_COLUMNS} FROM keks WHERE id = ?`),
    listKeks: p<KekRow>(`SELECT ${KEK_COLUMNS} FROM keks ORDER BY created_at, id`),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

function bytes(b: Buffer): Uint8Array {
  // a plain Uint8Array (not a Buffer view), so records compare equal whatever the backend
  return new Uint8Array(b);
}

/** The record of a row; without `indexFields`, names, groups, dates and custom are left empty. */
export function toRecord(s: Statements, row: ObjectRow, indexFields = true): ObjectRecord {
  const dates: Record<string, number> = {};
  const custom: Record<string, string[]> = {};
  if (indexFields) {
    for (const d of s.dates.all(row.seq)) dates[d.field] = d.value;
    for (const c of s.custom.all(row.seq)) {
      const list = custom[c.name];
      if (list === undefined) custom[c.name] = [c.value];
      else list.push(c.value);
    }
  }
  return {
    id: row.id,
    version: row.version,
    objectType: row.object_type,
    state: row.state,
    owner: row.owner ?? undefined,
    names: indexFields ? s.names.all(row.seq).map((n) => n.name) : [],
    objectGroups: indexFields ? s.groups.all(row.seq).map((g) => g.grp) : [],
    algorithm: row.algorithm ?? undefined,
    length: row.length ?? undefined,
    dates,
    custom,
    attributes: bytes(row.attributes),
    sealed:
      row.sealed_kek === null || row.sealed_nonce === null || row.sealed_ct === null
        ? undefined
        : { kekId: row.sealed_kek, nonce: bytes(row.sealed_nonce), ciphertext: bytes(row.sealed_ct) },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    tombstoned: row.tombstoned !== 0,
  };
}

export function toAudit(r: AuditRow): AuditRecord & { readonly seq: number } {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor ?? undefined,
    operation: r.operation,
    objectId: r.object_id ?? undefined,
    outcome: r.outcome,
    detail: JSON.parse(r.detail) as Record<string, string>,
  };
}

export function toKek(row: KekRow): KekRecord {
  return {
    id: row.id,
    masterKeyId: row.master_key_id,
    wrapped: bytes(row.wrapped),
    createdAt: row.created_at,
    active: row.active !== 0,
  };
}

/** WHERE clause for a Locate filter: fixed SQL fragments, every value a bound parameter. */
export function buildWhere(filter: LocateFilter): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const column = (sql: string, value: unknown) => {
    if (value === undefined) return;
    clauses.push(sql);
    params.push(value);
  };
  if (filter.includeTombstoned !== true) clauses.push('o.tombstoned = 0');
  column('o.object_type = ?', filter.objectType);
  column('o.state = ?', filter.state);
  column('o.owner = ?', filter.owner);
  column('o.algorithm = ?', filter.algorithm);
  column('o.length = ?', filter.length);
  // `o.seq IN (subquery)`: the side-table index drives the search, so a name
  // lookup costs O(log n) however many objects there are
  column('o.seq IN (SELECT oid FROM object_names WHERE name = ?)', filter.name);
  column('o.seq IN (SELECT oid FROM object_groups WHERE grp = ?)', filter.objectGroup);
  for (const d of filter.dates ?? []) {
    let sql = 'o.seq IN (SELECT oid FROM object_dates WHERE field = ?';
    params.push(d.field);
    if (d.from !== undefined) {
      sql += ' AND value >= ?';
      params.push(d.from);
    }
    if (d.to !== undefined) {
      sql += ' AND value <= ?';
      params.push(d.to);
    }
    clauses.push(`${sql})`);
  }
  for (const c of filter.custom ?? []) {
    clauses.push('o.seq IN (SELECT oid FROM object_custom WHERE name = ? AND value = ?)');
    params.push(c.name, c.value);
  }
  return { where: clauses.length === 0 ? '' : ` WHERE ${clauses.join(' AND ')}`, params };
}
