import { createHash, createHmac, type Hmac, timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';
import { isHsmUnavailable, type MasterKeyProvider } from '../hsm/types.js';
import { auditKekId, auditLine, kekLine, objectLine } from './backup-export.js';
import {
  BackupFormatError,
  type BackupPhase,
  type Counts,
  IMPORT_CHUNK,
  type ImportOptions,
  type Json,
  MAC_BYTES,
  MAC_KEY_BYTES,
  PROGRESS_EVERY,
  type ProgressCallback,
  RestoreError,
} from './backup-format.js';
import {
  type Entry,
  fail,
  type Header,
  NEWLINE,
  parseEntry,
  parseHeader,
  parseJson,
  readLines,
} from './backup-lines.js';
import type { KekRecord, ObjectStore, WriteOp } from './types.js';

/**
 * Backend-independent logical backup: JSON lines, authenticated.
 *
 *   {"type":"header","format":"kmip-server-store","version":2,"kind":...,"counts":{...},
 *    "auth":{"alg":"HMAC-SHA256","masterKeyId":...,"wrappedKey":...}}
 *   {"type":"object",...}  every object in creation order, tombstoned included
 *   {"type":"audit",...}   the audit trail in order
 *   {"type":"kek",...}     every KEK (still wrapped by the master key)
 *   {"type":"end","counts":{...},"mac":...}
 *
 * Byte fields are base64. They are the non-secret attribute TTLV, sealed
 * ciphertext and wrapped KEKs: an export holds no plaintext key material, and
 * restoring it needs the same master key.
 *
 * Authentication. Each export draws a random 32-byte MAC key, wraps it with
 * the master key provider (as a KEK is wrapped) and puts the wrapped form in
 * the header; `mac` in the end record is HMAC-SHA256 over the exact bytes of
 * every line before it, header included. The MAC key exists unwrapped only in
 * memory. A restore unwraps it with the configured provider and checks the
 * whole file (JSON, every field, the MAC, the counts, nothing after the end
 * record, every KEK an object or audit segment needs) before it writes
 * anything; then, in a second pass, writes; then checks that the bytes it
 * wrote were those it verified. Whoever can alter the file but not use the
 * master key cannot alter, drop, add or reorder a record unnoticed.
 *
 * Consistency on a live store. Not a point-in-time snapshot across records:
 * each object line is one committed version of that object, read atomically —
 * on SQLite a batch of rows and their Locate index rows come from one read
 * transaction; on MongoDB each document is read atomically and an unfinished
 * atomic() resolves to its committed image — but objects changed during the
 * export appear as the cursor met them, and objects created during it appear
 * if the cursor had not reached the end. Objects never vanish (Destroy
 * tombstones). The audit trail is read after the objects, up to what was
 * committed by then. For one point in time stop the servers, or use the
 * SQLite store's backup() (a consistent online copy).
 *
 * KEKs, whatever runs concurrently (`kek rotate`, `master-key rotate`, other
 * nodes): they are written last, from a listing taken after every object and
 * audit record was read (merged with the one taken at the start). That
 * listing holds every KEK the export needs because (1) a KEK is never deleted
 * — rewrap and deactivation replace the record under the same id (putKek);
 * the only deletion in the ObjectStore contract, undoRestore, runs on a
 * restore's own target only — and (2) the Sealer stores a KEK,
 * durably, before it seals anything under it (rotateKek: #createKek's putKek,
 * then setActive; resealAll seals under the active KEK; an audit segment's
 * key likewise), so a KEK named by any record already read was committed
 * before that read. exportStore still checks it and fails rather than return
 * an export that lacks one.
 */

export { exportStore } from './backup-export.js';
export * from './backup-format.js';

interface Verified {
  readonly version: number;
  readonly counts: Counts;
  /** SHA-256 of the whole file as verified: the write pass must read the same bytes */
  readonly digest: Buffer;
}

async function unwrapMacKey(provider: MasterKeyProvider, header: Header): Promise<Hmac> {
  const auth = header.auth;
  if (auth === undefined) throw new BackupFormatError('the export carries no authentication');
  let key: Uint8Array;
  try {
    key = await provider.unwrap(auth.masterKeyId, auth.wrappedKey);
  } catch (e: unknown) {
    if (isHsmUnavailable(e)) throw e;
    throw new BackupFormatError(
      `cannot unwrap the export's authentication key (wrapped under ${auth.masterKeyId}) with the configured master key ` +
        `(${provider.currentKeyId}): another master key wrote this export, or its header was altered`,
    );
  }
  try {
    if (key.length !== MAC_KEY_BYTES)
      throw new BackupFormatError("the export's authentication key has a wrong length");
    return createHmac('sha256', key);
  } finally {
    key.fill(0);
  }
}

/**
 * The first pass: every line parsed and checked, the MAC, the counts, the
 * KEKs records need. Throws BackupFormatError at the first problem.
 */
async function verifyExport(open: () => Readable, opts: ImportOptions): Promise<Verified> {
  const digest = createHash('sha256');
  let header: Header | undefined;
  let mac: Hmac | undefined;
  let end: Extract<Entry, { type: 'end' }> | undefined;
  const seen: Counts = { keks: 0, objects: 0, audit: 0 };
  const objectIds = new Set<string>();
  const kekIds = new Set<string>();
  /** KEK id → the first line that needs it */
  const needed = new Map<string, number>();
  let lineNo = 0;
  const tick = () => {
    const done = seen.keks + seen.objects + seen.audit;
    if (
      opts.progress !== undefined &&
      header !== undefined &&
      (end !== undefined || done % PROGRESS_EVERY === 0)
    ) {
      const total = header.counts.keks + header.counts.objects + header.counts.audit;
      opts.progress({ phase: 'verify', done, total: Math.max(total, done) });
    }
  };
  for await (const line of readLines(open(), (b) => digest.update(b))) {
    lineNo++;
    if (end !== undefined) fail(lineNo, 'data after the end record');
    let j: Json;
    try {
      j = parseJson(line.bytes, lineNo);
    } catch (e: unknown) {
      if (line.terminated) throw e;
      throw new BackupFormatError(`the export is truncated (it ends inside line ${lineNo})`);
    }
    if (header === undefined) {
      header = parseHeader(j, opts.allowUnauthenticated === true);
      if (header.auth !== undefined) mac = await unwrapMacKey(opts.provider, header);
      mac?.update(line.bytes).update(NEWLINE);
      if (!line.terminated) break;
      continue;
    }
    const entry = parseEntry(j, lineNo, header.version);
    if (entry.type === 'end') {
      end = entry;
      tick();
      continue;
    }
    if (!line.terminated) break;
    mac?.update(line.bytes).update(NEWLINE);
    switch (entry.type) {
      case 'object': {
        const r = entry.record;
        if (objectIds.has(r.id)) fail(lineNo, `object ${r.id} appears twice`);
        objectIds.add(r.id);
        if (r.sealed !== undefined && !needed.has(r.sealed.kekId)) needed.set(r.sealed.kekId, lineNo);
        seen.objects++;
        break;
      }
      case 'audit': {
        const kekId = auditKekId(entry.record);
        if (kekId !== undefined && !needed.has(kekId)) needed.set(kekId, lineNo);
        seen.audit++;
        break;
      }
      case 'kek':
        if (kekIds.has(entry.record.id)) fail(lineNo, `key-encryption key ${entry.record.id} appears twice`);
        kekIds.add(entry.record.id);
        seen.keks++;
        break;
    }
    tick();
  }
  if (header === undefined) throw new BackupFormatError('not a kmip-server store export (empty)');
  if (end === undefined) throw new BackupFormatError('the export is truncated (no end record)');
  if (mac !== undefined) {
    const want = mac.digest();
    const got = end.mac ?? new Uint8Array(0);
    if (got.length !== MAC_BYTES || !timingSafeEqual(want, got))
      throw new BackupFormatError(
        'the export failed authentication: it was altered (or truncated and re-terminated) after it was written',
      );
  }
  if (end.counts.keks !== seen.keks || end.counts.objects !== seen.objects || end.counts.audit !== seen.audit)
    throw new BackupFormatError('the export is inconsistent: record counts disagree with its end record');
  const missing = [...needed].filter(([id]) => !kekIds.has(id));
  if (missing.length > 0)
    throw new BackupFormatError(
      `the export lacks key-encryption key(s) ${missing.map(([id, n]) => `${id} (needed from line ${n})`).join(', ')}: ` +
        'what they sealed could not be read after a restore',
    );
  return { version: header.version, counts: seen, digest: digest.digest() };
}

// ---- import

async function isEmpty(store: ObjectStore): Promise<boolean> {
  return (
    (await store.count({ includeTombstoned: true })) === 0 &&
    (await store.listKeks()).length === 0 &&
    (await store.readAudit({ limit: 1 })[Symbol.asyncIterator]().next()).done === true
  );
}

interface Written {
  readonly objectIds: string[];
  readonly kekIds: string[];
}

/** The second pass: writes what the first one verified, in file order. */
async function writeExport(
  store: ObjectStore,
  open: () => Readable,
  verified: Verified,
  written: Written,
  progress: ProgressCallback | undefined,
): Promise<Counts> {
  const digest = createHash('sha256');
  const done: Counts = { keks: 0, objects: 0, audit: 0 };
  /** written last, whatever their place in the file: see interruptedRestoreOf */
  const keks: KekRecord[] = [];
  let pending: WriteOp[] = [];
  let pendingPhase: 'objects' | 'audit' = 'objects';
  const report = (phase: Exclude<BackupPhase, 'verify'>) =>
    progress?.({ phase, done: done[phase], total: verified.counts[phase] });
  const flush = async () => {
    if (pending.length === 0) return;
    const ops = pending;
    pending = [];
    // noted before the write: a write that fails may still have landed (a timeout)
    for (const op of ops) if (op.kind === 'insert') written.objectIds.push(op.record.id);
    await store.atomic(ops);
    done[pendingPhase] += ops.length;
    report(pendingPhase);
  };
  const queue = async (phase: 'objects' | 'audit', op: WriteOp) => {
    if (phase !== pendingPhase) await flush();
    pendingPhase = phase;
    pending.push(op);
    if (pending.length >= IMPORT_CHUNK) await flush();
  };

  let lineNo = 0;
  let ended = false;
  for await (const line of readLines(open(), (b) => digest.update(b))) {
    lineNo++;
    if (ended) fail(lineNo, 'data after the end record');
    const j = parseJson(line.bytes, lineNo);
    if (lineNo === 1) continue; // the header, verified
    const entry = parseEntry(j, lineNo, verified.version);
    switch (entry.type) {
      case 'object':
        await queue('objects', { kind: 'insert', record: entry.record });
        break;
      case 'audit':
        await queue('audit', { kind: 'audit', record: entry.record });
        break;
      case 'kek':
        keks.push(entry.record);
        break;
      case 'end':
        await flush();
        ended = true;
        break;
    }
  }
  await flush();
  if (!ended || !digest.digest().equals(verified.digest))
    throw new BackupFormatError('the export file changed while it was being restored');
  for (const k of keks) {
    written.kekIds.push(k.id);
    await store.putKek(k);
    done.keks++;
  }
  report('keks');
  return done;
}

/**
 * Whether the store holds just what an interrupted restore of this export
 * leaves (KEKs are written last): a prefix of its objects and of its audit
 * trail, record for record, and some but not all of its KEKs, each as in the
 * export. Then those are what to remove before restoring again. A store in
 * use, the export's source or a completed restore never qualifies.
 */
async function interruptedRestoreOf(
  store: ObjectStore,
  open: () => Readable,
  verified: Verified,
): Promise<Written | undefined> {
  const storeKeks = await store.listKeks();
  if (storeKeks.length >= verified.counts.keks) return undefined;
  const keks = new Map(storeKeks.map((k) => [k.id, JSON.stringify(kekLine(k))]));
  const objects = store.iterate()[Symbol.asyncIterator]();
  const audit = store.readAudit()[Symbol.asyncIterator]();
  const objectIds: string[] = [];
  let objectsLeft = true;
  let auditLeft = true;
  let keksSeen = 0;
  let lineNo = 0;
  try {
    for await (const line of readLines(open(), () => undefined)) {
      lineNo++;
      if (lineNo === 1) continue;
      const text = line.bytes.toString('utf8');
      const j = parseJson(line.bytes, lineNo);
      if (j.type === 'object' && objectsLeft) {
        const next = await objects.next();
        if (next.done === true) objectsLeft = false;
        else if (JSON.stringify(objectLine(next.value)) !== text) return undefined;
        else objectIds.push(next.value.id);
      } else if (j.type === 'audit' && auditLeft) {
        const next = await audit.next();
        if (next.done === true) auditLeft = false;
        else if (JSON.stringify(auditLine(next.value)) !== text) return undefined;
      } else if (j.type === 'kek' && typeof j.id === 'string' && keks.has(j.id)) {
        if (keks.get(j.id) !== text) return undefined;
        keksSeen++;
      }
    }
    if (objectsLeft && (await objects.next()).done !== true) return undefined;
    if (auditLeft && (await audit.next()).done !== true) return undefined;
    if (keksSeen !== keks.size) return undefined;
    return { objectIds, kekIds: [...keks.keys()] };
  } finally {
    await objects.return?.();
    await audit.return?.();
  }
}

/**
 * Restores an export into an EMPTY store (refuses otherwise: merging two
 * stores would silently mix key hierarchies), all or nothing. `open` is
 * called more than once: the first pass verifies the whole file (see the
 * module comment) and writes nothing — any BackupFormatError leaves the store
 * as it was; the second writes it, keeping versions, order and tombstones,
 * KEKs last. If writing fails (I/O, the store goes away) what was written is
 * removed again (ObjectStore.undoRestore) and a RestoreError says whether
 * that worked. If this process dies while writing, the store holds part of
 * the export: restoring the same export again recognises exactly that
 * (interruptedRestoreOf), removes it and restores (telling `notice`); any
 * other content is refused. Nothing else may write to the store meanwhile.
 */
export async function importStore(
  store: ObjectStore,
  open: () => Readable,
  opts: ImportOptions,
): Promise<Counts> {
  const nonEmpty = () => new BackupFormatError('refusing to import into a non-empty store');
  if (store.undoRestore === undefined && !(await isEmpty(store))) throw nonEmpty();
  const verified = await verifyExport(open, opts);
  if (!(await isEmpty(store))) {
    const partial =
      store.undoRestore === undefined ? undefined : await interruptedRestoreOf(store, open, verified);
    if (partial === undefined || store.undoRestore === undefined) throw nonEmpty();
    await store.undoRestore({ ...partial, auditAfter: 0 });
    opts.notice?.(
      `the store held an interrupted restore of this export (${partial.objectIds.length} objects, ${partial.kekIds.length} KEKs): removed it, restoring again`,
    );
    if (!(await isEmpty(store))) throw nonEmpty();
  }
  const written: Written = { objectIds: [], kekIds: [] };
  try {
    return await writeExport(store, open, verified, written, opts.progress);
  } catch (e: unknown) {
    const why = e instanceof Error ? e.message : String(e);
    if (store.undoRestore === undefined)
      throw new RestoreError(
        `restore failed while writing (${why}); this store cannot remove a partial restore: delete it before restoring again`,
        false,
        { cause: e },
      );
    try {
      // the store was empty: every audit record in it now is the restore's
      await store.undoRestore({ objectIds: written.objectIds, kekIds: written.kekIds, auditAfter: 0 });
    } catch (undo: unknown) {
      throw new RestoreError(
        `restore failed while writing (${why}), and removing what it wrote failed too (${
          undo instanceof Error ? undo.message : String(undo)
        }): the store holds part of the export; delete it before restoring again`,
        false,
        { cause: e },
      );
    }
    throw new RestoreError(
      `restore failed while writing (${why}); what it wrote was removed: the store is empty`,
      true,
      {
        cause: e,
      },
    );
  }
}
