/**
 * Audit record cost: `npx tsx bench/audit.ts [N] [--batch B]`.
 *
 * Prints µs per record of each step of a KMIP batch item's audit record
 * (src/audit): itemRecord, canonicalForm, recordHash, withHash, and a full
 * AuditTrail.append of N records (B submitted per event-loop turn, as the
 * executor does under load) against a store that does nothing (the audit
 * module's own cost) and a real SQLite store in a temporary directory (adds
 * the store's main-thread cost: the postMessage to its writer thread). For the
 * trail runs, "main thread" is event-loop active time per record
 * (performance.eventLoopUtilization), i.e. what the server's main thread pays.
 * Each figure is the best of 5 rounds (the machine may be shared).
 */

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { canonicalForm, recordHash, withHash } from '../src/audit/chain.js';
import { itemRecord } from '../src/audit/records.js';
import { type AuditKeySealer, AuditTrail } from '../src/audit/trail.js';
import type { ItemEvent } from '../src/kmip/server/executor.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import type { AuditRecord, ObjectStore } from '../src/store/types.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const N = Math.min(1_000_000, Number(args.find((a) => /^\d+$/.test(a)) ?? 100_000));
const BATCH = Math.max(1, Number(flag('--batch') ?? 64));
const MICRO = 200_000;

const event: ItemEvent = {
  at: new Date(),
  client: {
    commonName: 'client.example.com',
    remoteAddress: '127.0.0.1',
    certificateFingerprint:
      'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89',
  },
  principal: { identity: 'client.example.com', tenant: 'default', roles: [], groups: [] },
  version: '1.4',
  operation: 0x0a,
  clientCorrelationValue: undefined,
  objectIds: ['8f14e45f-ceea-467e-a8f6-3c2b0b9d6a11'],
  resultStatus: 0,
  resultReason: undefined,
  index: 0,
};

/** A stored item record: itemRecord's detail plus the chain fields. */
function chained(): AuditRecord {
  const r = itemRecord(event, undefined);
  return withHash({
    ...r,
    detail: { ...r.detail, chain: 'b7e4c8a2-5f0d-4c4e-9a57-3d1f6e2b9c80', n: '12345', prev: 'ab'.repeat(32) },
  });
}

/** The best of ROUNDS rounds: the machine is shared, the minimum is the code's own cost. */
const ROUNDS = 5;

function micro(name: string, count: number, fn: () => unknown): void {
  let sink: unknown;
  for (let i = 0; i < Math.min(count, 20_000); i++) sink = fn();
  let best = Number.POSITIVE_INFINITY;
  const per = Math.ceil(count / ROUNDS);
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < per; i++) sink = fn();
    best = Math.min(best, ((performance.now() - t0) * 1000) / per);
  }
  if (sink === Symbol.for('never')) console.log(sink);
  console.log(`${name.padEnd(28)} ${best.toFixed(3).padStart(8)} µs/record`);
}

const sealer: AuditKeySealer = {
  seal: (_id, _v, plaintext) =>
    Promise.resolve({ kekId: 'bench', nonce: randomBytes(12), ciphertext: Buffer.from(plaintext) }),
  unseal: (_id, _v, blob) => Promise.resolve(Buffer.from(blob.ciphertext)),
};

/** A store whose writes cost nothing: what is left is the audit module's own cost. */
function nullStore(): ObjectStore {
  const done = (): Promise<void> => Promise.resolve();
  return {
    kind: 'sqlite',
    appendAudit: done,
    atomic: done,
    readAudit: async function* () {},
    lastAudit: () => Promise.resolve(undefined),
  } as unknown as ObjectStore;
}

async function trailRun(name: string, store: ObjectStore): Promise<void> {
  const trail = await AuditTrail.open({ store, sealer, sealEveryRecords: 1000, sealIntervalMs: 60_000 });
  const base = itemRecord(event, undefined);
  const run = async (count: number): Promise<void> => {
    for (let done = 0; done < count; done += BATCH) {
      const ps: Promise<void>[] = [];
      for (let i = 0; i < BATCH && done + i < count; i++) ps.push(trail.append(base));
      await Promise.all(ps);
    }
  };
  await run(Math.min(N, 5_000));
  let main = Number.POSITIVE_INFINITY;
  let wall = Number.POSITIVE_INFINITY;
  const per = Math.ceil(N / ROUNDS);
  for (let r = 0; r < ROUNDS; r++) {
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    await run(per);
    wall = Math.min(wall, ((performance.now() - t0) * 1000) / per);
    main = Math.min(main, (performance.eventLoopUtilization(elu0).active * 1000) / per);
  }
  await trail.close();
  console.log(
    `${name.padEnd(28)} ${main.toFixed(3).padStart(8)} µs/record main thread, ${wall.toFixed(3)} µs/record wall`,
  );
}

async function main(): Promise<void> {
  console.log(`node ${process.version}; trail: ${N} records, ${BATCH} per turn`);
  const rec = chained();
  micro('itemRecord', MICRO, () => itemRecord(event, undefined));
  micro('canonicalForm', MICRO, () => canonicalForm(rec, ['hash']));
  micro('recordHash', MICRO, () => recordHash(rec));
  micro('withHash', MICRO, () => withHash(rec));
  await trailRun('trail.append (null store)', nullStore());
  const dir = await mkdtemp(path.join(tmpdir(), 'kmip-bench-audit-'));
  try {
    const store = await openSqliteStore(path.join(dir, 'kmip.db'));
    try {
      await trailRun('trail.append (SQLite)', store);
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
