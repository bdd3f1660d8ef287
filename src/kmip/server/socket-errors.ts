/** Peer behaviour, not server trouble: logged at debug only. */
export const QUIET_ERROR_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ERR_STREAM_DESTROYED',
  'ERR_TLS_HANDSHAKE_TIMEOUT',
  'ERR_SSL_UNEXPECTED_EOF_WHILE_READING',
]);

/** OpenSSL's own words, and the alerts a client sends, when a certificate's validity period is the cause */
export const CERT_VALIDITY =
  /certificate (has expired|is not yet valid)|alert certificate expired|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID/i;

export function errorCode(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return 'UNKNOWN';
}
