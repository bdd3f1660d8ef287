/**
 * Unwrapped KEKs in memory: the active one pinned, the others in a bounded
 * LRU. Every key dropped is zeroed, on a later turn, since a caller may still
 * be using it within the current one.
 */

import { SealingError } from './aead.js';

export class KekCache {
  readonly #capacity: number;
  readonly #load: (id: string) => Promise<Buffer>;
  /** the active KEK is pinned outside the LRU; its key is undefined after a wipe, until reloaded */
  #active: { id: string; key: Buffer | undefined } | undefined;
  /** LRU: Map iteration order is insertion order; a hit is deleted and set again */
  readonly #cache = new Map<string, Buffer>();
  /** one provider call per cold KEK, however many unseals wait for it */
  readonly #inflight = new Map<string, Promise<Buffer>>();
  #closed = false;

  /** `load` fetches and unwraps a KEK that is not in memory. */
  constructor(capacity: number, load: (id: string) => Promise<Buffer>) {
    this.#capacity = capacity;
    this.#load = load;
  }

  get activeId(): string | undefined {
    return this.#active?.id;
  }

  /** undefined after a wipe (or before setActive) */
  get activeKey(): Buffer | undefined {
    return this.#active?.key;
  }

  /** A non-active KEK held in the LRU, without touching its recency. */
  peek(id: string): Buffer | undefined {
    return this.#cache.get(id);
  }

  async get(id: string): Promise<Buffer> {
    const activeKey = this.#active?.id === id ? this.#active.key : undefined;
    if (activeKey !== undefined) return activeKey;
    const hit = this.#cache.get(id);
    if (hit) {
      this.#cache.delete(id);
      this.#cache.set(id, hit);
      return hit;
    }
    let pending = this.#inflight.get(id);
    if (!pending) {
      pending = this.#loadAndKeep(id).finally(() => this.#inflight.delete(id));
      this.#inflight.set(id, pending);
    }
    return pending;
  }

  /** Pins `key` as the active KEK; the previous active one moves to the LRU. */
  setActive(id: string, key: Buffer): void {
    const old = this.#active;
    const cached = this.#cache.get(id);
    this.#cache.delete(id);
    if (cached && cached !== key) setImmediate(() => cached.fill(0));
    this.#active = { id, key };
    if (old && old.id !== id && old.key !== undefined) this.#remember(old.id, old.key);
  }

  /** Zeroes every key but keeps the active KEK's id, so that it is reloaded on next use. */
  wipe(): void {
    const active = this.#active;
    if (active?.key !== undefined) {
      const key = active.key;
      this.#active = { id: active.id, key: undefined };
      setImmediate(() => key.fill(0));
    }
    for (const key of this.#cache.values()) setImmediate(() => key.fill(0));
    this.#cache.clear();
  }

  /** Zeroes every key at once and refuses to keep any loaded later. */
  close(): void {
    this.#closed = true;
    this.#active?.key?.fill(0);
    this.#active = undefined;
    for (const key of this.#cache.values()) key.fill(0);
    this.#cache.clear();
  }

  async #loadAndKeep(id: string): Promise<Buffer> {
    const key = await this.#load(id);
    if (this.#closed) {
      key.fill(0);
      throw new SealingError('the sealer is closed');
    }
    const active = this.#active;
    if (active?.id === id) {
      if (active.key !== undefined) {
        key.fill(0);
        return active.key;
      }
      this.#active = { id, key };
      return key;
    }
    this.#remember(id, key);
    return key;
  }

  #remember(id: string, key: Buffer): void {
    this.#cache.delete(id);
    this.#cache.set(id, key);
    while (this.#cache.size > this.#capacity) {
      const oldest = this.#cache.keys().next();
      if (oldest.done) break;
      const evicted = this.#cache.get(oldest.value);
      this.#cache.delete(oldest.value);
      // Callers already holding this buffer use it within the current turn.
      if (evicted) setImmediate(() => evicted.fill(0));
    }
  }
}
