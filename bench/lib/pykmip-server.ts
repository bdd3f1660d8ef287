/**
 * PyKMIP's reference server (Debian python3-pykmip 0.10, `pykmip-server`) as
 * a ServerUnderTest, for `npm run bench:compare`. Configured in a temporary
 * directory with our development PKI: TLS 1.2 with client certificates
 * (`auth_suite=TLS1.2`, `enable_tls_client_auth=True`), its own SQLite
 * database, an empty operation-policy directory and a log file. PyKMIP 0.10
 * opens its listening socket with `ssl.wrap_socket`, which Python 3.11 still
 * has and which works with OpenSSL 3, so the stock entry point runs unpatched.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { PipelinedConnection } from './connection.js';
import type { ServerUnderTest } from './server.js';

const START_TIMEOUT_MS = 60_000;
/** PyKMIP notices SIGTERM only when its accept() times out (every 10 s, server.py) */
const STOP_TIMEOUT_MS = 15_000;
const PROBE_INTERVAL_MS = 300;
const DEFAULT_ENTRY = '/usr/bin/pykmip-server';

export interface PykmipPki {
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** the client's certificate and key, as for our server */
  clientCert: string;
  clientKey: string;
}

export interface PykmipServerOptions {
  /** a fresh directory for the configuration, database, policies and log */
  dir: string;
  pki: PykmipPki;
  /** the `pykmip-server` script (default /usr/bin/pykmip-server) */
  entry?: string;
  /** PyKMIP's logging_level; default WARNING (INFO writes several lines per request) */
  loggingLevel?: string;
}

/**
 * The TLS 1.2 suites allowed. PyKMIP's TLS1.2 default list starts with the
 * CBC-SHA256 suites and the server's order wins, so with the ECDSA
 * development certificates it picks ECDHE-ECDSA-AES128-SHA256. AES-GCM is
 * what our server negotiates and is cheaper, so only the two ECDSA GCM suites
 * of that list are configured (PyKMIP puts the configured names in a set, so
 * an order could not be given anyway).
 */
const CIPHER_SUITES = ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'];

export function pykmipAvailable(entry = DEFAULT_ENTRY): boolean {
  return existsSync(entry);
}

/** A port that was free a moment ago (PyKMIP cannot bind port 0 and report it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr !== null && typeof addr === 'object') resolve(addr.port);
        else reject(new Error('no port'));
      });
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startPykmipServer(opts: PykmipServerOptions): Promise<ServerUnderTest> {
  const entry = opts.entry ?? DEFAULT_ENTRY;
  if (!existsSync(entry)) throw new Error(`${entry} not found (apt-get install python3-pykmip)`);
  const policyDir = path.join(opts.dir, 'policies');
  await mkdir(policyDir, { recursive: true });
  const port = await freePort();
  const configFile = path.join(opts.dir, 'server.conf');
  const logFile = path.join(opts.dir, 'server.log');
  await writeFile(
    configFile,
    [
      '[server]',
      'hostname=127.0.0.1',
      `port=${port}`,
      `certificate_path=${opts.pki.serverCert}`,
      `key_path=${opts.pki.serverKey}`,
      `ca_path=${opts.pki.caCert}`,
      'auth_suite=TLS1.2',
      `policy_path=${policyDir}`,
      'enable_tls_client_auth=True',
      `tls_cipher_suites=\n${CIPHER_SUITES.map((s) => `    ${s}`).join('\n')}`,
      `logging_level=${opts.loggingLevel ?? 'WARNING'}`,
      `database_path=${path.join(opts.dir, 'pykmip.db')}`,
      '',
    ].join('\n'),
  );
  // Own process group: PyKMIP forks a multiprocessing manager and a policy
  // monitor, and a SIGKILL fallback must reach them too.
  const child = spawn(entry, ['-f', configFile, '-l', logFile], {
    cwd: opts.dir,
    detached: true,
    env: { ...process.env, PYTHONWARNINGS: 'ignore' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // the group is gone
    }
  };

  const [ca, cert, key] = await Promise.all([
    readFile(opts.pki.caCert),
    readFile(opts.pki.clientCert),
    readFile(opts.pki.clientKey),
  ]);
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      throw new Error(`pykmip-server exited before listening:\n${output.slice(-2000)}\n${log.slice(-2000)}`);
    }
    try {
      // a full mutual-TLS handshake: listening alone does not prove the TLS setup works
      const probe = await PipelinedConnection.open({ host: '127.0.0.1', port, ca, cert, key }, 5000);
      probe.close();
      break;
    } catch (e: unknown) {
      if (Date.now() - t0 > START_TIMEOUT_MS) {
        killGroup('SIGKILL');
        const log = await readFile(logFile, 'utf8').catch(() => '');
        throw new Error(
          `pykmip-server did not accept a TLS connection within ${START_TIMEOUT_MS} ms ` +
            `(${e instanceof Error ? e.message : String(e)}):\n${output.slice(-2000)}\n${log.slice(-2000)}`,
        );
      }
      await sleep(PROBE_INTERVAL_MS);
    }
  }

  return {
    host: '127.0.0.1',
    port,
    pki: { ca: opts.pki.caCert, cert: opts.pki.clientCert, key: opts.pki.clientKey },
    mode: 'pykmip-server (spawned)',
    rssMb: async () => {
      const pids = groupPids(child);
      let kb = 0;
      for (const pid of pids) kb += Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(readProc(pid, 'status'))?.[1] ?? 0);
      return pids.length === 0 ? undefined : kb / 1024;
    },
    cpuSeconds: () => groupCpuSeconds(child),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup('SIGTERM');
      const timer = setTimeout(() => killGroup('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
      // the manager may outlive the main process by a moment
      killGroup('SIGKILL');
    },
  };
}

/** The server process and its children (the multiprocessing manager serves every policy lookup). */
function groupPids(child: ChildProcess): number[] {
  if (child.pid === undefined) return [];
  const out = [child.pid];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (/^\d+$/.test(entry) && statField(readProc(Number(entry), 'stat'), 1) === child.pid)
      out.push(Number(entry));
  }
  return out;
}

function readProc(pid: number, file: 'stat' | 'status'): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

/** Field `i` after the parenthesised command name of /proc/PID/stat (1 = ppid, 11 = utime, 12 = stime). */
function statField(stat: string, i: number): number {
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[i]);
}

/** Linux USER_HZ */
const USER_HZ = 100;

/** utime + stime of the server and its children; read at phase edges only, so synchronously */
function groupCpuSeconds(child: ChildProcess): number | undefined {
  const pids = groupPids(child);
  if (pids.length === 0) return undefined;
  let ticks = 0;
  for (const pid of pids) {
    const stat = readProc(pid, 'stat');
    if (stat) ticks += statField(stat, 11) + statField(stat, 12);
  }
  return Number.isFinite(ticks) ? ticks / USER_HZ : undefined;
}
