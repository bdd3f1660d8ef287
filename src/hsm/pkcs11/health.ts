import type { ProviderHealth } from '../types.js';
import { HsmUnavailableError } from '../types.js';
import { describe } from './library.js';

/**
 * Whether the HSM is reachable, since when it is not, and when a request may
 * next try to reconnect. health() tells the Sealer how long its cached KEKs
 * may keep serving.
 */
export class Availability {
  #unavailableSince: number | undefined;
  #lastAttempt = 0;
  #lastError = '';

  constructor(
    readonly graceMs: number,
    readonly retryMs: number,
  ) {}

  get unavailableSince(): number | undefined {
    return this.#unavailableSince;
  }

  get lastError(): string {
    return this.#lastError;
  }

  health(connected: boolean): ProviderHealth {
    return {
      available: connected && this.#unavailableSince === undefined,
      unavailableSince: this.#unavailableSince,
      graceMs: this.graceMs,
    };
  }

  /** What a request needing the HSM fails with meanwhile; its message starts "HSM unavailable". */
  error(): HsmUnavailableError {
    const since =
      this.#unavailableSince === undefined ? '' : ` since ${new Date(this.#unavailableSince).toISOString()}`;
    return new HsmUnavailableError(`HSM unavailable${since}: ${this.#lastError || 'not connected'}`);
  }

  /** True, and counted as an attempt, when the last reconnection attempt is old enough. */
  mayReconnect(now: number): boolean {
    if (now - this.#lastAttempt < this.retryMs) return false;
    this.#lastAttempt = now;
    return true;
  }

  /** Reconnected: returns how long the HSM was unavailable (ms). */
  reconnected(now: number): number {
    const since = this.#unavailableSince;
    this.#unavailableSince = undefined;
    return since === undefined ? 0 : now - since;
  }

  /** A reconnection attempt failed. */
  reconnectFailed(e: unknown, now: number): void {
    this.#lastError = describe(e);
    this.#unavailableSince ??= now;
  }

  /** An open connection was lost: the next request may try to reconnect at once. */
  lost(e: unknown): void {
    this.#lastError = describe(e);
    this.#unavailableSince ??= Date.now();
    this.#lastAttempt = 0;
  }
}
