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
  /** keys generated and used inside the HSM (per-object option); absent for the software provider */
  readonly residentKeys?: HsmKeyService;
}

/**
 * Keys that never leave the HSM: generated in the token (token object,
 * sensitive, never extractable) and used there. A key is named by its
 * CKA_LABEL, `kmip:<object id>`, which binds the token object to exactly one
 * managed object. HsmUnavailableError when the HSM is gone; MasterKeyError
 * when the token refuses (a bad GCM tag, a mechanism it lacks).
 */
export interface HsmKeyService {
  /** the token's label, for the object's reference attribute */
  readonly tokenLabel: string;
  generateSecretKey(label: string, spec: { readonly algorithm: 'aes'; readonly bits: number }): Promise<void>;
  /** returns the public key as DER SubjectPublicKeyInfo */
  generateKeyPair(label: string, spec: HsmKeyPairSpec): Promise<Uint8Array>;
  encrypt(
    label: string,
    cipher: HsmCipher,
    data: Uint8Array,
  ): Promise<{ data: Uint8Array; tag?: Uint8Array }>;
  decrypt(label: string, cipher: HsmCipher, data: Uint8Array, tag?: Uint8Array): Promise<Uint8Array>;
  /** signs a digest the host computed (DigestInfo-prefixed for PKCS#1 v1.5 by the caller); ECDSA answers r || s */
  sign(label: string, scheme: HsmSignScheme, digest: Uint8Array): Promise<Uint8Array>;
  /** destroys every token object under the label (private and public halves); how many */
  destroy(label: string): Promise<number>;
  /** C_GetInfo of the module (the KMIP PKCS#11 operation) */
  moduleInfo(): Promise<HsmModuleInfo>;
  /** HSM round trips made for resident keys */
  readonly calls: number;
}

export type HsmKeyPairSpec =
  | { readonly kind: 'rsa'; readonly bits: number }
  | { readonly kind: 'ec'; readonly curve: 'P-256' | 'P-384' | 'P-521' };

export type HsmCipher =
  | { readonly mode: 'gcm'; readonly iv: Uint8Array; readonly aad?: Uint8Array; readonly tagBytes: number }
  | { readonly mode: 'cbc'; readonly iv: Uint8Array; readonly pad: boolean }
  | { readonly mode: 'ecb' };

export type HsmSignScheme =
  | { readonly kind: 'rsa-pkcs1' }
  | {
      readonly kind: 'rsa-pss';
      readonly hash: string;
      readonly mgf1Hash: string;
      readonly saltLength: number;
    }
  | { readonly kind: 'ecdsa' };

export interface HsmModuleInfo {
  readonly cryptokiVersion: { readonly major: number; readonly minor: number };
  /** 32 bytes, blank padded */
  readonly manufacturerID: string;
  readonly flags: number;
  /** 32 bytes, blank padded */
  readonly libraryDescription: string;
  readonly libraryVersion: { readonly major: number; readonly minor: number };
}

/**
 * The hsm.* settings (config's ServerConfig['hsm'] has this shape; hsm/ sits
 * below config/ and does not import it). `keyFile` is for the software
 * provider, the rest for pkcs11.
 */
export interface MasterKeyConfig {
  readonly provider: 'software' | 'pkcs11';
  readonly keyFile: string;
  readonly module?: string | undefined;
  readonly tokenLabel?: string | undefined;
  readonly slot?: number | undefined;
  /** env:NAME or file:PATH, never the PIN */
  readonly pin?: string | undefined;
  readonly keyLabel?: string | undefined;
  readonly sessions?: number | undefined;
  readonly gracePeriodSeconds?: number | undefined;
  readonly healthCheckSeconds?: number | undefined;
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

/**
 * True when `e` or an error in its `cause` chain is an HsmUnavailableError. The
 * sealer and the HSM-resident operations report a lost HSM as a
 * StoreUnavailableError whose cause is the HsmUnavailableError: this tells that
 * General Failure "HSM unavailable" from "storage unavailable".
 */
export function causedByHsmUnavailable(e: unknown): boolean {
  let cause: unknown = e;
  for (let depth = 0; depth < 8 && typeof cause === 'object' && cause !== null; depth++) {
    if (isHsmUnavailable(cause)) return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

/** A MasterKeyError of any copy of this module (tsx may load the pkcs11 provider's copy apart). */
export function isMasterKeyError(e: unknown): e is Error {
  return (
    e instanceof Error &&
    (e as unknown as Record<symbol, unknown>)[kBrand] === true &&
    ((e as { code?: unknown }).code === 'ERR_MASTER_KEY' ||
      (e as { code?: unknown }).code === 'ERR_HSM_UNAVAILABLE')
  );
}
