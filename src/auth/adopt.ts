/**
 * `kmip-server tenants adopt --owner CN --tenant T`: objects created while
 * access control was off record the client's certificate CN as their owner
 * and are no tenant's once it is on. Adoption makes them the tenant's, one
 * object at a time through the store (optimistic concurrency, so a live
 * server's concurrent change is never lost: the object is read again and
 * retried). The sealed content is bound to the object's version (AAD = id +
 * version), so it is re-sealed under the new version; plaintext is wiped.
 */
import { SYSTEM_OWNER_PREFIX } from '../kmip/model/service.js';
import { type ObjectStore, type SealedBlob, storeErrorCode } from '../store/types.js';

/** The Sealer's content half (src/store/sealing.ts). */
export interface VersionSealer {
  seal(objectId: string, version: number, plaintext: Uint8Array): Promise<SealedBlob>;
  unseal(objectId: string, version: number, blob: SealedBlob): Promise<Uint8Array>;
}

export class AdoptError extends Error {
  override name = 'AdoptError';
}

const MAX_ATTEMPTS = 10;

/** The ids owned by `owner` (tombstoned included), in creation order. */
export async function ownedBy(store: ObjectStore, owner: string): Promise<string[]> {
  return store.locate({ owner, includeTombstoned: true });
}

/**
 * Gives every object of `owner` to `tenant`; returns the ids moved. Run
 * again after an interruption: objects already moved are no longer found.
 */
export async function adoptObjects(
  store: ObjectStore,
  sealer: VersionSealer,
  owner: string,
  tenant: string,
  opts: { now?: () => number; onProgress?: (done: number, total: number) => void } = {},
): Promise<string[]> {
  if (owner.startsWith(SYSTEM_OWNER_PREFIX) || tenant.startsWith(SYSTEM_OWNER_PREFIX))
    throw new AdoptError('the server’s own objects (owner kmip-server:…) are never adopted');
  if (owner === tenant) throw new AdoptError('--owner and --tenant are the same');
  const now = opts.now ?? Date.now;
  const ids = await ownedBy(store, owner);
  const moved: string[] = [];
  for (const id of ids) {
    for (let attempt = 1; ; attempt++) {
      const rec = await store.get(id);
      if (rec === undefined || rec.owner !== owner) break;
      const version = rec.version + 1;
      let sealed = rec.sealed;
      if (rec.sealed !== undefined) {
        const plain = await sealer.unseal(id, rec.version, rec.sealed);
        try {
          sealed = await sealer.seal(id, version, plain);
        } finally {
          plain.fill(0);
        }
      }
      try {
        await store.update({ ...rec, owner: tenant, version, sealed, updatedAt: now() }, rec.version);
        moved.push(id);
        break;
      } catch (e: unknown) {
        const code = storeErrorCode(e);
        if (code !== 'ERR_STORE_VERSION_CONFLICT' && code !== 'ERR_STORE_NOT_FOUND') throw e;
        if (attempt >= MAX_ATTEMPTS)
          throw new AdoptError(`object ${id} keeps changing; run the command again`);
      }
    }
    opts.onProgress?.(moved.length, ids.length);
  }
  return moved;
}
