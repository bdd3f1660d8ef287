/**
 * Multi-part ("streaming") cryptographic operations (KMIP 1.3 §4.29 ff.,
 * 2.1 §6.1.18 Encrypt): the first request carries Init Indicator, the
 * server answers with a Correlation Value, later requests carry it back and
 * the last one Final Indicator. Between requests the state (a node:crypto
 * Cipher, Hash, Hmac, Sign…) lives here, in memory, on the node that
 * started it. Streams are bound to the client that opened them, expire
 * when idle and are bounded in number so that abandoned streams cannot
 * exhaust memory.
 */
import { randomBytes } from 'node:crypto';
import { KmipError, type ResultReasonName } from '../../errors.js';

interface Entry {
  readonly operation: number;
  readonly owner: string;
  readonly state: unknown;
  expires: number;
}

export interface StreamRegistryOptions {
  /** streams open at once; the oldest is dropped beyond it */
  readonly maxStreams?: number;
  /** idle time after which a stream is dropped */
  readonly idleMs?: number;
  readonly now?: () => number;
}

export class StreamRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;
  readonly #idleMs: number;
  readonly #now: () => number;

  constructor(opts: StreamRegistryOptions = {}) {
    this.#max = opts.maxStreams ?? 10_000;
    this.#idleMs = opts.idleMs ?? 10 * 60_000;
    this.#now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Stores `state` for a new stream; returns its Correlation Value (random). */
  open(operation: number, owner: string, state: unknown): Uint8Array {
    this.#sweep();
    while (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    const cv = new Uint8Array(randomBytes(16));
    this.#entries.set(Buffer.from(cv).toString('hex'), {
      operation,
      owner,
      state,
      expires: this.#now() + this.#idleMs,
    });
    return cv;
  }

  /**
   * The state of the stream `cv` opened by `owner` for `operation`;
   * `final` removes it. An unknown, expired or foreign Correlation Value
   * fails the same way, so a client learns nothing about others' streams.
   */
  resume(
    operation: number,
    owner: string,
    cv: Uint8Array,
    final: boolean,
    reason: ResultReasonName,
  ): unknown {
    this.#sweep();
    const key = Buffer.from(cv).toString('hex');
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.owner !== owner || entry.operation !== operation) {
      throw new KmipError(reason, 'no such Correlation Value: the stream is unknown, finished or expired');
    }
    if (final) {
      this.#entries.delete(key);
    } else {
      // Keep the map in idle order: the least recently used stream is dropped first.
      this.#entries.delete(key);
      entry.expires = this.#now() + this.#idleMs;
      this.#entries.set(key, entry);
    }
    return entry.state;
  }

  /** Drops a stream (an operation failed midway). */
  close(cv: Uint8Array): void {
    this.#entries.delete(Buffer.from(cv).toString('hex'));
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (entry.expires > now) break;
      this.#entries.delete(key);
    }
  }
}
