/**
 * Scale rows of issue 8 that are not throughput of one operation:
 *
 *   tsx bench/scale.ts idle [--connections 5000] [--hold 10]
 *       opens N mutual-TLS connections that send nothing, holds them, and
 *       reports the server's RSS (all its processes) before and while held
 *   tsx bench/scale.ts handshakes [--seconds 10] [--concurrency 16] [--procs 2]
 *       full mutual-TLS handshakes per second (new connection, no session
 *       resumption, closed after the handshake), from --procs client
 *       processes (one client process cannot keep up: its half of each
 *       handshake costs about as much CPU as the server's)
 *   tsx bench/scale.ts soak [--seconds 900] [--rate 2000] [--preload 2000]
 *       Get of random preloaded keys at a fixed rate over 32 connections,
 *       sampling the server's RSS every 10 s; reports the samples and the
 *       growth between the first and the last third of the run
 *
 * Common: --workers N (server.workers of the spawned server), --compiled (run
 * dist/cli/main.js as `npm start` does; `npm run build` first), --no-session-tickets
 * (tls.sessionTickets: false), --json.
 */

import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, createSecureContext, type SecureContext } from 'node:tls';
import { PipelinedConnection, type TlsTarget } from './lib/connection.js';
import { drive } from './lib/driver.js';
import {
  benchName,
  createAesMessage,
  getMessage,
  NAME_WIDTH,
  PatchTemplate,
  UID_WIDTH,
} from './lib/requests.js';
import { isSuccess } from './lib/response.js';
import { type ServerUnderTest, spawnLocal } from './lib/server.js';

const HANDSHAKE_TIMEOUT_MS = 30_000;

interface Options {
  cmd: 'idle' | 'handshakes' | 'soak' | 'handshake-client';
  connections: number;
  procs: number;
  hold: number;
  seconds: number;
  concurrency: number;
  rate: number;
  preload: number;
  workers: number | undefined;
  compiled: boolean;
  sessionTickets: boolean;
  json: boolean;
}

function parse(argv: readonly string[]): Options {
  const cmd = argv[0];
  if (cmd !== 'idle' && cmd !== 'handshakes' && cmd !== 'soak' && cmd !== 'handshake-client')
    throw new Error('usage: tsx bench/scale.ts idle|handshakes|soak [options] (see the file header)');
  const o: Options = {
    cmd,
    connections: cmd === 'idle' ? 5000 : 32,
    procs: 2,
    hold: 10,
    seconds: cmd === 'soak' ? 900 : 10,
    concurrency: 16,
    rate: 2000,
    preload: 2000,
    workers: undefined,
    compiled: false,
    sessionTickets: true,
    json: false,
  };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const n = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`${a} takes a number`);
      return v;
    };
    if (a === '--connections') o.connections = n();
    else if (a === '--hold') o.hold = n();
    else if (a === '--seconds') o.seconds = n();
    else if (a === '--concurrency') o.concurrency = n();
    else if (a === '--rate') o.rate = n();
    else if (a === '--preload') o.preload = n();
    else if (a === '--workers') o.workers = n();
    else if (a === '--procs') o.procs = n();
    else if (a === '--json') o.json = true;
    else if (a === '--compiled') o.compiled = true;
    else if (a === '--no-session-tickets') o.sessionTickets = false;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stderr.write(`${s}\n`);
const mb = (v: number | undefined) => (v === undefined ? undefined : Math.round(v));

const contexts = new WeakMap<TlsTarget, SecureContext>();

/**
 * One full handshake; resolves when the server has accepted the client certificate.
 * The client's context is built once: given ca/cert/key, tls.connect parses them and
 * builds a certificate store per connection, which made the client, not the server,
 * the limit of this row.
 */
function handshake(t: TlsTarget): Promise<void> {
  let secureContext = contexts.get(t);
  if (secureContext === undefined) {
    secureContext = createSecureContext({ ca: t.ca, cert: t.cert, key: t.key });
    contexts.set(t, secureContext);
  }
  return new Promise((resolve, reject) => {
    const s = connect({
      host: t.host,
      port: t.port,
      secureContext,
      servername: undefined,
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('handshake timed out'));
    }, HANDSHAKE_TIMEOUT_MS);
    s.once('secureConnect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

async function idle(o: Options, server: ServerUnderTest, t: TlsTarget): Promise<Record<string, unknown>> {
  const before = await server.rssMb();
  const conns: PipelinedConnection[] = [];
  const t0 = performance.now();
  // in waves below limits.maxHandshakes, so none is dropped as the oldest handshake in progress
  for (let i = 0; i < o.connections; i += 200) {
    const n = Math.min(200, o.connections - i);
    conns.push(
      ...(await Promise.all(
        Array.from({ length: n }, () => PipelinedConnection.open(t, HANDSHAKE_TIMEOUT_MS)),
      )),
    );
  }
  const openSecs = (performance.now() - t0) / 1000;
  log(`${conns.length} idle connections open in ${openSecs.toFixed(1)} s; holding ${o.hold} s`);
  await sleep(o.hold * 1000);
  const held = await server.rssMb();
  const alive = conns.filter((c) => !c.closed).length;
  for (const c of conns) c.close();
  return {
    connections: o.connections,
    alive,
    openSeconds: Number(openSecs.toFixed(1)),
    rssBeforeMb: mb(before),
    rssHeldMb: mb(held),
    // what one more idle connection costs; the process baseline is rssBeforeMb
    kbPerConnection:
      before === undefined || held === undefined || o.connections === 0
        ? undefined
        : Math.round(((held - before) * 1024) / o.connections),
  };
}

/** Client processes running `handshake-client`; each prints its count as JSON on stdout. */
async function handshakesFromProcesses(
  o: Options,
  server: ServerUnderTest,
): Promise<Record<string, unknown>> {
  const { spawn } = await import('node:child_process');
  const self = new URL(import.meta.url).pathname;
  const outs = await Promise.all(
    Array.from(
      { length: o.procs },
      () =>
        new Promise<string>((resolve, reject) => {
          const c = spawn(
            process.execPath,
            [
              '--import',
              'tsx',
              self,
              'handshake-client',
              '--seconds',
              String(o.seconds),
              '--concurrency',
              String(o.concurrency),
            ],
            {
              env: {
                ...process.env,
                BENCH_TARGET: JSON.stringify({ host: server.host, port: server.port, ...server.pki }),
              },
              stdio: ['ignore', 'pipe', 'inherit'],
            },
          );
          let out = '';
          c.stdout?.on('data', (d: Buffer) => {
            out += d.toString();
          });
          c.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`client exited ${code}`))));
        }),
    ),
  );
  const results = outs.map((x) => JSON.parse(x) as { handshakes: number; errors: number; seconds: number });
  const done = results.reduce((a, r) => a + r.handshakes, 0);
  const secs = Math.max(...results.map((r) => r.seconds));
  return {
    procs: o.procs,
    concurrencyPerProc: o.concurrency,
    handshakes: done,
    errors: results.reduce((a, r) => a + r.errors, 0),
    seconds: secs,
    perSecond: Math.round(done / secs),
  };
}

async function handshakes(o: Options, t: TlsTarget): Promise<Record<string, unknown>> {
  let done = 0;
  let errors = 0;
  let stop = false;
  const t0 = performance.now();
  const worker = async () => {
    while (!stop) {
      try {
        await handshake(t);
        done++;
      } catch {
        errors++;
      }
    }
  };
  const timer = setTimeout(() => {
    stop = true;
  }, o.seconds * 1000);
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  clearTimeout(timer);
  const secs = (performance.now() - t0) / 1000;
  return { handshakes: done, errors, seconds: Number(secs.toFixed(1)), perSecond: Math.round(done / secs) };
}

async function soak(o: Options, server: ServerUnderTest, t: TlsTarget): Promise<Record<string, unknown>> {
  const conns = await Promise.all(
    Array.from({ length: o.connections }, () => PipelinedConnection.open(t, HANDSHAKE_TIMEOUT_MS)),
  );
  const run = randomBytes(4).toString('hex');
  const createT = new PatchTemplate((ph) => createAesMessage('1.4', ph), NAME_WIDTH);
  const ids: string[] = [];
  let issued = 0;
  await drive(
    conns,
    () =>
      issued >= o.preload
        ? undefined
        : {
            request: createT.with(benchName(run, 'p', issued++)),
            check: (s) => {
              if (s.uid !== undefined && s.uid.length === UID_WIDTH) ids.push(s.uid);
              return isSuccess(s) ? undefined : 'create failed';
            },
          },
    () => undefined,
    { depth: 4, deadlineMs: 600_000, requestTimeoutMs: 30_000 },
  );
  log(`preloaded ${ids.length} keys; soaking ${o.seconds} s at ${o.rate} Get/s`);
  const getT = new PatchTemplate((ph) => getMessage('1.4', ph), UID_WIDTH);
  const samples: { s: number; rssMb: number | undefined }[] = [];
  let answered = 0;
  let errors = 0;
  const sliceMs = 100;
  const perSlice = Math.max(1, Math.round((o.rate * sliceMs) / 1000));
  const t0 = performance.now();
  let nextSample = 0;
  while (performance.now() - t0 < o.seconds * 1000) {
    const sliceStart = performance.now();
    let n = 0;
    await drive(
      conns,
      () => {
        if (n >= perSlice) return undefined;
        n++;
        return {
          request: getT.with(ids[Math.floor(Math.random() * ids.length)] ?? ''),
          check: (s) => (isSuccess(s) ? undefined : 'get failed'),
        };
      },
      (_ms, error) => {
        if (error === undefined) answered++;
        else errors++;
      },
      { depth: 1, deadlineMs: 30_000, requestTimeoutMs: 30_000 },
    );
    const elapsed = performance.now() - t0;
    if (elapsed >= nextSample) {
      samples.push({ s: Math.round(elapsed / 1000), rssMb: mb(await server.rssMb()) });
      nextSample += 10_000;
    }
    const rest = sliceMs - (performance.now() - sliceStart);
    if (rest > 0) await sleep(rest);
  }
  const secs = (performance.now() - t0) / 1000;
  for (const c of conns) c.close();
  const third = Math.max(1, Math.floor(samples.length / 3));
  const avg = (xs: typeof samples) => xs.reduce((a, x) => a + (x.rssMb ?? 0), 0) / Math.max(1, xs.length);
  return {
    seconds: Math.round(secs),
    targetRate: o.rate,
    achievedRate: Math.round(answered / secs),
    errors,
    rssFirstThirdMb: Math.round(avg(samples.slice(0, third))),
    rssLastThirdMb: Math.round(avg(samples.slice(-third))),
    samples,
  };
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  if (o.cmd === 'handshake-client') {
    const p = JSON.parse(process.env.BENCH_TARGET ?? '{}') as {
      host: string;
      port: number;
      ca: string;
      cert: string;
      key: string;
    };
    const [ca, cert, key] = await Promise.all([readFile(p.ca), readFile(p.cert), readFile(p.key)]);
    console.log(JSON.stringify(await handshakes(o, { host: p.host, port: p.port, ca, cert, key })));
    return;
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-bench-scale-'));
  let server: ServerUnderTest | undefined;
  try {
    server = await spawnLocal({
      dataDir,
      ...(o.workers === undefined ? {} : { workers: o.workers }),
      compiled: o.compiled,
      // every bench connection is the admin identity: lift the per-identity cap
      extraConfig: {
        limits: { maxConnectionsPerIdentity: 0, maxConnections: 100_000 },
        ...(o.sessionTickets ? {} : { tls: { sessionTickets: false } }),
      },
    });
    const [ca, cert, key] = await Promise.all([
      readFile(server.pki.ca),
      readFile(server.pki.cert),
      readFile(server.pki.key),
    ]);
    const t: TlsTarget = { host: server.host, port: server.port, ca, cert, key };
    const cpu0 = server.cpuSeconds();
    const w0 = performance.now();
    const result =
      o.cmd === 'idle'
        ? await idle(o, server, t)
        : o.cmd === 'handshakes'
          ? await handshakesFromProcesses(o, server)
          : await soak(o, server, t);
    const cpu1 = server.cpuSeconds();
    const wall = (performance.now() - w0) / 1000;
    const { loadavg } = await import('node:os');
    const out = {
      cmd: o.cmd,
      workers: o.workers ?? 'default (one per core)',
      server: o.compiled ? 'dist (compiled)' : 'tsx',
      sessionTickets: o.sessionTickets,
      ...result,
      serverCpuPercent:
        cpu0 === undefined || cpu1 === undefined ? undefined : Math.round(((cpu1 - cpu0) / wall) * 100),
      // what the server could do if the clients did not share its cores
      handshakesPerServerCpuSecond:
        typeof result.handshakes === 'number' && cpu0 !== undefined && cpu1 !== undefined && cpu1 > cpu0
          ? Math.round(result.handshakes / (cpu1 - cpu0))
          : undefined,
      loadAverage1m: Number((loadavg()[0] ?? 0).toFixed(2)),
      date: new Date().toISOString(),
    };
    console.log(JSON.stringify(out, null, o.json ? 2 : undefined));
  } finally {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
