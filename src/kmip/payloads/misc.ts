/** Payloads of Import (1.4 §4.31, 2.1 §6.1.28) and PKCS#11 (2.0 §6.1.37). */
import { Tag } from '../spec/index.js';
import { newObjectFields, OBJECT_CONTENT_TAGS, uniqueIdentifier } from './fields.js';
import { bool, bytes, enumeration, oneOf, type PayloadOf, text } from './schema.js';

export const ImportRequest = {
  uniqueIdentifier,
  objectType: enumeration(Tag.ObjectType),
  replaceExisting: bool(Tag.ReplaceExisting),
  keyWrapType: enumeration(Tag.KeyWrapType),
  attributes: newObjectFields.attributes,
  object: oneOf(OBJECT_CONTENT_TAGS),
} as const;
export type ImportRequest = PayloadOf<typeof ImportRequest>;

export const ImportResponse = { uniqueIdentifier } as const;

export const Pkcs11Request = {
  pkcs11Interface: text(Tag.PKCS_11Interface),
  pkcs11Function: enumeration(Tag.PKCS_11Function),
  correlationValue: bytes(Tag.CorrelationValue),
  pkcs11InputParameters: bytes(Tag.PKCS_11InputParameters),
} as const;

export const Pkcs11Response = {
  pkcs11Interface: text(Tag.PKCS_11Interface),
  pkcs11Function: enumeration(Tag.PKCS_11Function),
  correlationValue: bytes(Tag.CorrelationValue),
  pkcs11OutputParameters: bytes(Tag.PKCS_11OutputParameters),
  pkcs11ReturnCode: enumeration(Tag.PKCS_11ReturnCode),
} as const;
export type Pkcs11Response = PayloadOf<typeof Pkcs11Response>;
