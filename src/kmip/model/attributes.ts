/**
 * The attribute list of a managed object, version-neutral (KMIP 2.1 naming),
 * and the rules the spec's attribute tables set for it: who may set an
 * attribute, whether it is single or multi-instance, in which versions it and
 * its values exist.
 */
import { KmipError } from '../errors.js';
import { type AttributeKey, type ModelAttribute, shapeForVersion } from '../messages/attributes.js';
import { attributeByTag, Tag, tagInfo } from '../spec/index.js';
import type { TtlvItem } from '../ttlv/types.js';

export type { AttributeKey, ModelAttribute };
/** Kept here for the model's callers; the wire-version adapter lives in messages/attributes.ts. */
export { shapeForVersion };

export function keysEqual(a: AttributeKey, b: AttributeKey): boolean {
  if (a.kind === 'standard') return b.kind === 'standard' && a.tag === b.tag;
  return b.kind === 'custom' && a.vendor === b.vendor && a.name === b.name;
}

export function standardKey(tag: number): AttributeKey {
  return { kind: 'standard', tag };
}

/** A readable name for messages: the 2.x tag name or "x-Name". */
export function keyLabel(key: AttributeKey): string {
  if (key.kind === 'custom') return `${key.vendor}-${key.name}`;
  return tagInfo(key.tag)?.name ?? `0x${key.tag.toString(16)}`;
}

/** Custom attributes may have any number of instances; standard ones follow the spec table. */
export function isMultiInstance(key: AttributeKey): boolean {
  if (key.kind === 'custom') return true;
  return attributeByTag(key.tag)?.multiInstance ?? false;
}

/**
 * Attributes only the server sets (the "Modifiable by client: No" rows of the
 * attribute tables, KMIP 1.4 §3, 2.1 §4): a client can neither give them on
 * Create/Register nor add, modify, set or delete them later.
 */
const SERVER_ONLY: ReadonlySet<number> = new Set([
  Tag.UniqueIdentifier,
  Tag.ObjectType,
  Tag.State,
  Tag.InitialDate,
  Tag.LastChangeDate,
  Tag.Digest,
  Tag.DestroyDate,
  Tag.CompromiseDate,
  Tag.CompromiseOccurrenceDate,
  Tag.RevocationReason,
  Tag.ArchiveDate,
  Tag.KeyValuePresent,
  Tag.LeaseTime,
  Tag.CertificateLength,
  Tag.CertificateIdentifier,
  Tag.CertificateSubject,
  Tag.CertificateIssuer,
  Tag.X_509CertificateIdentifier,
  Tag.X_509CertificateSubject,
  Tag.X_509CertificateIssuer,
  Tag.DigitalSignatureAlgorithm,
  Tag.AlwaysSensitive,
  Tag.NeverExtractable,
  Tag.ShortUniqueIdentifier,
  Tag.KeyFormatType,
]);

/**
 * Set when the object is created and fixed afterwards (Cryptographic
 * Algorithm, Length, Domain Parameters: "Modifiable by client: No", but a
 * client supplies them on Create/Register). Fresh: "Initially set by: Server
 * or Client" (KMIP 1.1 §3.34; TC-152 registers keys with Fresh true).
 * Original Creation Date likewise (1.2 §3.55 "Initially set by: Client or
 * Server"; TC-MDO-2 registers a key with one).
 */
const FIXED_AFTER_CREATION: ReadonlySet<number> = new Set([
  Tag.Fresh,
  Tag.OriginalCreationDate,
  Tag.CryptographicAlgorithm,
  Tag.CryptographicLength,
  Tag.CryptographicDomainParameters,
  Tag.CertificateType,
]);

/** Dates a client may set only while the object is Pre-Active (KMIP 1.4 §3.24, §3.27). */
export const PRE_ACTIVE_ONLY: ReadonlySet<number> = new Set([Tag.ActivationDate, Tag.ProcessStartDate]);

export function isServerOnly(key: AttributeKey): boolean {
  return key.kind === 'standard' && SERVER_ONLY.has(key.tag);
}

/** May a client change this attribute of an existing object? */
export function isClientModifiable(key: AttributeKey): boolean {
  return key.kind === 'custom' || (!SERVER_ONLY.has(key.tag) && !FIXED_AFTER_CREATION.has(key.tag));
}

export function findAll(attrs: readonly ModelAttribute[], key: AttributeKey): ModelAttribute[] {
  return attrs.filter((a) => keysEqual(a.key, key));
}

export function findValue(attrs: readonly ModelAttribute[], tag: number): TtlvItem | undefined {
  for (const a of attrs) if (a.key.kind === 'standard' && a.key.tag === tag) return a.value;
  return undefined;
}

export function findEnum(attrs: readonly ModelAttribute[], tag: number): number | undefined {
  const v = findValue(attrs, tag);
  return v?.type === 'Enumeration' ? v.value : undefined;
}

export function findInteger(attrs: readonly ModelAttribute[], tag: number): number | undefined {
  const v = findValue(attrs, tag);
  return v?.type === 'Integer' ? v.value : undefined;
}

export function findDate(attrs: readonly ModelAttribute[], tag: number): bigint | undefined {
  const v = findValue(attrs, tag);
  return v?.type === 'DateTime' ? v.value : undefined;
}

/** Replaces every instance of the attribute by one value (index 0), keeping its place in the list. */
export function setSingle(attrs: readonly ModelAttribute[], attr: ModelAttribute): ModelAttribute[] {
  const out: ModelAttribute[] = [];
  let placed = false;
  for (const a of attrs) {
    if (!keysEqual(a.key, attr.key)) out.push(a);
    else if (!placed) {
      out.push({ ...attr, index: 0 });
      placed = true;
    }
  }
  if (!placed) out.push({ ...attr, index: 0 });
  return out;
}

export function setStandard(attrs: readonly ModelAttribute[], value: TtlvItem): ModelAttribute[] {
  return setSingle(attrs, { key: standardKey(value.tag), index: 0, value });
}

export function removeAll(attrs: readonly ModelAttribute[], key: AttributeKey): ModelAttribute[] {
  return attrs.filter((a) => !keysEqual(a.key, key));
}

/** Appends an instance with the next free Attribute Index (KMIP 1.x §2.1.1). */
export function addInstance(
  attrs: readonly ModelAttribute[],
  attr: ModelAttribute,
): { attrs: ModelAttribute[]; added: ModelAttribute } {
  let next = 0;
  for (const a of findAll(attrs, attr.key)) next = Math.max(next, (a.index ?? 0) + 1);
  const added: ModelAttribute = { ...attr, index: next };
  return { attrs: [...attrs, added], added };
}

/** Structural equality of two TTLV values (instances are told apart by value in 2.x). */
export function sameValue(a: TtlvItem, b: TtlvItem): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'Structure' && b.type === 'Structure') {
    return (
      a.value.length === b.value.length &&
      a.value.every((c, i) => {
        const d = b.value[i];
        return d !== undefined && c.tag === d.tag && sameValue(c, d);
      })
    );
  }
  const x = a.value;
  const y = b.value;
  if (x instanceof Uint8Array && y instanceof Uint8Array) {
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  return x === y;
}

/**
 * Usage Limits as the server keeps it: a client gives Total and Unit, the
 * server fills in Count = Total (KMIP 1.4 §3.21: the count of usage left),
 * in spec field order Total, Count, Unit (TC-51).
 */
export function withUsageLimitsCount(attr: ModelAttribute): ModelAttribute {
  const v = attr.value;
  if (attr.key.kind !== 'standard' || attr.key.tag !== Tag.UsageLimits || v.type !== 'Structure') return attr;
  if (v.value.some((c) => c.tag === Tag.UsageLimitsCount)) return attr;
  const total = v.value.find((c) => c.tag === Tag.UsageLimitsTotal);
  if (total?.type !== 'LongInteger') return attr;
  const fields: TtlvItem[] = [];
  for (const c of v.value) {
    fields.push(c);
    if (c === total) fields.push({ tag: Tag.UsageLimitsCount, type: 'LongInteger', value: total.value });
  }
  return { ...attr, value: { ...v, value: fields } };
}

/** Listed first, in this order, ahead of the alphabetical rest. */
const LEADING: readonly number[] = [
  Tag.UniqueIdentifier,
  Tag.ShortUniqueIdentifier,
  Tag.ObjectType,
  Tag.CryptographicAlgorithm,
  Tag.CryptographicLength,
];

function listingKey(key: AttributeKey): string {
  if (key.kind === 'custom') return '';
  const name = attributeByTag(key.tag)?.name ?? tagInfo(key.tag)?.name ?? '';
  // 2.x: Key Format Type follows Digest, whose value names it too (SKLC-O-1-21, SKFF-M-9-21).
  return key.tag === Tag.KeyFormatType ? 'Digest\u0000' : name;
}

/**
 * All attributes of an object in the order the profile vectors list them
 * (Get Attributes without names, Get Attribute List; SKLC-O-1, AKLC-O-1,
 * SKFF-M-9): Unique Identifier, Short Unique Identifier, Object Type,
 * Cryptographic Algorithm and Length, then the others by their 1.x name,
 * custom attributes last in the order they were added. Instances of one
 * attribute keep their order (the sort is stable).
 */
export function inListingOrder(attrs: readonly ModelAttribute[]): ModelAttribute[] {
  const rank = (a: ModelAttribute): number => {
    if (a.key.kind === 'custom') return LEADING.length + 1;
    const i = LEADING.indexOf(a.key.tag);
    return i >= 0 ? i : LEADING.length;
  };
  return [...attrs].sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    if (ra !== rb) return ra - rb;
    if (ra !== LEADING.length) return 0;
    const ka = listingKey(a.key);
    const kb = listingKey(b.key);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/**
 * Export's order (KMIP 2.0 test cases TC-IMPEXP-1..5-20): the reference
 * server lists the attributes of an exported object as it stores them, not
 * by name: identifiers, type, algorithm and length, the certificate's
 * derived attributes, Digest, then the lifecycle ones. Key Format Type
 * follows Digest for a non-key object (IMPEXP-3, -5) and Never Extractable
 * for a key (IMPEXP-1, -2, -4). Attributes the vectors never show come next
 * by name, then a certificate's subject and issuer fields, Protection
 * Storage Mask, and custom attributes in the order they were added.
 */
const EXPORT_HEAD: readonly number[] = [
  Tag.UniqueIdentifier,
  Tag.ShortUniqueIdentifier,
  Tag.ObjectType,
  Tag.CryptographicAlgorithm,
  Tag.CryptographicLength,
  Tag.CertificateType,
  Tag.CertificateLength,
  Tag.X_509CertificateIdentifier,
  Tag.X_509CertificateSubject,
  Tag.X_509CertificateIssuer,
  Tag.DigitalSignatureAlgorithm,
  Tag.Digest,
];

const EXPORT_LIFECYCLE: readonly number[] = [
  Tag.CryptographicUsageMask,
  Tag.LeaseTime,
  Tag.InitialDate,
  Tag.ActivationDate,
  Tag.State,
  Tag.ProtectStopDate,
  Tag.LastChangeDate,
  Tag.Fresh,
  Tag.Sensitive,
  Tag.AlwaysSensitive,
  Tag.Extractable,
  Tag.NeverExtractable,
];

const EXPORT_TAIL: readonly number[] = [
  Tag.CertificateSubjectST,
  Tag.CertificateSubjectEmail,
  Tag.CertificateSubjectC,
  Tag.CertificateSubjectL,
  Tag.CertificateSubjectO,
  Tag.CertificateSubjectOU,
  Tag.CertificateSubjectCN,
  Tag.CertificateIssuerST,
  Tag.CertificateIssuerEmail,
  Tag.CertificateIssuerC,
  Tag.CertificateIssuerL,
  Tag.CertificateIssuerO,
  Tag.CertificateIssuerOU,
  Tag.CertificateIssuerCN,
  Tag.ProtectionStorageMask,
];

/** The attributes of an exported object in Export's order; `isKey`: the object has a Key Block of a key type. */
export function inExportOrder(attrs: readonly ModelAttribute[], isKey: boolean): ModelAttribute[] {
  const order: number[] = isKey
    ? [...EXPORT_HEAD, ...EXPORT_LIFECYCLE, Tag.KeyFormatType]
    : [...EXPORT_HEAD, Tag.KeyFormatType, ...EXPORT_LIFECYCLE];
  const rest = order.length;
  const tail = rest + 1;
  const rank = (a: ModelAttribute): number => {
    if (a.key.kind === 'custom') return tail + EXPORT_TAIL.length;
    const i = order.indexOf(a.key.tag);
    if (i >= 0) return i;
    const j = EXPORT_TAIL.indexOf(a.key.tag);
    return j >= 0 ? tail + j : rest;
  };
  return [...attrs].sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    if (ra !== rb) return ra - rb;
    if (ra !== rest) return 0;
    const ka = listingKey(a.key);
    const kb = listingKey(b.key);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/** Throws Invalid Field when a value does not have the type its tag requires. */
export function checkValueType(attr: ModelAttribute): void {
  if (attr.key.kind !== 'standard') return;
  const expected = tagInfo(attr.key.tag)?.type;
  if (expected !== undefined && expected !== attr.value.type) {
    throw new KmipError(
      'InvalidField',
      `${keyLabel(attr.key)} must be of type ${expected}, not ${attr.value.type}`,
    );
  }
}
