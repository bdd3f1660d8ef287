/**
 * The one error the crypto layer throws for bad input or failed operations
 * (CipherError stays the cipher module's own, mapped by Encrypt/Decrypt).
 *
 * `reason` is the KMIP Result Reason the failure stands for, as a plain
 * string, so the executor reports exactly what it reported when this layer
 * threw KmipError. CryptoError carries the server-wide error brand and the
 * code 'ERR_KMIP' for the same reason: `isKmipError` (kmip/errors.ts)
 * recognises it by those values, without crypto importing kmip.
 */

const kBrand = Symbol.for('kmip-server.error');

/**
 * `bad-input`: a parameter, key or encoding that cannot work; `unsupported`:
 * a combination not implemented; `failure`: an operation that ran and failed
 * (integrity check, OpenSSL error); `format`: a key that cannot be given in
 * the requested encoding.
 */
export type CryptoErrorKind = 'bad-input' | 'unsupported' | 'failure' | 'format';

const REASONS: Readonly<Record<CryptoErrorKind, string>> = {
  'bad-input': 'InvalidField',
  unsupported: 'FeatureNotSupported',
  failure: 'CryptographicFailure',
  format: 'KeyFormatTypeNotSupported',
};

export class CryptoError extends Error {
  readonly code = 'ERR_KMIP' as const;
  readonly [kBrand] = true;
  override name = 'CryptoError';
  /** Result Reason name (KMIP XML spelling) */
  readonly reason: string;
  constructor(
    readonly kind: CryptoErrorKind,
    message: string,
  ) {
    super(message);
    this.reason = REASONS[kind];
  }
}

export function isCryptoError(e: unknown): e is CryptoError {
  return e instanceof CryptoError || (e instanceof Error && e.name === 'CryptoError' && 'kind' in e);
}

export function badInput(message: string): CryptoError {
  return new CryptoError('bad-input', message);
}

export function unsupported(message: string): CryptoError {
  return new CryptoError('unsupported', message);
}

export function failure(message: string): CryptoError {
  return new CryptoError('failure', message);
}

/**
 * What went wrong: `invalid` a parameter or input that cannot work
 * (lengths), `missing-iv` decryption without the IV it needs,
 * `tag-length` an AEAD tag length the mode does not allow, `crypto` a
 * failed integrity check, `unsupported` a combination not implemented.
 */
export type CipherErrorKind = 'invalid' | 'missing-iv' | 'tag-length' | 'crypto' | 'unsupported';

/** The cipher module's error: Encrypt / Decrypt map each kind to the Result Reason the CS-BC vectors expect. */
export class CipherError extends Error {
  readonly code = 'KMIP_CIPHER_ERROR';
  constructor(
    readonly kind: CipherErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'CipherError';
  }
}
