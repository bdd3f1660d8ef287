/**
 * Payloads of the attribute operations: Get Attributes, Get Attribute List,
 * Add, Modify, Delete Attribute (KMIP 1.0 §4.11-4.15, 1.4 §4.12-4.16),
 * Set and Adjust Attribute (2.0 on) (2.1 §6.1).
 *
 * The 1.x and 2.x wire shapes of one request are one field each: the
 * attribute to add or set (1.x Attribute, 2.x New Attribute), the attribute
 * named (1.x Attribute Name, 2.x Attribute Reference). The attribute a 1.x
 * Add / Modify / Delete Attribute answers with is a 1.x-only response field.
 */
import { KmipError } from '../errors.js';
import {
  attributeFromV1,
  attributeFromV2,
  attributeToWire,
  type ModelAttribute,
} from '../messages/attributes.js';
import { compareVersions, type KmipVersion, Tag } from '../spec/index.js';
import { attributeReferences, responseAttributeList, uniqueIdentifier } from './fields.js';
import { IdPayload } from './lifecycle.js';
import { enumeration, type Field, int, oneOf, type PayloadOf } from './schema.js';

/** The version a 2.x-only structure is written for. */
function v2(version: KmipVersion): KmipVersion {
  return compareVersions(version, '2.0') >= 0 ? version : '2.0';
}

/** A 2.x New Attribute / Current Attribute: a structure holding one attribute. */
function wrappedAttribute(tag: number): Field<ModelAttribute | undefined> {
  return {
    read(payload) {
      const w = payload.value.find((c) => c.tag === tag);
      if (w === undefined) return undefined;
      if (w.type !== 'Structure' || w.value.length !== 1 || w.value[0] === undefined) {
        throw new KmipError('InvalidMessage', 'New Attribute / Current Attribute must hold one attribute');
      }
      return attributeFromV2(w.value[0]);
    },
    write(attr, version) {
      const item = attr === undefined ? undefined : attributeToWire(attr, v2(version));
      return item === undefined ? [] : [{ tag, type: 'Structure', value: [item] }];
    },
  };
}

/** The attribute to add, modify or set: 1.x Attribute, 2.x New Attribute. */
const newAttribute: Field<ModelAttribute | undefined> = {
  read(payload, version) {
    const v1 = payload.value.find((c) => c.tag === Tag.Attribute);
    return v1 !== undefined ? attributeFromV1(v1) : wrappedAttribute(Tag.NewAttribute).read(payload, version);
  },
  write(attr, version) {
    if (compareVersions(version, '2.0') >= 0) return wrappedAttribute(Tag.NewAttribute).write(attr, version);
    const item = attr === undefined ? undefined : attributeToWire(attr, version);
    return item === undefined ? [] : [item];
  },
};

/** 2.x Current Attribute: the instance to modify or delete, by value. */
const currentAttribute = wrappedAttribute(Tag.CurrentAttribute);

/** The attribute a 1.x Add / Modify / Delete Attribute answers with; 2.x answers the identifier only. */
const changedAttribute: Field<readonly ModelAttribute[] | undefined> = {
  ...responseAttributeList,
  until: '1.4',
};

export const GetAttributesRequest = {
  uniqueIdentifier,
  /** 1.x Attribute Name / 2.x Attribute Reference; none: every attribute */
  attributeReferences,
} as const;
export type GetAttributesRequest = PayloadOf<typeof GetAttributesRequest>;

export const GetAttributesResponse = {
  uniqueIdentifier,
  /** 1.x Attribute items / 2.x Attributes */
  attributes: responseAttributeList,
} as const;
export type GetAttributesResponse = PayloadOf<typeof GetAttributesResponse>;

export const GetAttributeListRequest = IdPayload;
export type GetAttributeListRequest = PayloadOf<typeof GetAttributeListRequest>;

export const GetAttributeListResponse = {
  uniqueIdentifier,
  /** 1.x Attribute Name / 2.x Attribute Reference */
  attributeReferences,
} as const;
export type GetAttributeListResponse = PayloadOf<typeof GetAttributeListResponse>;

export const AddAttributeRequest = {
  uniqueIdentifier,
  /** 1.x Attribute / 2.x New Attribute */
  attribute: newAttribute,
} as const;
export type AddAttributeRequest = PayloadOf<typeof AddAttributeRequest>;

/** Add / Modify / Delete Attribute response: 1.x the attribute too. */
export const ChangedAttributeResponse = {
  uniqueIdentifier,
  attribute: changedAttribute,
} as const;
export type ChangedAttributeResponse = PayloadOf<typeof ChangedAttributeResponse>;

export const ModifyAttributeRequest = {
  uniqueIdentifier,
  /** 2.x: the instance to modify, by value; absent: the only one */
  currentAttribute,
  /** 1.x Attribute (its Attribute Index chooses the instance) / 2.x New Attribute */
  attribute: newAttribute,
} as const;
export type ModifyAttributeRequest = PayloadOf<typeof ModifyAttributeRequest>;

export const DeleteAttributeRequest = {
  uniqueIdentifier,
  /** 2.x: the instance to delete, by value */
  currentAttribute,
  /** 1.x Attribute Name / 2.x Attribute Reference; the first is the one deleted */
  attributeReferences,
  /** 1.x: which instance (default 0) */
  attributeIndex: int(Tag.AttributeIndex),
} as const;
export type DeleteAttributeRequest = PayloadOf<typeof DeleteAttributeRequest>;

export const SetAttributeRequest = {
  uniqueIdentifier,
  /** 2.x New Attribute (a 1.x-shaped Attribute is read too) */
  attribute: newAttribute,
} as const;
export type SetAttributeRequest = PayloadOf<typeof SetAttributeRequest>;

export const AdjustAttributeRequest = {
  uniqueIdentifier,
  /** the first is the one adjusted */
  attributeReferences,
  adjustmentType: enumeration(Tag.AdjustmentType),
  /** Integer, Long Integer or Interval: kept whole, its type decides how it applies */
  adjustmentValue: oneOf([Tag.AdjustmentValue]),
} as const;
export type AdjustAttributeRequest = PayloadOf<typeof AdjustAttributeRequest>;
