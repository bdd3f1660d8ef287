/** Master-key rotation and provider migration: KEKs rewrapped, objects untouched. */

import { isHsmUnavailable, type MasterKeyProvider } from '../../hsm/types.js';
import type { Logger } from '../../log.js';
import { type ObjectStore, StoreUnavailableError } from '../types.js';

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

/** A provider failure in the form the executor reports: HSM loss is a General Failure, never a fallback. */
export function providerFailure(e: unknown): unknown {
  if (isHsmUnavailable(e)) {
    return new StoreUnavailableError(`HSM unavailable: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
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
