/**
 * The TtlvDictionary the XML and JSON encodings use, built once from the
 * generated spec tables.
 */
import { ATTRIBUTE_VALUE_TAG, type TtlvDictionary, type ValueNames } from '../ttlv/dictionary.js';
import { ENUMS, type EnumMeta, TAGS, Tag } from './generated.js';
import { enumForAttribute, enumForTag, maskForTag } from './index.js';

function valueNames(meta: EnumMeta): ValueNames {
  const byName = new Map<string, number>();
  const byValue = new Map<number, string>();
  for (const v of meta.values) {
    if (!byName.has(v.name)) byName.set(v.name, v.value);
    // A value renamed across versions: the current (no until) name is the one we write.
    if (!byValue.has(v.value) || v.until === undefined) byValue.set(v.value, v.name);
  }
  return { byName, byValue };
}

const NAMES: ReadonlyMap<EnumMeta, ValueNames> = new Map(Object.values(ENUMS).map((m) => [m, valueNames(m)]));
const TAG_NAME: ReadonlyMap<number, string> = new Map(TAGS.map((t) => [t.tag, t.name]));
const TAG_BY_NAME: ReadonlyMap<string, number> = new Map(TAGS.map((t) => [t.name, t.tag]));

/**
 * 2.x Attribute Reference and Tag items carry a tag as an Enumeration; the
 * vectors write its name (`<AttributeReference type="Enumeration" value="State"/>`).
 */
const TAG_VALUES: ValueNames = { byName: TAG_BY_NAME, byValue: TAG_NAME };
const TAG_VALUED = new Set<number>([Tag.AttributeReference, Tag.Tag]);

function lookup(meta: EnumMeta | undefined): ValueNames | undefined {
  return meta === undefined ? undefined : NAMES.get(meta);
}

export const specDictionary: TtlvDictionary = {
  tagName: (tag) => TAG_NAME.get(tag),
  tagByName: (name) => TAG_BY_NAME.get(name),
  enumFor(tag, attributeName) {
    if (TAG_VALUED.has(tag)) return TAG_VALUES;
    if (tag === ATTRIBUTE_VALUE_TAG) {
      return attributeName === undefined ? undefined : lookup(enumForAttribute(attributeName, 'enum'));
    }
    return lookup(enumForTag(tag));
  },
  maskFor(tag, attributeName) {
    if (tag === ATTRIBUTE_VALUE_TAG) {
      return attributeName === undefined ? undefined : lookup(enumForAttribute(attributeName, 'mask'));
    }
    return lookup(maskForTag(tag));
  },
};
