/**
 * Fields that are not one tagged item: attribute lists in both wire shapes
 * (1.x Template-Attribute / Attribute, 2.x Attributes) and attribute
 * references (1.x Attribute Name, 2.x Attribute Reference). They are read
 * and written here, once, so that handlers see only the version-neutral
 * model (messages/attributes.ts).
 */

import { KmipError } from '../errors.js';
import {
  type AttributeKey,
  attributeFromV1,
  attributeReferenceToWire,
  attributesForResponse,
  type ModelAttribute,
  readAttributeReferences,
  readRequestAttributes,
  responseAttributes,
} from '../messages/attributes.js';
import { compareVersions, type KmipVersion, Tag } from '../spec/index.js';
import { childText } from '../ttlv/build.js';
import type { TtlvItem } from '../ttlv/types.js';
import type { Field } from './schema.js';
import { text } from './schema.js';

function isV2(version: KmipVersion): boolean {
  return compareVersions(version, '2.0') >= 0;
}

/** Unique Identifier; an omitted one is filled from the ID Placeholder by the executor. */
export const uniqueIdentifier = text(Tag.UniqueIdentifier);

/**
 * The attributes a request carries in any of `containers`; undefined when
 * none of them is present (a request with an empty Attributes is `[]`).
 */
export function requestAttributes(
  containers: readonly number[],
): Field<readonly ModelAttribute[] | undefined> {
  return {
    read(payload) {
      if (!payload.value.some((c) => containers.includes(c.tag))) return undefined;
      return readRequestAttributes(payload, containers);
    },
    write(attrs, version) {
      if (attrs === undefined) return [];
      // 1.x: the first container (Template-Attribute); 2.x: the second (Attributes).
      const tag = isV2(version) ? (containers[1] ?? containers[0]) : containers[0];
      if (tag === undefined) return [];
      const items = attributesForResponse(attrs, version);
      const inner = isV2(version) && items[0]?.type === 'Structure' ? items[0].value : items;
      return [{ tag, type: 'Structure', value: inner }];
    },
  };
}

/** Attributes in a response: 1.x bare Attribute items, 2.x one Attributes structure. */
export const responseAttributeList: Field<readonly ModelAttribute[] | undefined> = {
  read(payload) {
    if (payload.value.some((c) => c.tag === Tag.Attributes)) {
      return readRequestAttributes(payload, [Tag.Attributes]);
    }
    const bare = payload.value.filter((c) => c.tag === Tag.Attribute).map(attributeFromV1);
    return bare.length > 0 ? bare : undefined;
  },
  write(attrs, version) {
    return attrs === undefined ? [] : responseAttributes(attrs, version);
  },
};

/** Attribute Name (1.x) / Attribute Reference (2.x) items. */
export const attributeReferences: Field<readonly AttributeKey[] | undefined> = {
  read(payload) {
    const keys = readAttributeReferences(payload);
    return keys.length > 0 ? keys : undefined;
  },
  write(keys, version) {
    return (keys ?? []).map((k) => attributeReferenceToWire(k, version));
  },
};

/**
 * The Template names a request's 1.x Template-Attribute structures carry
 * (1.0 §2.1.8: a Name item directly inside names a Template object to apply).
 */
export function templateNames(containers: readonly number[]): Field<readonly string[] | undefined> {
  return {
    read(payload) {
      const names: string[] = [];
      for (const c of payload.value) {
        if (!containers.includes(c.tag) || c.type !== 'Structure') continue;
        for (const n of c.value) {
          const v = n.tag === Tag.Name && n.type === 'Structure' ? childText(n, Tag.NameValue) : undefined;
          if (v !== undefined) names.push(v);
        }
      }
      return names.length > 0 ? names : undefined;
    },
    write() {
      // Templates are applied by the server that holds them; a request written here names none.
      return [];
    },
  };
}

/** The attributes of a new object as Create, Register, Re-key... receive them, with the Templates they name. */
export const newObjectFields = {
  attributes: requestAttributes([Tag.TemplateAttribute, Tag.Attributes]),
  templates: templateNames([Tag.TemplateAttribute]),
} as const;

/** The structures that carry a managed object (KMIP 1.0 §2.2, 2.1 §2.2): Register, Get, Import... */
export const OBJECT_CONTENT_TAGS: readonly number[] = [
  Tag.Certificate,
  Tag.SymmetricKey,
  Tag.PublicKey,
  Tag.PrivateKey,
  Tag.SplitKey,
  Tag.Template,
  Tag.SecretData,
  Tag.OpaqueObject,
  Tag.PGPKey,
  Tag.CertificateRequest,
];

/** A Big Integer as a bigint; Integer and Long Integer are accepted from lenient clients. */
export function bigNumberOf(item: TtlvItem, what: string): bigint {
  if (item.type === 'BigInteger') {
    return item.value.length === 0 ? 0n : BigInt(`0x${Buffer.from(item.value).toString('hex')}`);
  }
  if (item.type === 'Integer') return BigInt(item.value);
  if (item.type === 'LongInteger') return item.value;
  throw new KmipError('InvalidField', `${what} must be a Big Integer`);
}

/** Two's complement, big-endian: a leading 0x00 keeps a positive value positive. */
export function bigNumberItem(tag: number, n: bigint): TtlvItem {
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  return { tag, type: 'BigInteger', value: Buffer.from(hex, 'hex') };
}

/** A non-negative Big Integer field (Prime Field Size...). */
export function bigNumber(tag: number, what: string): Field<bigint | undefined> {
  return {
    read(payload) {
      const item = payload.value.find((c) => c.tag === tag);
      return item === undefined ? undefined : bigNumberOf(item, what);
    },
    write(n) {
      return n === undefined ? [] : [bigNumberItem(tag, n)];
    },
  };
}
