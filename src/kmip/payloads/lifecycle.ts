/**
 * Payloads of the lifecycle operations: Activate, Revoke, Destroy, Archive,
 * Recover (KMIP 1.0 §4.18-4.23, 2.1 §6.1.1, 6.1.17, 6.1.4, 6.1.43, 6.1.44).
 */
import { Tag } from '../spec/index.js';
import { uniqueIdentifier } from './fields.js';
import { date, type PayloadOf, struct } from './schema.js';

/** A request or response that carries only the object's Unique Identifier. */
export const IdPayload = { uniqueIdentifier } as const;
export type IdPayload = PayloadOf<typeof IdPayload>;

export const RevokeRequest = {
  uniqueIdentifier,
  revocationReason: struct(Tag.RevocationReason),
  compromiseOccurrenceDate: date(Tag.CompromiseOccurrenceDate),
} as const;
export type RevokeRequest = PayloadOf<typeof RevokeRequest>;
