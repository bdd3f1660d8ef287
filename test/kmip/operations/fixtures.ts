/**
 * Request payload pieces the operation suites share: attributes in the
 * form of a version (1.x Attribute with a name, 2.x the value itself),
 * Names, a raw AES key object, and the Register or Create payloads built
 * from them.
 */
import {
  attributeByTag,
  CryptographicAlgorithm,
  type KmipVersion,
  NameType,
  ObjectType,
  Operation,
  Tag,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem, TtlvStructure } from '../../../src/kmip/ttlv/types.js';
import { symmetricKey } from '../../helpers/requests.js';
import { D, E, type Harness, I, members, S, T, text } from './harness.js';

export const isV2 = (v: KmipVersion): boolean => v.startsWith('2.');

export const bool = (tag: number, value: boolean): TtlvItem => ({ tag, type: 'Boolean', value });

export const uid = (id: string): TtlvItem => T(Tag.UniqueIdentifier, id);

/** A 1.x Attribute: its name and the value under Attribute Value. */
export function v1Attr(name: string, value: TtlvItem): TtlvItem {
  return S(Tag.Attribute, [T(Tag.AttributeName, name), { ...value, tag: Tag.AttributeValue } as TtlvItem]);
}

/** An attribute as version `v` sends it: a 1.x Attribute, or in 2.x the value itself. */
export function attr(v: KmipVersion, name: string, value: TtlvItem): TtlvItem {
  return isV2(v) ? value : v1Attr(name, value);
}

/** Template-Attribute (1.x) or Attributes (2.x) around `items`. */
export function attrs(v: KmipVersion, items: TtlvItem[]): TtlvStructure {
  return S(isV2(v) ? Tag.Attributes : Tag.TemplateAttribute, items);
}

/** Attributes (2.x), or a Template-Attribute of 1.x Attributes named after the items' tags. */
export function attrList(v: KmipVersion, items: TtlvItem[]): TtlvStructure {
  if (isV2(v)) return S(Tag.Attributes, items);
  return S(
    Tag.TemplateAttribute,
    items.map((a) => v1Attr(attributeByTag(a.tag)?.name ?? '?', a)),
  );
}

/** An Activation Date an hour ago. */
export const activeNow = (): TtlvItem => D(Tag.ActivationDate, Math.floor(Date.now() / 1000) - 3600);

export function nameItem(name: string): TtlvStructure {
  return S(Tag.Name, [T(Tag.NameValue, name), E(Tag.NameType, NameType.UninterpretedTextString)]);
}

/** The tags of a Structure's children, in order. */
export function tagsOf(s: TtlvItem | undefined): number[] {
  return members(s).map((c) => c.tag);
}

/** A Raw AES Symmetric Key object (16 bytes of 7 unless given), with more Key Block fields after the length. */
export function aesKey(
  material: Uint8Array = new Uint8Array(16).fill(7),
  extra: TtlvItem[] = [],
): TtlvStructure {
  return symmetricKey(material, extra);
}

/** Registers `object` as `objectType` with `attrs` (2.x form, 1.x Template-Attribute form by attrList); its id. */
export async function registerObject(
  h: Harness,
  v: KmipVersion,
  objectType: number,
  attrs: TtlvItem[],
  object: TtlvItem,
): Promise<string> {
  const p = await h.ok(v, Operation.Register, [E(Tag.ObjectType, objectType), attrList(v, attrs), object]);
  return text(p, Tag.UniqueIdentifier) as string;
}

/** A Register payload of a raw AES key with Cryptographic Usage Mask `mask`, and more attributes. */
export function registerAes(
  v: KmipVersion,
  mask: number,
  extra: TtlvItem[] = [],
  key = aesKey(),
): TtlvItem[] {
  return [
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    attrs(v, [attr(v, 'Cryptographic Usage Mask', I(Tag.CryptographicUsageMask, mask)), ...extra]),
    key,
  ];
}

/** A Create payload of an AES key of `bits` with Cryptographic Usage Mask `mask`, and more attributes. */
export function createAes(v: KmipVersion, bits: number, mask: number, extra: TtlvItem[] = []): TtlvItem[] {
  return [
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    attrs(v, [
      attr(v, 'Cryptographic Algorithm', E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES)),
      attr(v, 'Cryptographic Length', I(Tag.CryptographicLength, bits)),
      attr(v, 'Cryptographic Usage Mask', I(Tag.CryptographicUsageMask, mask)),
      ...extra,
    ]),
  ];
}
