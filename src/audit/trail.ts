/**
 * The audit writer: appends records to the store as one hash-chained segment
 * per process run, sealed with an HMAC every N records, every T seconds and
 * at close (docs/audit.md).
 *
 * Records submitted in one event-loop turn are chained together and written
 * with one store.atomic(): on SQLite that is one job in the store's group
 * commit, sharing its fsync with every other write of the turn, never an fsync
 * of its own. SQLite commits jobs in the order they were queued, so flushes
 * are pipelined; on other stores a flush waits for the previous one, so that
 * store order is chain order. A failed write breaks the segment: the next
 * flush opens a new one linked to the last durable record, so verify sees no
 * gap (unless a later write of the broken segment had already been queued and
 * succeeded: then verify reports the lost records, which were truly lost).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { type Logger, silentLogger } from '../log.js';
import type { AuditRecord, ObjectStore, SealedBlob } from '../store/types.js';
import {
  AuditKind,
  auditKeyObjectId,
  copyDetail,
  GENESIS,
  OPEN_OPERATION,
  recordHash,
  sealRecord,
  withHash,
} from './chain.js';
import { exportRecord, isExported } from './records.js';
import type { AuditSink } from './sinks.js';

/** What seals and unseals the segments' HMAC keys: the Sealer (KEKs under the master key). */
export interface AuditKeySealer {
  seal(objectId: string, version: number, plaintext: Uint8Array): Promise<SealedBlob>;
  unseal(objectId: string, version: number, blob: SealedBlob): Promise<Uint8Array>;
}

export interface AuditTrailOptions {
  readonly store: ObjectStore;
  readonly sealer: AuditKeySealer;
  /** seal after this many records; default 1000 */
  readonly sealEveryRecords?: number;
  /** seal unsealed records at least this often (ms); default 60 000 */
  readonly sealIntervalMs?: number;
  /** where the last seal's position is written (a copy outside the store, to detect truncation) */
  readonly anchorFile?: string;
  readonly sinks?: readonly AuditSink[];
  /** actor of the segment's own records; default 'kmip-server' */
  readonly actor?: string;
  readonly log?: Logger;
  readonly now?: () => number;
}

export interface AuditAnchor {
  readonly chain: string;
  readonly n: number;
  readonly hash: string;
  readonly at: number;
}

interface Segment {
  readonly chain: string;
  readonly key: Buffer;
  n: number;
  head: string;
  unsealed: number;
  lastSealAt: number;
  /** a write failed: records chained after it may be lost; the next flush opens a new segment */
  broken: boolean;
}

/**
 * The records submitted since the last flush. They are always written (or
 * failed) together, so they share one promise: none per record.
 */
class Pending {
  readonly records: AuditRecord[] = [];
  readonly done: Promise<void>;
  resolve: () => void = noop;
  reject: (e: unknown) => void = noop;
  constructor() {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

function noop(): void {}

const KEY_BYTES = 32;
export const DEFAULT_SEAL_EVERY = 1000;
export const DEFAULT_SEAL_INTERVAL_MS = 60_000;

/** The last record in the store (the new segment links to it). */
async function lastRecord(store: ObjectStore): Promise<AuditRecord | undefined> {
  if (store.lastAudit !== undefined) return store.lastAudit();
  let last: AuditRecord | undefined;
  for await (const r of store.readAudit()) last = r;
  return last;
}

export class AuditTrail {
  readonly #store: ObjectStore;
  readonly #sealer: AuditKeySealer;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #sinks: readonly AuditSink[];
  readonly #sealEvery: number;
  readonly #sealIntervalMs: number;
  readonly #anchorFile: string | undefined;
  readonly #actor: string;
  /**
   * SQLite runs queued writes in order: flushes need not wait for each other.
   * Other stores get one write at a time (#flushNow waits for the one in flight).
   */
  readonly #pipelined: boolean;
  #seg: Segment | undefined;
  #pending: Pending | undefined;
  #flushScheduled = false;
  #reopening = false;
  #sealRequested = false;
  #final = false;
  readonly #inflight = new Set<Promise<unknown>>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #anchorWrite: Promise<void> = Promise.resolve();

  private constructor(opts: AuditTrailOptions) {
    this.#store = opts.store;
    this.#sealer = opts.sealer;
    this.#log = opts.log ?? silentLogger;
    this.#now = opts.now ?? Date.now;
    this.#sinks = opts.sinks ?? [];
    this.#sealEvery = Math.max(1, opts.sealEveryRecords ?? DEFAULT_SEAL_EVERY);
    this.#sealIntervalMs = Math.max(1, opts.sealIntervalMs ?? DEFAULT_SEAL_INTERVAL_MS);
    this.#anchorFile = opts.anchorFile;
    this.#actor = opts.actor ?? 'kmip-server';
    this.#pipelined = opts.store.kind === 'sqlite';
  }

  /** Opens the trail with a new segment: its first record carries its HMAC key, sealed under the active KEK. */
  static async open(opts: AuditTrailOptions): Promise<AuditTrail> {
    const trail = new AuditTrail(opts);
    await trail.#openSegment();
    trail.#timer = setInterval(() => trail.#tick(), Math.min(trail.#sealIntervalMs, 1000));
    trail.#timer.unref();
    return trail;
  }

  /** The current segment's id. */
  get chain(): string {
    return this.#seg?.chain ?? '';
  }

  /** Appends a record (its chain fields are added here); resolves once it is durable. */
  append(record: AuditRecord): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the audit trail is closed'));
    this.#pending ??= new Pending();
    this.#pending.records.push(record);
    this.#schedule();
    return this.#pending.done;
  }

  /** Seals what is unsealed now; resolves once the seal is durable. */
  async seal(): Promise<void> {
    this.#sealRequested = true;
    await this.#flushNow();
    await this.#settled();
    if ((this.#seg?.unsealed ?? 0) > 0 || this.#pending !== undefined)
      throw new Error('the audit trail could not be sealed');
  }

  /** Flushes, writes a final seal, stops the timer, closes the sinks and wipes the key. */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#timer);
    try {
      this.#sealRequested = true;
      this.#final = true;
      await this.#flushNow();
      await this.#settled();
      if ((this.#seg?.unsealed ?? 0) > 0 || this.#pending !== undefined)
        this.#log.error('could not seal the audit trail at close', { unsealed: this.#seg?.unsealed });
    } finally {
      this.#closed = true;
      this.#takePending()?.reject(new Error('the audit trail is closed'));
      await this.#anchorWrite;
      await Promise.allSettled(this.#sinks.map((s) => s.close()));
      this.#seg?.key.fill(0);
    }
  }

  async #settled(): Promise<void> {
    while (this.#inflight.size > 0 || this.#reopening || this.#flushScheduled) {
      await Promise.allSettled([...this.#inflight]);
      if (this.#reopening || this.#flushScheduled) await new Promise((r) => setImmediate(r));
    }
  }

  async #openSegment(): Promise<void> {
    const chain = randomUUID();
    const key = randomBytes(KEY_BYTES);
    try {
      const sealed = await this.#sealer.seal(auditKeyObjectId(chain), 1, key);
      const last = await lastRecord(this.#store);
      const open = withHash({
        at: this.#now(),
        actor: this.#actor,
        operation: OPEN_OPERATION,
        objectId: undefined,
        outcome: 'Success',
        detail: {
          kind: AuditKind.Open,
          chain,
          n: '0',
          prev: last?.detail.hash ?? GENESIS,
          kekId: sealed.kekId,
          nonce: Buffer.from(sealed.nonce).toString('base64'),
          sealedKey: Buffer.from(sealed.ciphertext).toString('base64'),
          node: `${hostname()}:${process.pid}`,
        },
      });
      await this.#store.appendAudit(open);
      const old = this.#seg;
      this.#seg = {
        chain,
        key,
        n: 0,
        head: open.detail.hash ?? GENESIS,
        unsealed: 0,
        lastSealAt: this.#now(),
        broken: false,
      };
      old?.key.fill(0);
    } catch (e: unknown) {
      key.fill(0);
      throw e;
    }
  }

  #tick(): void {
    const seg = this.#seg;
    if (seg !== undefined && seg.unsealed > 0 && this.#now() - seg.lastSealAt >= this.#sealIntervalMs) {
      this.#sealRequested = true;
      this.#schedule();
    } else if (this.#pending !== undefined) this.#schedule();
  }

  /** One flush per turn: every record submitted before it runs joins it. */
  #schedule(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      void this.#flushNow();
    });
  }

  /** Never rejects: a failure rejects the records' own promises. */
  async #flushNow(): Promise<void> {
    if (this.#reopening) return;
    if (this.#seg === undefined || this.#seg.broken) {
      this.#reopening = true;
      try {
        await Promise.allSettled([...this.#inflight]);
        await this.#openSegment();
      } catch (e: unknown) {
        this.#log.error('could not open a new audit segment', {
          error: e instanceof Error ? e.message : String(e),
        });
        this.#takePending()?.reject(e);
        this.#sealRequested = false;
        return;
      } finally {
        this.#reopening = false;
      }
    }
    const seg = this.#seg;
    if (seg === undefined) return;
    // A store that writes one batch at a time (MongoDB): what arrives while a write is in
    // flight waits and goes in the next batch, one round trip for all of it, instead of
    // a queue of one-record writes.
    if (!this.#pipelined && this.#inflight.size > 0) return;
    this.#issue(seg);
  }

  #takePending(): Pending | undefined {
    const p = this.#pending;
    this.#pending = undefined;
    return p;
  }

  /** Chains what is pending onto the segment's head (moving it now) and writes it. */
  #issue(seg: Segment): void {
    const batch = this.#takePending();
    const records = batch?.records ?? [];
    const unsealed = seg.unsealed + records.length;
    // close() always ends the segment with a final seal: verify tells a clean stop from a crash
    const sealNow =
      (unsealed > 0 &&
        (this.#sealRequested ||
          unsealed >= this.#sealEvery ||
          this.#now() - seg.lastSealAt >= this.#sealIntervalMs)) ||
      (this.#final && this.#sealRequested);
    if (records.length === 0 && !sealNow) return;
    const ops: { readonly kind: 'audit'; readonly record: AuditRecord }[] = [];
    const link = (r: AuditRecord): AuditRecord => {
      seg.n++;
      // the stored key order stays that of { ...r.detail, chain, n, prev, hash }
      const detail = copyDetail(r.detail);
      detail.chain = seg.chain;
      detail.n = String(seg.n);
      detail.prev = seg.head;
      const rec: AuditRecord = {
        at: r.at,
        actor: r.actor,
        operation: r.operation,
        objectId: r.objectId,
        outcome: r.outcome,
        detail,
      };
      const hash = recordHash(rec);
      detail.hash = hash;
      seg.head = hash;
      ops.push({ kind: 'audit', record: rec });
      return rec;
    };
    for (const r of records) link(r);
    let anchor: AuditAnchor | undefined;
    if (sealNow) {
      const seal = link(
        sealRecord(
          {
            at: this.#now(),
            actor: this.#actor,
            chain: seg.chain,
            n: seg.n + 1,
            prev: seg.head,
            records: unsealed,
            ...(this.#final ? { flags: { final: 'true' } } : {}),
          },
          seg.key,
        ),
      );
      anchor = { chain: seg.chain, n: seg.n, hash: seg.head, at: seal.at };
      seg.unsealed = 0;
      seg.lastSealAt = this.#now();
      this.#sealRequested = false;
    } else {
      seg.unsealed = unsealed;
    }
    const done = this.#store.atomic(ops).then(
      () => {
        batch?.resolve();
        if (this.#sinks.length > 0)
          for (const { record } of ops)
            if (isExported(record)) for (const s of this.#sinks) s.write(exportRecord(record));
        if (anchor !== undefined) this.#writeAnchor(anchor);
      },
      (e: unknown) => {
        if (!seg.broken) {
          this.#log.error('audit records could not be written; a new audit segment will be opened', {
            records: ops.length,
            error: e instanceof Error ? e.message : String(e),
          });
        }
        seg.broken = true;
        // whatever this write would have sealed is unsealed again
        if (anchor !== undefined) seg.unsealed = Math.max(seg.unsealed, 1);
        batch?.reject(e);
      },
    );
    this.#inflight.add(done);
    void done.finally(() => {
      this.#inflight.delete(done);
      if (!this.#pipelined && (this.#pending !== undefined || this.#sealRequested)) this.#schedule();
    });
  }

  #writeAnchor(anchor: AuditAnchor): void {
    const file = this.#anchorFile;
    if (file === undefined) return;
    this.#anchorWrite = this.#anchorWrite.then(async () => {
      try {
        // one per process: the workers of a cluster share the anchor file
        const tmp = `${file}.${process.pid}.tmp`;
        await writeFile(tmp, `${JSON.stringify(anchor)}\n`, { mode: 0o600 });
        await rename(tmp, file);
      } catch (e: unknown) {
        this.#log.warn('could not write the audit anchor file', {
          file,
          error: e instanceof Error ? e.message : String(e),
        });
      }
    });
  }
}
