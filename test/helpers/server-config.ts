/**
 * A server's JSON configuration file for tests that start the server from
 * a file (startServer(loadConfig({ configFile })) or the CLI).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SoftHsmToken } from './softhsm.js';

/**
 * Writes `dataDir`/kmip.json: the data directory, a listener on 127.0.0.1
 * and a free port, log level error, and `more` (whose keys win); returns its path.
 */
export async function writeServerConfig(
  dataDir: string,
  more: Record<string, unknown> = {},
): Promise<string> {
  const configFile = path.join(dataDir, 'kmip.json');
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
