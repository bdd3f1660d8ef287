import type { Logger } from '../../log.js';
import type { WrapMode } from './key-versions.js';

export interface Pkcs11ProviderOptions {
  /** path of the PKCS#11 library (hsm.module) */
  module: string;
  /** token by label (hsm.tokenLabel) ... */
  tokenLabel?: string | undefined;
  /** ... or by slot id (hsm.slot); both given: the slot must hold that token */
  slot?: number | undefined;
  /** where the user PIN is: env:NAME or file:PATH (hsm.pin) */
  pin: string;
  /** CKA_LABEL of every master-key version (hsm.keyLabel); default kmip-master */
  keyLabel?: string | undefined;
  /** sessions opened at most (hsm.sessions); default 4 */
  sessions?: number | undefined;
  /** unwrapped KEKs keep serving this long after the HSM is lost (hsm.gracePeriodSeconds); default 300 s */
  graceMs?: number | undefined;
  /** probe interval, which also drives reconnection (hsm.healthCheckSeconds); default 5 s */
  healthCheckMs?: number | undefined;
  /** least delay between two reconnection attempts made by requests; default 1 s */
  retryMs?: number | undefined;
  /** generate the first master key when the token has none; default true */
  create?: boolean | undefined;
  /** how new versions wrap; 'auto' (default) picks kwp when the token offers CKM_AES_KEY_WRAP_PAD */
  mechanism?: 'auto' | WrapMode | undefined;
  log?: Logger | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}
