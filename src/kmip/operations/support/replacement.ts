/**
 * Links between a replaced key and its replacement (Re-key, Re-key Key Pair,
 * Re-certify): helpers the operations share, so that no operation imports
 * another.
 */
import { KmipError } from '../../errors.js';
import { addInstance, type ModelAttribute, removeAll, standardKey } from '../../model/attributes.js';
import type { ManagedObject } from '../../model/object.js';
import { LinkType, Tag } from '../../spec/index.js';
import { childText, enumeration, structure, textString } from '../../ttlv/build.js';
import type { TtlvStructure } from '../../ttlv/types.js';
import type { OperationContext } from '../types.js';
import { isDestroyed, stateOf, wrongState } from './common.js';

function link(type: number, id: string): TtlvStructure {
  return structure(Tag.Link, [enumeration(Tag.LinkType, type), textString(Tag.LinkedObjectIdentifier, id)]);
}

/** Replaces any link of `type` by one to `id` (a key has one replacement and one predecessor). */
export function setLink(attrs: readonly ModelAttribute[], type: number, id: string): ModelAttribute[] {
  const kept = attrs.filter((a) => {
    const v = a.value;
    return !(v.tag === Tag.Link && v.type === 'Structure' && findLinkType(v) === type);
  });
  return addInstance(kept, { key: standardKey(Tag.Link), index: 0, value: link(type, id) }).attrs;
}

function findLinkType(v: TtlvStructure): number | undefined {
  const t = v.value.find((c) => c.tag === Tag.LinkType);
  return t?.type === 'Enumeration' ? t.value : undefined;
}

/**
 * The existing key's side of a Re-key or Re-key Key Pair, applied to its
 * latest version: it loses its Names and links to its replacement. A key has
 * one replacement (KMIP 1.4 §4.4: its Replacement Object Link points to *the*
 * replacement key); re-keying it again would leave the first replacement
 * linked to a key that no longer links back, so a replaced key is refused —
 * also the loser of two Re-keys at once, whose write then never happens.
 */
export function replaceBy(
  ctx: OperationContext,
  obj: ManagedObject,
  newId: string,
): { attributes: ModelAttribute[] } {
  const already = linkedId(obj.attributes, LinkType.ReplacementObjectLink);
  if (already !== undefined) {
    throw new KmipError(
      'IllegalOperation',
      `object ${obj.id} is already replaced by ${already}; re-key the replacement instead`,
    );
  }
  if (isDestroyed(stateOf(obj))) throw wrongState(ctx, `object ${obj.id} was destroyed meanwhile`);
  return {
    attributes: setLink(
      removeAll(obj.attributes, standardKey(Tag.Name)),
      LinkType.ReplacementObjectLink,
      newId,
    ),
  };
}

/** The identifier a Link of `type` points to, if the object has one. */
export function linkedId(attrs: readonly ModelAttribute[], type: number): string | undefined {
  for (const a of attrs) {
    const v = a.value;
    if (v.tag === Tag.Link && v.type === 'Structure' && findLinkType(v) === type) {
      return childText(v, Tag.LinkedObjectIdentifier);
    }
  }
  return undefined;
}
