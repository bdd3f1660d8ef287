/**
 * Payloads of the cryptographic operations: Encrypt, Decrypt, Sign,
 * Signature Verify, MAC, MAC Verify, Hash, RNG Retrieve, RNG Seed (KMIP 1.2
 * §4.29-4.37, 1.4 §4.29-4.37, 2.1 §6.1.18, 6.1.13, 6.1.51, 6.1.52, 6.1.29,
 * 6.1.30, 6.1.22, 6.1.45, 6.1.46), fields in the spec's order. The
 * multi-part fields (Correlation Value, Init Indicator, Final Indicator;
 * 1.3+) sit where each operation's table puts them.
 */
import { Tag } from '../spec/index.js';
import { uniqueIdentifier } from './fields.js';
import { bool, bytes, enumeration, int, type PayloadOf, struct } from './schema.js';

const cryptographicParameters = struct(Tag.CryptographicParameters);
const data = bytes(Tag.Data);
const correlationValue = bytes(Tag.CorrelationValue);

/** Correlation Value, Init Indicator, Final Indicator: a request's place in a multi-part stream. */
const multiPart = {
  correlationValue,
  initIndicator: bool(Tag.InitIndicator),
  finalIndicator: bool(Tag.FinalIndicator),
} as const;

/** What every multi-part request carries (the support/ helpers read only these). */
export type MultiPartRequest = PayloadOf<typeof multiPart>;

export const EncryptRequest = {
  uniqueIdentifier,
  cryptographicParameters,
  data,
  ivCounterNonce: bytes(Tag.IVCounterNonce),
  ...multiPart,
  authenticatedEncryptionAdditionalData: bytes(Tag.AuthenticatedEncryptionAdditionalData),
} as const;
export type EncryptRequest = PayloadOf<typeof EncryptRequest>;

export const EncryptResponse = {
  uniqueIdentifier,
  data,
  ivCounterNonce: bytes(Tag.IVCounterNonce),
  correlationValue,
  authenticatedEncryptionTag: bytes(Tag.AuthenticatedEncryptionTag),
} as const;
export type EncryptResponse = PayloadOf<typeof EncryptResponse>;

export const DecryptRequest = {
  ...EncryptRequest,
  authenticatedEncryptionTag: bytes(Tag.AuthenticatedEncryptionTag),
} as const;
export type DecryptRequest = PayloadOf<typeof DecryptRequest>;

export const DecryptResponse = { uniqueIdentifier, data, correlationValue } as const;
export type DecryptResponse = PayloadOf<typeof DecryptResponse>;

export const SignRequest = {
  uniqueIdentifier,
  cryptographicParameters,
  data,
  digestedData: bytes(Tag.DigestedData),
  ...multiPart,
} as const;
export type SignRequest = PayloadOf<typeof SignRequest>;

export const SignResponse = {
  uniqueIdentifier,
  signatureData: bytes(Tag.SignatureData),
  correlationValue,
} as const;
export type SignResponse = PayloadOf<typeof SignResponse>;

export const SignatureVerifyRequest = {
  uniqueIdentifier,
  cryptographicParameters,
  data,
  digestedData: bytes(Tag.DigestedData),
  signatureData: bytes(Tag.SignatureData),
  ...multiPart,
} as const;
export type SignatureVerifyRequest = PayloadOf<typeof SignatureVerifyRequest>;

export const SignatureVerifyResponse = {
  uniqueIdentifier,
  validityIndicator: enumeration(Tag.ValidityIndicator),
  /** recovered data (signature schemes with message recovery; none here) */
  data,
  correlationValue,
} as const;
export type SignatureVerifyResponse = PayloadOf<typeof SignatureVerifyResponse>;

export const MacRequest = { uniqueIdentifier, cryptographicParameters, data, ...multiPart } as const;
export type MacRequest = PayloadOf<typeof MacRequest>;

export const MacResponse = { uniqueIdentifier, macData: bytes(Tag.MACData), correlationValue } as const;
export type MacResponse = PayloadOf<typeof MacResponse>;

export const MacVerifyRequest = {
  uniqueIdentifier,
  cryptographicParameters,
  data,
  macData: bytes(Tag.MACData),
  ...multiPart,
} as const;
export type MacVerifyRequest = PayloadOf<typeof MacVerifyRequest>;

export const MacVerifyResponse = {
  uniqueIdentifier,
  validityIndicator: enumeration(Tag.ValidityIndicator),
  correlationValue,
} as const;
export type MacVerifyResponse = PayloadOf<typeof MacVerifyResponse>;

export const HashRequest = { cryptographicParameters, data, ...multiPart } as const;
export type HashRequest = PayloadOf<typeof HashRequest>;

export const HashResponse = { data, correlationValue } as const;
export type HashResponse = PayloadOf<typeof HashResponse>;

export const RngRetrieveRequest = { dataLength: int(Tag.DataLength) } as const;
export type RngRetrieveRequest = PayloadOf<typeof RngRetrieveRequest>;

export const RngRetrieveResponse = { data } as const;
export type RngRetrieveResponse = PayloadOf<typeof RngRetrieveResponse>;

export const RngSeedRequest = { data } as const;
export type RngSeedRequest = PayloadOf<typeof RngSeedRequest>;

export const RngSeedResponse = { dataLength: int(Tag.DataLength) } as const;
export type RngSeedResponse = PayloadOf<typeof RngSeedResponse>;
