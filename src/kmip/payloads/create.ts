/**
 * Payloads of the operations that make new objects: Create (1.0 §4.1, 2.1
 * §6.1.9), Create Key Pair (1.0 §4.2, 2.1 §6.1.10), Register (1.0 §4.3, 2.1
 * §6.1.41), Re-key (1.0 §4.4, 2.1 §6.1.42), Re-key Key Pair (1.1 §4.5, 2.1
 * §6.1.43), Derive Key (1.0 §4.6, 2.1 §6.1.13), Create Split Key and Join
 * Split Key (1.2 §4.38-4.39, 2.1 §6.1.11, 6.1.29).
 */
import { Tag } from '../spec/index.js';
import {
  bigNumber,
  newObjectFields,
  OBJECT_CONTENT_TAGS,
  requestAttributes,
  templateNames,
  uniqueIdentifier,
} from './fields.js';
import { enumeration, int, interval, many, oneOf, type PayloadOf, struct, text } from './schema.js';

export const CreateRequest = {
  objectType: enumeration(Tag.ObjectType),
  ...newObjectFields,
} as const;
export type CreateRequest = PayloadOf<typeof CreateRequest>;

/** Object Type and Unique Identifier: the answer of Create. */
export const CreatedObject = {
  objectType: enumeration(Tag.ObjectType),
  uniqueIdentifier,
} as const;
export type CreatedObject = PayloadOf<typeof CreatedObject>;

/** The attributes of a key pair: common, then each half's (1.x Template-Attribute, 2.x Attributes). */
export const KeyPairFields = {
  commonAttributes: requestAttributes([Tag.CommonTemplateAttribute, Tag.CommonAttributes]),
  privateKeyAttributes: requestAttributes([Tag.PrivateKeyTemplateAttribute, Tag.PrivateKeyAttributes]),
  publicKeyAttributes: requestAttributes([Tag.PublicKeyTemplateAttribute, Tag.PublicKeyAttributes]),
  templates: templateNames([
    Tag.CommonTemplateAttribute,
    Tag.PrivateKeyTemplateAttribute,
    Tag.PublicKeyTemplateAttribute,
  ]),
} as const;

export const CreateKeyPairRequest = KeyPairFields;
export type CreateKeyPairRequest = PayloadOf<typeof CreateKeyPairRequest>;

export const KeyPairResponse = {
  privateKeyUniqueIdentifier: text(Tag.PrivateKeyUniqueIdentifier),
  publicKeyUniqueIdentifier: text(Tag.PublicKeyUniqueIdentifier),
} as const;
export type KeyPairResponse = PayloadOf<typeof KeyPairResponse>;

export const RegisterRequest = {
  objectType: enumeration(Tag.ObjectType),
  ...newObjectFields,
  object: oneOf(OBJECT_CONTENT_TAGS),
} as const;
export type RegisterRequest = PayloadOf<typeof RegisterRequest>;

/** The Unique Identifier of the new object: Register, Re-key, Derive Key, Join Split Key. */
export const CreatedObjectId = { uniqueIdentifier } as const;
export const RegisterResponse = CreatedObjectId;

export const RekeyRequest = {
  uniqueIdentifier,
  offset: interval(Tag.Offset),
  ...newObjectFields,
} as const;
export type RekeyRequest = PayloadOf<typeof RekeyRequest>;

export const RekeyResponse = CreatedObjectId;

export const RekeyKeyPairRequest = {
  privateKeyUniqueIdentifier: text(Tag.PrivateKeyUniqueIdentifier),
  offset: interval(Tag.Offset),
  ...KeyPairFields,
} as const;
export type RekeyKeyPairRequest = PayloadOf<typeof RekeyKeyPairRequest>;

export const DeriveKeyRequest = {
  objectType: enumeration(Tag.ObjectType),
  uniqueIdentifiers: many('TextString', Tag.UniqueIdentifier),
  derivationMethod: enumeration(Tag.DerivationMethod),
  derivationParameters: struct(Tag.DerivationParameters),
  ...newObjectFields,
} as const;
export type DeriveKeyRequest = PayloadOf<typeof DeriveKeyRequest>;

export const DeriveKeyResponse = CreatedObjectId;

export const CreateSplitKeyRequest = {
  objectType: enumeration(Tag.ObjectType),
  uniqueIdentifier,
  splitKeyParts: int(Tag.SplitKeyParts),
  splitKeyThreshold: int(Tag.SplitKeyThreshold),
  splitKeyMethod: enumeration(Tag.SplitKeyMethod),
  primeFieldSize: bigNumber(Tag.PrimeFieldSize, 'Prime Field Size'),
  ...newObjectFields,
} as const;
export type CreateSplitKeyRequest = PayloadOf<typeof CreateSplitKeyRequest>;

export const CreateSplitKeyResponse = {
  uniqueIdentifiers: many('TextString', Tag.UniqueIdentifier),
} as const;

export const JoinSplitKeyRequest = {
  objectType: enumeration(Tag.ObjectType),
  uniqueIdentifiers: many('TextString', Tag.UniqueIdentifier),
  secretDataType: enumeration(Tag.SecretDataType),
  ...newObjectFields,
} as const;
export type JoinSplitKeyRequest = PayloadOf<typeof JoinSplitKeyRequest>;
