/**
 * The root of the key hierarchy: a master key that wraps key-encryption keys
 * (KEKs). Providers: software/ (development) and pkcs11/ (an HSM). Master key
 * bytes never leave a PKCS#11 provider; the software provider holds them in
 * memory and is labelled development-only.
 */
export interface MasterKeyProvider {
  readonly kind: 'software' | 'pkcs11';
  /** identifies the current master key and its version, e.g. 'software:1' */
  readonly currentKeyId: string;
  /** wraps a KEK (32 bytes) under the current master key; returns the wrapped form and the key id */
  wrap(kek: Uint8Array): Promise<{ masterKeyId: string; wrapped: Uint8Array }>;
  /** unwraps a KEK wrapped by the named master key; MasterKeyError if it cannot */
  unwrap(masterKeyId: string, wrapped: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

export class MasterKeyError extends Error {
  readonly code = 'ERR_MASTER_KEY' as const;
  override name = 'MasterKeyError';
}
