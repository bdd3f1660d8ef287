import { type DeepPartial, loadConfig, type ServerConfig } from '../config/index.js';
import { createLogger, type Logger } from '../log.js';
import { type DevPkiPaths, ensureDevPki } from '../pki/index.js';
import { intOption, type ParsedArgs, stringOption, UsageError } from './args.js';
import type { CliIo } from './run.js';

/** `kmip-server start [--config FILE] [--data-dir DIR] [--host H] [--port P] [--log-level L]` */
export async function startCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const overrides: DeepPartial<ServerConfig> = {
    dataDir: stringOption(args, 'data-dir'),
    listen: { host: stringOption(args, 'host'), port: intOption(args, 'port', 0, 65535) },
    log: { level: stringOption(args, 'log-level') },
  };
  const config = loadConfig({ configFile: stringOption(args, 'config'), overrides });
  const log = createLogger(config.log);

  let createdPki: DevPkiPaths | undefined;
  if (config.tls.devPki) {
    const { created, paths } = await ensureDevPki(config.dataDir, log);
    if (created) createdPki = paths;
    else log.info('using the development PKI', { dir: paths.dir });
  }

  // Imported here so that the other commands load without the server and its dependencies.
  const { startServer } = await import('../kmip/server/index.js');
  const running = await startServer(config, log);
  if (createdPki) io.err(connectHelp(config, createdPki, running.address.port));
  await shutdownOnSignal(log, () => running.close());
  return 0;
}

/** Resolves after the first SIGTERM or SIGINT has drained and closed the server; a second one exits at once. */
function shutdownOnSignal(log: Logger, close: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn('second signal, exiting without draining', { signal });
        process.exit(1);
      }
      stopping = true;
      log.info('shutting down', { signal });
      close().then(
        () => {
          log.info('stopped');
          cleanup();
          resolve();
        },
        (err: unknown) => {
          log.error('error while shutting down', { error: err instanceof Error ? err.message : String(err) });
          cleanup();
          resolve();
        },
      );
    };
    const cleanup = () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** Printed once, when the development PKI is created: what a client needs to connect. */
export function connectHelp(config: ServerConfig, paths: DevPkiPaths, port = config.listen.port): string {
  // PyKMIP opens an AF_INET socket, and the server certificate covers 127.0.0.1, ::1 and localhost.
  const wildcard = ['0.0.0.0', '::', 'localhost', '127.0.0.1', '::1'].includes(config.listen.host);
  const host = wildcard ? '127.0.0.1' : config.listen.host;
  return `
Created a development PKI in ${paths.dir}
(for development only; point tls.cert, tls.key and tls.ca at your own certificates in production).

Clients trust the CA and authenticate with a certificate it issued:
  CA certificate:      ${paths.caCert}
  admin certificate:   ${paths.adminCert}
  admin private key:   ${paths.adminKey}
  more clients:        kmip-server pki issue-client NAME --data-dir ${config.dataDir}

PyKMIP client configuration (e.g. ~/.pykmip/pykmip.conf):
[client]
host=${host}
port=${port}
certfile=${paths.adminCert}
keyfile=${paths.adminKey}
ca_certs=${paths.caCert}
cert_reqs=CERT_REQUIRED
ssl_version=PROTOCOL_SSLv23
do_handshake_on_connect=True
suppress_ragged_eofs=True

`;
}
