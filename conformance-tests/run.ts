/**
 * Conformance runner: replays every OASIS / ovh XML test vector against a live
 * KMIP server over mutual TLS and writes conformance-tests/RESULTS.md.
 *
 *   npm run conformance [-- --filter SKLC --version 1.4 --jobs 4 (default 1)]
 *   npm run conformance -- --server host:5696 --ca ca.crt --cert admin.crt --key admin.key
 *
 * See conformance-tests/README.md for the comparison rules.
 */

import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { specDictionary } from '../src/kmip/spec/dictionary.js';
import { listVectorFiles, readVectorFile, type VectorFile } from '../src/kmip/ttlv/vectors.js';
import { classifySource, profileOf, Source, versionOf } from './lib/classify.js';
import { KmipConnection, type TlsTarget } from './lib/client.js';
import { ISOLATED_SERIES, isolationGroup, seriesOrder } from './lib/isolation.js';
import { operationsOf, replaySteps } from './lib/replay.js';
import { type FileResult, filePasses, renderResults, totals } from './lib/report.js';
import { roundTripMessages } from './lib/roundtrip.js';

const repoRoot = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

interface Target {
  tls: TlsTarget;
  description: string;
  close(): Promise<void>;
}

async function startLocalServer(): Promise<Target> {
  // Imported lazily so that --server works even while the server is unfinished.
  const { loadConfig } = await import('../src/config/index.js');
  const { startServer } = await import('../src/app.js');
  const { silentLogger } = await import('../src/log.js');
  const { ensureDevPki } = await import('../src/pki/index.js');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-conformance-'));
  try {
    const { paths } = await ensureDevPki(dataDir);
    const config = loadConfig({
      env: {},
      cwd: dataDir,
      // CS-BC-M-4-12-3DES and TC-STREAM-ENC-2 encrypt with Triple DES, off by default.
      overrides: { dataDir, listen: { host: '127.0.0.1', port: 0 }, crypto: { allowTripleDes: true } },
    });
    const server = await startServer(config, silentLogger);
    const [ca, cert, key] = await Promise.all([
      readFile(paths.caCert),
      readFile(paths.adminCert),
      readFile(paths.adminKey),
    ]);
    return {
      tls: { host: server.address.host, port: server.address.port, ca, cert, key },
      description: `in-process, 127.0.0.1:${server.address.port}, fresh data directory with the development PKI`,
      async close() {
        try {
          await server.close();
        } finally {
          await rm(dataDir, { recursive: true, force: true });
        }
      },
    };
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
}

async function remoteTarget(server: string, ca?: string, cert?: string, key?: string): Promise<Target> {
  const m = /^(.+):(\d+)$/.exec(server);
  if (!m || !ca || !cert || !key) throw new Error('--server host:port needs --ca, --cert and --key');
  const [caPem, certPem, keyPem] = await Promise.all([readFile(ca), readFile(cert), readFile(key)]);
  const host = (m[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  return {
    tls: { host, port: Number(m[2]), ca: caPem, cert: certPem, key: keyPem },
    description: `remote ${server}`,
    close: async () => {},
  };
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      server: { type: 'string' },
      ca: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      filter: { type: 'string' },
      version: { type: 'string' },
      // One file at a time by default: files share one server, and a fixed order keeps RESULTS.md reproducible.
      jobs: { type: 'string', default: '1' },
      timeout: { type: 'string', default: '10000' },
      'max-minutes': { type: 'string', default: '30' },
      vectors: { type: 'string' },
      out: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      // Series such as TL-M-1..3 get a fresh server each (lib/isolation.ts); --shared replays them on the common one.
      shared: { type: 'boolean', default: false },
    },
  });
  const started = Date.now();
  const vectorsRoot = path.resolve(
    repoRoot,
    values.vectors ?? process.env.KMIP_VECTORS ?? '../shared/kmip-vectors',
  );
  const outFile = path.resolve(repoRoot, values.out ?? 'conformance-tests/RESULTS.md');
  const jobs = Math.min(4, Math.max(1, Number(values.jobs) || 1));
  const timeoutMs = Math.max(100, Number(values.timeout) || 10_000);
  const deadline = started + Math.max(1, Number(values['max-minutes']) || 30) * 60_000;

  const files: Entry[] = [];
  for (const abs of listVectorFiles(vectorsRoot)) {
    const rel = path.relative(vectorsRoot, abs);
    const source = classifySource(rel);
    if (source === Source.Kmip4j) continue; // hex TTLV use cases, replayed by the unit tests
    if (values.filter && !rel.includes(values.filter)) continue;
    const result: FileResult = { path: rel, source, version: 'other', profile: profileOf(rel), steps: [] };
    let vf: VectorFile | undefined;
    try {
      vf = readVectorFile(abs);
      result.version = versionOf(vf.steps[0]?.request);
    } catch (e) {
      result.malformed = (e instanceof Error ? e.message : String(e)).replace(`${abs}: `, '');
    }
    if (values.version && result.version !== values.version) continue;
    if (vf) {
      const messages = vf.steps.flatMap((s) => (s.response ? [s.request, s.response] : [s.request]));
      result.roundTrip = roundTripMessages(messages, specDictionary);
    }
    files.push(vf ? { result, vf } : { result });
  }
  console.log(`conformance: ${files.length} vector files under ${vectorsRoot}`);

  const target = values.server
    ? await remoteTarget(values.server, values.ca, values.cert, values.key)
    : await startLocalServer();
  console.log(`conformance: server ${target.description}`);
  // A remote server cannot be renewed per series: the series then share it like every other file.
  const isolate = !values.shared && !values.server;
  const units = replayUnits(files, isolate);
  let isolatedFiles = 0;
  try {
    let next = 0;
    let done = 0;
    const replayEntry = async (entry: Entry, tls: TlsTarget, generated?: Set<string>): Promise<void> => {
      const { result, vf } = entry;
      if (vf === undefined) return;
      if (Date.now() > deadline) {
        notReplayed(result, vf, 'run time limit reached');
        return;
      }
      await replayFile(result, vf, tls, timeoutMs, generated);
      done++;
      if (values.verbose) {
        const ok = result.steps.filter((s) => s.outcome === 'pass').length;
        console.log(`${filePasses(result) ? 'PASS' : 'FAIL'} ${result.path} (${ok}/${result.steps.length})`);
      } else if (done % 100 === 0) {
        console.log(`conformance: ${done} files replayed`);
      }
    };
    const worker = async (): Promise<void> => {
      for (;;) {
        const unit = units[next++];
        if (unit === undefined) return;
        if (!unit.isolated) {
          for (const entry of unit.entries) await replayEntry(entry, target.tls);
          continue;
        }
        const own = await startLocalServer();
        const generated = new Set<string>();
        try {
          for (const entry of unit.entries) {
            isolatedFiles++;
            await replayEntry(entry, own.tls, generated);
          }
        } finally {
          await own.close();
        }
      }
    };
    await Promise.all(Array.from({ length: jobs }, worker));
  } finally {
    await target.close();
  }

  const results = files.map((f) => f.result);
  const markdown = renderResults(results, {
    generatedAt: new Date(),
    commit: gitCommit(),
    server:
      isolatedFiles > 0
        ? `${target.description}; the ${isolatedFiles} files of the series ${ISOLATED_SERIES.map((x) => x.name).join(', ')} on a fresh server per series and directory (lib/isolation.ts)`
        : target.description,
    vectorsRoot: path.relative(repoRoot, vectorsRoot),
    filter: values.filter,
    version: values.version,
    durationMs: Date.now() - started,
  });
  await writeFile(outFile, markdown);
  const t = totals(results);
  const roundTrips = results.filter((r) => r.roundTrip?.ok).length;
  console.log(`conformance: results written to ${path.relative(repoRoot, outFile)}`);
  console.log(`conformance: round trip ${roundTrips} of ${t.files} files`);
  console.log(
    `conformance: steps ${t.stepsPassing} of ${t.steps} pass (${t.stepsFailing} fail, ${t.stepsError} error)`,
  );
  console.log(`conformance: ${t.filesPassing} of ${t.files} pass`);
}

interface Entry {
  result: FileResult;
  vf?: VectorFile;
}

/** What one worker replays at a time: a single shared-server file, or a whole isolated series in order. */
interface Unit {
  isolated: boolean;
  entries: Entry[];
}

function replayUnits(files: readonly Entry[], isolate: boolean): Unit[] {
  const units: Unit[] = [];
  const groups = new Map<string, Unit>();
  for (const entry of files) {
    const key = isolate ? isolationGroup(entry.result.path) : undefined;
    if (key === undefined) {
      units.push({ isolated: false, entries: [entry] });
      continue;
    }
    let unit = groups.get(key);
    if (unit === undefined) {
      unit = { isolated: true, entries: [] };
      groups.set(key, unit);
      units.push(unit);
    }
    unit.entries.push(entry);
  }
  for (const unit of groups.values()) unit.entries.sort((a, b) => seriesOrder(a.result.path, b.result.path));
  return units;
}

async function replayFile(
  result: FileResult,
  vf: VectorFile,
  tls: TlsTarget,
  timeoutMs: number,
  generated?: Set<string>,
): Promise<void> {
  let conn: KmipConnection | undefined;
  try {
    conn = await KmipConnection.open(tls, timeoutMs);
  } catch (e) {
    notReplayed(result, vf, `cannot connect: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  const c = conn;
  try {
    result.steps = await replaySteps(vf.steps, (req) => c.exchange(req, timeoutMs), {
      dict: specDictionary,
      ...(generated ? { generated } : {}),
    });
  } finally {
    c.close();
  }
}

/** Every step of an unreplayed file counts as an error, so step totals stay comparable. */
function notReplayed(result: FileResult, vf: VectorFile, reason: string): void {
  result.notReplayed = reason;
  result.steps = vf.steps.map((step, i) => ({
    index: i + 1,
    operations: operationsOf(step),
    outcome: 'error',
    error: reason,
    info: [],
    rules: new Map(),
    substitutions: new Map(),
  }));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
