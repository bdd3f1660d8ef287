/**
 * The server under load: spawned as a child process (`kmip-server start`,
 * the default, closer to a deployment) or started in this process (client
 * and server then share one event loop). Both use a fresh data directory
 * with the development PKI and the software master key, or (hsm: pkcs11)
 * a master key in a fresh SoftHSM2 token.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/log.js';
import { ensureDevPki } from '../../src/pki/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(repoRoot, 'src/cli/main.ts');
/** what `npm start` runs: the build of `npm run build` */
const COMPILED_MAIN = path.join(repoRoot, 'dist/cli/main.js');
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;

export interface ServerUnderTest {
  host: string;
  port: number;
  pki: { ca: string; cert: string; key: string };
  /** 'spawned' | 'in-process' | 'external' */
  mode: string;
  /** resident set size of the server process in MB, undefined when unknown (external server) */
  rssMb(): Promise<number | undefined>;
  /** CPU seconds (user + system) the server process has used so far; undefined when unknown */
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
}

export interface LocalServerOptions {
  dataDir: string;
  /** store.uri; default sqlite in dataDir */
  storeUri?: string;
  storeDatabase?: string;
  /** write a V8 CPU profile of the spawned server into this directory on exit */
  cpuProfDir?: string;
  /** server.workers (spawned server only); default: the server's (one per core) */
  workers?: number;
  /** audit.durability; default sync */
  auditDurability?: 'sync' | 'batched';
  /** master-key provider; pkcs11: a fresh SoftHSM2 token (test/helpers/softhsm.ts) */
  hsm?: 'software' | 'pkcs11';
  /** further configuration of the spawned server (merged at the top level of its file) */
  extraConfig?: Record<string, unknown>;
  /** run dist/cli/main.js (`npm run build` first), as `npm start` does, instead of the sources under tsx */
  compiled?: boolean;
}

/** The hsm.* section for `opts.hsm`; a SoftHSM2 token shared with a spawned server through SOFTHSM2_CONF. */
async function hsmSection(opts: LocalServerOptions): Promise<Record<string, unknown>> {
  if (opts.hsm !== 'pkcs11') return {};
  const { createSoftHsmToken } = await import('../../test/helpers/softhsm.js');
  const token = createSoftHsmToken();
  return { hsm: { provider: 'pkcs11', module: token.module, tokenLabel: token.tokenLabel, pin: token.pin } };
}

export async function startInProcess(opts: LocalServerOptions): Promise<ServerUnderTest> {
  const { paths } = await ensureDevPki(opts.dataDir);
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: opts.dataDir,
      listen: { host: '127.0.0.1', port: 0 },
      ...(opts.storeUri === undefined
        ? {}
        : { store: { uri: opts.storeUri, ...(opts.storeDatabase ? { database: opts.storeDatabase } : {}) } }),
      ...(opts.auditDurability === undefined ? {} : { audit: { durability: opts.auditDurability } }),
      ...(await hsmSection(opts)),
    },
  });
  const running = await startServer(config, silentLogger);
  return {
    host: running.address.host,
    port: running.address.port,
    pki: { ca: paths.caCert, cert: paths.adminCert, key: paths.adminKey },
    mode: 'in-process',
    rssMb: async () => process.memoryUsage().rss / 2 ** 20,
    // the server shares this process with the client: no separate figure
    cpuSeconds: () => undefined,
    stop: () => running.close(),
  };
}

export async function spawnLocal(opts: LocalServerOptions): Promise<ServerUnderTest> {
  const { paths } = await ensureDevPki(opts.dataDir);
  const configFile = path.join(opts.dataDir, 'bench-server.json');
  await writeFile(
    configFile,
    JSON.stringify({
      dataDir: opts.dataDir,
      listen: { host: '127.0.0.1', port: 0 },
      log: { level: 'info' },
      ...(opts.workers === undefined ? {} : { server: { workers: opts.workers } }),
      ...(opts.auditDurability === undefined ? {} : { audit: { durability: opts.auditDurability } }),
      ...(await hsmSection(opts)),
      ...(opts.storeUri === undefined
        ? {}
        : { store: { uri: opts.storeUri, ...(opts.storeDatabase ? { database: opts.storeDatabase } : {}) } }),
      ...opts.extraConfig,
    }),
  );
  const nodeArgs = opts.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir];
  if (opts.compiled === true) {
    try {
      await readFile(COMPILED_MAIN);
    } catch {
      throw new Error(`${COMPILED_MAIN} is missing: run \`npm run build\` first`);
    }
  }
  const entry = opts.compiled === true ? [COMPILED_MAIN] : ['--import', 'tsx', MAIN];
  const child = spawn(process.execPath, [...nodeArgs, ...entry, 'start', '--config', configFile], {
    cwd: repoRoot,
    env: { ...process.env, KMIP_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${START_TIMEOUT_MS} ms:\n${output.slice(-2000)}`));
    }, START_TIMEOUT_MS);
    let found = false;
    const onData = (chunk: Buffer) => {
      // keep only a tail: the pipes must be drained for the whole run
      output = (output + chunk.toString('utf8')).slice(-20_000);
      if (found) return;
      for (const line of output.split('\n')) {
        if (!line.includes('KMIP server listening')) continue;
        try {
          const p = (JSON.parse(line) as { port?: unknown }).port;
          if (typeof p === 'number') {
            found = true;
            clearTimeout(timer);
            resolve(p);
            return;
          }
        } catch {
          // not a JSON log line
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening:\n${output.slice(-2000)}`));
    });
  });
  return {
    host: '127.0.0.1',
    port,
    pki: { ca: paths.caCert, cert: paths.adminCert, key: paths.adminKey },
    mode: 'spawned',
    rssMb: () => childRssMb(child),
    cpuSeconds: () => childCpuSeconds(child),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // SIGTERM drains the server and lets node write the CPU profile
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function externalServer(
  hostPort: string,
  pki: { ca: string; cert: string; key: string },
): ServerUnderTest {
  const m = /^(.+):(\d+)$/.exec(hostPort);
  if (!m?.[1] || !m[2]) throw new Error(`--server takes HOST:PORT, got ${hostPort}`);
  return {
    host: m[1].replace(/^\[(.*)\]$/, '$1'),
    port: Number(m[2]),
    pki,
    mode: 'external',
    rssMb: async () => undefined,
    cpuSeconds: () => undefined,
    stop: async () => undefined,
  };
}

/** The process and its descendants (the cluster workers of `kmip-server start`). */
function processTree(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++)
    for (const [p, parent] of parentOf) if (parent === tree[i]) tree.push(p);
  return tree;
}

async function childRssMb(child: ChildProcess): Promise<number | undefined> {
  if (child.pid === undefined) return undefined;
  let total = 0;
  for (const pid of processTree(child.pid)) {
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
      if (kb !== undefined) total += Number(kb) / 1024;
    } catch {
      // exited meanwhile
    }
  }
  return total === 0 ? undefined : total;
}

/** Linux clock ticks per second (USER_HZ), 100 on every common kernel configuration. */
const USER_HZ = 100;

/** utime + stime of /proc/PID/stat (fields 14 and 15, counted after the parenthesised command name), summed over the workers. */
function childCpuSeconds(child: ChildProcess): number | undefined {
  if (child.pid === undefined) return undefined;
  let ticks = 0;
  for (const pid of processTree(child.pid)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const t = Number(fields[11]) + Number(fields[12]);
      if (Number.isFinite(t)) ticks += t;
    } catch {
      // exited meanwhile
    }
  }
  return ticks / USER_HZ;
}
