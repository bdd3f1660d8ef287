/**
 * The time that claims and atomic() journals are stamped with and judged
 * stale by. Not a node's wall clock: with one node's clock a minute ahead,
 * it took other nodes' live claims for dead ones and lost acknowledged
 * updates. The database server's clock (`hello.localTime`), read at open and
 * every few minutes, advanced between readings by this process's monotonic
 * clock: every node stamps and compares in the database's time, and a wall
 * clock stepped on a node changes nothing.
 */
import type { Db } from 'mongodb';

export class DatabaseClock {
  #base = Date.now();
  #at = performance.now();

  constructor(private readonly db: Db) {}

  /** Reads the database server's clock; keeps the last reading when the server does not report one. */
  async calibrate(): Promise<void> {
    const before = performance.now();
    const hello = await this.db.command({ hello: 1 });
    const after = performance.now();
    const local: unknown = hello.localTime;
    if (!(local instanceof Date) || Number.isNaN(local.getTime())) return;
    this.#base = local.getTime();
    this.#at = (before + after) / 2;
  }

  /** ms since the epoch, in the database's time */
  now(): number {
    return Math.round(this.#base + (performance.now() - this.#at));
  }
}
