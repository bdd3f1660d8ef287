import type { Logger } from '../log.js';
import { openSoftwareProvider } from './software/index.js';
import { type MasterKeyConfig, MasterKeyError, type MasterKeyProvider } from './types.js';

export { openSoftwareProvider, rotateSoftwareMasterKey } from './software/index.js';
export {
  causedByHsmUnavailable,
  type HsmCipher,
  type HsmKeyPairSpec,
  type HsmKeyService,
  type HsmModuleInfo,
  type HsmSignScheme,
  HsmUnavailableError,
  isHsmUnavailable,
  type MasterKeyConfig,
  MasterKeyError,
  type MasterKeyProvider,
  type MasterKeyVersionInfo,
  type ProviderHealth,
} from './types.js';

/** Opens the master-key provider the configuration names. */
export async function openMasterKeyProvider(
  config: MasterKeyConfig,
  log: Logger,
): Promise<MasterKeyProvider> {
  switch (config.provider) {
    case 'software':
      return openSoftwareProvider(config.keyFile, { log });
    case 'pkcs11': {
      if (config.module === undefined) throw new MasterKeyError('hsm.provider pkcs11 needs hsm.module');
      if (config.pin === undefined) {
        throw new MasterKeyError('hsm.provider pkcs11 needs hsm.pin (env:NAME or file:PATH)');
      }
      // Loaded on demand: a software deployment never loads the native PKCS#11 addon.
      const { openPkcs11Provider } = await import('./pkcs11/index.js');
      return openPkcs11Provider({
        module: config.module,
        tokenLabel: config.tokenLabel,
        slot: config.slot,
        pin: config.pin,
        keyLabel: config.keyLabel,
        sessions: config.sessions,
        graceMs: config.gracePeriodSeconds === undefined ? undefined : config.gracePeriodSeconds * 1000,
        healthCheckMs: config.healthCheckSeconds === undefined ? undefined : config.healthCheckSeconds * 1000,
        log,
      });
    }
    default: {
      const never: never = config.provider;
      throw new MasterKeyError(`unknown master-key provider ${String(never)}`);
    }
  }
}
