/**
 * The SQLite store's write queue: every write issued in one event-loop turn
 * joins one batch, one transaction and one fsync; one batch is written at a
 * time while the next one gathers.
 */

import { type BatchResult, encodeBatch, type WriterJob } from './writer.js';
import { fromWriterError, type WriterHandle } from './writer-host.js';

/**
 * Upper bound on operations per group-commit transaction: an inline flush holds
 * the event loop, and a bounded batch keeps that pause to a few milliseconds
 * while still sharing one fsync among many writes.
 */
const MAX_BATCH = 256;

interface Job {
  readonly job: WriterJob;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export interface GroupCommitStats {
  commits: number;
  ops: number;
}

export class GroupCommit {
  readonly #writer: WriterHandle;
  readonly #stats: GroupCommitStats;
  readonly #mapError: (e: unknown, what: string) => Error;
  #queue: Job[] = [];
  #scheduled = false;
  /** the batch being written (one at a time: the next one gathers meanwhile and shares the next fsync) */
  #inflight = false;
  #drained: (() => void) | undefined;
  #draining = false;

  constructor(writer: WriterHandle, stats: GroupCommitStats, mapError: (e: unknown, what: string) => Error) {
    this.#writer = writer;
    this.#stats = stats;
    this.#mapError = mapError;
  }

  /** Queues a write; settles once its batch is committed (or not). */
  push(job: WriterJob): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ job, resolve, reject });
      this.#schedule();
    });
  }

  /** Writes what is queued without waiting for the next turn; resolves once nothing is left. */
  async drain(): Promise<void> {
    this.#draining = true;
    if (this.#queue.length === 0 && !this.#inflight) return;
    await new Promise<void>((resolve) => {
      this.#drained = resolve;
      this.#pump();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: every write issued in this tick (and in the
    // I/O callbacks of this loop turn) joins the same transaction and fsync.
    setImmediate(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  /** Sends the next batch of up to MAX_BATCH queued writes, unless one is being written. */
  #pump(): void {
    if (this.#inflight) return;
    const batch = this.#queue.splice(0, MAX_BATCH);
    if (batch.length === 0) {
      this.#drained?.();
      this.#drained = undefined;
      return;
    }
    this.#inflight = true;
    this.#stats.ops += batch.length;
    this.#writer.send(encodeBatch(batch.map((j) => j.job)), (result) => {
      this.#inflight = false;
      this.#settle(batch, result);
      if (this.#draining) this.#pump();
      else if (this.#queue.length > 0) this.#schedule();
      else {
        this.#drained?.();
        this.#drained = undefined;
      }
    });
  }

  #settle(batch: readonly Job[], result: BatchResult): void {
    if (!result.committed) {
      // nothing was committed, so nobody in the batch may be told otherwise
      const err = this.#mapError(fromWriterError(result.error), 'commit');
      for (const job of batch) job.reject(err);
      return;
    }
    this.#stats.commits++;
    batch.forEach((job, i) => {
      const outcome = result.outcomes[i];
      if (outcome === null || outcome === undefined) job.resolve();
      else job.reject(this.#mapError(fromWriterError(outcome), 'write'));
    });
  }
}
