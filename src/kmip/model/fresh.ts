/**
 * Objects a Get has served whose Fresh = false is not stored yet
 * (ObjectService.clearFreshLater), per store: every scoped or journaled
 * ObjectService of one store shares the set.
 */
import type { ObjectStore } from '../../store/types.js';
import { Tag } from '../spec/index.js';
import { boolean } from '../ttlv/build.js';
import { findValue, setStandard } from './attributes.js';
import type { ManagedObject } from './object.js';

const served = new WeakMap<ObjectStore, Set<string>>();

function setOf(store: ObjectStore): Set<string> {
  let set = served.get(store);
  if (set === undefined) {
    set = new Set();
    served.set(store, set);
  }
  return set;
}

/** The object with Fresh false when a Get served it and the write is still pending. */
export function servedOverlay(store: ObjectStore, obj: ManagedObject): ManagedObject {
  if (!served.get(store)?.has(obj.id)) return obj;
  const fresh = findValue(obj.attributes, Tag.Fresh);
  if (fresh?.type !== 'Boolean' || !fresh.value) return obj;
  return { ...obj, attributes: setStandard(obj.attributes, boolean(Tag.Fresh, false)) };
}

/**
 * Records that `id` was served and runs `write` (which stores the overlay)
 * once per id at a time. A failed write leaves Fresh true in the store; the
 * next Get tries again.
 */
export function markServed(store: ObjectStore, id: string, write: () => Promise<unknown>): void {
  const set = setOf(store);
  if (set.has(id)) return;
  set.add(id);
  void write()
    .catch(() => undefined)
    .finally(() => set.delete(id));
}
