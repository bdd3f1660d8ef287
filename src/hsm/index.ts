import type { ServerConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import { openSoftwareProvider } from './software/index.js';
import { MasterKeyError, type MasterKeyProvider } from './types.js';

export { openSoftwareProvider, rotateSoftwareMasterKey } from './software/index.js';
export { MasterKeyError, type MasterKeyProvider } from './types.js';

/** Opens the master-key provider the configuration names. */
export async function openMasterKeyProvider(
  config: ServerConfig['hsm'],
  log: Logger,
): Promise<MasterKeyProvider> {
  switch (config.provider) {
    case 'software':
      return openSoftwareProvider(config.keyFile, { log });
    case 'pkcs11':
      throw new MasterKeyError('the pkcs11 provider is not available yet; use hsm.provider software');
    default: {
      const never: never = config.provider;
      throw new MasterKeyError(`unknown master-key provider ${String(never)}`);
    }
  }
}
