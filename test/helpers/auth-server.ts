/**
 * A test server with auth on, a client certificate from its development CA
 * for every identity (and any extra names), and a YAML configuration file
 * with the same auth section for the officer commands run through the CLI.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import type { KmipVersion } from '../../src/kmip/spec/index.js';
import { issueClientCertificate } from '../../src/pki/index.js';
import { type CliResult, runCliCaptured } from './cli.js';
import { TestKmipClient } from './kmip-client.js';
import { startTestServer, type TestServer } from './server.js';

export interface AuthServer {
  readonly server: TestServer;
  readonly configFile: string;
  /** the certificate and key files of `name` */
  cert(name: string): { cert: string; key: string };
  /** a client connected as `name` (closed after the suite) */
  as(name: string, version?: KmipVersion): Promise<TestKmipClient>;
  /** the CLI with --config of this server */
  cli(...argv: string[]): Promise<CliResult>;
  /** --cert and --key of the officer `name`, for the CLI */
  officer(name: string): string[];
}

/** Starts the server before the suite (auth `auth`, or what it resolves to) and stops it after. */
export function useAuthServer(
  auth:
    | { readonly identities: Record<string, unknown> }
    | (() => Promise<{ readonly identities: Record<string, unknown> }>),
  extraNames: readonly string[] = [],
): AuthServer {
  let server: TestServer | undefined;
  let configFile = '';
  const certs = new Map<string, { cert: string; key: string }>();
  const clients: TestKmipClient[] = [];

  const env: AuthServer = {
    get server() {
      if (server === undefined) throw new Error('the server is not started');
      return server;
    },
    get configFile() {
      return configFile;
    },
    cert(name) {
      const c = certs.get(name);
      if (c === undefined) throw new Error(`no certificate for ${name}`);
      return c;
    },
    async as(name, version) {
      const c = env.cert(name);
      const s = env.server;
      const client = await TestKmipClient.connect(
        { host: s.host, port: s.port, pki: { ca: s.pki.ca, adminCert: c.cert, adminKey: c.key } },
        version,
      );
      clients.push(client);
      return client;
    },
    cli: (...argv) => runCliCaptured([...argv, '--config', configFile]),
    officer(name) {
      const c = env.cert(name);
      return ['--cert', c.cert, '--key', c.key];
    },
  };

  before(async () => {
    const section = typeof auth === 'function' ? await auth() : auth;
    server = await startTestServer({ overrides: { auth: section } as never });
    for (const name of Object.keys(section.identities).concat(extraNames)) {
      certs.set(name, await issueClientCertificate(server.dataDir, name));
    }
    configFile = path.join(server.dataDir, 'kmip.yaml');
    await writeFile(configFile, stringify({ dataDir: server.dataDir, auth: section }));
  });

  after(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.close();
  });

  return env;
}
