/**
 * A server's JSON configuration file for tests that start the server from
 * a file (startServer(loadConfig({ configFile })) or the CLI).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type DeepPartial, loadConfig, type ServerConfig } from '../../src/config/index.js';
import type { KmipVersion } from '../../src/kmip/spec/index.js';
import { TestKmipClient } from './kmip-client.js';
import type { SoftHsmToken } from './softhsm.js';

/**
 * Writes `dataDir`/`name` (kmip.json): the data directory, a listener on 127.0.0.1
 * and a free port, log level error, and `more` (whose keys win); returns its path.
 */
export async function writeServerConfig(
  dataDir: string,
  more: Record<string, unknown> = {},
  name = 'kmip.json',
): Promise<string> {
  const configFile = path.join(dataDir, name);
  await writeFile(
    configFile,
    JSON.stringify({ dataDir, listen: { host: '127.0.0.1', port: 0 }, log: { level: 'error' }, ...more }),
  );
  return configFile;
}

/** The `hsm` section for the pkcs11 provider on a SoftHSM2 token; `more` adds settings. */
export function pkcs11Hsm(token: SoftHsmToken, more: Record<string, unknown> = {}): Record<string, unknown> {
  return { provider: 'pkcs11', module: token.module, tokenLabel: token.tokenLabel, pin: token.pin, ...more };
}

/** The development PKI's CA and admin client certificate in `dataDir` (made by ensureDevPki). */
export function adminPki(dataDir: string): { ca: string; adminCert: string; adminKey: string } {
  return {
    ca: path.join(dataDir, 'pki/ca.crt'),
    adminCert: path.join(dataDir, 'pki/admin.crt'),
    adminKey: path.join(dataDir, 'pki/admin.key'),
  };
}

/** A client connected to `address` with the admin certificate of the development PKI in `dataDir`. */
export function connectAdmin(
  address: { readonly host: string; readonly port: number },
  dataDir: string,
  version?: KmipVersion,
): Promise<TestKmipClient> {
  return TestKmipClient.connect({ host: address.host, port: address.port, pki: adminPki(dataDir) }, version);
}

/** The configuration of a server on `dataDir` listening on 127.0.0.1 and a free port, with `overrides`; no environment. */
export function localConfig(dataDir: string, overrides: DeepPartial<ServerConfig> = {}): ServerConfig {
  return loadConfig({
    env: {},
    cwd: dataDir,
    overrides: { ...overrides, dataDir, listen: { host: '127.0.0.1', port: 0 } },
  });
}
