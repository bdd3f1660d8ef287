import { randomBytes, randomUUID } from 'node:crypto';
import { HsmUnavailableError, type MasterKeyProvider } from '../hsm/types.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { checkSealedShape, decrypt, encrypt, KEK_BYTES, SealingError, sealingAad } from './sealing/aead.js';
import { KekCache } from './sealing/kek-cache.js';
import { type ResealOptions, type ResealResult, resealAll } from './sealing/reseal.js';
import { providerFailure, type RewrapOptions, rewrapKeks } from './sealing/rewrap.js';
import { type KekRecord, type ObjectStore, type SealedBlob, StoreUnavailableError } from './types.js';

export { SealingError, sealingAad } from './sealing/aead.js';
export type { ResealOptions, ResealProgress, ResealResult } from './sealing/reseal.js';
export { keksByMasterKey, type RewrapOptions, type RewrapProgress, rewrapKeks } from './sealing/rewrap.js';

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
 *
 * An HSM that cannot be reached fails what needs it with StoreUnavailableError
 * ("HSM unavailable", General Failure to the client); nothing falls back.
 * KEKs already unwrapped keep serving for the provider's grace period
 * (hsm.gracePeriodSeconds), counted from when the HSM was lost; after it they
 * are wiped from memory until the HSM is back.
 *
 * Modules: sealing/aead.ts (the cipher and its AAD), sealing/kek-cache.ts
 * (unwrapped KEKs in memory), sealing/rewrap.ts (master-key rotation),
 * sealing/reseal.ts (KEK rotation's re-sealing); this class ties them to the
 * store and the master-key provider.
 */

export interface SealerOptions {
  /** unwrapped KEKs kept in memory besides the active one; default 64 */
  cacheSize?: number;
  /** wait after creating the first KEK before choosing the winner among racing nodes (ms); default 100 */
  settleMs?: number;
  /** overrides the provider's grace period (ms) during which cached KEKs serve without the HSM */
  graceMs?: number;
  log?: Logger;
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
  readonly #settleMs: number;
  readonly #keys: KekCache;
  #providerCalls = 0;
  #closed = false;
  readonly #graceMs: number | undefined;
  #wipedFor: number | undefined;

  private constructor(store: ObjectStore, provider: MasterKeyProvider, opts: SealerOptions) {
    this.#store = store;
    this.#provider = provider;
    this.#log = opts.log ?? silentLogger;
    const size = opts.cacheSize ?? 64;
    if (!Number.isSafeInteger(size) || size < 1)
      throw new SealingError('cacheSize must be a positive integer');
    this.#keys = new KekCache(size, async (id) => {
      const record = await this.#store.getKek(id);
      if (!record) throw new SealingError(`unknown key-encryption key ${id}`);
      return this.#unwrap(record);
    });
    this.#settleMs = opts.settleMs ?? 100;
    this.#graceMs = opts.graceMs;
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
    const id = this.#keys.activeId;
    if (id === undefined) throw new SealingError('the sealer is closed');
    return id;
  }

  get providerCalls(): number {
    return this.#providerCalls;
  }

  async seal(objectId: string, version: number, plaintext: Uint8Array): Promise<SealedBlob> {
    const aad = sealingAad(objectId, version);
    const kekId = this.#keys.activeId;
    if (this.#closed || kekId === undefined) throw new SealingError('the sealer is closed');
    const key = this.#keys.activeKey ?? (await this.#kek(kekId));
    this.#checkGrace();
    return { kekId, ...encrypt(key, aad, plaintext) };
  }

  async unseal(objectId: string, version: number, blob: SealedBlob): Promise<Uint8Array> {
    const aad = sealingAad(objectId, version);
    checkSealedShape(objectId, blob);
    const key = await this.#kek(blob.kekId);
    // Use the key before yielding: an evicted key is zeroed on a later turn only.
    if (this.#closed) throw new SealingError('the sealer is closed');
    this.#checkGrace();
    const plain = decrypt(key, aad, blob);
    if (plain === undefined) {
      throw new SealingError(
        `sealed data of object ${objectId} version ${version} failed authentication (tampered, or sealed for another object or version)`,
      );
    }
    return plain;
  }

  /** Creates a KEK wrapped by the provider's current master key and seals new objects under it. */
  async rotateKek(): Promise<string> {
    this.#checkOpen();
    const previous = await this.#store.listKeks();
    const created = await this.#createKek(Date.now());
    for (const k of previous) {
      if (k.active && byWinnerOrder(k, created.record) < 0) await this.#deactivate(k);
    }
    this.#keys.setActive(created.record.id, created.key);
    this.#log.info('key-encryption key rotated', { kekId: created.record.id });
    return created.record.id;
  }

  /**
   * Adopts the KEK other nodes made active (after their rotation) and the
   * master-key version another node created; returns the active KEK id.
   */
  async refreshActive(): Promise<string> {
    this.#checkOpen();
    try {
      await this.#provider.refresh?.();
    } catch (e: unknown) {
      this.#log.warn('could not refresh the master-key versions', {
        error: e instanceof Error ? e.message : String(e),
      });
    }
    const winner = pickWinner(await this.#store.listKeks());
    if (winner && winner.id !== this.#keys.activeId) {
      const key = this.#keys.peek(winner.id) ?? (await this.#unwrap(winner));
      this.#keys.setActive(winner.id, key);
    }
    return this.activeKekId;
  }

  /**
   * Master-key rotation: rewraps every KEK not wrapped by the provider's
   * current master key. Objects stay sealed as they are. Returns the count.
   */
  async rewrapKeks(opts: Omit<RewrapOptions, 'log'> = {}): Promise<number> {
    this.#checkOpen();
    const { rewrapped } = await rewrapKeks(this.#store, this.#provider, { ...opts, log: this.#log });
    return rewrapped;
  }

  /**
   * KEK rotation, second half: re-seals every object not sealed under the
   * active KEK (call rotateKek() first for a new one). Each object gets its
   * next version (the AAD binds it), written with optimistic concurrency, so
   * it runs while the server serves; an object changed meanwhile is read
   * again. Idempotent, hence resumable. Throttled by ratePerSecond.
   */
  async resealAll(opts: ResealOptions = {}): Promise<ResealResult> {
    this.#checkOpen();
    return resealAll(this.#store, this, this.activeKekId, opts);
  }

  /** Zeroes every unwrapped KEK held in memory. */
  close(): void {
    this.#closed = true;
    this.#keys.close();
  }

  /**
   * Past the grace period without the HSM: wipe every unwrapped KEK (the
   * active one's id is kept, to reload it when the HSM is back) and fail.
   */
  #checkGrace(): void {
    const h = this.#provider.health?.();
    if (h === undefined || h.unavailableSince === undefined) {
      this.#wipedFor = undefined;
      return;
    }
    const graceMs = this.#graceMs ?? h.graceMs;
    const downMs = Date.now() - h.unavailableSince;
    if (downMs < graceMs) return;
    if (this.#wipedFor !== h.unavailableSince) {
      this.#wipedFor = h.unavailableSince;
      this.#keys.wipe();
      this.#log.error('HSM unavailable longer than the grace period: cached key-encryption keys wiped', {
        downSeconds: Math.round(downMs / 1000),
        graceSeconds: Math.round(graceMs / 1000),
      });
    }
    const message = `HSM unavailable for ${Math.round(downMs / 1000)} s, beyond the ${Math.round(graceMs / 1000)} s grace period`;
    throw new StoreUnavailableError(message, { cause: new HsmUnavailableError(message) });
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
        this.#keys.setActive(mine.record.id, mine.key);
        this.#log.info('created the first key-encryption key', { kekId: mine.record.id });
        return;
      }
      // Another node's KEK won: ours stays valid for unseal.
      mine.key.fill(0);
    }
    this.#keys.setActive(winner.id, await this.#unwrap(winner));
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
      throw providerFailure(err);
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

  async #kek(id: string): Promise<Buffer> {
    this.#checkOpen();
    this.#checkGrace();
    return this.#keys.get(id);
  }

  async #unwrap(record: KekRecord): Promise<Buffer> {
    this.#providerCalls++;
    let raw: Uint8Array;
    try {
      raw = await this.#provider.unwrap(record.masterKeyId, record.wrapped);
    } catch (e: unknown) {
      throw providerFailure(e);
    }
    const key = Buffer.alloc(KEK_BYTES);
    const ok = raw.length === KEK_BYTES;
    if (ok) key.set(raw);
    raw.fill(0);
    if (!ok) throw new SealingError(`key-encryption key ${record.id} has a wrong length`);
    return key;
  }

  #checkOpen(): void {
    if (this.#closed) throw new SealingError('the sealer is closed');
  }
}
