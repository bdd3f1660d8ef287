/**
 * The codec's errors (KMIP 1.0 §9.1 encoding rules; the XML and JSON
 * profiles). Stable `code` strings and a brand checked without instanceof
 * (two copies of a module must still recognise each other's errors).
 */

export const kBrand = Symbol.for('kmip-server.error');

/** A TTLV byte stream that does not follow the encoding rules (KMIP 1.0 §9.1). */
export class TtlvDecodeError extends Error {
  readonly code = 'ERR_TTLV_DECODE' as const;
  readonly [kBrand] = true;
  override name = 'TtlvDecodeError';
  constructor(
    message: string,
    /** byte offset in the decoded buffer where the problem was found */
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
  }
}

/** An item that cannot be encoded (value out of range for its type, unknown tag name...). */
export class TtlvEncodeError extends Error {
  readonly code = 'ERR_TTLV_ENCODE' as const;
  readonly [kBrand] = true;
  override name = 'TtlvEncodeError';
}

/** Text (XML/JSON) that does not follow the KMIP XML or JSON encoding profile. */
export class TextEncodingError extends Error {
  readonly code = 'ERR_KMIP_TEXT_ENCODING' as const;
  readonly [kBrand] = true;
  override name = 'TextEncodingError';
}

export function isKmipServerError(e: unknown): e is Error & { code: string } {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[kBrand] === true;
}
