/** Per-identity records kept before idle ones are swept. */
const IDENTITY_SWEEP_THRESHOLD = 1024;

/** Connection counts and request token buckets, per identity. */
export class IdentityLimits {
  readonly #entries = new Map<string, { connections: number; tokens: number; updated: number }>();
  readonly #burst: number;

  constructor(
    readonly maxConnections: number,
    readonly ratePerSecond: number,
    burst: number | undefined,
  ) {
    this.#burst = Math.max(1, burst ?? Math.ceil(ratePerSecond));
  }

  /** Counts a new connection; false when the identity is at its cap. */
  acquire(identity: string): boolean {
    let entry = this.#entries.get(identity);
    if (!entry) {
      if (this.#entries.size >= IDENTITY_SWEEP_THRESHOLD) this.#sweep(Date.now());
      entry = { connections: 0, tokens: this.#burst, updated: Date.now() };
      this.#entries.set(identity, entry);
    }
    if (this.maxConnections > 0 && entry.connections >= this.maxConnections) return false;
    entry.connections++;
    return true;
  }

  release(identity: string): void {
    const entry = this.#entries.get(identity);
    if (!entry) return;
    entry.connections--;
    // Kept while its bucket is not full: reconnecting must not reset the rate.
    if (
      entry.connections <= 0 &&
      (this.ratePerSecond <= 0 || this.#refill(entry, Date.now()) >= this.#burst)
    ) {
      this.#entries.delete(identity);
    }
  }

  /**
   * Takes a token and returns how long the request must wait for it (0: none).
   * Waiting requests go into debt; the debt is bounded because a connection
   * runs one message at a time and the connections per identity are capped.
   */
  reserve(identity: string, now: number): number {
    if (this.ratePerSecond <= 0) return 0;
    const entry = this.#entries.get(identity);
    if (!entry) return 0;
    entry.tokens = this.#refill(entry, now) - 1;
    entry.updated = now;
    return entry.tokens >= 0 ? 0 : Math.ceil((-entry.tokens * 1000) / this.ratePerSecond);
  }

  #refill(entry: { tokens: number; updated: number }, now: number): number {
    return Math.min(this.#burst, entry.tokens + ((now - entry.updated) * this.ratePerSecond) / 1000);
  }

  #sweep(now: number): void {
    for (const [identity, entry] of this.#entries) {
      if (entry.connections <= 0 && (this.ratePerSecond <= 0 || this.#refill(entry, now) >= this.#burst)) {
        this.#entries.delete(identity);
      }
    }
  }
}
