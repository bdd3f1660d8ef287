/** Payload of Locate (1.0 §4.9, 1.4 §4.9, 2.1 §6.1.31). */
import { KmipError } from '../errors.js';
import {
  attributeFromV1,
  attributeFromV2,
  attributesForResponse,
  type ModelAttribute,
} from '../messages/attributes.js';
import { Tag, tagInfo } from '../spec/index.js';
import { enumeration, type Field, int, many, type PayloadOf } from './schema.js';

const LOCATE_FIELDS: ReadonlySet<number> = new Set([
  Tag.MaximumItems,
  Tag.OffsetItems,
  Tag.StorageStatusMask,
  Tag.ObjectGroupMember,
  Tag.Attribute,
  Tag.Attributes,
]);

/**
 * The search attributes: 1.x bare Attribute items, 2.x one Attributes
 * structure. A field Locate does not define is refused rather than ignored:
 * ignoring a misspelt condition would widen the search (a review found
 * clients locating every object this way).
 */
const searchAttributes: Field<readonly ModelAttribute[]> = {
  read(payload) {
    const out: ModelAttribute[] = [];
    for (const c of payload.value) {
      if (!LOCATE_FIELDS.has(c.tag)) {
        const name = tagInfo(c.tag)?.name ?? `0x${c.tag.toString(16)}`;
        throw new KmipError('InvalidField', `${name} is not a field of a Locate request`);
      }
      if (c.tag === Tag.Attribute) out.push(attributeFromV1(c));
      else if (c.tag === Tag.Attributes && c.type === 'Structure') out.push(...c.value.map(attributeFromV2));
    }
    return out;
  },
  write(attrs, version) {
    return attributesForResponse(attrs, version);
  },
};

export const LocateRequest = {
  maximumItems: int(Tag.MaximumItems),
  offsetItems: int(Tag.OffsetItems),
  storageStatusMask: int(Tag.StorageStatusMask),
  objectGroupMember: enumeration(Tag.ObjectGroupMember),
  attributes: searchAttributes,
} as const;
export type LocateRequest = PayloadOf<typeof LocateRequest>;

export const LocateResponse = {
  locatedItems: int(Tag.LocatedItems, { since: '1.3' }),
  uniqueIdentifiers: many('TextString', Tag.UniqueIdentifier),
} as const;
