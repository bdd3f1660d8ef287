/**
 * The audit trail on the MongoDB store (FerretDB): writes are serialized there
 * (the store numbers records as they arrive), a new segment links to the last
 * visible record (MongoStore.lastAudit), and verify catches an edited document.
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
import { openStore } from '../../src/store/index.js';
import { Sealer } from '../../src/store/sealing.js';
import type { AuditRecord, ObjectStore } from '../../src/store/types.js';
import { type FerretDb, startFerretDb } from '../helpers/ferretdb.js';

const record = (i: number): AuditRecord => ({
  at: Date.now(),
  actor: `client-${i % 3}`,
  operation: 'Get',
  objectId: `key-${i}`,
  outcome: 'Success',
  detail: { kind: AuditKind.Item, tenant: 'default', purpose: `p${i}` },
});

describe('audit trail on MongoDB (FerretDB)', function () {
  this.timeout(120_000);
  let ferret: FerretDb;
  let dir: string;
  let provider: MasterKeyProvider;
  let store: ObjectStore;
  let sealer: Sealer;
  const database = 'audit_test';

  before(async () => {
    ferret = await startFerretDb();
    dir = await mkdtemp(path.join(tmpdir(), 'kmip-audit-mongo-'));
    provider = await openSoftwareProvider(path.join(dir, 'master.key'), { log: silentLogger });
    store = await openStore(ferret.uri, { database, log: silentLogger });
    sealer = await Sealer.open(store, provider, { settleMs: 0 });
  });
  after(async () => {
    sealer?.close();
    await store?.close();
    await provider?.close();
    await ferret?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('chains concurrent appends in store order, links a second segment, and catches an edit', async () => {
    const a = await AuditTrail.open({ store, sealer, sealEveryRecords: 4 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => a.append(record(i))));
    await a.close();
    const b = await AuditTrail.open({ store, sealer, sealEveryRecords: 4 });
    await Promise.all(Array.from({ length: 3 }, (_, i) => b.append(record(100 + i))));
    await b.close();

    const ok = await verifyAuditTrail(store, { sealer, strict: true });
    expect(ok.errors).to.deep.equal([]);
    expect(ok.segments.map((s) => s.records)).to.deep.equal([1 + 10 + 1 + 1, 1 + 3 + 1]);
    expect(ok.segments.every((s) => s.final)).to.equal(true);
    const last = await store.lastAudit?.();
    expect(last?.detail.chain).to.equal(b.chain);
    expect(last?.detail.kind).to.equal(AuditKind.Seal);

    const client = new MongoClient(ferret.uri);
    try {
      await client.connect();
      const coll = client.db(database).collection('audit');
      const victim = await coll.findOne({ objectId: 'key-5' });
      await coll.updateOne({ objectId: 'key-5' }, { $set: { 'detail.purpose': 'forged' } });
      const bad = await verifyAuditTrail(store, { sealer });
      expect(bad.ok).to.equal(false);
      expect(bad.errors[0]?.seq).to.equal(victim?.seq);
      expect(bad.errors[0]?.message).to.match(/was altered/);
    } finally {
      await client.close();
    }
  });

  it('gathers what arrives while a write is in flight into the next write', async () => {
    let writes = 0;
    // the real store; only its atomic() calls are counted
    const counting = new Proxy(store, {
      get(target, prop, receiver) {
        const v: unknown = Reflect.get(target, prop, receiver);
        if (prop === 'atomic' && typeof v === 'function')
          return (...args: unknown[]) => {
            writes++;
            return (v as (...a: unknown[]) => unknown).apply(target, args);
          };
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const t = await AuditTrail.open({ store: counting, sealer, sealEveryRecords: 1000 });
    const before = writes;
    const appended: Promise<void>[] = [];
    // 60 records over 60 event-loop turns, while the writes take FerretDB round trips
    for (let i = 0; i < 60; i++) {
      appended.push(t.append(record(200 + i)));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(appended);
    expect(writes - before)
      .to.be.greaterThan(0)
      .and.lessThan(30);
    await t.close();
    // (the previous test forged a record of an earlier segment on purpose)
    const ok = await verifyAuditTrail(store, { sealer, strict: true });
    expect(ok.errors.filter((e) => e.chain === t.chain)).to.deep.equal([]);
    const seg = ok.segments.find((x) => x.chain === t.chain);
    expect(seg?.records).to.equal(1 + 60 + 1);
    expect(seg?.final).to.equal(true);
  });
});
