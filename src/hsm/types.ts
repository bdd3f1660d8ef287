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
  /** true when this provider can unwrap under `masterKeyId` (its kind and key); no HSM call */
  owns?(masterKeyId: string): boolean;
  /** every master-key version the provider knows, oldest first */
  versions?(): Promise<MasterKeyVersionInfo[]>;
  /** creates a new master-key version and makes it current; returns its id */
  rotate?(): Promise<string>;
  /** learns versions another node created and adopts the newest as current */
  refresh?(): Promise<void>;
  /** reachability, for providers that can lose their HSM; absent means always available */
  health?(): ProviderHealth;
}

export interface MasterKeyVersionInfo {
  readonly masterKeyId: string;
  readonly version: number;
  readonly current: boolean;
}

export interface ProviderHealth {
  readonly available: boolean;
  /** ms since the epoch when the HSM was first found unreachable; undefined while available */
  readonly unavailableSince: number | undefined;
  /**
   * How long unwrapped KEKs already in memory may keep serving after the HSM
   * became unreachable (hsm.gracePeriodSeconds); after it they are wiped.
   */
  readonly graceMs: number;
}

const kBrand = Symbol.for('kmip-server.error');

export class MasterKeyError extends Error {
  readonly code: 'ERR_MASTER_KEY' | 'ERR_HSM_UNAVAILABLE' = 'ERR_MASTER_KEY';
  readonly [kBrand] = true;
  override name = 'MasterKeyError';
}

/** The HSM cannot be reached (module finalized, token gone, network down); nothing fell back. */
export class HsmUnavailableError extends MasterKeyError {
  override readonly code = 'ERR_HSM_UNAVAILABLE' as const;
  override name = 'HsmUnavailableError';
}

export function isHsmUnavailable(e: unknown): boolean {
  return (
    typeof e === 'object' &&
    e !== null &&
    (e as Record<symbol, unknown>)[kBrand] === true &&
    (e as { code?: unknown }).code === 'ERR_HSM_UNAVAILABLE'
  );
}
