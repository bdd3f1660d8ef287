/**
 * Server-managed attributes of a new object and the content-derived ones
 * (KMIP 1.4 §3, 2.1 §4): Object Type, State, Initial / Last Change /
 * Original Creation Date, Fresh, Digest, Cryptographic Algorithm and Length.
 */
import { createHash } from 'node:crypto';
import { KmipError } from '../errors.js';
import { attributeFromV1 } from '../messages/attributes.js';
import {
  HashingAlgorithm,
  KeyFormatType,
  ObjectType,
  ProtectionStorageMask,
  State,
  Tag,
} from '../spec/index.js';
import { encodeTtlv } from '../ttlv/binary.js';
import {
  boolean,
  byteString,
  dateTime,
  enumeration,
  integer,
  longInteger,
  structure,
} from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import {
  findDate,
  findEnum,
  findValue,
  isServerOnly,
  keyLabel,
  type ModelAttribute,
  removeAll,
  setStandard,
  standardKey,
} from './attributes.js';
import { keyBlockOf } from './object.js';

function bytesOf(item: TtlvItem | undefined): Uint8Array | undefined {
  return item?.type === 'ByteString' ? item.value : undefined;
}

function child(s: TtlvStructure | undefined, tag: number): TtlvItem | undefined {
  return s?.value.find((c) => c.tag === tag);
}

/**
 * The Digest attribute (KMIP 1.4 §3.17): SHA-256 over the key material as
 * stored: a byte string's bytes, or the TTLV encoding of a Key Material
 * structure (Transparent formats; TC_182_11 says so and TC-IMPEXP-4-20
 * agrees), with the Key Format Type; over a Certificate's value, as Key
 * Format Type Raw (TC-CERTATTR-1-14/-20); over an Opaque Object's value.
 */
export function digestOf(objectType: number, content: TtlvStructure | undefined): TtlvItem | undefined {
  let bytes: Uint8Array | undefined;
  let format: TtlvItem | undefined;
  const kb = keyBlockOf(content);
  if (kb !== undefined) {
    format = child(kb, Tag.KeyFormatType);
    const kv = child(kb, Tag.KeyValue);
    const km = kv?.type === 'Structure' ? child(kv, Tag.KeyMaterial) : undefined;
    if (kv?.type === 'ByteString') bytes = kv.value;
    else if (km?.type === 'Structure') bytes = new Uint8Array(encodeTtlv(km));
    else bytes = bytesOf(km);
  } else if (objectType === ObjectType.OpaqueObject) {
    bytes = bytesOf(child(content, Tag.OpaqueDataValue));
  } else if (objectType === ObjectType.Certificate) {
    bytes = bytesOf(child(content, Tag.CertificateValue));
    format = enumeration(Tag.KeyFormatType, KeyFormatType.Raw);
  }
  if (bytes === undefined) return undefined;
  const items: TtlvItem[] = [
    enumeration(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256),
    byteString(Tag.DigestValue, new Uint8Array(createHash('sha256').update(bytes).digest())),
  ];
  if (format?.type === 'Enumeration') items.push(format);
  return structure(Tag.Digest, items);
}

/** Refuses attributes a client may not supply (read-only, server-managed). */
export function checkClientAttributes(attrs: readonly ModelAttribute[], v2: boolean): void {
  for (const a of attrs) {
    if (isServerOnly(a.key)) {
      throw new KmipError(
        v2 ? 'AttributeReadOnly' : 'InvalidField',
        `${keyLabel(a.key)} is set by the server and cannot be supplied`,
      );
    }
  }
}

export interface NewObjectInput {
  readonly objectType: number;
  /** client-supplied attributes, already checked */
  readonly attributes: readonly ModelAttribute[];
  readonly content: TtlvStructure | undefined;
  readonly now: Date;
  /** Cryptographic Algorithm / Length known from the content (Create, or a Key Block) */
  readonly algorithm?: number;
  readonly length?: number;
  /** the server generated the key material (Create, Create Key Pair, Re-key) */
  readonly generated?: boolean;
}

/**
 * The attributes of a new object: Unique Identifier first (filled in by the
 * service), Object Type, the client's attributes in their order, then the
 * server-managed ones. State is Active when an Activation Date ≤ now was given
 * (and Deactivated past a Deactivation Date), Pre-Active otherwise (KMIP 1.4 §3.22).
 */
export function newObjectAttributes(input: NewObjectInput): ModelAttribute[] {
  const { now } = input;
  let attrs: ModelAttribute[] = [
    {
      key: standardKey(Tag.UniqueIdentifier),
      index: 0,
      value: { tag: Tag.UniqueIdentifier, type: 'TextString', value: '' },
    },
    { key: standardKey(Tag.ObjectType), index: 0, value: enumeration(Tag.ObjectType, input.objectType) },
  ];
  attrs.push(...input.attributes.map((a) => ({ ...a })));
  const has = (tag: number) => attrs.some((a) => a.key.kind === 'standard' && a.key.tag === tag);
  if (input.objectType === ObjectType.Template && !has(Tag.Name))
    attrs.push(...templateOwnNames(input.content));
  if (input.algorithm !== undefined && !has(Tag.CryptographicAlgorithm)) {
    attrs = setStandard(attrs, enumeration(Tag.CryptographicAlgorithm, input.algorithm));
  }
  if (input.length !== undefined && !has(Tag.CryptographicLength)) {
    attrs = setStandard(attrs, integer(Tag.CryptographicLength, input.length));
  }
  // A 1.x Template is not a cryptographic object: State, Fresh, Sensitive,
  // Extractable, Digest apply to "All Cryptographic Objects" only (KMIP 1.2
  // §3.22, §3.34); Initial and Last Change Date to every object (§3.23,
  // §3.38). The reference server lists neither State nor Fresh (TC_312_12).
  if (input.objectType === ObjectType.Template) {
    attrs = setStandard(attrs, dateTime(Tag.InitialDate, now));
    return setStandard(attrs, dateTime(Tag.LastChangeDate, now));
  }
  const seconds = BigInt(Math.floor(now.getTime() / 1000));
  const activation = findDate(attrs, Tag.ActivationDate);
  const deactivation = findDate(attrs, Tag.DeactivationDate);
  let state: number = State.PreActive;
  if (activation !== undefined && activation <= seconds) {
    state = deactivation !== undefined && deactivation <= seconds ? State.Deactivated : State.Active;
  }
  // Every object, generated or registered, is in our software store only:
  // not sensitive and extractable unless the client said otherwise (1.4
  // §3.47, §3.49; 2.1 §4.47; registered objects carry them in TC-IMPEXP-1..5-20
  // and TC-CERTATTR-1-20).
  if (!has(Tag.Sensitive)) attrs = setStandard(attrs, boolean(Tag.Sensitive, false));
  if (!has(Tag.Extractable)) attrs = setStandard(attrs, boolean(Tag.Extractable, true));
  if (!has(Tag.ProtectionStorageMask)) {
    attrs = setStandard(attrs, integer(Tag.ProtectionStorageMask, ProtectionStorageMask.Software));
  }
  // Key Format Type (2.0 §4.26) of a registered Key Block; Create sets its own.
  const block = keyBlockOf(input.content);
  // A certificate's is Raw (TC-CERTATTR-1-20, TC-IMPEXP-5-20).
  const format =
    input.objectType === ObjectType.Certificate
      ? enumeration(Tag.KeyFormatType, KeyFormatType.Raw)
      : child(block, Tag.KeyFormatType);
  if (format?.type === 'Enumeration' && !has(Tag.KeyFormatType)) attrs = setStandard(attrs, format);
  // A metadata-only key (a Key Block without Key Value) says so (1.2 §3.53
  // Key Value Present, set on Register; TC-MDO-1/2/3).
  if (block !== undefined && child(block, Tag.KeyValue) === undefined) {
    attrs = setStandard(attrs, boolean(Tag.KeyValuePresent, false));
  }
  const digest = digestOf(input.objectType, input.content);
  if (digest !== undefined) attrs = setStandard(removeAll(attrs, standardKey(Tag.Digest)), digest);
  // Always Sensitive / Never Extractable (1.4 §3.48, §3.50) start as the client's Sensitive / Extractable.
  const sensitive = attrs.find((a) => a.value.tag === Tag.Sensitive)?.value;
  if (sensitive?.type === 'Boolean')
    attrs = setStandard(attrs, boolean(Tag.AlwaysSensitive, sensitive.value));
  const extractable = attrs.find((a) => a.value.tag === Tag.Extractable)?.value;
  if (extractable?.type === 'Boolean') {
    attrs = setStandard(attrs, boolean(Tag.NeverExtractable, !extractable.value));
  }
  attrs = setStandard(attrs, enumeration(Tag.State, state));
  attrs = setStandard(attrs, dateTime(Tag.InitialDate, now));
  attrs = setStandard(attrs, dateTime(Tag.LastChangeDate, now));
  // Original Creation Date: the server knows it only for what it generated;
  // registered objects have only the client's (TC-IMPEXP-1..5-20,
  // TC-CERTATTR-1-20; TC-MDO-2 registers one).
  if (input.generated === true && !has(Tag.OriginalCreationDate)) {
    attrs = setStandard(attrs, dateTime(Tag.OriginalCreationDate, now));
  }
  // Fresh (1.1 §3.34): never yet served by Get; shaped out of 1.0 responses.
  // "Initially set by: Server or Client", so a client's value stands.
  if (!has(Tag.Fresh)) attrs = setStandard(attrs, boolean(Tag.Fresh, true));
  return attrs;
}

/**
 * Date-driven transitions (KMIP 1.4 §3.22 transitions 3 and 6, 2.1 §3.1):
 * a Pre-Active object whose Activation Date has come is Active; a Pre-Active
 * or Active object whose Deactivation Date has come is Deactivated. The
 * service applies this whenever it reads an object, so a date set in the
 * past takes effect at the next use. Returns undefined when nothing is due.
 */
export function applyDueTransitions(
  attrs: readonly ModelAttribute[],
  now: Date,
): ModelAttribute[] | undefined {
  const state = findEnum(attrs, Tag.State);
  if (state !== State.PreActive && state !== State.Active) return undefined;
  const seconds = BigInt(Math.floor(now.getTime() / 1000));
  const activation = findDate(attrs, Tag.ActivationDate);
  const deactivation = findDate(attrs, Tag.DeactivationDate);
  let next: number = state;
  if (next === State.PreActive && activation !== undefined && activation <= seconds) next = State.Active;
  if (deactivation !== undefined && deactivation <= seconds) next = State.Deactivated;
  if (next === state) return undefined;
  return setStandard(attrs, enumeration(Tag.State, next));
}

/**
 * An archived object (KMIP 1.4 §4.23 Archive): it carries an Archive Date
 * until Recover brings it back on-line. Get and Locate (without the
 * Archived Storage bit of the Storage Status Mask) do not see it.
 */
export function isArchived(attrs: readonly ModelAttribute[]): boolean {
  return findDate(attrs, Tag.ArchiveDate) !== undefined;
}

/** Attributes a replacement key never inherits (KMIP 1.4 §4.4 table, 2.1 §6.1.40). */
const NOT_INHERITED: ReadonlySet<number> = new Set([
  Tag.UniqueIdentifier,
  Tag.ObjectType,
  Tag.State,
  Tag.InitialDate,
  Tag.LastChangeDate,
  Tag.OriginalCreationDate,
  Tag.Digest,
  Tag.Fresh,
  Tag.DestroyDate,
  Tag.CompromiseDate,
  Tag.CompromiseOccurrenceDate,
  Tag.RevocationReason,
  Tag.ArchiveDate,
  Tag.Link,
  Tag.LeaseTime,
  Tag.AlwaysSensitive,
  Tag.NeverExtractable,
  Tag.KeyValuePresent,
  Tag.ShortUniqueIdentifier,
]);

const SHIFTED_DATES = [Tag.ProcessStartDate, Tag.ProtectStopDate, Tag.DeactivationDate] as const;

/**
 * The client-independent attributes of a Re-key replacement (KMIP 1.0 §4.4,
 * 1.4 §4.4, 2.1 §6.1.40): everything of the existing key but the
 * server-managed and per-object ones; Usage Limits Count reset to the Total;
 * with an Offset, Activation Date = now + Offset and Process Start, Protect
 * Stop and Deactivation Date moved by as much as the Activation Date moved
 * (without an Offset the dates are copied). Name is carried over here; the
 * caller removes it from the existing key.
 */
export function rekeyedAttributes(
  old: readonly ModelAttribute[],
  offset: number | undefined,
  now: Date,
): ModelAttribute[] {
  let attrs: ModelAttribute[] = old.filter((a) => a.key.kind === 'custom' || !NOT_INHERITED.has(a.key.tag));
  const limits = findValue(attrs, Tag.UsageLimits);
  if (limits?.type === 'Structure') {
    const total = limits.value.find((c) => c.tag === Tag.UsageLimitsTotal);
    const reset = limits.value.map((c) =>
      c.tag === Tag.UsageLimitsCount && total?.type === 'LongInteger'
        ? longInteger(Tag.UsageLimitsCount, total.value)
        : c,
    );
    attrs = setStandard(attrs, structure(Tag.UsageLimits, reset));
  }
  if (offset === undefined) return attrs;
  const seconds = BigInt(Math.floor(now.getTime() / 1000));
  const newActivation = seconds + BigInt(offset);
  const oldActivation = findDate(old, Tag.ActivationDate);
  const delta = oldActivation === undefined ? undefined : newActivation - oldActivation;
  attrs = setStandard(attrs, dateTime(Tag.ActivationDate, newActivation));
  if (delta !== undefined) {
    for (const tag of SHIFTED_DATES) {
      const d = findDate(old, tag);
      if (d !== undefined) attrs = setStandard(attrs, dateTime(tag, d + delta));
    }
  }
  return attrs;
}

/**
 * The Names inside a 1.x Template's own content: the KMIP 1.0 test cases
 * (TC-312-10, TC-314-10, SASED-M-2-10) register a Template with an empty
 * Template-Attribute and its Name inside the Template structure, then Locate
 * it and refer to it by that name; 1.1 onwards name it in the Template-Attribute.
 */
function templateOwnNames(content: TtlvStructure | undefined): ModelAttribute[] {
  const out: ModelAttribute[] = [];
  for (const a of content?.value ?? []) {
    if (a.tag !== Tag.Attribute || a.type !== 'Structure') continue;
    const attr = attributeFromV1(a);
    if (attr.key.kind === 'standard' && attr.key.tag === Tag.Name) out.push({ ...attr, index: out.length });
  }
  return out;
}
