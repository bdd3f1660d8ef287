/**
 * The codec's errors. Their definitions belong here, below the spec tables
 * that KmipError's reasons (src/kmip/errors.ts) come from; until
 * src/kmip/errors.ts takes them from here, they are that module's.
 */
export { isKmipServerError, TextEncodingError, TtlvDecodeError, TtlvEncodeError } from '../errors.js';
