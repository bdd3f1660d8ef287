/**
 * KMIP load generator: `npm run bench:load -- [options]` (see bench/lib/args.ts
 * or `--help`). Starts a fresh server (spawned by default) or loads an
 * existing one, opens N mutual-TLS connections, preloads objects over KMIP,
 * then runs one operation (or a mix) for a fixed time after a warm-up and
 * prints ops/s, latency percentiles, errors by reason and the server's RSS
 * as JSON and as a markdown table row. Loopback only; every phase is bounded.
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { enumNameOf, ResultStatus } from '../src/kmip/spec/index.js';
import type { FerretDb } from '../test/helpers/ferretdb.js';
import { type LoadOptions, type OpName, parseLoadArgs, USAGE, UsageError } from './lib/args.js';
import { PipelinedConnection, type TlsTarget } from './lib/connection.js';
import { drive, type Job } from './lib/driver.js';
import {
  benchName,
  createActiveAesMessage,
  createAesMessage,
  createEcKeyPairMessage,
  encryptGcmMessage,
  getMessage,
  getStateMessage,
  locateByNameMessage,
  NAME_WIDTH,
  PatchTemplate,
  registerAesMessage,
  signEcdsaMessage,
  UID_WIDTH,
} from './lib/requests.js';
import type { ResponseSummary } from './lib/response.js';
import { externalServer, type ServerUnderTest, spawnLocal, startInProcess } from './lib/server.js';
import { Recorder } from './lib/stats.js';

const HANDSHAKE_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** Mix: 50 % Get, 20 % Get Attributes State, 20 % Locate by Name, 10 % Create (the read-mostly shape of TDE clients). */
const MIX: readonly [OpName, number][] = [
  ['get', 0.5],
  ['getattrs', 0.2],
  ['locate', 0.2],
  ['create', 0.1],
];

function failureLabel(s: ResponseSummary): string {
  if (s.status === ResultStatus.Success) return '';
  const reason = enumNameOf('ResultReason', s.reason) ?? `reason ${s.reason}`;
  return `${enumNameOf('ResultStatus', s.status) ?? `status ${s.status}`}: ${reason}`;
}

const expectSuccess = (s: ResponseSummary): string | undefined =>
  s.status === ResultStatus.Success ? undefined : failureLabel(s);

const expectNewId = (s: ResponseSummary): string | undefined =>
  s.status !== ResultStatus.Success
    ? failureLabel(s)
    : s.uid === undefined
      ? 'no Unique Identifier in the response'
      : undefined;

// Locate by Name must find exactly that object (CLIENTS.md 10: pg_tde and Ceph rely on it).
const expectOneHit = (s: ResponseSummary): string | undefined =>
  s.status !== ResultStatus.Success
    ? failureLabel(s)
    : s.uidCount === 1
      ? undefined
      : `Locate found ${s.uidCount}`;

interface Workload {
  next(): Job;
}

function makeWorkload(
  o: LoadOptions,
  run: string,
  ids: readonly string[],
  names: readonly string[],
): Workload {
  let created = 0;
  const pick = <T>(xs: readonly T[]): T => {
    const x = xs[Math.floor(Math.random() * xs.length)];
    if (x === undefined) throw new Error('nothing preloaded');
    return x;
  };
  const createT = new PatchTemplate((ph) => createAesMessage(o.version, ph), NAME_WIDTH);
  const registerT = new PatchTemplate((ph) => registerAesMessage(o.version, ph, randomBytes(32)), NAME_WIDTH);
  const getT = new PatchTemplate((ph) => getMessage(o.version, ph), UID_WIDTH);
  const stateT = new PatchTemplate((ph) => getStateMessage(o.version, ph), UID_WIDTH);
  const locateT = new PatchTemplate((ph) => locateByNameMessage(o.version, ph), NAME_WIDTH);
  const data = randomBytes(64);
  const encryptT = new PatchTemplate((ph) => encryptGcmMessage(o.version, ph, data), UID_WIDTH);
  const signT = new PatchTemplate((ph) => signEcdsaMessage(o.version, ph, data), UID_WIDTH);
  const byOp: Record<Exclude<OpName, 'mix'>, () => Job> = {
    create: () => ({ request: createT.with(benchName(run, 'c', created++)), check: expectNewId }),
    register: () => ({ request: registerT.with(benchName(run, 'r', created++)), check: expectNewId }),
    get: () => ({ request: getT.with(pick(ids)), check: expectSuccess }),
    getattrs: () => ({ request: stateT.with(pick(ids)), check: expectSuccess }),
    locate: () => ({ request: locateT.with(pick(names)), check: expectOneHit }),
    encrypt: () => ({ request: encryptT.with(pick(ids)), check: expectSuccess }),
    sign: () => ({ request: signT.with(pick(ids)), check: expectSuccess }),
  };
  if (o.op !== 'mix') return { next: byOp[o.op] };
  return {
    next: () => {
      let r = Math.random();
      for (const [op, weight] of MIX) {
        r -= weight;
        if (r < 0 && op !== 'mix') return byOp[op]();
      }
      return byOp.get();
    },
  };
}

function machine(): { nproc: number; cpu: string; node: string } {
  let nproc = cpus().length;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || nproc;
  } catch {
    // no coreutils: os.cpus() it is
  }
  return { nproc, cpu: cpus()[0]?.model ?? 'unknown', node: process.version };
}

function storeLabel(o: LoadOptions): string {
  if (o.label !== undefined) return o.label;
  if (o.mode === 'external') return 'external server';
  if (o.store === 'sqlite') return 'SQLite';
  if (o.store === 'ferretdb') return 'FerretDB (SQLite backend)';
  return 'MongoDB';
}

const fmt = (n: number | undefined, digits = 2): string =>
  n === undefined || Number.isNaN(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits });

async function main(argv: readonly string[]): Promise<number> {
  let o: LoadOptions;
  try {
    o = parseLoadArgs(argv);
  } catch (e: unknown) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message) console.error(e.message);
    console.error(USAGE);
    return e.message ? 2 : 0;
  }
  const run = randomBytes(4).toString('hex');
  const log = (s: string) => {
    if (!o.json) console.error(s);
  };

  let dataDir: string | undefined;
  let ferret: FerretDb | undefined;
  let server: ServerUnderTest | undefined;
  const conns: PipelinedConnection[] = [];
  try {
    if (o.mode === 'external') {
      server = externalServer(o.server ?? '', { ca: o.ca ?? '', cert: o.cert ?? '', key: o.key ?? '' });
    } else {
      dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-bench-load-'));
      let storeUri: string | undefined;
      if (o.store === 'ferretdb') {
        const { startFerretDb } = await import('../test/helpers/ferretdb.js');
        ferret = await startFerretDb();
        storeUri = ferret.uri;
        log(`FerretDB at ${ferret.uri}`);
      } else if (o.store !== 'sqlite') storeUri = o.store;
      const local = {
        dataDir,
        ...(storeUri === undefined ? {} : { storeUri, storeDatabase: `kmip_bench_${run}` }),
        ...(o.cpuProf === undefined ? {} : { cpuProfDir: path.resolve(o.cpuProf) }),
        ...(o.workers === undefined ? {} : { workers: o.workers }),
        auditDurability: o.auditDurability,
        ...(o.hsm === undefined ? {} : { hsm: o.hsm }),
      };
      server = o.mode === 'spawn' ? await spawnLocal(local) : await startInProcess(local);
    }
    log(`server (${server.mode}) on ${server.host}:${server.port}, KMIP ${o.version}`);

    const [ca, cert, key] = await Promise.all([
      readFile(server.pki.ca),
      readFile(server.pki.cert),
      readFile(server.pki.key),
    ]);
    const target: TlsTarget = { host: server.host, port: server.port, ca, cert, key };
    conns.push(
      ...(await Promise.all(
        Array.from({ length: o.connections }, () => PipelinedConnection.open(target, HANDSHAKE_TIMEOUT_MS)),
      )),
    );
    log(`${conns.length} mutual-TLS connections open`);

    // Preload over KMIP Create, named bench-RUN-pNNNNNNNNN, so Get and Locate have targets.
    const ids: string[] = [];
    const names: string[] = [];
    let preloadRate: number | undefined;
    if (o.preload > 0) {
      const build =
        o.op === 'encrypt'
          ? createActiveAesMessage
          : o.op === 'sign'
            ? createEcKeyPairMessage
            : createAesMessage;
      const preloadT = new PatchTemplate((ph) => build(o.version, ph), NAME_WIDTH);
      const failures = new Recorder(1);
      let issued = 0;
      const t0 = performance.now();
      const outcome = await drive(
        conns,
        () => {
          if (issued >= o.preload) return undefined;
          const name = benchName(run, 'p', issued++);
          return {
            request: preloadT.with(name),
            check: (s) => {
              const bad = expectNewId(s);
              if (bad === undefined && s.uid !== undefined) {
                if (s.uid.length !== UID_WIDTH) return `identifier is not a ${UID_WIDTH}-character UUID`;
                ids.push(s.uid);
                names.push(name);
              }
              return bad;
            },
          };
        },
        (_ms, error) => {
          if (error !== undefined) failures.error(error);
        },
        {
          depth: Math.max(o.depth, 4),
          deadlineMs: o.preloadTimeout * 1000,
          requestTimeoutMs: REQUEST_TIMEOUT_MS,
        },
      );
      const secs = (performance.now() - t0) / 1000;
      preloadRate = ids.length / secs;
      log(`preloaded ${ids.length} objects in ${secs.toFixed(1)} s (${Math.round(preloadRate)}/s)`);
      if (outcome.timedOut || ids.length < o.preload) {
        throw new Error(
          `preload incomplete: ${ids.length} of ${o.preload}${outcome.timedOut ? ' (timed out)' : ''}; ` +
            `errors ${JSON.stringify(Object.fromEntries(failures.errors))}`,
        );
      }
    }

    if (o.touch && ids.length > 0) {
      // KMIP 1.1 §3.34: the first Get of an object sets Fresh to false, a durable update.
      const getT = new PatchTemplate((ph) => getMessage(o.version, ph), UID_WIDTH);
      const failures = new Recorder(1);
      let i = 0;
      const t0 = performance.now();
      const outcome = await drive(
        conns,
        () => {
          const id = ids[i++];
          return id === undefined ? undefined : { request: getT.with(id), check: expectSuccess };
        },
        (_ms, error) => {
          if (error !== undefined) failures.error(error);
        },
        {
          depth: Math.max(o.depth, 4),
          deadlineMs: o.preloadTimeout * 1000,
          requestTimeoutMs: REQUEST_TIMEOUT_MS,
        },
      );
      log(`touched ${ids.length} objects in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      if (outcome.timedOut || failures.errorCount > 0) {
        throw new Error(`touch failed: ${JSON.stringify(Object.fromEntries(failures.errors))}`);
      }
    }

    const workload = makeWorkload(o, run, ids, names);
    const warm = new Recorder(1);
    const measured = new Recorder();
    let phase: 'warmup' | 'measure' | 'stop' = o.warmup > 0 ? 'warmup' : 'measure';
    let measureStart = o.warmup > 0 ? 0 : performance.now();
    let measureEnd = 0;
    // CPU use over the measured window: shows how much of the 2 cores the client itself takes
    const cpuAt = () => ({ client: process.cpuUsage(), server: server?.cpuSeconds() });
    let cpuStart = o.warmup > 0 ? undefined : cpuAt();
    let cpuEnd: ReturnType<typeof cpuAt> | undefined;
    const timers = [
      setTimeout(() => {
        phase = 'measure';
        measureStart = performance.now();
        cpuStart = cpuAt();
      }, o.warmup * 1000),
      setTimeout(
        () => {
          phase = 'stop';
          measureEnd = performance.now();
          cpuEnd = cpuAt();
        },
        (o.warmup + o.seconds) * 1000,
      ),
    ];
    log(`warm-up ${o.warmup} s, then ${o.seconds} s of ${o.op} (depth ${o.depth})`);
    const outcome = await drive(
      conns,
      () => (phase === 'stop' ? undefined : workload.next()),
      (ms, error) => {
        const r = phase === 'measure' ? measured : phase === 'warmup' ? warm : undefined;
        if (r === undefined) return;
        if (error === undefined) r.record(ms);
        else r.error(error);
      },
      {
        depth: o.depth,
        deadlineMs: (o.warmup + o.seconds) * 1000 + REQUEST_TIMEOUT_MS + 5000,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
      },
    );
    for (const t of timers) clearTimeout(t);
    if (measureEnd === 0) measureEnd = performance.now();
    cpuEnd ??= cpuAt();
    const rss = await server.rssMb();

    const elapsed = (measureEnd - measureStart) / 1000;
    const lat = measured.summary();
    const percentOfOneCore = (seconds: number | undefined) =>
      seconds === undefined ? undefined : Math.round((100 * seconds) / elapsed);
    const clientCpu =
      cpuStart === undefined
        ? undefined
        : (cpuEnd.client.user + cpuEnd.client.system - cpuStart.client.user - cpuStart.client.system) / 1e6;
    const serverCpu =
      cpuStart?.server === undefined || cpuEnd.server === undefined
        ? undefined
        : cpuEnd.server - cpuStart.server;
    const m = machine();
    const result = {
      op: o.op,
      mix: o.op === 'mix' ? Object.fromEntries(MIX) : undefined,
      kmipVersion: o.version,
      store: storeLabel(o),
      server: server.mode,
      connections: o.connections,
      depth: o.depth,
      preload: o.preload,
      touched: o.touch,
      preloadCreatesPerSec: preloadRate === undefined ? undefined : Math.round(preloadRate),
      warmupSeconds: o.warmup,
      seconds: Number(elapsed.toFixed(3)),
      requests: lat.count + measured.errorCount,
      opsPerSec: Math.round(lat.count / elapsed),
      latencyMs: {
        p50: Number(lat.p50.toFixed(3)),
        p95: Number(lat.p95.toFixed(3)),
        p99: Number(lat.p99.toFixed(3)),
        max: Number(lat.max.toFixed(3)),
        mean: Number(lat.mean.toFixed(3)),
      },
      errors: measured.errorCount,
      errorsByReason: Object.fromEntries(measured.errors),
      warmupErrors: warm.errorCount,
      connectionsLost: outcome.lost,
      timedOut: outcome.timedOut,
      serverRssMb: rss === undefined ? undefined : Math.round(rss),
      /** CPU over the measured window, % of one core (200 = both cores of a 2-core machine) */
      cpuPercent: { client: percentOfOneCore(clientCpu), server: percentOfOneCore(serverCpu) },
      /** throughput per CPU-second the server got: less sensitive to other jobs on a shared machine */
      opsPerServerCpuSecond:
        serverCpu === undefined || serverCpu <= 0 ? undefined : Math.round(lat.count / serverCpu),
      machine: m,
      /** other jobs on the machine skew results; the 1-minute load average at the end of the run */
      loadAverage1m: Number((loadavg()[0] ?? 0).toFixed(2)),
      date: new Date().toISOString(),
      command: `npm run bench:load -- ${argv.join(' ')}`.trim(),
    };
    const row =
      `| ${o.op}${o.touch ? ' (touched)' : ''} | ${result.store} | ${fmt(o.preload, 0)} | ${o.connections} | ${o.depth} | ` +
      `${fmt(result.opsPerSec, 0)} | ${fmt(lat.p50)} | ${fmt(lat.p95)} | ${fmt(lat.p99)} | ` +
      `${result.errors} | ${fmt(result.serverRssMb, 0)} | ${fmt(result.cpuPercent.server, 0)} |`;
    if (!o.json) {
      console.log(
        '| Op | Store | Preload | Conns | Depth | ops/s | p50 ms | p95 ms | p99 ms | Errors | Server RSS MB | Server CPU % |',
      );
      console.log(
        '| -- | ----- | ------: | ----: | ----: | ----: | -----: | -----: | -----: | -----: | ------------: | -----------: |',
      );
      console.log(row);
      if (measured.errorCount > 0) console.log(`errors: ${JSON.stringify(result.errorsByReason)}`);
    }
    console.log(JSON.stringify(result, null, o.json ? 2 : undefined));
    return outcome.timedOut || measured.errorCount > 0 ? 1 : 0;
  } finally {
    for (const c of conns) c.close();
    await server?.stop().catch((e: unknown) => console.error(`stopping the server failed: ${String(e)}`));
    await ferret?.stop().catch((e: unknown) => console.error(`stopping FerretDB failed: ${String(e)}`));
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
