/**
 * What the text encodings (XML, JSON) need to know about names. The codec
 * itself knows tags and item types only; the KMIP spec tables
 * (src/kmip/spec) provide an implementation of this interface.
 */

/** Names <-> numeric values of one enumeration or one bit-mask set. */
export interface ValueNames {
  readonly byName: ReadonlyMap<string, number>;
  readonly byValue: ReadonlyMap<number, string>;
}

export interface TtlvDictionary {
  /** XML/JSON name of a tag ("CryptographicUsageMask"), undefined for unknown tags. */
  tagName(tag: number): string | undefined;
  /** Tag number of an XML/JSON name, undefined for unknown names. */
  tagByName(name: string): number | undefined;
  /**
   * Enumeration names for an Enumeration item with this tag. For the 1.x
   * AttributeValue tag (0x42000B) the caller passes the text of the sibling
   * AttributeName ("Cryptographic Algorithm") so the right enumeration is used.
   */
  enumFor(tag: number, attributeName?: string): ValueNames | undefined;
  /** Bit names for an Integer item that is a mask (CryptographicUsageMask...), same context rule. */
  maskFor(tag: number, attributeName?: string): ValueNames | undefined;
}

/** Tag of the 1.x Attribute Value item, whose meaning depends on its sibling Attribute Name. */
export const ATTRIBUTE_VALUE_TAG = 0x42000b;
export const ATTRIBUTE_NAME_TAG = 0x42000a;
