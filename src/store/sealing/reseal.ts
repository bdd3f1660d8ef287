/** KEK rotation, second half: every object re-sealed under the active KEK. */

import { setTimeout as sleep } from 'node:timers/promises';
import { type ObjectRecord, type ObjectStore, type SealedBlob, storeErrorCode } from '../types.js';

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

/** What re-sealing needs of the Sealer: `seal` seals under `kekId`. */
export interface Resealer {
  seal(objectId: string, version: number, plaintext: Uint8Array): Promise<SealedBlob>;
  unseal(objectId: string, version: number, blob: SealedBlob): Promise<Uint8Array>;
}

/**
 * Re-seals every object of `store` not sealed under `kekId`. Each object gets
 * its next version (the AAD binds it), written with optimistic concurrency,
 * so it runs while the server serves; an object changed meanwhile is read
 * again. Idempotent, hence resumable. Throttled by ratePerSecond.
 */
export async function resealAll(
  store: ObjectStore,
  sealer: Resealer,
  kekId: string,
  opts: ResealOptions = {},
): Promise<ResealResult> {
  const total = await store.count({ includeTombstoned: true });
  const minGapMs = opts.ratePerSecond && opts.ratePerSecond > 0 ? 1000 / opts.ratePerSecond : 0;
  let done = 0;
  let resealed = 0;
  let skipped = 0;
  let remaining = 0;
  let next = Date.now();
  for await (const listed of store.iterate({ batchSize: 200 })) {
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
      const outcome = await resealOne(store, sealer, listed, kekId);
      if (outcome === 'resealed') resealed++;
      else if (outcome === 'skipped') skipped++;
      else remaining++;
    }
    opts.onProgress?.({ done, total: Math.max(total, done), resealed });
  }
  return { kekId, total: Math.max(total, done), resealed, skipped, remaining };
}

async function resealOne(
  store: ObjectStore,
  sealer: Resealer,
  listed: ObjectRecord,
  kekId: string,
): Promise<'resealed' | 'skipped' | 'conflict'> {
  let rec: ObjectRecord | undefined = listed;
  for (let attempt = 1; attempt <= 5; attempt++) {
    if (rec === undefined || rec.sealed === undefined || rec.sealed.kekId === kekId) return 'skipped';
    const plain = await sealer.unseal(rec.id, rec.version, rec.sealed);
    let sealed: SealedBlob;
    try {
      sealed = await sealer.seal(rec.id, rec.version + 1, plain);
    } finally {
      plain.fill(0);
    }
    try {
      await store.update({ ...rec, version: rec.version + 1, sealed }, rec.version);
      return 'resealed';
    } catch (e: unknown) {
      const code = storeErrorCode(e);
      if (code === 'ERR_STORE_NOT_FOUND') return 'skipped';
      if (code !== 'ERR_STORE_VERSION_CONFLICT') throw e;
      rec = await store.get(rec.id);
    }
  }
  return 'conflict';
}
