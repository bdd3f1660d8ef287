import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { encodeBatch } from '../../src/store/sqlite/writer.js';
import { type AuditRecord, storeErrorCode } from '../../src/store/types.js';
import { makeRecord } from './contract.js';
import type { RawAudit } from './sqlite-fixtures.js';

function audit(n: number, detail: Record<string, string>, over: Partial<AuditRecord> = {}): AuditRecord {
  return {
    at: 1_000 + n,
    actor: `actor-${n}`,
    operation: 'Get',
    objectId: `obj-${n}`,
    outcome: 'Success',
    detail,
    ...over,
  };
}

function protoDetail(): Record<string, string> {
  // an own `__proto__` key (copyDetail in src/audit/chain.ts keeps such keys)
  const d: Record<string, string> = { a: '1' };
  Object.defineProperty(d, '__proto__', { value: 'x', enumerable: true, writable: true, configurable: true });
  return d;
}

const DETAILS: Record<string, string>[] = [
  {},
  { quote: 'say "hi"', backslash: 'C:\\keys\\k1', newline: 'a\nb\tc\u0000d' },
  { unicode: 'clé 🔑 鍵 Ωμέγα', lone: '\ud800 high, \udfff low', 'key "with" quotes': 'v' },
  { 10: 'ten', 2: 'two', b: 'b', a: 'a' },
  protoDetail(),
  { kind: 'item', tenant: 'default', hash: 'f'.repeat(64), empty: '' },
];

describe('sqlite store writer hand-off', () => {
  it('encodes audit-only jobs flat and keeps every other job as it is', () => {
    const rec = makeRecord();
    const a1 = audit(1, { x: 'y' });
    const a2 = audit(2, {}, { actor: undefined, objectId: undefined });
    const mixed = {
      kind: 'atomic',
      ops: [
        { kind: 'insert', record: rec },
        { kind: 'audit', record: a1 },
      ],
    } as const;
    const batch = encodeBatch([
      { kind: 'audit', record: a1 },
      { kind: 'insert', record: rec },
      { kind: 'atomic', ops: [] },
      {
        kind: 'atomic',
        ops: [
          { kind: 'audit', record: a1 },
          { kind: 'audit', record: a2 },
        ],
      },
      mixed,
    ]);
    expect(batch.jobs).to.deep.equal([1, { kind: 'insert', record: rec }, 0, 2, mixed]);
    expect(batch.audit).to.deep.equal([
      ...[1001, 'actor-1', 'Get', 'obj-1', 'Success', { x: 'y' }],
      ...[1001, 'actor-1', 'Get', 'obj-1', 'Success', { x: 'y' }],
      ...[1002, null, 'Get', null, 'Success', {}],
    ]);
  });

  for (const writer of ['thread', 'inline'] as const) {
    describe(`${writer} writer`, () => {
      let dir: string;
      beforeEach(async () => {
        dir = await mkdtemp(path.join(tmpdir(), 'kmip-sqlite-writer-'));
      });
      afterEach(async () => {
        await rm(dir, { recursive: true, force: true });
      });

      it('stores audit details byte-identically, in order, each job on its own', async () => {
        const store = await openSqliteStore(path.join(dir, 'kmip.db'), { writer });
        const dup = makeRecord();
        await store.insert(dup);
        const expected: AuditRecord[] = [];
        const results: Promise<void>[] = [];
        // one tick: every job below lands in the same batch
        DETAILS.forEach((d, i) => {
          const r = audit(i, d, i === 0 ? { actor: undefined, objectId: undefined } : {});
          expected.push(r);
          results.push(store.appendAudit(r));
        });
        const group = [audit(100, { g: '1' }), audit(101, { g: '2', s: '€' })];
        expected.push(...group);
        results.push(store.atomic(group.map((record) => ({ kind: 'audit', record }))));
        // fails as a whole (its second record has no operation): its first record is not stored
        const broken = audit(200, { bad: 'yes' });
        const missingOp = { ...audit(201, {}), operation: undefined } as unknown as AuditRecord;
        results.push(
          store.atomic([
            { kind: 'audit', record: broken },
            { kind: 'audit', record: missingOp },
          ]),
        );
        results.push(store.atomic([]));
        // an object job that fails between audit jobs
        results.push(store.insert(dup));
        const mixedRec = makeRecord();
        const mixedAudit = audit(300, { mixed: 'ja "quoted"' });
        expected.push(mixedAudit);
        results.push(
          store.atomic([
            { kind: 'insert', record: mixedRec },
            { kind: 'audit', record: mixedAudit },
          ]),
        );
        const last = audit(400, { last: 'ü' });
        expected.push(last);
        results.push(store.appendAudit(last));

        const settled = await Promise.allSettled(results);
        const n = DETAILS.length;
        expect(settled.map((s) => s.status)).to.deep.equal([
          ...DETAILS.map(() => 'fulfilled'),
          'fulfilled',
          'rejected',
          'fulfilled',
          'rejected',
          'fulfilled',
          'fulfilled',
        ]);
        const dupFailure = settled[n + 3];
        expect(dupFailure?.status === 'rejected' ? storeErrorCode(dupFailure.reason) : undefined).to.equal(
          'ERR_STORE_DUPLICATE_ID',
        );
        expect(await store.get(mixedRec.id)).to.not.equal(undefined);
        expect(store.stats.commits).to.equal(2);
        const auditFile = store.auditFile;
        await store.close();

        const db = new Database(auditFile, { readonly: true });
        try {
          const rows = db
            .prepare<[], RawAudit>(
              'SELECT at, actor, operation, object_id, outcome, detail FROM audit ORDER BY seq',
            )
            .all();
          expect(rows).to.deep.equal(
            expected.map((r) => ({
              at: r.at,
              actor: r.actor ?? null,
              operation: r.operation,
              object_id: r.objectId ?? null,
              outcome: r.outcome,
              detail: JSON.stringify(r.detail),
            })),
          );
          expect(rows[4]?.detail).to.equal('{"a":"1","__proto__":"x"}');
        } finally {
          db.close();
        }
      });
    });
  }
});
