import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import type { MasterKeyProvider } from '../hsm/types.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { KekRecord, ObjectStore, SealedBlob } from './types.js';

/**
 * Sealing of object secrets (DESIGN.md, "Key hierarchy and data at rest"):
 * AES-256-GCM under a key-encryption key (KEK); KEKs are stored wrapped by the
 * master key and kept unwrapped in a bounded in-memory cache, so that after
 * warm-up Get/Encrypt never call the HSM.
 *
 * Several nodes on one database: the KEK used for new seals is the
 * deterministic winner among the KEKs flagged active — oldest createdAt, then
 * smallest id. Two nodes racing to create the first KEK both write one, wait
 * `settleMs` so that the other's write lands, list again, pick the same winner
 * and flag every other KEK inactive. Rotation writes the new KEK active and
 * flags every active KEK ordered before it inactive, so it becomes the winner;
 * other nodes pick it up on refreshActive() or reopen and meanwhile keep
 * sealing under the previous one. Every KEK ever written stays usable for
 * unseal, so neither race loses data. Needs putKek to replace a record with
 * the same id; clocks of the nodes should be roughly synchronised.
 */

const KEK_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const AAD_LABEL = Buffer.from('kmip-server sealed object/1\0', 'utf8');

export interface SealerOptions {
  /** unwrapped KEKs kept in memory besides the active one; default 64 */
  cacheSize?: number;
  /** wait after creating the first KEK before choosing the winner among racing nodes (ms); default 100 */
  settleMs?: number;
  log?: Logger;
}

const kBrand = Symbol.for('kmip-server.error');

export class SealingError extends Error {
  readonly code = 'ERR_SEALING' as const;
  readonly [kBrand] = true;
  override name = 'SealingError';
}

/** Length-prefixed UTF-8 id and 8-byte big-endian version: no two (id, version) pairs share an encoding. */
export function sealingAad(objectId: string, version: number): Buffer {
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new SealingError(`invalid object version ${String(version)}`);
  }
  const id = Buffer.from(objectId, 'utf8');
  const aad = Buffer.alloc(AAD_LABEL.length + 4 + id.length + 8);
  let off = AAD_LABEL.copy(aad, 0);
  off = aad.writeUInt32BE(id.length, off);
  off += id.copy(aad, off);
  aad.writeBigUInt64BE(BigInt(version), off);
  return aad;
}

function byWinnerOrder(a: KekRecord, b: KekRecord): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function pickWinner(keks: readonly KekRecord[]): KekRecord | undefined {
  return keks.filter((k) => k.active).sort(byWinnerOrder)[0];
}

export class Sealer {
  readonly #store: ObjectStore;
  readonly #provider: MasterKeyProvider;
  readonly #log: Logger;
  readonly #capacity: number;
  readonly #settleMs: number;
  /** the active KEK is pinned outside the LRU */
  #active: { id: string; key: Buffer } | undefined;
  /** LRU: Map iteration order is insertion order; a hit is deleted and set again */
  readonly #cache = new Map<string, Buffer>();
  /** one provider call per cold KEK, however many unseals wait for it */
  readonly #inflight = new Map<string, Promise<Buffer>>();
  #providerCalls = 0;
  #closed = false;

  private constructor(store: ObjectStore, provider: MasterKeyProvider, opts: SealerOptions) {
    this.#store = store;
    this.#provider = provider;
    this.#log = opts.log ?? silentLogger;
    const size = opts.cacheSize ?? 64;
    if (!Number.isSafeInteger(size) || size < 1)
      throw new SealingError('cacheSize must be a positive integer');
    this.#capacity = size;
    this.#settleMs = opts.settleMs ?? 100;
  }

  static async open(
    store: ObjectStore,
    provider: MasterKeyProvider,
    opts: SealerOptions = {},
  ): Promise<Sealer> {
    const sealer = new Sealer(store, provider, opts);
    await sealer.#init();
    return sealer;
  }

  get activeKekId(): string {
    if (!this.#active) throw new SealingError('the sealer is closed');
    return this.#active.id;
  }

  get providerCalls(): number {
    return this.#providerCalls;
  }

  async seal(objectId: string, version: number, plaintext: Uint8Array): Promise<SealedBlob> {
    const aad = sealingAad(objectId, version);
    const active = this.#active;
    if (this.#closed || !active) throw new SealingError('the sealer is closed');
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', active.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { kekId: active.id, nonce: new Uint8Array(nonce), ciphertext: new Uint8Array(ciphertext) };
  }

  async unseal(objectId: string, version: number, blob: SealedBlob): Promise<Uint8Array> {
    const aad = sealingAad(objectId, version);
    if (blob.nonce.length !== NONCE_BYTES || blob.ciphertext.length < TAG_BYTES) {
      throw new SealingError(`sealed data of object ${objectId} is malformed`);
    }
    const key = await this.#kek(blob.kekId);
    // Use the key before yielding: an evicted key is zeroed on a later turn only.
    if (this.#closed) throw new SealingError('the sealer is closed');
    const body = blob.ciphertext.subarray(0, blob.ciphertext.length - TAG_BYTES);
    const tag = blob.ciphertext.subarray(blob.ciphertext.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, blob.nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      const out = Buffer.concat([decipher.update(body), decipher.final()]);
      const result = new Uint8Array(out);
      out.fill(0);
      return result;
    } catch {
      throw new SealingError(
        `sealed data of object ${objectId} version ${version} failed authentication (tampered, or sealed for another object or version)`,
      );
    }
  }

  /** Creates a KEK wrapped by the provider's current master key and seals new objects under it. */
  async rotateKek(): Promise<string> {
    this.#checkOpen();
    const previous = await this.#store.listKeks();
    const created = await this.#createKek(Date.now());
    for (const k of previous) {
      if (k.active && byWinnerOrder(k, created.record) < 0) await this.#deactivate(k);
    }
    this.#setActive(created.record.id, created.key);
    this.#log.info('key-encryption key rotated', { kekId: created.record.id });
    return created.record.id;
  }

  /** Adopts the KEK other nodes made active (after their rotation); returns its id. */
  async refreshActive(): Promise<string> {
    this.#checkOpen();
    const winner = pickWinner(await this.#store.listKeks());
    if (winner && winner.id !== this.#active?.id) {
      const key = this.#cache.get(winner.id) ?? (await this.#unwrap(winner));
      this.#setActive(winner.id, key);
    }
    return this.activeKekId;
  }

  /**
   * Master-key rotation: rewraps every KEK not wrapped by the provider's
   * current master key. Objects stay sealed as they are. Returns the count.
   */
  async rewrapKeks(): Promise<number> {
    this.#checkOpen();
    let n = 0;
    for (const k of await this.#store.listKeks()) {
      if (k.masterKeyId === this.#provider.currentKeyId) continue;
      const key = await this.#unwrap(k);
      try {
        this.#providerCalls++;
        const { masterKeyId, wrapped } = await this.#provider.wrap(key);
        await this.#store.putKek({ ...k, masterKeyId, wrapped });
        n++;
      } finally {
        key.fill(0);
      }
    }
    return n;
  }

  /** Zeroes every unwrapped KEK held in memory. */
  close(): void {
    this.#closed = true;
    this.#active?.key.fill(0);
    this.#active = undefined;
    for (const key of this.#cache.values()) key.fill(0);
    this.#cache.clear();
  }

  async #init(): Promise<void> {
    let winner = pickWinner(await this.#store.listKeks());
    if (!winner) {
      const mine = await this.#createKek(Date.now());
      // Let a node racing us finish its write, so that both of us see both KEKs.
      await new Promise((resolve) => setTimeout(resolve, this.#settleMs));
      const keks = await this.#store.listKeks();
      winner = pickWinner(keks) ?? mine.record;
      for (const k of keks) if (k.active && k.id !== winner.id) await this.#deactivate(k);
      if (winner.id === mine.record.id) {
        this.#setActive(mine.record.id, mine.key);
        this.#log.info('created the first key-encryption key', { kekId: mine.record.id });
        return;
      }
      // Another node's KEK won: ours stays valid for unseal.
      mine.key.fill(0);
    }
    this.#setActive(winner.id, await this.#unwrap(winner));
  }

  async #createKek(createdAt: number): Promise<{ record: KekRecord; key: Buffer }> {
    const key = randomBytes(KEK_BYTES);
    try {
      this.#providerCalls++;
      const { masterKeyId, wrapped } = await this.#provider.wrap(key);
      const record: KekRecord = { id: randomUUID(), masterKeyId, wrapped, createdAt, active: true };
      await this.#store.putKek(record);
      return { record, key };
    } catch (err: unknown) {
      key.fill(0);
      throw err;
    }
  }

  async #deactivate(k: KekRecord): Promise<void> {
    try {
      await this.#store.putKek({ ...k, active: false });
    } catch (err: unknown) {
      // Harmless: the winner rule still picks one KEK; this one only stays flagged.
      this.#log.warn('could not flag a key-encryption key inactive', {
        kekId: k.id,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  #setActive(id: string, key: Buffer): void {
    const old = this.#active;
    const cached = this.#cache.get(id);
    this.#cache.delete(id);
    if (cached && cached !== key) setImmediate(() => cached.fill(0));
    this.#active = { id, key };
    if (old && old.id !== id) this.#remember(old.id, old.key);
  }

  async #kek(id: string): Promise<Buffer> {
    this.#checkOpen();
    if (this.#active?.id === id) return this.#active.key;
    const hit = this.#cache.get(id);
    if (hit) {
      this.#cache.delete(id);
      this.#cache.set(id, hit);
      return hit;
    }
    let pending = this.#inflight.get(id);
    if (!pending) {
      pending = this.#load(id).finally(() => this.#inflight.delete(id));
      this.#inflight.set(id, pending);
    }
    return pending;
  }

  async #load(id: string): Promise<Buffer> {
    const record = await this.#store.getKek(id);
    if (!record) throw new SealingError(`unknown key-encryption key ${id}`);
    const key = await this.#unwrap(record);
    if (this.#closed) {
      key.fill(0);
      throw new SealingError('the sealer is closed');
    }
    this.#remember(id, key);
    return key;
  }

  async #unwrap(record: KekRecord): Promise<Buffer> {
    this.#providerCalls++;
    const raw = await this.#provider.unwrap(record.masterKeyId, record.wrapped);
    const key = Buffer.alloc(KEK_BYTES);
    const ok = raw.length === KEK_BYTES;
    if (ok) key.set(raw);
    raw.fill(0);
    if (!ok) throw new SealingError(`key-encryption key ${record.id} has a wrong length`);
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

  #checkOpen(): void {
    if (this.#closed) throw new SealingError('the sealer is closed');
  }
}
