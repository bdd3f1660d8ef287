/**
 * `npm run bench:compare -- [options]`: the same KMIP load against our server
 * and PyKMIP's server (Debian python3-pykmip, `pykmip-server`) in one run,
 * side by side with ratios. Both servers get the development PKI, SQLite and
 * the same client: N mutual-TLS connections, the same request bytes, the same
 * warm-up and measured time. Rows alternate between the servers (ours, then
 * PyKMIP's, for each operation) so that both see similar machine load.
 * Prints a markdown table and JSON. Loopback only; every phase is bounded.
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from 'node:tls';
import {
  BlockCipherMode,
  CryptographicAlgorithm,
  enumNameOf,
  isKmipVersion,
  type KmipVersion,
  Operation,
  ResultStatus,
  Tag,
} from '../src/kmip/spec/index.js';
import type { TtlvItem } from '../src/kmip/ttlv/types.js';
import { devPkiPaths } from '../src/pki/index.js';
import { PipelinedConnection, type TlsTarget } from './lib/connection.js';
import { drive, type Job } from './lib/driver.js';
import { startPykmipServer } from './lib/pykmip-server.js';
import {
  benchName,
  createAesMessage,
  getMessage,
  getStateMessage,
  locateByNameMessage,
  NAME_WIDTH,
  PatchTemplate,
  registerAesMessage,
  requestMessage,
} from './lib/requests.js';
import type { ResponseSummary } from './lib/response.js';
import { type ServerUnderTest, spawnLocal } from './lib/server.js';
import { Recorder } from './lib/stats.js';

const ROWS = ['get', 'getattrs', 'locate', 'encrypt', 'create', 'register'] as const;
type RowName = (typeof ROWS)[number];

const LABELS: Record<RowName, string> = {
  get: 'Get AES-256 key',
  getattrs: 'Get Attributes (State)',
  locate: 'Locate by Name (1 hit)',
  encrypt: 'Encrypt 64 B (AES-256-GCM)',
  create: 'Create AES-256 (durable)',
  register: 'Register AES-256 (durable)',
};

const USAGE = `usage: tsx bench/compare.ts [options]
  --rows LIST          comma-separated, in run order (default ${ROWS.join(',')});
                       the reads run first so that both stores hold the same objects
  --seconds N          measured time per row and server (default 10)
  --warmup N           warm-up per row and server (default 2)
  --connections N      mutual-TLS connections to our server (default 32)
  --pykmip-connections N  connections to PyKMIP's server (default: --connections)
  --depth N            requests in flight per connection (default 1)
  --preload N          AES-256 keys created over KMIP on each server before the rows (default 1000)
  --active N           of which the first N are Activated for Encrypt (default 100)
  --preload-timeout N  seconds allowed for each server's preload (default 300)
  --version V          KMIP version of every request (default 1.2; PyKMIP 0.10 serves 1.0-2.0)
  --pykmip-server PATH the pykmip-server script (default /usr/bin/pykmip-server)
  --pykmip-log-level L PyKMIP's logging_level (default WARNING)
  --json               print the JSON result only`;

class UsageError extends Error {}

interface Options {
  rows: RowName[];
  seconds: number;
  warmup: number;
  connections: number;
  pykmipConnections: number;
  depth: number;
  preload: number;
  active: number;
  preloadTimeout: number;
  version: KmipVersion;
  pykmipEntry: string | undefined;
  pykmipLogLevel: string;
  json: boolean;
}

const intArg = (name: string, raw: string | undefined, min: number, max: number): number => {
  const n = Number(raw);
  if (raw === undefined || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} takes an integer from ${min} to ${max}, got ${raw ?? 'nothing'}`);
  }
  return n;
};

function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    rows: [...ROWS],
    seconds: 10,
    warmup: 2,
    connections: 32,
    pykmipConnections: -1,
    depth: 1,
    preload: 1000,
    active: 100,
    preloadTimeout: 300,
    version: '1.2',
    pykmipEntry: undefined,
    pykmipLogLevel: 'WARNING',
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--rows': {
        const rows = value().split(',');
        o.rows = rows.map((r) => {
          const row = ROWS.find((x) => x === r);
          if (row === undefined) throw new UsageError(`--rows takes some of ${ROWS.join(', ')}`);
          return row;
        });
        break;
      }
      case '--seconds':
        o.seconds = intArg(a, value(), 1, 600);
        break;
      case '--warmup':
        o.warmup = intArg(a, value(), 0, 120);
        break;
      case '--connections':
        o.connections = intArg(a, value(), 1, 512);
        break;
      case '--pykmip-connections':
        o.pykmipConnections = intArg(a, value(), 1, 512);
        break;
      case '--depth':
        o.depth = intArg(a, value(), 1, 64);
        break;
      case '--preload':
        o.preload = intArg(a, value(), 1, 100_000);
        break;
      case '--active':
        o.active = intArg(a, value(), 1, 100_000);
        break;
      case '--preload-timeout':
        o.preloadTimeout = intArg(a, value(), 1, 3600);
        break;
      case '--version': {
        const v = value();
        if (!isKmipVersion(v)) throw new UsageError(`unknown KMIP version ${v}`);
        o.version = v;
        break;
      }
      case '--pykmip-server':
        o.pykmipEntry = value();
        break;
      case '--pykmip-log-level':
        o.pykmipLogLevel = value();
        break;
      case '--json':
        o.json = true;
        break;
      case '--help':
      case '-h':
        throw new UsageError('');
      default:
        throw new UsageError(`unknown option ${a}`);
    }
  }
  if (o.pykmipConnections < 0) o.pykmipConnections = o.connections;
  o.active = Math.min(o.active, o.preload);
  return o;
}

// --- requests both servers accept ------------------------------------------------

const text = (tag: number, value: string): TtlvItem => ({ tag, type: 'TextString', value });

function activateMessage(version: KmipVersion, uid: string): Buffer {
  return requestMessage(version, Operation.Activate, [text(Tag.UniqueIdentifier, uid)]);
}

/**
 * AES-GCM with a server-chosen IV. PyKMIP's Encrypt takes the algorithm from
 * the Cryptographic Parameters only (engine.py passes
 * cryptographic_parameters.cryptographic_algorithm), so it is given here for
 * both servers; Random IV is what our server wants to choose the IV, and
 * PyKMIP draws one whenever none is sent.
 */
function encryptMessage(version: KmipVersion, uid: string, data: Uint8Array): Buffer {
  return requestMessage(version, Operation.Encrypt, [
    text(Tag.UniqueIdentifier, uid),
    {
      tag: Tag.CryptographicParameters,
      type: 'Structure',
      value: [
        { tag: Tag.BlockCipherMode, type: 'Enumeration', value: BlockCipherMode.GCM },
        { tag: Tag.CryptographicAlgorithm, type: 'Enumeration', value: CryptographicAlgorithm.AES },
        // KMIP 1.2 §2.1.5 order; PyKMIP decodes the fields in that order only
        { tag: Tag.RandomIV, type: 'Boolean', value: true },
        { tag: Tag.TagLength, type: 'Integer', value: 16 },
      ],
    },
    { tag: Tag.Data, type: 'ByteString', value: data },
  ]);
}

function failureLabel(s: ResponseSummary): string {
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
const expectOneHit = (s: ResponseSummary): string | undefined =>
  s.status !== ResultStatus.Success
    ? failureLabel(s)
    : s.uidCount === 1
      ? undefined
      : `Locate found ${s.uidCount}`;

// --- one server under load -------------------------------------------------------

const HANDSHAKE_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** PyKMIP listens with a backlog of 5 (server.py): open connections a few at a time */
const OPEN_CONCURRENCY = 4;

interface Side {
  name: 'ours' | 'pykmip';
  server: ServerUnderTest;
  target: TlsTarget;
  connections: number;
  conns: PipelinedConnection[];
  ids: string[];
  names: string[];
  /** Encrypt-ready (Active) keys: the first `active` preloaded ones */
  active: string[];
  created: number;
  /** negotiated protocol and cipher */
  tls: string;
  preload?: { count: number; seconds: number; perSecond: number };
}

/** (Re)open connections up to `side.connections`: idle ones may have been closed between rows. */
async function ensureConnections(side: Side): Promise<void> {
  side.conns = side.conns.filter((c) => !c.closed);
  while (side.conns.length < side.connections) {
    const n = Math.min(OPEN_CONCURRENCY, side.connections - side.conns.length);
    side.conns.push(
      ...(await Promise.all(
        Array.from({ length: n }, () => PipelinedConnection.open(side.target, HANDSHAKE_TIMEOUT_MS)),
      )),
    );
  }
}

function tlsInfo(target: TlsTarget): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({
      host: target.host,
      port: target.port,
      ca: target.ca,
      cert: target.cert,
      key: target.key,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('unknown');
    }, HANDSHAKE_TIMEOUT_MS);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(`${socket.getProtocol() ?? '?'} ${socket.getCipher().name}`);
      socket.end();
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      resolve(`handshake failed: ${e.message}`);
    });
  });
}

/** Drive a finite list of jobs (preload, activation); throws on any failure. */
async function driveAll(
  side: Side,
  jobs: Job[],
  what: string,
  timeoutS: number,
  depth: number,
): Promise<number> {
  await ensureConnections(side);
  const failures = new Recorder(1);
  let i = 0;
  const t0 = performance.now();
  const outcome = await drive(
    side.conns,
    () => jobs[i++],
    (_ms, error) => {
      if (error !== undefined) failures.error(error);
    },
    { depth, deadlineMs: timeoutS * 1000, requestTimeoutMs: REQUEST_TIMEOUT_MS },
  );
  const seconds = (performance.now() - t0) / 1000;
  if (outcome.timedOut || failures.errorCount > 0) {
    throw new Error(
      `${side.name}: ${what} failed${outcome.timedOut ? ` (timed out after ${timeoutS} s)` : ''}: ` +
        JSON.stringify(Object.fromEntries(failures.errors)),
    );
  }
  return seconds;
}

async function preload(side: Side, o: Options, run: string, log: (s: string) => void): Promise<void> {
  const createT = new PatchTemplate((ph) => createAesMessage(o.version, ph), NAME_WIDTH);
  const byName = new Map<string, string>();
  const jobs: Job[] = Array.from({ length: o.preload }, (_, n) => {
    const name = benchName(run, 'p', n);
    return {
      request: createT.with(name),
      check: (s) => {
        const bad = expectNewId(s);
        if (bad === undefined && s.uid !== undefined) byName.set(name, s.uid);
        return bad;
      },
    };
  });
  const started = performance.now();
  const seconds = await driveAll(side, jobs, 'preload', o.preloadTimeout, Math.max(o.depth, 4));
  // keep creation order, so that the Active keys are the same ordinal keys on both servers
  for (let n = 0; n < o.preload; n++) {
    const name = benchName(run, 'p', n);
    const uid = byName.get(name);
    if (uid === undefined) throw new Error(`${side.name}: preload lost ${name}`);
    side.names.push(name);
    side.ids.push(uid);
  }
  side.preload = {
    count: o.preload,
    seconds: Number(seconds.toFixed(2)),
    perSecond: Math.round(o.preload / seconds),
  };
  log(`${side.name}: preloaded ${o.preload} keys in ${seconds.toFixed(1)} s (${side.preload.perSecond}/s)`);
  if (o.rows.includes('encrypt')) {
    const toActivate = side.ids.slice(0, o.active);
    const left = Math.max(1, o.preloadTimeout - (performance.now() - started) / 1000);
    const s = await driveAll(
      side,
      toActivate.map((uid) => ({ request: activateMessage(o.version, uid), check: expectSuccess })),
      'Activate',
      left,
      Math.max(o.depth, 4),
    );
    side.active.push(...toActivate);
    log(`${side.name}: activated ${toActivate.length} keys in ${s.toFixed(1)} s`);
  }
}

interface Measured {
  opsPerSec: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  requests: number;
  errors: number;
  errorsByReason: Record<string, number>;
  seconds: number;
  /** % of one core over the measured window (server process and its children) */
  serverCpuPercent: number | undefined;
  /** throughput per CPU-second the server got: less sensitive to other jobs on a shared machine */
  opsPerServerCpuSecond: number | undefined;
  serverRssMb: number | undefined;
  loadAverage1m: number;
}

type SideResult = Measured | { unsupported: string };

/** The row's job source; per-id and per-name messages are encoded once, up front. */
function jobSource(row: RowName, side: Side, o: Options, run: string): () => Job {
  const pick = <T>(xs: readonly T[]): T => {
    const x = xs[Math.floor(Math.random() * xs.length)];
    if (x === undefined) throw new Error(`${side.name}: nothing preloaded`);
    return x;
  };
  const each = (xs: readonly string[], build: (x: string) => Buffer, check: Job['check']) => {
    const jobs = xs.map((x): Job => ({ request: build(x), check }));
    return () => pick(jobs);
  };
  const data = randomBytes(64);
  switch (row) {
    case 'get':
      return each(side.ids, (uid) => getMessage(o.version, uid), expectSuccess);
    case 'getattrs':
      return each(side.ids, (uid) => getStateMessage(o.version, uid), expectSuccess);
    case 'locate':
      return each(side.names, (name) => locateByNameMessage(o.version, name), expectOneHit);
    case 'encrypt':
      return each(side.active, (uid) => encryptMessage(o.version, uid, data), expectSuccess);
    case 'create': {
      const t = new PatchTemplate((ph) => createAesMessage(o.version, ph), NAME_WIDTH);
      return () => ({ request: t.with(benchName(run, 'c', side.created++)), check: expectNewId });
    }
    case 'register': {
      const t = new PatchTemplate((ph) => registerAesMessage(o.version, ph, randomBytes(32)), NAME_WIDTH);
      return () => ({ request: t.with(benchName(run, 'r', side.created++)), check: expectNewId });
    }
  }
}

async function measureRow(row: RowName, side: Side, o: Options, run: string): Promise<SideResult> {
  await ensureConnections(side);
  const next = jobSource(row, side, o, run);
  // one request first: an operation the server does not serve is marked, not timed
  let probeError: string | undefined;
  const probe = next();
  await driveAll(
    side,
    [{ request: probe.request, check: (s) => (probeError = probe.check(s)) }],
    `${row} probe`,
    REQUEST_TIMEOUT_MS / 1000,
    1,
  ).catch((e: unknown) => {
    probeError ??= e instanceof Error ? e.message : String(e);
  });
  if (probeError !== undefined) return { unsupported: probeError };

  const warm = new Recorder(1);
  const measured = new Recorder(500_000);
  let phase: 'warmup' | 'measure' | 'stop' = o.warmup > 0 ? 'warmup' : 'measure';
  let measureStart = performance.now();
  let measureEnd = 0;
  let cpuStart = o.warmup > 0 ? undefined : side.server.cpuSeconds();
  let cpuEnd: number | undefined;
  const timers = [
    setTimeout(() => {
      phase = 'measure';
      measureStart = performance.now();
      cpuStart = side.server.cpuSeconds();
    }, o.warmup * 1000),
    setTimeout(
      () => {
        phase = 'stop';
        measureEnd = performance.now();
        cpuEnd = side.server.cpuSeconds();
      },
      (o.warmup + o.seconds) * 1000,
    ),
  ];
  await drive(
    side.conns,
    () => (phase === 'stop' ? undefined : next()),
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
  cpuEnd ??= side.server.cpuSeconds();
  const elapsed = (measureEnd - measureStart) / 1000;
  const lat = measured.summary();
  const cpu = cpuStart === undefined || cpuEnd === undefined ? undefined : cpuEnd - cpuStart;
  const r3 = (n: number) => Number(n.toFixed(3));
  const rss = await side.server.rssMb();
  return {
    opsPerSec: Math.round(lat.count / elapsed),
    latencyMs: { p50: r3(lat.p50), p95: r3(lat.p95), p99: r3(lat.p99), max: r3(lat.max) },
    requests: lat.count + measured.errorCount,
    errors: measured.errorCount,
    errorsByReason: Object.fromEntries(measured.errors),
    seconds: r3(elapsed),
    serverCpuPercent: cpu === undefined ? undefined : Math.round((100 * cpu) / elapsed),
    opsPerServerCpuSecond: cpu === undefined || cpu <= 0 ? undefined : Math.round(lat.count / cpu),
    serverRssMb: rss === undefined ? undefined : Math.round(rss),
    loadAverage1m: Number((loadavg()[0] ?? 0).toFixed(2)),
  };
}

// --- report -----------------------------------------------------------------------

function machine(): { nproc: number; cpu: string; node: string; python: string; pykmip: string } {
  const run = (cmd: string, args: string[]): string | undefined => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return undefined;
    }
  };
  return {
    nproc: Number(run('nproc', [])) || cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    python: run('/usr/bin/python3', ['--version']) ?? 'unknown',
    // `dpkg-query -W` prints "name<TAB>version"
    pykmip: run('dpkg-query', ['-W', 'python3-pykmip'])?.split('\t')[1] ?? 'unknown',
  };
}

const fmt = (n: number | undefined, digits = 2): string =>
  n === undefined || Number.isNaN(n) ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: digits });

const isMeasured = (r: SideResult | undefined): r is Measured => r !== undefined && !('unsupported' in r);

function ratio(ours: SideResult | undefined, theirs: SideResult | undefined): number | undefined {
  if (!isMeasured(ours) || !isMeasured(theirs) || theirs.opsPerSec === 0) return undefined;
  return Number((ours.opsPerSec / theirs.opsPerSec).toFixed(1));
}

function cells(r: SideResult | undefined): string {
  if (!isMeasured(r)) return '— | — | —';
  const errs = r.errors > 0 ? ` (${r.errors} errors)` : '';
  return `${fmt(r.opsPerSec, 0)}${errs} | ${fmt(r.latencyMs.p50)} | ${fmt(r.latencyMs.p99)}`;
}

// --- main ---------------------------------------------------------------------------

async function main(argv: readonly string[]): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(argv);
  } catch (e: unknown) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message) console.error(e.message);
    console.error(USAGE);
    return e.message ? 2 : 0;
  }
  const log = (s: string) => {
    if (!o.json) console.error(s);
  };
  const run = randomBytes(4).toString('hex');
  const loadAtStart = Number((loadavg()[0] ?? 0).toFixed(2));
  const dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-bench-compare-'));
  const pykmipDir = path.join(dataDir, 'pykmip');
  const sides: Side[] = [];
  const servers: ServerUnderTest[] = [];
  try {
    // Our server creates the development PKI in its data directory; PyKMIP's gets the same files.
    const ours = await spawnLocal({ dataDir });
    servers.push(ours);
    const pki = devPkiPaths(dataDir);
    const pykmip = await startPykmipServer({
      dir: pykmipDir,
      pki: {
        caCert: pki.caCert,
        serverCert: pki.serverCert,
        serverKey: pki.serverKey,
        clientCert: pki.adminCert,
        clientKey: pki.adminKey,
      },
      ...(o.pykmipEntry === undefined ? {} : { entry: o.pykmipEntry }),
      loggingLevel: o.pykmipLogLevel,
    });
    servers.push(pykmip);
    for (const [name, server, connections] of [
      ['ours', ours, o.connections],
      ['pykmip', pykmip, o.pykmipConnections],
    ] as const) {
      const [ca, cert, key] = await Promise.all([
        readFile(server.pki.ca),
        readFile(server.pki.cert),
        readFile(server.pki.key),
      ]);
      const target: TlsTarget = { host: server.host, port: server.port, ca, cert, key };
      sides.push({
        name,
        server,
        target,
        connections,
        conns: [],
        ids: [],
        names: [],
        active: [],
        created: 0,
        tls: await tlsInfo(target),
      });
      log(`${name}: ${server.mode} on ${server.host}:${server.port}`);
    }
    for (const side of sides) {
      await ensureConnections(side);
      log(`${side.name}: ${side.conns.length} mutual-TLS connections (${side.tls})`);
      await preload(side, o, run, log);
    }

    const rows: { row: RowName; label: string; ours?: SideResult; pykmip?: SideResult; ratio?: number }[] =
      [];
    for (const row of o.rows) {
      const entry: (typeof rows)[number] = { row, label: LABELS[row] };
      for (const side of sides) {
        log(`${LABELS[row]}: ${side.name}, warm-up ${o.warmup} s + ${o.seconds} s`);
        const r = await measureRow(row, side, o, run);
        entry[side.name] = r;
        log(
          isMeasured(r)
            ? `  ${fmt(r.opsPerSec, 0)} ops/s, p50 ${fmt(r.latencyMs.p50)} ms, p99 ${fmt(r.latencyMs.p99)} ms, ` +
                `errors ${r.errors}, server CPU ${fmt(r.serverCpuPercent, 0)} %, load ${r.loadAverage1m}`
            : `  not served: ${r.unsupported}`,
        );
      }
      const rt = ratio(entry.ours, entry.pykmip);
      if (rt !== undefined) entry.ratio = rt;
      rows.push(entry);
    }

    const m = machine();
    const result = {
      date: new Date().toISOString(),
      command: `npm run bench:compare -- ${argv.join(' ')}`.trim(),
      kmipVersion: o.version,
      connections: { ours: o.connections, pykmip: o.pykmipConnections },
      depth: o.depth,
      warmupSeconds: o.warmup,
      seconds: o.seconds,
      preload: o.preload,
      activeKeys: o.rows.includes('encrypt') ? o.active : 0,
      servers: Object.fromEntries(
        sides.map((s) => [s.name, { mode: s.server.mode, tls: s.tls, preload: s.preload }]),
      ),
      rows,
      machine: m,
      /** other jobs on the machine skew results: 1-minute load average at the start and at the end */
      loadAverage1m: { start: loadAtStart, end: Number((loadavg()[0] ?? 0).toFixed(2)) },
    };
    if (!o.json) {
      console.log(
        '| Operation | Ours ops/s | Ours p50 ms | Ours p99 ms | PyKMIP ops/s | PyKMIP p50 ms | PyKMIP p99 ms | Ratio | Ours ops/CPU-s | PyKMIP ops/CPU-s | Load avg |',
      );
      console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
      for (const r of rows) {
        const cpuS = (x: SideResult | undefined) => (isMeasured(x) ? fmt(x.opsPerServerCpuSecond, 0) : '—');
        const loads = [r.ours, r.pykmip].filter(isMeasured).map((x) => x.loadAverage1m.toFixed(1));
        console.log(
          `| ${r.label} | ${cells(r.ours)} | ${cells(r.pykmip)} | ${r.ratio === undefined ? '—' : `${fmt(r.ratio, 1)}×`} | ` +
            `${cpuS(r.ours)} | ${cpuS(r.pykmip)} | ${loads.join(' / ') || '—'} |`,
        );
      }
      for (const r of rows) {
        for (const [name, x] of [
          ['ours', r.ours],
          ['PyKMIP', r.pykmip],
        ] as const) {
          if (x !== undefined && !isMeasured(x))
            console.log(`${r.label}, ${name}: not served (${x.unsupported})`);
          else if (isMeasured(x) && x.errors > 0)
            console.log(`${r.label}, ${name}: errors ${JSON.stringify(x.errorsByReason)}`);
        }
      }
    }
    console.log(JSON.stringify(result, null, o.json ? 2 : undefined));
    const failed = rows.some((r) => [r.ours, r.pykmip].some((x) => isMeasured(x) && x.errors > 0));
    return failed ? 1 : 0;
  } finally {
    for (const side of sides) for (const c of side.conns) c.close();
    await Promise.all(
      servers.map((s) =>
        s.stop().catch((e: unknown) => console.error(`stopping ${s.mode} failed: ${String(e)}`)),
      ),
    );
    await rm(dataDir, { recursive: true, force: true });
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
