import type { Logger } from '../../log.js';

/** A warning about a limit, at most once per interval, with how often it happened meanwhile. */
export class RateLimitedLog {
  #last = 0;
  #count = 0;
  constructor(
    readonly log: Logger,
    readonly intervalMs: number,
  ) {}

  warn(message: string, meta: Record<string, unknown>): void {
    this.#emit('warn', message, meta);
  }

  info(message: string, meta: Record<string, unknown>): void {
    this.#emit('info', message, meta);
  }

  #emit(level: 'warn' | 'info', message: string, meta: Record<string, unknown>): void {
    this.#count++;
    const now = Date.now();
    if (now - this.#last < this.intervalMs) return;
    this.log[level](message, { ...meta, occurrences: this.#count });
    this.#last = now;
    this.#count = 0;
  }
}
