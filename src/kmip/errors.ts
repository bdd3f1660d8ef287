/**
 * Errors. Stable `code` strings and a brand checked without instanceof
 * (two copies of a module must still recognise each other's errors).
 */

import type { ResultReason } from './spec/generated.js';
import { isKmipServerError, kBrand } from './ttlv/errors.js';

export { isKmipServerError, TextEncodingError, TtlvDecodeError, TtlvEncodeError } from './ttlv/errors.js';

/** A Result Reason enumeration name as the XML encoding spells it (KMIP 2.1 §11.37). */
export type ResultReasonName = keyof typeof ResultReason;

/**
 * The one error type operation handlers throw. Mapped once, at the batch-item
 * boundary, to Result Status / Result Reason / Result Message.
 * `reason` is a Result Reason enumeration name as the XML encoding spells it
 * (e.g. 'ItemNotFound', 'InvalidMessage', 'OperationNotSupported').
 */
export class KmipError extends Error {
  readonly code = 'ERR_KMIP' as const;
  readonly [kBrand] = true;
  override name = 'KmipError';
  constructor(
    readonly reason: ResultReasonName,
    message: string,
  ) {
    super(message);
  }
}

export function isKmipError(e: unknown): e is KmipError {
  return isKmipServerError(e) && e.code === 'ERR_KMIP';
}

/**
 * The Result Reason a 1.x client gets for a reason KMIP 2.0 added (1.x has
 * no such value): the reason the 1.x profile vectors expect for the same
 * failure. The executor applies it once, for every item; an operation whose
 * 1.x vectors expect something else says so where it throws (reason(ctx, …)).
 */
export const V1_REASON: Readonly<Partial<Record<ResultReasonName, ResultReasonName>>> = {
  ObjectNotFound: 'ItemNotFound',
  ObjectDestroyed: 'ItemNotFound',
  AttributeNotFound: 'ItemNotFound',
  WrappingObjectNotFound: 'ItemNotFound',
  WrappingObjectDestroyed: 'ItemNotFound',
  WrappingObjectArchived: 'ObjectArchived',
  AttributeInstanceNotFound: 'IndexOutOfBounds',
  AttributeReadOnly: 'PermissionDenied',
  AttributeSingleValued: 'PermissionDenied',
  IncompatibleCryptographicUsageMask: 'PermissionDenied',
  WrongKeyLifecycleState: 'PermissionDenied',
  UnsupportedCryptographicParameters: 'FeatureNotSupported',
  InvalidObjectType: 'InvalidField',
  InvalidCorrelationValue: 'InvalidField',
  BadCryptographicParameters: 'InvalidField',
  InvalidCSR: 'InvalidField',
};
