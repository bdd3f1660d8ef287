/**
 * ObjectStore benchmark (SQLite): `tsx bench/store.ts [N] [--samples S] [--keep DIR]`.
 *
 * 1. Durable Create throughput: 32 concurrent writers insert N objects
 *    (each insert resolves only after its group commit is fsynced).
 * 2. Get latency p50/p99 over S random ids (default 20,000).
 * 3. Locate by Name latency p50/p99 over S random names.
 *
 * Records look like a 256-bit AES key: two names, a group, three dates, a
 * custom attribute, ~180 bytes of attribute TTLV and a 60-byte sealed blob.
 * Prints a markdown row and JSON.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import type { ObjectRecord } from '../src/store/types.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 100_000);
const SAMPLES = Number(flag('--samples') ?? 20_000);
const WRITERS = 32;
const keep = flag('--keep');

function record(i: number): ObjectRecord {
  const now = Date.now();
  return {
    id: randomUUID(),
    version: 1,
    objectType: 'SymmetricKey',
    state: 'Active',
    owner: `tenant-${i % 50}`,
    names: [`key-${i}`, `alias-${i}`],
    objectGroups: [`group-${i % 100}`],
    algorithm: 'AES',
    length: 256,
    dates: { InitialDate: Math.floor(now / 1000), ActivationDate: Math.floor(now / 1000), LastChangeDate: 0 },
    custom: { 'x-app': [`app-${i % 1000}`] },
    attributes: randomBytes(180),
    sealed: { kekId: 'kek-1', nonce: randomBytes(12), ciphertext: randomBytes(48) },
    createdAt: now,
    updatedAt: now,
    tombstoned: false,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function latencies(
  count: number,
  op: (i: number) => Promise<unknown>,
): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let k = 0; k < count; k++) {
    const i = Math.floor(Math.random() * N);
    const t = performance.now();
    await op(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

const dir = keep ?? (await mkdtemp(path.join(tmpdir(), 'kmip-bench-store-')));
const file = path.join(dir, 'kmip.db');
const store = await openSqliteStore(file);
const ids: string[] = new Array(N);

let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: WRITERS }, async () => {
    for (let i = next++; i < N; i = next++) {
      const r = record(i);
      ids[i] = r.id;
      await store.insert(r);
    }
  }),
);
const insertSeconds = (performance.now() - t0) / 1000;
const insertRate = N / insertSeconds;

const get = await latencies(SAMPLES, async (i) => {
  const r = await store.get(ids[i] ?? '');
  if (r === undefined) throw new Error('missing');
});
const locate = await latencies(SAMPLES, async (i) => {
  const found = await store.locate({ name: `key-${i}` });
  if (found.length !== 1) throw new Error('not found');
});
const { commits } = store.stats;
await store.close();
const size = (await stat(file)).size;
const rssMb = process.memoryUsage().rss / 2 ** 20;
if (keep === undefined) await rm(dir, { recursive: true, force: true });

const f = (x: number, d = 2) => x.toFixed(d);
console.log(
  `| SQLite | ${N.toLocaleString('en')} | ${Math.round(insertRate).toLocaleString('en')} | ${Math.round(N / commits)} | ${f(get.p50, 3)} | ${f(get.p99, 3)} | ${f(locate.p50, 3)} | ${f(locate.p99, 3)} | ${f(size / 2 ** 20, 0)} | ${f(rssMb, 0)} |`,
);
console.log(
  JSON.stringify({
    backend: 'sqlite',
    objects: N,
    writers: WRITERS,
    insertPerSecond: insertRate,
    opsPerCommit: N / commits,
    getMs: get,
    locateByNameMs: locate,
    fileBytes: size,
    rssMb,
    cpus: cpus().length,
    node: process.version,
  }),
);
