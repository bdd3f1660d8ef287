import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { AuditRecord, KekRecord, ObjectRecord, ObjectStore, WriteOp } from './types.js';

/**
 * Backend-independent logical backup: JSON lines.
 *
 *   {"type":"header","format":"kmip-server-store","version":1,"kind":...,"counts":{...}}
 *   {"type":"kek",...}     every KEK (still wrapped by the master key)
 *   {"type":"object",...}  every object in creation order, tombstoned included
 *   {"type":"audit",...}   the audit trail in order
 *   {"type":"end","counts":{...}}
 *
 * Byte fields are base64. They are the non-secret attribute TTLV, sealed
 * ciphertext and wrapped KEKs: an export holds no plaintext key material, and
 * restoring it needs the same master key. The header counts are taken before
 * the records are written (for progress); the trailer counts what was written
 * and lets the import detect a truncated file. On a live store the export is
 * not a snapshot: take it from a stopped server, or use the SQLite store's
 * backup() for an online consistent copy.
 */

export const EXPORT_FORMAT = 'kmip-server-store';
export const EXPORT_VERSION = 1;

export type BackupPhase = 'keks' | 'objects' | 'audit';

export interface BackupProgress {
  readonly phase: BackupPhase;
  readonly done: number;
  /** expected total for the phase (from the header) */
  readonly total: number;
}

export type ProgressCallback = (p: BackupProgress) => void;

interface Counts {
  keks: number;
  objects: number;
  audit: number;
}

const PROGRESS_EVERY = 1000;
/** records per atomic() call on import: ops are applied in order, so creation and audit order survive */
const IMPORT_CHUNK = 100;

export class BackupFormatError extends Error {
  override name = 'BackupFormatError';
}

const b64 = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64');
const unb64 = (s: unknown, what: string): Uint8Array => {
  if (typeof s !== 'string') throw new BackupFormatError(`${what} is not base64 text`);
  return new Uint8Array(Buffer.from(s, 'base64'));
};

function objectLine(r: ObjectRecord): Record<string, unknown> {
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

type Json = Record<string, unknown>;

const opt = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : (v as T));

function toObject(j: Json): ObjectRecord {
  const sealed = j.sealed as Json | null | undefined;
  if (typeof j.id !== 'string' || typeof j.version !== 'number')
    throw new BackupFormatError('object line without id or version');
  return {
    id: j.id,
    version: j.version,
    objectType: String(j.objectType),
    state: String(j.state),
    owner: opt<string>(j.owner),
    names: (j.names ?? []) as string[],
    objectGroups: (j.objectGroups ?? []) as string[],
    algorithm: opt<string>(j.algorithm),
    length: opt<number>(j.length),
    dates: (j.dates ?? {}) as Record<string, number>,
    custom: (j.custom ?? {}) as Record<string, string[]>,
    attributes: unb64(j.attributes, 'attributes'),
    sealed:
      sealed === null || sealed === undefined
        ? undefined
        : {
            kekId: String(sealed.kekId),
            nonce: unb64(sealed.nonce, 'sealed.nonce'),
            ciphertext: unb64(sealed.ciphertext, 'sealed.ciphertext'),
          },
    createdAt: Number(j.createdAt),
    updatedAt: Number(j.updatedAt),
    tombstoned: j.tombstoned === true,
  };
}

function toKek(j: Json): KekRecord {
  if (typeof j.id !== 'string') throw new BackupFormatError('kek line without id');
  return {
    id: j.id,
    masterKeyId: String(j.masterKeyId),
    wrapped: unb64(j.wrapped, 'wrapped'),
    createdAt: Number(j.createdAt),
    active: j.active === true,
  };
}

function toAudit(j: Json): AuditRecord {
  return {
    at: Number(j.at),
    actor: opt<string>(j.actor),
    operation: String(j.operation),
    objectId: opt<string>(j.objectId),
    outcome: String(j.outcome),
    detail: (j.detail ?? {}) as Record<string, string>,
  };
}

async function countAudit(store: ObjectStore): Promise<number> {
  let n = 0;
  for await (const _ of store.readAudit()) n++;
  return n;
}

/** Writes the whole store to `out` as JSON lines (see above). Does not end `out`. */
export async function exportStore(
  store: ObjectStore,
  out: Writable,
  progress?: ProgressCallback,
): Promise<Counts> {
  const write = async (line: Json) => {
    if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
  };
  const keks = await store.listKeks();
  const expected: Counts = {
    keks: keks.length,
    objects: await store.count({ includeTombstoned: true }),
    audit: await countAudit(store),
  };
  const written: Counts = { keks: 0, objects: 0, audit: 0 };
  const tick = (phase: BackupPhase, force = false) => {
    if (progress !== undefined && (force || written[phase] % PROGRESS_EVERY === 0))
      progress({ phase, done: written[phase], total: expected[phase] });
  };
  await write({
    type: 'header',
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    kind: store.kind,
    exportedAt: Date.now(),
    counts: expected,
  });
  for (const k of keks) {
    await write({
      type: 'kek',
      id: k.id,
      masterKeyId: k.masterKeyId,
      wrapped: b64(k.wrapped),
      createdAt: k.createdAt,
      active: k.active,
    });
    written.keks++;
  }
  tick('keks', true);
  for await (const r of store.iterate()) {
    await write(objectLine(r));
    written.objects++;
    tick('objects');
  }
  tick('objects', true);
  for await (const a of store.readAudit()) {
    await write({
      type: 'audit',
      at: a.at,
      actor: a.actor ?? null,
      operation: a.operation,
      objectId: a.objectId ?? null,
      outcome: a.outcome,
      detail: a.detail,
    });
    written.audit++;
    tick('audit');
  }
  tick('audit', true);
  await write({ type: 'end', counts: written });
  return written;
}

/**
 * Restores an export into an EMPTY store (refuses otherwise: merging two
 * stores would silently mix key hierarchies). Records keep their versions,
 * order and tombstones. A missing or disagreeing trailer is an error; what
 * was imported before it stays (restore into a fresh store again).
 */
export async function importStore(
  store: ObjectStore,
  input: Readable,
  progress?: ProgressCallback,
): Promise<Counts> {
  if (
    (await store.count({ includeTombstoned: true })) > 0 ||
    (await store.listKeks()).length > 0 ||
    !(await store.readAudit({ limit: 1 })[Symbol.asyncIterator]().next()).done
  )
    throw new BackupFormatError('refusing to import into a non-empty store');

  const done: Counts = { keks: 0, objects: 0, audit: 0 };
  let expected: Counts | undefined;
  let ended: Counts | undefined;
  let pending: WriteOp[] = [];
  let pendingPhase: BackupPhase = 'objects';
  const flush = async () => {
    if (pending.length === 0) return;
    await store.atomic(pending);
    done[pendingPhase] += pending.length;
    pending = [];
    if (progress !== undefined && expected !== undefined)
      progress({ phase: pendingPhase, done: done[pendingPhase], total: expected[pendingPhase] });
  };
  const queue = async (phase: BackupPhase, op: WriteOp) => {
    if (phase !== pendingPhase) await flush();
    pendingPhase = phase;
    pending.push(op);
    if (pending.length >= IMPORT_CHUNK) await flush();
  };

  let lineNo = 0;
  for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    lineNo++;
    if (text.trim() === '') continue;
    if (ended !== undefined) throw new BackupFormatError(`line ${lineNo}: data after the end record`);
    let j: Json;
    try {
      j = JSON.parse(text) as Json;
    } catch {
      throw new BackupFormatError(`line ${lineNo}: not JSON`);
    }
    if (expected === undefined) {
      if (j.type !== 'header' || j.format !== EXPORT_FORMAT)
        throw new BackupFormatError('not a kmip-server store export');
      if (j.version !== EXPORT_VERSION)
        throw new BackupFormatError(`unsupported export format version ${String(j.version)}`);
      expected = j.counts as Counts;
      continue;
    }
    switch (j.type) {
      case 'kek':
        await flush();
        await store.putKek(toKek(j));
        done.keks++;
        break;
      case 'object':
        await queue('objects', { kind: 'insert', record: toObject(j) });
        break;
      case 'audit':
        await queue('audit', { kind: 'audit', record: toAudit(j) });
        break;
      case 'end':
        await flush();
        ended = j.counts as Counts;
        break;
      default:
        throw new BackupFormatError(`line ${lineNo}: unknown record type`);
    }
  }
  await flush();
  if (ended === undefined) throw new BackupFormatError('the export is truncated (no end record)');
  if (ended.keks !== done.keks || ended.objects !== done.objects || ended.audit !== done.audit)
    throw new BackupFormatError('the export is inconsistent: record counts disagree with its end record');
  return done;
}
