/**
 * The audit trail over the MongoDB store's batched audit appends (FerretDB):
 * two nodes on one database writing their segments at once, a node that dies
 * between reserving seqs and writing them, and one that dies part-way through
 * a batch — `audit verify` must accept all three.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { MongoClient } from 'mongodb';
import { AuditKind, AuditTrail, verifyAuditTrail } from '../../src/audit/index.js';
import { openSoftwareProvider } from '../../src/hsm/index.js';
import type { MasterKeyProvider } from '../../src/hsm/types.js';
import { silentLogger } from '../../src/log.js';
import { openMongoStore } from '../../src/store/mongo/index.js';
import { Sealer } from '../../src/store/sealing.js';
import type { AuditRecord, ObjectStore, WriteOp } from '../../src/store/types.js';
import { type FerretDb, startFerretDb } from '../helpers/ferretdb.js';

const item = (node: string, i: number): AuditRecord => ({
  at: Date.now(),
  actor: `client-${i % 3}`,
  operation: 'Create',
  objectId: `${node}-key-${i}`,
  outcome: 'Success',
  detail: { kind: AuditKind.Item, tenant: 'default', purpose: `p${i}` },
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Appends `count` records in bursts of `burst` (one event-loop turn each: one store batch). */
async function appendBursts(trail: AuditTrail, node: string, count: number, burst: number): Promise<void> {
  for (let i = 0; i < count; i += burst) {
    await Promise.all(
      Array.from({ length: Math.min(burst, count - i) }, (_, k) => trail.append(item(node, i + k))),
    );
  }
}

describe('store/mongo audit trail (FerretDB)', function () {
  this.timeout(120_000);
  let ferret: FerretDb;
  let dir: string;
  let provider: MasterKeyProvider;
  let dbCounter = 0;

  before(async () => {
    ferret = await startFerretDb();
    dir = await mkdtemp(path.join(tmpdir(), 'kmip-mongo-audit-'));
    provider = await openSoftwareProvider(path.join(dir, 'master.key'), { log: silentLogger });
  });
  after(async () => {
    await provider?.close();
    await ferret?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Two nodes on one fresh database, each with its Sealer (opened one after the other: one KEK). */
  async function twoNodes(): Promise<{
    database: string;
    nodes: { store: ObjectStore; sealer: Sealer }[];
    close(): Promise<void>;
  }> {
    const database = `kmip_audit_${process.pid}_${++dbCounter}`;
    const nodes: { store: ObjectStore; sealer: Sealer }[] = [];
    for (let i = 0; i < 2; i++) {
      const store = await openMongoStore(ferret.uri, { database, log: silentLogger });
      nodes.push({ store, sealer: await Sealer.open(store, provider, { settleMs: 0 }) });
    }
    return {
      database,
      nodes,
      async close() {
        for (const n of nodes) {
          n.sealer.close();
          await n.store.close();
        }
      },
    };
  }

  it('two nodes appending at once: unique seqs, and verify accepts both segments', async () => {
    const env = await twoNodes();
    try {
      const [a, b] = env.nodes;
      if (a === undefined || b === undefined) throw new Error('no nodes');
      const ta = await AuditTrail.open({ store: a.store, sealer: a.sealer, sealEveryRecords: 7 });
      const tb = await AuditTrail.open({ store: b.store, sealer: b.sealer, sealEveryRecords: 5 });
      await Promise.all([appendBursts(ta, 'a', 40, 6), appendBursts(tb, 'b', 40, 4)]);
      await Promise.all([ta.close(), tb.close()]);

      const all = await collect(a.store.readAudit());
      const seqs = all.map((r) => r.seq);
      expect(new Set(seqs).size).to.equal(seqs.length);
      expect(seqs).to.deep.equal([...seqs].sort((x, y) => x - y));
      const report = await verifyAuditTrail(b.store, { sealer: b.sealer, strict: true });
      expect(report.errors).to.deep.equal([]);
      expect(report.records).to.equal(all.length);
      expect(report.segments.map((s) => s.chain).sort()).to.deep.equal([ta.chain, tb.chain].sort());
      expect(report.segments.every((s) => s.final)).to.equal(true);
    } finally {
      await env.close();
    }
  });

  it('seqs reserved but never written, and a batch cut short by a crash, are no tampering', async () => {
    const env = await twoNodes();
    const raw = new MongoClient(ferret.uri);
    try {
      await raw.connect();
      const [a, b] = env.nodes;
      if (a === undefined || b === undefined) throw new Error('no nodes');
      const ta = await AuditTrail.open({ store: a.store, sealer: a.sealer, sealEveryRecords: 100 });
      await appendBursts(ta, 'a', 6, 3);
      // another node reserved seqs and died before writing them: a gap
      await raw
        .db(env.database)
        .collection<{ _id: string; seq: number }>('counters')
        .updateOne({ _id: 'audit' }, { $inc: { seq: 5 } });
      await appendBursts(ta, 'a', 6, 3);
      await ta.close();

      // a node dying part-way through a batch: the first two records written, the rest lost
      let cut = false;
      const atomic = async (ops: readonly WriteOp[]): Promise<void> => {
        if (ops.length < 3 || cut) return b.store.atomic(ops);
        cut = true;
        await b.store.atomic(ops.slice(0, 2));
        throw new Error('node died');
      };
      const crashing = new Proxy(b.store, {
        get(target, prop) {
          if (prop === 'atomic') return atomic;
          const v: unknown = Reflect.get(target, prop, target);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      const tb = await AuditTrail.open({ store: crashing, sealer: b.sealer, sealEveryRecords: 100 });
      const failed = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => tb.append(item('b', i))));
      expect(failed.every((r) => r.status === 'rejected')).to.equal(true);
      expect(cut).to.equal(true);
      // the node's next segment links to the last record stored
      const tc = await AuditTrail.open({ store: b.store, sealer: b.sealer });
      await appendBursts(tc, 'c', 5, 2);
      await tc.close();

      const report = await verifyAuditTrail(a.store, { sealer: a.sealer });
      expect(report.errors).to.deep.equal([]);
      expect(report.ok).to.equal(true);
      // the cut segment is reported as unsealed (truncation cannot be told from a crash), nothing more
      expect(report.warnings.map((w) => w.chain)).to.include(tb.chain);
      const seqs = (await collect(a.store.readAudit())).map((r) => r.seq);
      expect(new Set(seqs).size).to.equal(seqs.length);
      await tb.close().catch(() => undefined);
    } finally {
      await raw.close();
      await env.close();
    }
  });
});
