/**
 * The KMIP specification tables (tags, enumerations, attributes) with their
 * per-version availability, and lookups over them. The tables themselves are
 * generated from src/kmip/spec/data/*.json by scripts/gen-spec.ts.
 */
import {
  ATTRIBUTES,
  type AttributeMeta,
  ENUMS,
  type EnumMeta,
  type EnumValueMeta,
  TAGS,
  Tag,
  type TagMeta,
  type TagName,
} from './generated.js';

export * from './generated.js';

export const KMIP_VERSIONS = ['1.0', '1.1', '1.2', '1.3', '1.4', '2.0', '2.1'] as const;
export type KmipVersion = (typeof KMIP_VERSIONS)[number];

const VERSION_INDEX: ReadonlyMap<string, number> = new Map(KMIP_VERSIONS.map((v, i) => [v, i]));

export function isKmipVersion(v: unknown): v is KmipVersion {
  return typeof v === 'string' && VERSION_INDEX.has(v);
}

/** The version named by a Protocol Version (major, minor) pair, undefined when we do not know it. */
export function versionFromPair(major: number, minor: number): KmipVersion | undefined {
  const v = `${major}.${minor}`;
  return isKmipVersion(v) ? v : undefined;
}

export function versionPair(v: KmipVersion): { major: number; minor: number } {
  const [major, minor] = v.split('.').map(Number);
  return { major: major ?? 0, minor: minor ?? 0 };
}

/** Negative when a is older than b, 0 when equal, positive when newer. */
export function compareVersions(a: KmipVersion, b: KmipVersion): number {
  return (VERSION_INDEX.get(a) ?? -1) - (VERSION_INDEX.get(b) ?? -1);
}

/** True when since ≤ v and (no until, or v ≤ until). */
export function versionInRange(v: KmipVersion, since: KmipVersion, until?: KmipVersion): boolean {
  return compareVersions(v, since) >= 0 && (until === undefined || compareVersions(v, until) <= 0);
}

// ---- tags -----------------------------------------------------------------

const TAG_BY_VALUE: ReadonlyMap<number, TagMeta> = new Map(TAGS.map((t) => [t.tag, t]));
const TAG_BY_NAME: ReadonlyMap<string, TagMeta> = new Map(TAGS.map((t) => [t.name, t]));

export function isTagName(name: string): name is TagName {
  return TAG_BY_NAME.has(name);
}

export function tagInfo(tag: number): TagMeta | undefined {
  return TAG_BY_VALUE.get(tag);
}

export function tagInfoByName(name: string): TagMeta | undefined {
  return TAG_BY_NAME.get(name);
}

function resolveTag(tag: number | string): TagMeta | undefined {
  return typeof tag === 'number' ? TAG_BY_VALUE.get(tag) : TAG_BY_NAME.get(tag);
}

/** Whether the tag is defined by the given protocol version (unknown tags: false). */
export function tagExistsIn(tag: number | string, version: KmipVersion): boolean {
  const t = resolveTag(tag);
  return t !== undefined && versionInRange(version, t.since, t.until);
}

/** Every tag defined by a version, in tag order. */
export function tagsIn(version: KmipVersion): readonly TagMeta[] {
  return TAGS.filter((t) => versionInRange(version, t.since, t.until));
}

// ---- enumerations and masks -------------------------------------------------

export function enumInfo(enumName: string): EnumMeta | undefined {
  return Object.hasOwn(ENUMS, enumName) ? ENUMS[enumName] : undefined;
}

export function enumNames(): readonly string[] {
  return Object.keys(ENUMS);
}

interface EnumIndex {
  readonly byValue: ReadonlyMap<number, EnumValueMeta>;
  readonly byName: ReadonlyMap<string, EnumValueMeta>;
}

function indexValues(values: readonly EnumValueMeta[]): EnumIndex {
  const byValue = new Map<number, EnumValueMeta>();
  const byName = new Map<string, EnumValueMeta>();
  for (const v of values) {
    // A value renamed across versions: the current (no until) name wins for display.
    const prev = byValue.get(v.value);
    if (prev === undefined || (prev.until !== undefined && v.until === undefined)) byValue.set(v.value, v);
    if (!byName.has(v.name)) byName.set(v.name, v);
  }
  return { byValue, byName };
}

const ENUM_INDEX: ReadonlyMap<string, EnumIndex> = new Map(
  Object.entries(ENUMS).map(([name, meta]) => [name, indexValues(meta.values)]),
);

/** The name of a value of an enumeration (or of a single mask bit), undefined when unknown. */
export function enumNameOf(enumName: string, value: number): string | undefined {
  return ENUM_INDEX.get(enumName)?.byValue.get(value)?.name;
}

/** The numeric value of a named enumeration value, undefined when unknown. */
export function enumValueOf(enumName: string, name: string): number | undefined {
  return ENUM_INDEX.get(enumName)?.byName.get(name)?.value;
}

/**
 * Whether the value (number or name) of the enumeration exists in the version.
 * For a mask, every set bit must be defined in that version.
 */
export function enumValueExistsIn(enumName: string, value: number | string, version: KmipVersion): boolean {
  const index = ENUM_INDEX.get(enumName);
  const meta = enumInfo(enumName);
  if (index === undefined || meta === undefined) return false;
  if (typeof value === 'string') {
    const v = index.byName.get(value);
    return v !== undefined && versionInRange(version, v.since, v.until);
  }
  if (meta.kind === 'mask') {
    let rest = value >>> 0;
    for (const v of meta.values) {
      if ((rest & v.value) === v.value && v.value !== 0 && versionInRange(version, v.since, v.until)) {
        rest = (rest & ~v.value) >>> 0;
      }
    }
    return rest === 0;
  }
  return meta.values.some((v) => v.value === value && versionInRange(version, v.since, v.until));
}

function buildTagIndex(kind: 'enum' | 'mask'): ReadonlyMap<number, EnumMeta> {
  const wanted = kind === 'enum' ? 'Enumeration' : 'Integer';
  const map = new Map<number, EnumMeta>();
  for (const meta of Object.values(ENUMS)) {
    if (meta.kind !== kind) continue;
    for (const name of meta.tags) {
      const t = TAG_BY_NAME.get(name);
      if (t !== undefined && !map.has(t.tag)) map.set(t.tag, meta);
    }
  }
  // Fallback where the data lists no tags: an enumeration named after a tag of the right type.
  for (const meta of Object.values(ENUMS)) {
    const t = TAG_BY_NAME.get(meta.name);
    if (meta.kind === kind && t !== undefined && t.type === wanted && !map.has(t.tag)) map.set(t.tag, meta);
  }
  return map;
}

const ENUM_BY_TAG = buildTagIndex('enum');
const MASK_BY_TAG = buildTagIndex('mask');

/** The enumeration an Enumeration item with this tag takes. */
export function enumForTag(tag: number | string): EnumMeta | undefined {
  const t = resolveTag(tag);
  return t === undefined ? undefined : ENUM_BY_TAG.get(t.tag);
}

/** The bit mask an Integer item with this tag takes (Cryptographic Usage Mask...). */
export function maskForTag(tag: number | string): EnumMeta | undefined {
  const t = resolveTag(tag);
  return t === undefined ? undefined : MASK_BY_TAG.get(t.tag);
}

// ---- attributes -------------------------------------------------------------

/** Attribute Names compare with runs of white space collapsed (some 1.0 vectors carry "Cryptographic   Length"). */
export function normalizeAttributeName(name: string): string {
  return name.trim().replace(/\s+/g, ' ');
}

const ATTR_BY_NAME: ReadonlyMap<string, AttributeMeta> = new Map(ATTRIBUTES.map((a) => [a.name, a]));
const ATTR_BY_TAG: ReadonlyMap<number, AttributeMeta> = new Map(
  ATTRIBUTES.filter((a) => a.name !== 'Vendor Attribute').map((a) => [Tag[a.tag], a]),
);

/** A 1.x Attribute Name ("Cryptographic Algorithm") to its attribute, undefined for custom (x-/y-) and unknown names. */
export function attributeByName(name: string): AttributeMeta | undefined {
  return ATTR_BY_NAME.get(normalizeAttributeName(name));
}

/** A 2.x attribute tag (number or name) to its attribute. The Attribute tag itself (2.x Vendor Attribute) is not included. */
export function attributeByTag(tag: number | string): AttributeMeta | undefined {
  const t = resolveTag(tag);
  return t === undefined ? undefined : ATTR_BY_TAG.get(t.tag);
}

/** Whether the attribute (1.x name, or tag number/name) exists in the version. */
export function attributeExistsIn(nameOrTag: number | string, version: KmipVersion): boolean {
  const a =
    typeof nameOrTag === 'string'
      ? (attributeByName(nameOrTag) ?? attributeByTag(nameOrTag))
      : attributeByTag(nameOrTag);
  return a !== undefined && versionInRange(version, a.since, a.until);
}

/** The enumeration (or mask) that the Attribute Value of this 1.x attribute takes. */
export function enumForAttribute(
  attributeName: string,
  kind: 'enum' | 'mask' = 'enum',
): EnumMeta | undefined {
  const name = normalizeAttributeName(attributeName);
  for (const meta of Object.values(ENUMS)) {
    if (meta.kind === kind && meta.attributes.includes(name)) return meta;
  }
  const a = ATTR_BY_NAME.get(name);
  if (a === undefined) return undefined;
  return kind === 'enum' ? ENUM_BY_TAG.get(Tag[a.tag]) : MASK_BY_TAG.get(Tag[a.tag]);
}
