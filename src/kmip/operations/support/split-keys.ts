/**
 * Split keys (KMIP 1.2 §2.2.5): the prime field of a polynomial sharing,
 * shared by Create Split Key and Join Split Key.
 */
import { bigNumberOf } from '../../payloads/fields.js';
import { Tag } from '../../spec/index.js';
import { child } from '../../ttlv/build.js';
import type { TtlvStructure } from '../../ttlv/types.js';

/** Prime Field Size of a Split Key (content structure) as a bigint. */
export function primeOf(content: TtlvStructure): bigint | undefined {
  const item = child(content, Tag.PrimeFieldSize);
  return item === undefined ? undefined : bigNumberOf(item, 'Prime Field Size');
}
