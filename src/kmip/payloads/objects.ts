/**
 * Payloads of the operations that read an object or its use: Get, Export,
 * Check, Obtain Lease, Get Usage Allocation (KMIP 1.0 §4.9, 4.10, 4.16,
 * 4.17; Export 2.0 on; 2.1 §6.1).
 */
import { Tag } from '../spec/index.js';
import { responseAttributeList, uniqueIdentifier } from './fields.js';
import { date, enumeration, int, interval, long, oneOf, type PayloadOf, struct } from './schema.js';

/** The tags of the Managed Object a Get, Export, Register or Import carries (1.4 §2.2, 2.1 §2.2). */
export const OBJECT_TAGS: readonly number[] = [
  Tag.Certificate,
  Tag.SymmetricKey,
  Tag.PublicKey,
  Tag.PrivateKey,
  Tag.SplitKey,
  Tag.Template,
  Tag.SecretData,
  Tag.OpaqueObject,
  Tag.PGPKey,
];

/** The object itself: a Symmetric Key, Certificate, Private Key... structure, kept whole. */
export const managedObject = oneOf(OBJECT_TAGS);

/** Get and Export: how the client wants the content (Key Wrap Type from 1.4). */
export const GetRequest = {
  uniqueIdentifier,
  keyFormatType: enumeration(Tag.KeyFormatType),
  keyWrapType: enumeration(Tag.KeyWrapType),
  keyCompressionType: enumeration(Tag.KeyCompressionType),
  keyWrappingSpecification: struct(Tag.KeyWrappingSpecification),
} as const;
export type GetRequest = PayloadOf<typeof GetRequest>;

export const GetResponse = {
  objectType: enumeration(Tag.ObjectType),
  uniqueIdentifier,
  object: managedObject,
} as const;
export type GetResponse = PayloadOf<typeof GetResponse>;

export const ExportRequest = GetRequest;
export type ExportRequest = GetRequest;

export const ExportResponse = {
  objectType: enumeration(Tag.ObjectType),
  uniqueIdentifier,
  attributes: responseAttributeList,
  object: managedObject,
} as const;
export type ExportResponse = PayloadOf<typeof ExportResponse>;

/** Check: the use to check; the response names what would be refused (the server answers errors instead). */
export const CheckRequest = {
  uniqueIdentifier,
  usageLimitsCount: long(Tag.UsageLimitsCount),
  cryptographicUsageMask: int(Tag.CryptographicUsageMask),
  leaseTime: interval(Tag.LeaseTime),
} as const;
export type CheckRequest = PayloadOf<typeof CheckRequest>;

export const CheckResponse = CheckRequest;
export type CheckResponse = CheckRequest;

export const ObtainLeaseRequest = { uniqueIdentifier } as const;
export type ObtainLeaseRequest = PayloadOf<typeof ObtainLeaseRequest>;

export const ObtainLeaseResponse = {
  uniqueIdentifier,
  leaseTime: interval(Tag.LeaseTime),
  lastChangeDate: date(Tag.LastChangeDate),
} as const;
export type ObtainLeaseResponse = PayloadOf<typeof ObtainLeaseResponse>;

export const GetUsageAllocationRequest = {
  uniqueIdentifier,
  usageLimitsCount: long(Tag.UsageLimitsCount),
} as const;
export type GetUsageAllocationRequest = PayloadOf<typeof GetUsageAllocationRequest>;

export const GetUsageAllocationResponse = { uniqueIdentifier } as const;
export type GetUsageAllocationResponse = PayloadOf<typeof GetUsageAllocationResponse>;
