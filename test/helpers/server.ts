/**
 * Starts a real KMIP server (TLS listener, development PKI, embedded store) on
 * 127.0.0.1 and a free port, in a fresh temporary data directory, for
 * integration tests that drive it with real clients.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TlsTarget } from '../../conformance-tests/lib/client.js';
import { startServer } from '../../src/app.js';
import { type DeepPartial, loadConfig, type ServerConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/log.js';
import { ensureDevPki } from '../../src/pki/index.js';

export interface TestServerOptions {
  /** configuration overrides merged over the test defaults (data dir and listener) */
  overrides: DeepPartial<ServerConfig>;
  /** keep the data directory after close(), e.g. to inspect it */
  keepDataDir: boolean;
}

export interface TestServer {
  host: string;
  port: number;
  dataDir: string;
  /** PEM file paths of the development PKI in DATA/pki */
  pki: { ca: string; adminCert: string; adminKey: string };
  close(): Promise<void>;
}

export async function startTestServer(opts: Partial<TestServerOptions> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-it-'));
  try {
    const { paths } = await ensureDevPki(dataDir);
    // env: {} keeps the developer's KMIP_* variables out of the test server.
    const config = loadConfig({
      env: {},
      cwd: dataDir,
      overrides: { ...opts.overrides, dataDir, listen: { host: '127.0.0.1', port: 0 } },
    });
    const server = await startServer(config, silentLogger);
    let closed = false;
    return {
      host: server.address.host,
      port: server.address.port,
      dataDir,
      pki: { ca: paths.caCert, adminCert: paths.adminCert, adminKey: paths.adminKey },
      async close() {
        if (closed) return;
        closed = true;
        try {
          await server.close();
        } finally {
          if (!opts.keepDataDir) await rm(dataDir, { recursive: true, force: true });
        }
      },
    };
  } catch (err: unknown) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** Where and how to reach a server as its admin client: host, port and the PEM bytes of the CA and the admin certificate and key. */
export async function adminTarget(server: {
  readonly host: string;
  readonly port: number;
  readonly pki: { readonly ca: string; readonly adminCert: string; readonly adminKey: string };
}): Promise<TlsTarget> {
  const [ca, cert, key] = await Promise.all([
    readFile(server.pki.ca),
    readFile(server.pki.adminCert),
    readFile(server.pki.adminKey),
  ]);
  return { host: server.host, port: server.port, ca, cert, key };
}
