/**
 * The one place where attributes cross between wire versions and the
 * version-neutral model.
 *
 * KMIP 1.x carries an attribute as Attribute { Attribute Name (text),
 * Attribute Index?, Attribute Value } — inside Template-Attribute structures
 * in requests, bare in Get Attributes responses — and names attributes in
 * requests by their text name. KMIP 2.x carries it as an item tagged with the
 * attribute's own tag inside Attributes, custom attributes as
 * Attribute { Vendor Identification, Attribute Name, Attribute Value }, and
 * names attributes by Attribute Reference (KMIP 2.0 §7.2, §7.5).
 *
 * The model follows 2.x: a standard attribute is an item carrying the
 * attribute's tag; a custom one keeps its value under Attribute Value. A 1.x
 * custom name "x-Name" is vendor "x", name "Name" (the OASIS 2.x vectors
 * write the 1.x "x-ID" attribute as Vendor Identification "x", Name "ID").
 */
import { KmipError } from '../errors.js';
import {
  attributeByName,
  attributeByTag,
  attributeExistsIn,
  compareVersions,
  enumForTag,
  enumValueExistsIn,
  type KmipVersion,
  maskForTag,
  Tag,
  tagInfo,
} from '../spec/index.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';

export type AttributeKey =
  | { readonly kind: 'standard'; readonly tag: number }
  | { readonly kind: 'custom'; readonly vendor: string; readonly name: string };

export interface ModelAttribute {
  readonly key: AttributeKey;
  /** 1.x Attribute Index; 2.x has none (instances are told apart by value) */
  readonly index: number | undefined;
  /** standard: tagged with the attribute's tag; custom: tagged Attribute Value */
  readonly value: TtlvItem;
}

function isV2(version: KmipVersion): boolean {
  return compareVersions(version, '2.0') >= 0;
}

function retag(item: TtlvItem, tag: number): TtlvItem {
  return { ...item, tag } as TtlvItem;
}

function textChild(s: TtlvStructure, tag: number): string | undefined {
  for (const c of s.value) if (c.tag === tag && c.type === 'TextString') return c.value;
  return undefined;
}

/** "x-Name" / "y-Name" (1.x §3 custom attributes) → custom key; a spec name → standard key. */
export function keyFromV1Name(name: string): AttributeKey {
  const custom = /^([xy])-(.+)$/s.exec(name);
  if (custom) return { kind: 'custom', vendor: custom[1] as string, name: custom[2] as string };
  const meta = attributeByName(name);
  const tag = meta ? Tag[meta.tag] : undefined;
  if (tag === undefined) throw new KmipError('InvalidField', `unknown attribute name "${name}"`);
  return { kind: 'standard', tag };
}

/** The 1.x text name of an attribute key. */
export function v1NameOf(key: AttributeKey): string {
  if (key.kind === 'custom') return `${key.vendor}-${key.name}`;
  const meta = attributeByTag(key.tag);
  if (meta === undefined)
    throw new KmipError('InvalidField', `tag 0x${key.tag.toString(16)} is not an attribute`);
  return meta.name;
}

/** Reads one 1.x Attribute structure. */
export function attributeFromV1(item: TtlvItem): ModelAttribute {
  if (item.type !== 'Structure' || item.tag !== Tag.Attribute) {
    throw new KmipError('InvalidMessage', 'expected an Attribute structure');
  }
  const name = textChild(item, Tag.AttributeName);
  if (name === undefined) throw new KmipError('InvalidMessage', 'Attribute without Attribute Name');
  let index: number | undefined;
  let value: TtlvItem | undefined;
  for (const c of item.value) {
    if (c.tag === Tag.AttributeIndex && c.type === 'Integer') index = c.value;
    else if (c.tag === Tag.AttributeValue) value = c;
  }
  const key = keyFromV1Name(name);
  if (value === undefined)
    throw new KmipError('InvalidMessage', `Attribute "${name}" without Attribute Value`);
  return { key, index, value: key.kind === 'standard' ? retag(value, key.tag) : value };
}

/** Reads one child of a 2.x Attributes structure. */
export function attributeFromV2(item: TtlvItem): ModelAttribute {
  if (item.tag === Tag.Attribute) {
    if (item.type !== 'Structure') throw new KmipError('InvalidMessage', 'Attribute must be a Structure');
    const vendor = textChild(item, Tag.VendorIdentification);
    const name = textChild(item, Tag.AttributeName);
    const value = item.value.find((c) => c.tag === Tag.AttributeValue);
    if (vendor === undefined || name === undefined || value === undefined) {
      throw new KmipError(
        'InvalidMessage',
        'a vendor Attribute needs Vendor Identification, Attribute Name and Value',
      );
    }
    return { key: { kind: 'custom', vendor, name }, index: undefined, value };
  }
  if (attributeByTag(item.tag) === undefined) {
    const name = tagInfo(item.tag)?.name ?? `0x${item.tag.toString(16)}`;
    throw new KmipError('InvalidField', `${name} is not an attribute`);
  }
  return { key: { kind: 'standard', tag: item.tag }, index: undefined, value: item };
}

/**
 * The attributes a request carries, whatever its version: 1.x
 * Template-Attribute (and Common/Private/Public Template-Attribute) or bare
 * Attribute items, 2.x Attributes (and Common/Private/Public Attributes).
 * `containers` names the structures to read, e.g. [Tag.TemplateAttribute, Tag.Attributes].
 */
export function readRequestAttributes(
  payload: TtlvStructure,
  containers: readonly number[],
): ModelAttribute[] {
  const out: ModelAttribute[] = [];
  for (const c of payload.value) {
    if (!containers.includes(c.tag) || c.type !== 'Structure') continue;
    for (const a of c.value) {
      if (a.tag === Tag.Attribute && textChild(a as TtlvStructure, Tag.VendorIdentification) === undefined) {
        out.push(attributeFromV1(a));
      } else if (a.tag === Tag.Name && c.tag === Tag.TemplateAttribute && a.type === 'Structure') {
        // A 1.x Template-Attribute's Name items name templates to apply; templates are
        // resolved by the operations that support them, not here.
      } else {
        out.push(attributeFromV2(a));
      }
    }
  }
  return out;
}

/** One attribute in the wire form of `version`, or undefined when that version lacks it. */
export function attributeToWire(attr: ModelAttribute, version: KmipVersion): TtlvItem | undefined {
  if (attr.key.kind === 'standard' && !attributeExistsIn(attr.key.tag, version)) return undefined;
  if (isV2(version)) {
    if (attr.key.kind === 'standard') return attr.value;
    return {
      tag: Tag.Attribute,
      type: 'Structure',
      value: [
        { tag: Tag.VendorIdentification, type: 'TextString', value: attr.key.vendor },
        { tag: Tag.AttributeName, type: 'TextString', value: attr.key.name },
        retag(attr.value, Tag.AttributeValue),
      ],
    };
  }
  const fields: TtlvItem[] = [{ tag: Tag.AttributeName, type: 'TextString', value: v1NameOf(attr.key) }];
  if (attr.index !== undefined) fields.push({ tag: Tag.AttributeIndex, type: 'Integer', value: attr.index });
  fields.push(retag(attr.value, Tag.AttributeValue));
  return { tag: Tag.Attribute, type: 'Structure', value: fields };
}

/**
 * A list of attributes as a response carries it: 1.x bare Attribute items
 * (Get Attributes, KMIP 1.4 §4.12), 2.x one Attributes structure (2.0 §6.1.22).
 */
export function attributesForResponse(attrs: readonly ModelAttribute[], version: KmipVersion): TtlvItem[] {
  const items: TtlvItem[] = [];
  for (const a of attrs) {
    const w = attributeToWire(a, version);
    if (w !== undefined) items.push(w);
  }
  return isV2(version) ? [{ tag: Tag.Attributes, type: 'Structure', value: items }] : items;
}

/**
 * Which attributes a request names: 1.x Attribute Name text strings, 2.x
 * Attribute Reference (a Tag enumeration, or Vendor Identification + Attribute Name).
 */
export function readAttributeReferences(payload: TtlvStructure): AttributeKey[] {
  const out: AttributeKey[] = [];
  for (const c of payload.value) {
    if (c.tag === Tag.AttributeName && c.type === 'TextString') {
      out.push(keyFromV1Name(c.value));
    } else if (c.tag === Tag.AttributeReference) {
      if (c.type === 'Enumeration') out.push({ kind: 'standard', tag: c.value });
      else if (c.type === 'Structure') {
        const vendor = textChild(c, Tag.VendorIdentification);
        const name = textChild(c, Tag.AttributeName);
        if (vendor === undefined || name === undefined) {
          throw new KmipError(
            'InvalidMessage',
            'Attribute Reference needs Vendor Identification and Attribute Name',
          );
        }
        out.push({ kind: 'custom', vendor, name });
      } else
        throw new KmipError('InvalidMessage', 'Attribute Reference must be an Enumeration or a Structure');
    }
  }
  return out;
}

/** An attribute reference in the wire form of `version`. */
export function attributeReferenceToWire(key: AttributeKey, version: KmipVersion): TtlvItem {
  if (!isV2(version)) return { tag: Tag.AttributeName, type: 'TextString', value: v1NameOf(key) };
  if (key.kind === 'standard') return { tag: Tag.AttributeReference, type: 'Enumeration', value: key.tag };
  return {
    tag: Tag.AttributeReference,
    type: 'Structure',
    value: [
      { tag: Tag.VendorIdentification, type: 'TextString', value: key.vendor },
      { tag: Tag.AttributeName, type: 'TextString', value: key.name },
    ],
  };
}

function itemExistsIn(item: TtlvItem, version: KmipVersion): boolean {
  if (item.type === 'Enumeration') {
    const e = enumForTag(item.tag);
    if (e !== undefined && !enumValueExistsIn(e.name, item.value, version)) return false;
  } else if (item.type === 'Integer') {
    const m = maskForTag(item.tag);
    if (m !== undefined && !enumValueExistsIn(m.name, item.value, version)) return false;
  } else if (item.type === 'Structure') {
    return item.value.every((c) => itemExistsIn(c, version));
  }
  return true;
}

/**
 * An attribute as a response in `version` may carry it, or undefined when
 * that version cannot express its value (an enumeration value or mask bit it
 * lacks). Tags the version lacks are cut by the executor's version filter;
 * Digest loses its Key Format Type in 1.0 (added in 1.1, §3.12).
 */
export function shapeForVersion(attr: ModelAttribute, version: KmipVersion): ModelAttribute | undefined {
  const value = attr.value;
  // Custom values are opaque to us: any TTLV type is allowed (CLIENTS.md 6).
  if (attr.key.kind === 'standard' && !itemExistsIn(value, version)) return undefined;
  // KMIP 1.x Attribute Index 0 may be omitted; the reference servers never send it.
  const index = attr.index === 0 ? undefined : attr.index;
  if (version === '1.0' && value.tag === Tag.Digest && value.type === 'Structure') {
    return {
      ...attr,
      index,
      value: { ...value, value: value.value.filter((c) => c.tag !== Tag.KeyFormatType) },
    };
  }
  return { ...attr, index };
}

/** Attributes as the response of `version` carries them; ones it cannot express are left out. */
export function responseAttributes(attrs: readonly ModelAttribute[], version: KmipVersion): TtlvItem[] {
  const shaped: ModelAttribute[] = [];
  for (const a of attrs) {
    const s = shapeForVersion(a, version);
    if (s !== undefined) shaped.push(s);
  }
  return attributesForResponse(shaped, version);
}
