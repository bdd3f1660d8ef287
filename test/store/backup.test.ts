import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { expect } from 'chai';
import { type BackupProgress, exportStore, importStore } from '../../src/store/backup.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/store.js';
import type { AuditRecord, ObjectRecord } from '../../src/store/types.js';
import { expectSameRecord, makeRecord } from './contract.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function exportToString(store: SqliteStore, progress?: (p: BackupProgress) => void): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await exportStore(store, out, progress);
  out.end();
  return Buffer.concat(chunks).toString('utf8');
}

describe('store backup (logical export / import)', () => {
  let dir: string;
  let source: SqliteStore;
  let target: SqliteStore;
  let records: ObjectRecord[];
  let trail: AuditRecord[];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kmip-backup-'));
    source = await openSqliteStore(path.join(dir, 'a.db'));
    target = await openSqliteStore(path.join(dir, 'b.db'));
    records = Array.from({ length: 250 }, (_, i) =>
      makeRecord({
        names: [`n-${i}`, 'ключ'],
        objectGroups: i % 2 === 0 ? ['even'] : [],
        dates: { ActivationDate: i },
        custom: { 'x-i': [String(i)] },
        tombstoned: i % 10 === 0,
        sealed: i % 10 === 0 ? undefined : makeRecord().sealed,
        owner: i % 3 === 0 ? undefined : 'alice',
      }),
    );
    for (const r of records) await source.insert(r);
    // a non-trivial version
    const first = records[1];
    if (first !== undefined) {
      const v2 = { ...first, version: 2, state: 'Active' };
      await source.update(v2, 1);
      records[1] = v2;
    }
    trail = Array.from({ length: 30 }, (_, i) => ({
      at: 1_700_000_000_000 + i,
      actor: i % 2 === 0 ? 'CN=alice' : undefined,
      operation: 'Get',
      objectId: records[i]?.id,
      outcome: 'Success',
      detail: { purpose: `p${i}` },
    }));
    for (const a of trail) await source.appendAudit(a);
    await source.putKek({
      id: 'kek-1',
      masterKeyId: 'software:1',
      wrapped: new Uint8Array([1, 2, 3, 250]),
      createdAt: 1,
      active: true,
    });
  });
  afterEach(async () => {
    await source.close();
    await target.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('restores every record, KEK and audit entry equal, in order', async () => {
    const seen: BackupProgress[] = [];
    const text = await exportToString(source, (p) => seen.push(p));
    const lines = text.trim().split('\n');
    expect(JSON.parse(lines[0] ?? '{}')).to.include({
      type: 'header',
      format: 'kmip-server-store',
      version: 1,
    });
    expect(JSON.parse(lines.at(-1) ?? '{}')).to.deep.equal({
      type: 'end',
      counts: { keks: 1, objects: 250, audit: 30 },
    });
    expect(seen.at(-1)).to.deep.equal({ phase: 'audit', done: 30, total: 30 });

    const counts = await importStore(target, Readable.from([text]));
    expect(counts).to.deep.equal({ keks: 1, objects: 250, audit: 30 });
    const restored = await collect(target.iterate());
    expect(restored.map((r) => r.id)).to.deep.equal(records.map((r) => r.id));
    restored.forEach((r, i) => {
      const expected = records[i];
      if (expected !== undefined) expectSameRecord(r, expected);
    });
    expect((await collect(target.readAudit())).map(({ seq: _, ...a }) => a)).to.deep.equal(trail);
    expect(await target.listKeks()).to.deep.equal(await source.listKeks());
    expect(await target.locate({ objectGroup: 'even' })).to.deep.equal(
      await source.locate({ objectGroup: 'even' }),
    );
    // and the second export is identical apart from the timestamp in the header
    const again = await exportToString(target);
    expect(again.split('\n').slice(1)).to.deep.equal(text.split('\n').slice(1));
  });

  it('refuses a non-empty store', async () => {
    const text = await exportToString(source);
    try {
      await importStore(source, Readable.from([text]));
      expect.fail('imported');
    } catch (e) {
      expect(String(e)).to.match(/non-empty/);
    }
  });

  it('detects a truncated export', async () => {
    const text = await exportToString(source);
    const cut = text.split('\n').slice(0, 100).join('\n');
    try {
      await importStore(target, Readable.from([cut]));
      expect.fail('imported');
    } catch (e) {
      expect(String(e)).to.match(/truncated/);
    }
  });

  it('refuses something that is not an export', async () => {
    try {
      await importStore(target, Readable.from(['{"hello":1}\n']));
      expect.fail('imported');
    } catch (e) {
      expect(String(e)).to.match(/not a kmip-server store export/);
    }
  });

  it('writes no key bytes in clear: byte fields appear only as the stored ciphertext', async () => {
    const text = await exportToString(source);
    const obj = JSON.parse(text.split('\n')[3] ?? '{}') as { sealed?: { ciphertext: string } };
    const r = records[1];
    expect(obj.sealed?.ciphertext).to.equal(Buffer.from(r?.sealed?.ciphertext ?? []).toString('base64'));
  });
});
