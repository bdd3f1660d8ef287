/**
 * Managed object ⇄ ObjectRecord. The record's Locate index fields are derived
 * here from the attributes; the attributes themselves are stored as the TTLV
 * of one 2.x Attributes structure; the content is sealed by the service.
 */
import type { ObjectRecord, SealedBlob } from '../../store/types.js';
import { attributeFromV2, attributeToWire, type ModelAttribute } from '../messages/attributes.js';
import { enumNameOf, Tag, tagInfo } from '../spec/index.js';
import { decodeTtlv, encodeTtlv } from '../ttlv/binary.js';
import type { TtlvItem } from '../ttlv/types.js';
import { findEnum, findInteger } from './attributes.js';
import type { ManagedObject } from './object.js';

/** Storage depth cap: attributes are ours, but Link/Digest nest only a few levels. */
const MAX_DEPTH = 16;

export function encodeAttributes(attrs: readonly ModelAttribute[]): Uint8Array {
  const items: TtlvItem[] = [];
  for (const a of attrs) {
    const w = attributeToWire({ ...a, index: undefined }, '2.1');
    // Attributes that 2.1 dropped (1.x Certificate Identifier...) keep their own tag.
    items.push(w ?? a.value);
  }
  return encodeTtlv({ tag: Tag.Attributes, type: 'Structure', value: items });
}

/** 1.x Attribute Index: the ordinal of an instance among those of its attribute. */
export function decodeAttributes(bytes: Uint8Array): ModelAttribute[] {
  const root = decodeTtlv(bytes, { maxDepth: MAX_DEPTH });
  if (root.type !== 'Structure') throw new Error('stored attributes are not a Structure');
  const counts = new Map<string, number>();
  return root.value.map((item) => {
    const base =
      item.tag === Tag.Attribute
        ? attributeFromV2(item)
        : { key: { kind: 'standard' as const, tag: item.tag }, index: undefined, value: item };
    const k = base.key.kind === 'standard' ? `s${base.key.tag}` : `c${base.key.vendor}\u0000${base.key.name}`;
    const index = counts.get(k) ?? 0;
    counts.set(k, index + 1);
    return { ...base, index };
  });
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** The text form of a value for the store's custom-attribute index (Locate compares it). */
export function valueText(v: TtlvItem): string {
  switch (v.type) {
    case 'TextString':
      return v.value;
    case 'ByteString':
    case 'BigInteger':
      return hex(v.value);
    case 'Structure':
      return hex(encodeTtlv({ ...v, tag: Tag.AttributeValue }));
    default:
      return String(v.value);
  }
}

/** Store key of a custom attribute: 1.x style "x-Name" for x/y, "vendor:Name" otherwise. */
export function customIndexName(vendor: string, name: string): string {
  return vendor === 'x' || vendor === 'y' ? `${vendor}-${name}` : `${vendor}:${name}`;
}

export interface IndexFields {
  readonly objectType: string;
  readonly state: string;
  readonly names: string[];
  readonly objectGroups: string[];
  readonly algorithm: string | undefined;
  readonly length: number | undefined;
  readonly dates: Record<string, number>;
  readonly custom: Record<string, string[]>;
}

export function indexFields(objectType: number, attrs: readonly ModelAttribute[]): IndexFields {
  const names: string[] = [];
  const objectGroups: string[] = [];
  const dates: Record<string, number> = {};
  const custom: Record<string, string[]> = {};
  for (const a of attrs) {
    const v = a.value;
    if (a.key.kind === 'custom') {
      const k = customIndexName(a.key.vendor, a.key.name);
      const list = custom[k] ?? [];
      list.push(valueText(v));
      custom[k] = list;
      continue;
    }
    if (v.tag === Tag.Name && v.type === 'Structure') {
      const nv = v.value.find((c) => c.tag === Tag.NameValue);
      if (nv?.type === 'TextString') names.push(nv.value);
    } else if (v.tag === Tag.ObjectGroup && v.type === 'TextString') {
      objectGroups.push(v.value);
    } else if (v.type === 'DateTime') {
      const name = tagInfo(v.tag)?.name;
      if (name !== undefined) dates[name] = Number(v.value);
    }
  }
  const alg = findEnum(attrs, Tag.CryptographicAlgorithm);
  const state = findEnum(attrs, Tag.State);
  return {
    objectType: enumNameOf('ObjectType', objectType) ?? String(objectType),
    state: state === undefined ? 'PreActive' : (enumNameOf('State', state) ?? String(state)),
    names,
    objectGroups,
    algorithm: alg === undefined ? undefined : (enumNameOf('CryptographicAlgorithm', alg) ?? String(alg)),
    length: findInteger(attrs, Tag.CryptographicLength),
    dates,
    custom,
  };
}

export function toRecord(
  obj: ManagedObject,
  sealed: SealedBlob | undefined,
  timestamps: { createdAt: number; updatedAt: number },
): ObjectRecord {
  return {
    id: obj.id,
    version: obj.version,
    owner: obj.owner,
    ...indexFields(obj.objectType, obj.attributes),
    attributes: encodeAttributes(obj.attributes),
    sealed,
    createdAt: timestamps.createdAt,
    updatedAt: timestamps.updatedAt,
    tombstoned: obj.tombstoned,
  };
}

export function fromRecord(rec: ObjectRecord): ManagedObject {
  const attributes = decodeAttributes(rec.attributes);
  const ot = findEnum(attributes, Tag.ObjectType);
  return {
    id: rec.id,
    version: rec.version,
    objectType: ot ?? 0,
    owner: rec.owner,
    attributes,
    sealed: rec.sealed,
    tombstoned: rec.tombstoned,
    createdAt: rec.createdAt,
  };
}
