import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { type DeepPartial, loadConfig, type ServerConfig } from '../config/index.js';
import { createLogger, type Logger } from '../log.js';
import { type DevPkiPaths, ensureDevPki } from '../pki/index.js';
import { intOption, type ParsedArgs, stringOption, UsageError } from './args.js';
import type { CliIo } from './io.js';

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

  const workers = config.server.workers === 0 ? availableParallelism() : config.server.workers;
  if (cluster.isPrimary && workers > 1) {
    return runPrimary(workers, log, (port) => {
      if (createdPki) io.err(connectHelp(config, createdPki, port));
    });
  }
  const shutdown = shutdownOnSignal(log);
  // Imported here so that the other commands load without the server and its dependencies.
  const { startServer } = await import('../app.js');
  const running = await startServer(config, log);
  if (createdPki) io.err(connectHelp(config, createdPki, running.address.port));
  const onPrimaryMessage = (m: unknown) => {
    if (m !== RELOAD_TLS) return;
    running.reloadTls().catch((e: unknown) => {
      log.error('TLS reload failed', { error: e instanceof Error ? e.message : String(e) });
    });
  };
  if (cluster.isWorker) process.on('message', onPrimaryMessage);
  await shutdown.stopped(() => running.close());
  if (cluster.isWorker) {
    process.off('message', onPrimaryMessage);
    // the IPC channel would keep this process alive
    cluster.worker?.disconnect();
  }
  return 0;
}

/**
 * A signal sent to a whole process group (systemd, container runtimes, npx
 * forwarding what it got itself) reaches each process once or twice within
 * milliseconds; only an interrupt typed again later by a person skips the
 * drain, so that a clean stop always seals the audit segment.
 */
const REPEAT_WINDOW_MS = 2000;
function forcesExit(signal: NodeJS.Signals, firstAt: number): boolean {
  return signal === 'SIGINT' && Date.now() - firstAt > REPEAT_WINDOW_MS;
}

/** IPC commands from the primary to its workers */
const RELOAD_TLS = 'kmip:reload-tls';
const SHUTDOWN = 'kmip:shutdown';
const RESTART_DELAY_MS = 1000;

/**
 * The cluster primary (server.workers > 1): forks the server processes, which
 * share the listening socket (node:cluster hands each accepted connection to
 * one of them), and holds no keys itself. The first worker is started alone:
 * it creates the master key file, the first KEK and the schema before the
 * others open them. SIGHUP and SIGTERM/SIGINT are passed on to every worker;
 * a worker that dies is replaced. Resolves with the exit code once every
 * worker has stopped.
 */
async function runPrimary(count: number, log: Logger, onListening: (port: number) => void): Promise<number> {
  let stopping = false;
  let ready = false;
  const live = new Set<Worker>();
  const listening = new WeakSet<Worker>();
  const fork = (): Worker => {
    const w = cluster.fork();
    live.add(w);
    w.once('listening', () => listening.add(w));
    w.once('exit', (code, signal) => {
      live.delete(w);
      if (stopping || !ready) return;
      log.error('server worker exited; starting another', { pid: w.process.pid, code, signal });
      setTimeout(() => {
        if (!stopping) fork();
      }, RESTART_DELAY_MS).unref();
    });
    return w;
  };
  const first = fork();
  const port = await new Promise<number | undefined>((resolve) => {
    first.once('listening', (address) => resolve(address.port));
    first.once('exit', () => resolve(undefined));
  });
  if (port === undefined) {
    log.error('the first server worker failed to start');
    return 1;
  }
  ready = true;
  for (let i = 1; i < count; i++) fork();
  log.info('server workers started', { workers: count, port });
  onListening(port);

  const onHup = () => {
    for (const w of live) w.send(RELOAD_TLS);
  };
  process.on('SIGHUP', onHup);
  await new Promise<void>((resolve) => {
    let firstAt = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        if (!forcesExit(signal, firstAt)) return;
        log.warn('second interrupt, exiting without draining', { signal });
        for (const w of live) w.process.kill('SIGKILL');
        process.exit(1);
      }
      stopping = true;
      firstAt = Date.now();
      log.info('shutting down the server workers', { signal, workers: live.size });
      if (live.size === 0) resolve();
      for (const w of live) {
        w.once('exit', () => {
          if (live.size === 0) resolve();
        });
        // a worker still starting may not listen for messages yet; a signal always arrives
        if (listening.has(w)) w.send(SHUTDOWN);
        else w.process.kill('SIGTERM');
      }
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  process.off('SIGHUP', onHup);
  log.info('stopped');
  return 0;
}

/**
 * Listens for SIGTERM/SIGINT (and, in a cluster worker, the primary's shutdown
 * message) from now on, so that a signal during startup is not lost; `stopped`
 * resolves after the first one has drained and closed the server; an
 * interrupt typed again later exits at once (forcesExit).
 */
function shutdownOnSignal(log: Logger): { stopped(close: () => Promise<void>): Promise<void> } {
  let stopping = false;
  let close: (() => Promise<void>) | undefined;
  let resolveStopped: () => void = () => undefined;
  const stoppedPromise = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  const cleanup = () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('message', onMessage);
  };
  const run = (fn: () => Promise<void>) => {
    fn().then(
      () => {
        log.info('stopped');
        cleanup();
        resolveStopped();
      },
      (err: unknown) => {
        log.error('error while shutting down', { error: err instanceof Error ? err.message : String(err) });
        cleanup();
        resolveStopped();
      },
    );
  };
  let firstAt = 0;
  function onSignal(signal: NodeJS.Signals): void {
    if (stopping) {
      if (!forcesExit(signal, firstAt)) return;
      log.warn('second interrupt, exiting without draining', { signal });
      process.exit(1);
    }
    stopping = true;
    firstAt = Date.now();
    log.info('shutting down', { signal });
    if (close !== undefined) run(close);
  }
  function onMessage(m: unknown): void {
    // the primary passes SIGTERM/SIGINT on; Ctrl-C may also have reached this process directly
    if (m === SHUTDOWN && !stopping) onSignal('SIGTERM');
  }
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  if (cluster.isWorker) process.on('message', onMessage);
  return {
    stopped(fn) {
      close = fn;
      if (stopping) run(fn);
      return stoppedPromise;
    },
  };
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
