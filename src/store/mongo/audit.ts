/** Appends to the audit collection under seqs reserved from one counter. */

import { type Collection, MongoBulkWriteError } from 'mongodb';
import { type AuditRecord, StoreUnavailableError } from '../types.js';
import type { CounterDoc } from './collections.js';
import { type AuditDoc, toAuditDoc } from './documents.js';
import { DUPLICATE_KEY, isDuplicate } from './errors.js';

export class AuditAppender {
  /** the highest audit seq this node wrote or read as the last one: its next records go above it */
  #floor = 0;

  constructor(
    private readonly audit: Collection<AuditDoc>,
    private readonly counters: Collection<CounterDoc>,
  ) {}

  /** Records that `seq` was written or linked to: later records are numbered above it. */
  raiseFloor(seq: number): void {
    this.#floor = Math.max(this.#floor, seq);
  }

  /**
   * Appends audit records in order: one `$inc` by n reserves seqs for all of
   * them, one ordered insertMany writes them. A failure part-way leaves a
   * prefix of the records (each document whole) and loses the rest, never a
   * record out of order; an unwritten reserved seq is a gap, which readers and
   * `audit verify` ignore (verify checks each segment's own numbering, `n`).
   * On FerretDB `$inc` is not atomic: two nodes may get overlapping ranges;
   * the unique seq index refuses the second insert and the rest is numbered
   * again. A range that is not above what this node already wrote or linked
   * to (the counter went back under such a race) is not used either.
   * `txn` marks the records as part of an atomic() write (see atomic.ts).
   */
  async append(records: readonly AuditRecord[], txn: string | null): Promise<void> {
    let rest = records;
    for (let attempt = 0; rest.length > 0; attempt++) {
      const first = await this.#reserve(rest.length);
      try {
        await this.audit.insertMany(
          rest.map((r, i) => toAuditDoc(r, first + i, txn)),
          { ordered: true },
        );
        this.raiseFloor(first + rest.length - 1);
        return;
      } catch (err: unknown) {
        const written = insertedBeforeDuplicate(err);
        if (written === undefined || attempt >= 100) throw err;
        if (written > 0) this.raiseFloor(first + written - 1);
        rest = rest.slice(written);
      }
    }
  }

  /** The first of `n` fresh audit seqs, all above the floor. */
  async #reserve(n: number): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const c = await this.counters
        .findOneAndUpdate({ _id: 'audit' }, { $inc: { seq: n } }, { upsert: true, returnDocument: 'after' })
        .catch((err: unknown) => {
          if (isDuplicate(err) && attempt < 100) return undefined; // two first appends both upserting
          throw err;
        });
      if (c === undefined || c === null) continue;
      const first = c.seq - n + 1;
      if (first > this.#floor) return first;
      if (attempt >= 100) throw new StoreUnavailableError('the audit counter keeps going back');
      await this.counters.updateOne({ _id: 'audit' }, { $max: { seq: this.#floor } });
    }
  }
}

/**
 * How many documents an ordered insertMany wrote before it stopped at a
 * duplicate key; undefined for any other failure (nothing known, or a write
 * concern error: then not even the written ones are acknowledged).
 */
function insertedBeforeDuplicate(err: unknown): number | undefined {
  if (!(err instanceof MongoBulkWriteError)) return undefined;
  if (err.result.getWriteConcernError() !== undefined) return undefined;
  const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  const first = errors[0];
  if (errors.length !== 1 || first === undefined || first.code !== DUPLICATE_KEY) return undefined;
  return first.index === err.insertedCount ? first.index : undefined;
}
