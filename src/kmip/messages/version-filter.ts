import { type KmipVersion, tagExistsIn } from '../spec/index.js';
import type { TtlvItem } from '../ttlv/types.js';

/** Tags of the KMIP namespace; 0x54xxxx are extensions and pass untouched. */
const KMIP_TAG_PREFIX = 0x42;

/**
 * Removes every item whose tag the given protocol version does not define.
 * Handlers build responses from the version-neutral model; this is the one
 * place where the shape is cut to the request's version, so that a 1.0 client
 * never sees a 1.1+ tag (a stray Fresh attribute broke Percona's MongoDB).
 * Returns the same object when nothing was removed.
 */
export function pruneForVersion(
  item: TtlvItem,
  version: KmipVersion,
  removed?: (tag: number) => void,
): TtlvItem | undefined {
  if (item.tag >>> 16 === KMIP_TAG_PREFIX && !tagExistsIn(item.tag, version)) {
    removed?.(item.tag);
    return undefined;
  }
  if (item.type !== 'Structure') return item;
  let out: TtlvItem[] | undefined;
  for (let i = 0; i < item.value.length; i++) {
    const c = item.value[i] as TtlvItem;
    const p = pruneForVersion(c, version, removed);
    if (p !== c && out === undefined) out = item.value.slice(0, i);
    if (out !== undefined && p !== undefined) out.push(p);
  }
  return out === undefined ? item : { tag: item.tag, type: 'Structure', value: out };
}
