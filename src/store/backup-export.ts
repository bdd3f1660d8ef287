/** Writing an export (format: src/store/backup.ts). */
import { createHmac, type Hmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import {
  BackupIncompleteError,
  type BackupPhase,
  b64,
  type Counts,
  EXPORT_FORMAT,
  EXPORT_VERSION,
  type ExportOptions,
  type Json,
  MAC_ALG,
  MAC_KEY_BYTES,
  PROGRESS_EVERY,
} from './backup-format.js';
import {
  AUDIT_OPEN_OPERATION,
  type AuditRecord,
  type KekRecord,
  type ObjectRecord,
  type ObjectStore,
} from './types.js';

// ---- export

export function objectLine(r: ObjectRecord): Json {
  return {
    type: 'object',
    id: r.id,
    version: r.version,
    objectType: r.objectType,
    state: r.state,
    owner: r.owner ?? null,
    names: r.names,
    objectGroups: r.objectGroups,
    algorithm: r.algorithm ?? null,
    length: r.length ?? null,
    dates: r.dates,
    custom: r.custom,
    attributes: b64(r.attributes),
    sealed:
      r.sealed === undefined
        ? null
        : { kekId: r.sealed.kekId, nonce: b64(r.sealed.nonce), ciphertext: b64(r.sealed.ciphertext) },
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    tombstoned: r.tombstoned,
  };
}

export function auditLine(a: AuditRecord): Json {
  return {
    type: 'audit',
    at: a.at,
    actor: a.actor ?? null,
    operation: a.operation,
    objectId: a.objectId ?? null,
    outcome: a.outcome,
    detail: a.detail,
  };
}

export function kekLine(k: KekRecord): Json {
  return {
    type: 'kek',
    id: k.id,
    masterKeyId: k.masterKeyId,
    wrapped: b64(k.wrapped),
    createdAt: k.createdAt,
    active: k.active,
  };
}

/** The KEK an audit record needs: an audit segment's Open record carries its HMAC key sealed under one. */
export function auditKekId(a: {
  readonly operation: string;
  readonly detail: Readonly<Record<string, string>>;
}) {
  return a.operation === AUDIT_OPEN_OPERATION && typeof a.detail.kekId === 'string'
    ? a.detail.kekId
    : undefined;
}

export async function countAudit(store: ObjectStore): Promise<number> {
  let n = 0;
  for await (const _ of store.readAudit()) n++;
  return n;
}

export function byCreation(a: KekRecord, b: KekRecord): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Writes the whole store to `out` (see above). Does not end `out`. Rejects
 * with BackupIncompleteError (after writing most of it: discard `out`) when a
 * record needs a KEK the store does not list.
 */
export async function exportStore(store: ObjectStore, out: Writable, opts: ExportOptions): Promise<Counts> {
  const { provider, progress } = opts;
  const macKey = randomBytes(MAC_KEY_BYTES);
  let mac: Hmac;
  let auth: Json;
  try {
    const { masterKeyId, wrapped } = await provider.wrap(macKey);
    auth = { alg: MAC_ALG, masterKeyId, wrappedKey: b64(wrapped) };
    mac = createHmac('sha256', macKey);
  } finally {
    macKey.fill(0);
  }
  const write = async (line: Json) => {
    if (out.errored) throw out.errored;
    const text = `${JSON.stringify(line)}\n`;
    mac.update(text, 'utf8');
    if (!out.write(text, 'utf8')) await once(out, 'drain');
  };

  const firstKeks = await store.listKeks();
  const expected: Counts = {
    keks: firstKeks.length,
    objects: await store.count({ includeTombstoned: true }),
    audit: await countAudit(store),
  };
  const written: Counts = { keks: 0, objects: 0, audit: 0 };
  const reported: Counts = { keks: -1, objects: -1, audit: -1 };
  const tick = (phase: Exclude<BackupPhase, 'verify'>, force = false) => {
    const done = written[phase];
    if (progress === undefined || reported[phase] === done || !(force || done % PROGRESS_EVERY === 0)) return;
    reported[phase] = done;
    progress({ phase, done, total: Math.max(expected[phase], done) });
  };
  /** KEK ids the records written so far need */
  const needed = new Set<string>();

  await write({
    type: 'header',
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    kind: store.kind,
    exportedAt: Date.now(),
    counts: expected,
    auth,
  });
  /** a restore refuses an id twice; no backend's cursor should repeat one, but none may break the export */
  const ids = new Set<string>();
  for await (const r of store.iterate()) {
    if (ids.has(r.id)) continue;
    ids.add(r.id);
    if (r.sealed !== undefined) needed.add(r.sealed.kekId);
    await write(objectLine(r));
    written.objects++;
    tick('objects');
  }
  tick('objects', true);
  for await (const a of store.readAudit()) {
    const kekId = auditKekId(a);
    if (kekId !== undefined) needed.add(kekId);
    await write(auditLine(a));
    written.audit++;
    tick('audit');
  }
  tick('audit', true);
  // Listed only now, after every record that may name a KEK was read: see the module comment.
  const keks = new Map(firstKeks.map((k) => [k.id, k]));
  for (const k of await store.listKeks()) keks.set(k.id, k);
  const missing = [...needed].filter((id) => !keks.has(id));
  if (missing.length > 0)
    throw new BackupIncompleteError(
      `the store lists no key-encryption key ${missing.join(', ')}, which records in the export need: backup aborted`,
    );
  expected.keks = keks.size;
  for (const k of [...keks.values()].sort(byCreation)) {
    await write(kekLine(k));
    written.keks++;
  }
  tick('keks', true);
  // the end record is outside the MAC: it carries it
  const end = `${JSON.stringify({ type: 'end', counts: written, mac: mac.digest('base64') })}\n`;
  if (!out.write(end, 'utf8')) await once(out, 'drain');
  return written;
}

// ---- reading and checking
