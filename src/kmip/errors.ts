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
