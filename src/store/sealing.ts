import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isHsmUnavailable, type MasterKeyProvider } from '../hsm/types.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import {
  type KekRecord,
  type ObjectRecord,
  type ObjectStore,
  type SealedBlob,
  StoreUnavailableError,
  storeErrorCode,
} from './types.js';

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
  /** overrides the provider's grace period (ms) during which cached KEKs serve without the HSM */
  graceMs?: number;
  log?: Logger;
}

export interface RewrapProgress {
  readonly done: number;
  readonly total: number;
  readonly rewrapped: number;
}

export interface RewrapOptions {
  /** providers able to unwrap KEKs the target cannot (software → pkcs11 migration) */
  readonly sources?: readonly MasterKeyProvider[];
  readonly onProgress?: (p: RewrapProgress) => void;
  readonly log?: Logger;
}

export interface ResealProgress {
  readonly done: number;
  readonly total: number;
  readonly resealed: number;
}

export interface ResealOptions {
  /** objects re-sealed per second at most; default unlimited */
  readonly ratePerSecond?: number;
  readonly onProgress?: (p: ResealProgress) => void;
  readonly signal?: AbortSignal;
}

export interface ResealResult {
  readonly kekId: string;
  readonly total: number;
  readonly resealed: number;
  /** already under the target KEK, without secret material, or gone meanwhile */
  readonly skipped: number;
  /** objects still sealed under another KEK (changed too often meanwhile); run again */
  readonly remaining: number;
}

/** A provider failure in the form the executor reports: HSM loss is a General Failure, never a fallback. */
function providerFailure(e: unknown): unknown {
  if (isHsmUnavailable(e)) {
    return new StoreUnavailableError(`HSM unavailable: ${e instanceof Error ? e.message : String(e)}`);
  }
  return e;
}

/**
 * Master-key rotation and provider migration: rewraps every KEK not wrapped
 * by the target provider's current master key. Objects stay sealed as they
 * are, so this is fast and runs while servers serve. Idempotent, hence
 * resumable: a second run rewraps only what the first did not reach.
 */
export async function rewrapKeks(
  store: ObjectStore,
  target: MasterKeyProvider,
  opts: RewrapOptions = {},
): Promise<{ total: number; rewrapped: number }> {
  const keks = await store.listKeks();
  const providers = [target, ...(opts.sources ?? [])];
  let done = 0;
  let rewrapped = 0;
  for (const k of keks) {
    if (k.masterKeyId !== target.currentKeyId) {
      const from = providers.find((p) => p.owns?.(k.masterKeyId) ?? p === target) ?? target;
      let raw: Uint8Array;
      try {
        raw = await from.unwrap(k.masterKeyId, k.wrapped);
      } catch (e: unknown) {
        throw providerFailure(e);
      }
      try {
        const { masterKeyId, wrapped } = await target.wrap(raw);
        // Read again just before writing: another node may have flagged it inactive meanwhile.
        const fresh = (await store.getKek(k.id)) ?? k;
        await store.putKek({ ...fresh, masterKeyId, wrapped });
        rewrapped++;
        opts.log?.info('key-encryption key rewrapped', { kekId: k.id, from: k.masterKeyId, to: masterKeyId });
      } catch (e: unknown) {
        throw providerFailure(e);
      } finally {
        raw.fill(0);
      }
    }
    done++;
    opts.onProgress?.({ done, total: keks.length, rewrapped });
  }
  return { total: keks.length, rewrapped };
}

/** What each master-key id protects: KEK counts, for `master-key status`. */
export async function keksByMasterKey(
  store: ObjectStore,
): Promise<Map<string, { keks: number; active: number }>> {
  const out = new Map<string, { keks: number; active: number }>();
  for (const k of await store.listKeks()) {
    const e = out.get(k.masterKeyId) ?? { keks: 0, active: 0 };
    e.keks++;
    if (k.active) e.active++;
    out.set(k.masterKeyId, e);
  }
  return out;
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
  /** the active KEK is pinned outside the LRU; its key is undefined after a wipe, until reloaded */
  #active: { id: string; key: Buffer | undefined } | undefined;
  /** LRU: Map iteration order is insertion order; a hit is deleted and set again */
  readonly #cache = new Map<string, Buffer>();
  /** one provider call per cold KEK, however many unseals wait for it */
  readonly #inflight = new Map<string, Promise<Buffer>>();
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
    this.#capacity = size;
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
    const kekId = active.id;
    const key = active.key ?? (await this.#kek(kekId));
    this.#checkGrace();
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { kekId, nonce: new Uint8Array(nonce), ciphertext: new Uint8Array(ciphertext) };
  }

  async unseal(objectId: string, version: number, blob: SealedBlob): Promise<Uint8Array> {
    const aad = sealingAad(objectId, version);
    if (blob.nonce.length !== NONCE_BYTES || blob.ciphertext.length < TAG_BYTES) {
      throw new SealingError(`sealed data of object ${objectId} is malformed`);
    }
    const key = await this.#kek(blob.kekId);
    // Use the key before yielding: an evicted key is zeroed on a later turn only.
    if (this.#closed) throw new SealingError('the sealer is closed');
    this.#checkGrace();
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
    const kekId = this.activeKekId;
    const total = await this.#store.count({ includeTombstoned: true });
    const minGapMs = opts.ratePerSecond && opts.ratePerSecond > 0 ? 1000 / opts.ratePerSecond : 0;
    let done = 0;
    let resealed = 0;
    let skipped = 0;
    let remaining = 0;
    let next = Date.now();
    for await (const listed of this.#store.iterate({ batchSize: 200 })) {
      if (opts.signal?.aborted) break;
      done++;
      if (listed.sealed === undefined || listed.sealed.kekId === kekId) {
        skipped++;
      } else {
        if (minGapMs > 0) {
          const wait = next - Date.now();
          if (wait > 0) await sleep(wait);
          next = Math.max(next, Date.now() - minGapMs) + minGapMs;
        }
        const outcome = await this.#resealOne(listed, kekId);
        if (outcome === 'resealed') resealed++;
        else if (outcome === 'skipped') skipped++;
        else remaining++;
      }
      opts.onProgress?.({ done, total: Math.max(total, done), resealed });
    }
    return { kekId, total: Math.max(total, done), resealed, skipped, remaining };
  }

  async #resealOne(listed: ObjectRecord, kekId: string): Promise<'resealed' | 'skipped' | 'conflict'> {
    let rec: ObjectRecord | undefined = listed;
    for (let attempt = 1; attempt <= 5; attempt++) {
      if (rec === undefined || rec.sealed === undefined || rec.sealed.kekId === kekId) return 'skipped';
      const plain = await this.unseal(rec.id, rec.version, rec.sealed);
      let sealed: SealedBlob;
      try {
        sealed = await this.seal(rec.id, rec.version + 1, plain);
      } finally {
        plain.fill(0);
      }
      try {
        await this.#store.update({ ...rec, version: rec.version + 1, sealed }, rec.version);
        return 'resealed';
      } catch (e: unknown) {
        const code = storeErrorCode(e);
        if (code === 'ERR_STORE_NOT_FOUND') return 'skipped';
        if (code !== 'ERR_STORE_VERSION_CONFLICT') throw e;
        rec = await this.#store.get(rec.id);
      }
    }
    return 'conflict';
  }

  /** Zeroes every unwrapped KEK held in memory. */
  close(): void {
    this.#closed = true;
    this.#active?.key?.fill(0);
    this.#active = undefined;
    for (const key of this.#cache.values()) key.fill(0);
    this.#cache.clear();
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
      this.#wipe();
      this.#log.error('HSM unavailable longer than the grace period: cached key-encryption keys wiped', {
        downSeconds: Math.round(downMs / 1000),
        graceSeconds: Math.round(graceMs / 1000),
      });
    }
    throw new StoreUnavailableError(
      `HSM unavailable for ${Math.round(downMs / 1000)} s, beyond the ${Math.round(graceMs / 1000)} s grace period`,
    );
  }

  #wipe(): void {
    const active = this.#active;
    if (active?.key !== undefined) {
      const key = active.key;
      this.#active = { id: active.id, key: undefined };
      setImmediate(() => key.fill(0));
    }
    for (const key of this.#cache.values()) setImmediate(() => key.fill(0));
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

  #setActive(id: string, key: Buffer): void {
    const old = this.#active;
    const cached = this.#cache.get(id);
    this.#cache.delete(id);
    if (cached && cached !== key) setImmediate(() => cached.fill(0));
    this.#active = { id, key };
    if (old && old.id !== id && old.key !== undefined) this.#remember(old.id, old.key);
  }

  async #kek(id: string): Promise<Buffer> {
    this.#checkOpen();
    this.#checkGrace();
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
