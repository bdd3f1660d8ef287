import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { expect } from 'chai';
import { openSoftwareProvider } from '../../src/hsm/software/index.js';
import type { MasterKeyProvider } from '../../src/hsm/types.js';
import { silentLogger } from '../../src/log.js';
import {
  BackupFormatError,
  BackupIncompleteError,
  type BackupProgress,
  exportStore,
  type ImportOptions,
  importStore,
  RestoreError,
} from '../../src/store/backup.js';
import { openMongoStore } from '../../src/store/mongo/index.js';
import { Sealer } from '../../src/store/sealing.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/store.js';
import {
  type AuditRecord,
  type ObjectRecord,
  type ObjectStore,
  StoreUnavailableError,
  type WriteOp,
} from '../../src/store/types.js';
import { startFerretDb } from '../helpers/ferretdb.js';
import { expectSameRecord, makeRecord } from './contract.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function exportToString(
  store: ObjectStore,
  provider: MasterKeyProvider,
  progress?: (p: BackupProgress) => void,
): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await exportStore(store, out, { provider, ...(progress === undefined ? {} : { progress }) });
  out.end();
  return Buffer.concat(chunks).toString('utf8');
}

/** `text` in chunks of 1000 bytes, so that lines straddle chunks */
const fromText = (text: string) => () => {
  const b = Buffer.from(text, 'utf8');
  return Readable.from(
    Array.from({ length: Math.ceil(b.length / 1000) }, (_, i) => b.subarray(i * 1000, (i + 1) * 1000)),
  );
};

async function expectEmpty(store: ObjectStore): Promise<void> {
  expect(await store.count({ includeTombstoned: true }), 'objects').to.equal(0);
  expect(await store.listKeks(), 'KEKs').to.deep.equal([]);
  expect(await collect(store.readAudit()), 'audit').to.deep.equal([]);
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(Error);
    return e as Error;
  }
  return expect.fail('resolved');
}

/** The store with one method replaced. */
function hooked<K extends keyof ObjectStore>(store: ObjectStore, name: K, fn: ObjectStore[K]): ObjectStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === name) return fn;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

type Json = Record<string, unknown>;
const lines = (text: string) => text.split('\n').slice(0, -1);
const join = (ls: readonly string[]) => `${ls.join('\n')}\n`;
/** `text` with the JSON of each line passed through `edit` */
function editLines(text: string, edit: (j: Json, i: number, all: Json[]) => Json | undefined): string {
  const all = lines(text).map((l) => JSON.parse(l) as Json);
  const out: string[] = [];
  all.forEach((j, i) => {
    const e = edit(j, i, all);
    if (e !== undefined) out.push(JSON.stringify(e));
  });
  return join(out);
}

describe('store backup (logical export / import)', () => {
  let dir: string;
  let provider: MasterKeyProvider;
  let source: SqliteStore;
  let target: SqliteStore;
  let records: ObjectRecord[];
  let trail: AuditRecord[];

  // One source for the suite (no test changes it); a fresh target per test. The
  // writer thread costs a second to start under tsx: targets write inline.
  let targets = 0;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kmip-backup-'));
    provider = await openSoftwareProvider(path.join(dir, 'master.key'), { log: silentLogger });
    source = await openSqliteStore(path.join(dir, 'a.db'));
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
    for (let i = 0; i < records.length; i += 50)
      await source.atomic(records.slice(i, i + 50).map((record): WriteOp => ({ kind: 'insert', record })));
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
    await source.atomic(trail.map((record): WriteOp => ({ kind: 'audit', record })));
    await source.putKek({
      id: 'kek-1',
      masterKeyId: 'software:1',
      wrapped: new Uint8Array([1, 2, 3, 250]),
      createdAt: 1,
      active: true,
    });
  });
  after(async () => {
    await source.close();
    await provider.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    target = await openSqliteStore(path.join(dir, `target-${++targets}.db`), { writer: 'inline' });
  });
  afterEach(async () => target.close());

  const restore = (store: ObjectStore, text: string, opts: Partial<ImportOptions> = {}) =>
    importStore(store, fromText(text), { provider, ...opts });

  it('restores every record, KEK and audit entry equal, in order', async () => {
    const seen: BackupProgress[] = [];
    const text = await exportToString(source, provider, (p) => seen.push(p));
    const ls = lines(text);
    expect(JSON.parse(ls[0] ?? '{}')).to.include({ type: 'header', format: 'kmip-server-store', version: 2 });
    const end = JSON.parse(ls.at(-1) ?? '{}') as Json;
    expect(end).to.have.keys('type', 'counts', 'mac');
    expect(end).to.deep.include({ type: 'end', counts: { keks: 1, objects: 250, audit: 30 } });
    expect(seen).to.deep.include({ phase: 'audit', done: 30, total: 30 });
    expect(seen.at(-1)).to.deep.equal({ phase: 'keks', done: 1, total: 1 });

    const progress: BackupProgress[] = [];
    const counts = await restore(target, text, { progress: (p) => progress.push(p) });
    expect(counts).to.deep.equal({ keks: 1, objects: 250, audit: 30 });
    // the whole file was verified before the first write
    const firstWrite = progress.findIndex((p) => p.phase !== 'verify');
    expect(progress.slice(0, firstWrite).at(-1)).to.deep.equal({ phase: 'verify', done: 281, total: 281 });
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
    // the second export holds the same records; header (time, MAC key) and MAC differ
    const again = await exportToString(target, provider);
    expect(lines(again).slice(1, -1)).to.deep.equal(ls.slice(1, -1));
  });

  it('refuses a non-empty store', async () => {
    const text = await exportToString(source, provider);
    const e = await rejection(restore(source, text));
    expect(e).to.be.instanceOf(BackupFormatError);
    expect(e.message).to.match(/non-empty/);
  });

  it('refuses something that is not an export, writing nothing', async () => {
    for (const text of ['{"hello":1}\n', '', 'not json\n', '[]\n']) {
      const e = await rejection(restore(target, text));
      expect(e, text).to.be.instanceOf(BackupFormatError);
      expect(e.message).to.match(/not a kmip-server store export|not JSON|not an object/);
    }
    await expectEmpty(target);
  });

  it('writes no key bytes in clear: byte fields are the stored ciphertext, the MAC key only wrapped', async () => {
    const text = await exportToString(source, provider);
    const ls = lines(text);
    const obj = JSON.parse(ls[2] ?? '{}') as { id: string; sealed?: { ciphertext: string } };
    const r = records[1];
    expect(obj.id).to.equal(r?.id);
    expect(obj.sealed?.ciphertext).to.equal(Buffer.from(r?.sealed?.ciphertext ?? []).toString('base64'));
    const header = JSON.parse(ls[0] ?? '{}') as {
      auth: { alg: string; masterKeyId: string; wrappedKey: string };
    };
    expect(header.auth.alg).to.equal('HMAC-SHA256');
    expect(header.auth.masterKeyId).to.equal(provider.currentKeyId);
    const macKey = Buffer.from(
      await provider.unwrap(header.auth.masterKeyId, Buffer.from(header.auth.wrappedKey, 'base64')),
    );
    expect(macKey).to.have.length(32);
    for (const enc of ['base64', 'hex', 'base64url'] as const)
      expect(text).to.not.contain(macKey.toString(enc));
  });

  describe('refuses a tampered or damaged export, writing nothing', () => {
    const objectLine = (j: Json) => j.type === 'object' && j.sealed !== null && j.tombstoned === false;
    const cases: Record<string, (text: string) => string> = {
      'a flipped ciphertext bit': (text) => {
        let done = false;
        return editLines(text, (j) => {
          if (done || !objectLine(j)) return j;
          done = true;
          const sealed = j.sealed as Json;
          const ct = Buffer.from(String(sealed.ciphertext), 'base64');
          ct[3] = (ct[3] ?? 0) ^ 0x01;
          return { ...j, sealed: { ...sealed, ciphertext: ct.toString('base64') } };
        });
      },
      'a changed owner': (text) => editLines(text, (j, i) => (i === 5 ? { ...j, owner: 'CN=mallory' } : j)),
      'tombstoned set': (text) => editLines(text, (j, i) => (i === 6 ? { ...j, tombstoned: true } : j)),
      'an object line deleted, header and end counts fixed': (text) =>
        editLines(text, (j, i) => {
          if (i === 7) return undefined;
          if (j.type === 'header' || j.type === 'end') {
            const c = j.counts as Record<string, number>;
            return { ...j, counts: { ...c, objects: (c.objects ?? 0) - 1 } };
          }
          return j;
        }),
      'two object lines swapped': (text) => {
        const ls = lines(text);
        [ls[3], ls[4]] = [ls[4] ?? '', ls[3] ?? ''];
        return join(ls);
      },
      'an audit record added': (text) => {
        const ls = lines(text);
        const audit = ls.findIndex((l) => l.startsWith('{"type":"audit"'));
        ls.splice(audit, 0, ls[audit] ?? '');
        return editLines(join(ls), (j) =>
          j.type === 'end' ? { ...j, counts: { ...(j.counts as Json), audit: 31 } } : j,
        );
      },
      'the MAC of another export': (text) => text, // replaced in the test
      'truncated between lines': (text) => join(lines(text).slice(0, 100)),
      'truncated inside a line': (text) => text.slice(0, Math.floor(text.length / 2)),
      'truncated inside the end record': (text) => text.slice(0, text.length - 10),
      'data after the end record': (text) => `${text}${lines(text)[3]}\n`,
      'a second header': (text) => {
        const ls = lines(text);
        ls.splice(2, 0, ls[0] ?? '');
        return join(ls);
      },
      'an end record without a MAC': (text) =>
        editLines(text, (j) => (j.type === 'end' ? { type: 'end', counts: j.counts } : j)),
      'the authentication removed from the header': (text) =>
        editLines(text, (j) => (j.type === 'header' ? { ...j, auth: undefined } : j)),
      'the KEK line deleted, counts fixed': (text) =>
        editLines(text, (j) => {
          if (j.type === 'kek') return undefined;
          if (j.type === 'end') return { ...j, counts: { ...(j.counts as Json), keks: 0 } };
          return j;
        }),
    };
    /** why each is refused; anything not named here fails authentication */
    const why: Record<string, RegExp> = {
      'truncated between lines': /truncated \(no end record\)/,
      'truncated inside a line': /truncated \(it ends inside line \d+\)/,
      'truncated inside the end record': /truncated \(it ends inside line \d+\)/,
      'data after the end record': /data after the end record/,
      'a second header': /a second header/,
      'an end record without a MAC': /mac is not base64/,
      'the authentication removed from the header': /auth is not an object/,
    };
    for (const [name, tamper] of Object.entries(cases)) {
      it(name, async () => {
        const text = await exportToString(source, provider);
        let bad = tamper(text);
        if (name === 'the MAC of another export') {
          const other = lines(await exportToString(source, provider));
          bad = join([...lines(text).slice(0, -1), other.at(-1) ?? '']);
        }
        expect(bad).to.not.equal(text);
        const e = await rejection(restore(target, bad));
        expect(e).to.be.instanceOf(BackupFormatError);
        expect(e.message).to.match(why[name] ?? /the export failed authentication/);
        await expectEmpty(target);
      });
    }

    it('under another master key', async () => {
      const text = await exportToString(source, provider);
      const other = await openSoftwareProvider(path.join(dir, 'other.key'), { log: silentLogger });
      try {
        const e = await rejection(restore(target, text, { provider: other }));
        expect(e).to.be.instanceOf(BackupFormatError);
        expect(e.message).to.match(/cannot unwrap the export's authentication key/);
      } finally {
        await other.close();
      }
      await expectEmpty(target);
    });

    it('an unauthenticated version 1 export unless allowed; even then one that lacks a KEK', async () => {
      const text = await exportToString(source, provider);
      // the version 1 layout: no auth, KEKs first, no MAC
      const all = lines(text).map((l) => JSON.parse(l) as Json);
      const header = { ...all[0], version: 1, auth: undefined };
      const keks = all.filter((j) => j.type === 'kek');
      const rest = all.filter((j) => j.type === 'object' || j.type === 'audit');
      const end = { type: 'end', counts: (all.at(-1) as Json).counts as Json };
      const v1 = join([header, ...keks, ...rest, end].map((j) => JSON.stringify(j)));
      const e = await rejection(restore(target, v1));
      expect(e).to.be.instanceOf(BackupFormatError);
      expect(e.message).to.match(/version 1 export, which is not authenticated/);
      await expectEmpty(target);

      const noKek = join(
        [header, ...rest, { ...end, counts: { ...end.counts, keks: 0 } }].map((j) => JSON.stringify(j)),
      );
      const e2 = await rejection(restore(target, noKek, { allowUnauthenticated: true }));
      expect(e2.message).to.match(/lacks key-encryption key\(s\) kek-1/);
      await expectEmpty(target);

      expect(await restore(target, v1, { allowUnauthenticated: true })).to.deep.equal({
        keks: 1,
        objects: 250,
        audit: 30,
      });
      expect(await target.count({ includeTombstoned: true })).to.equal(250);
    });
  });

  describe('a failure while writing removes what was written', () => {
    it('the store failing after some objects', async () => {
      const text = await exportToString(source, provider);
      let calls = 0;
      const failing = hooked(target, 'atomic', async (ops) => {
        if (++calls === 2) throw new StoreUnavailableError('storage unavailable (injected)');
        return target.atomic(ops);
      });
      const e = await rejection(importStore(failing, fromText(text), { provider }));
      expect(e).to.be.instanceOf(RestoreError);
      expect((e as RestoreError).rolledBack).to.equal(true);
      expect(e.message).to.match(/injected.*the store is empty/);
      await expectEmpty(target);
      // nothing is left over: not in the index tables either
      expect(await restore(target, text)).to.deep.equal({ keks: 1, objects: 250, audit: 30 });
      expect(await target.locate({ objectGroup: 'even' })).to.deep.equal(
        await source.locate({ objectGroup: 'even' }),
      );
    });

    it('the store failing at the last KEK', async () => {
      const text = await exportToString(source, provider);
      const failing = hooked(target, 'putKek', async () => {
        throw new StoreUnavailableError('storage unavailable (injected)');
      });
      const e = await rejection(importStore(failing, fromText(text), { provider }));
      expect((e as RestoreError).rolledBack).to.equal(true);
      await expectEmpty(target);
    });

    /** A restore that dies after `writes` successful writes: what a killed process leaves. */
    async function crashedRestore(text: string, failAt: 'atomic' | 'putKek', writes: number): Promise<void> {
      let calls = 0;
      const dying = hooked(hooked(target, 'undoRestore', undefined), failAt, async (...args: unknown[]) => {
        if (++calls > writes) throw new StoreUnavailableError('storage unavailable (the process died)');
        return (target[failAt] as (...a: unknown[]) => Promise<void>)(...args);
      });
      const e = await rejection(importStore(dying, fromText(text), { provider }));
      expect((e as RestoreError).rolledBack).to.equal(false);
      expect(e.message).to.match(/delete it before restoring again/);
    }

    // (the 250 objects are one write, the 30 audit records the next, the KEK the last)
    for (const [failAt, writes] of [
      ['atomic', 1],
      ['putKek', 0],
    ] as const) {
      it(`a restore that died (${failAt} #${writes + 1}) is recognised, removed and redone when run again`, async () => {
        const text = await exportToString(source, provider);
        await crashedRestore(text, failAt, writes);
        const notices: string[] = [];
        expect(await restore(target, text, { notice: (m) => notices.push(m) })).to.deep.equal({
          keks: 1,
          objects: 250,
          audit: 30,
        });
        expect(notices.join('')).to.match(/interrupted restore of this export/);
        expect((await collect(target.iterate())).map((r) => r.id)).to.deep.equal(records.map((r) => r.id));
        expect((await collect(target.readAudit())).map(({ seq: _, ...a }) => a)).to.deep.equal(trail);
        expect(await target.listKeks()).to.deep.equal(await source.listKeks());
      });
    }

    it('but not a store holding something the export does not', async () => {
      const text = await exportToString(source, provider);
      await crashedRestore(text, 'atomic', 1);
      await target.insert(makeRecord());
      const before = await target.count({ includeTombstoned: true });
      expect((await rejection(restore(target, text))).message).to.match(/non-empty/);
      expect(await target.count({ includeTombstoned: true })).to.equal(before);
    });

    it('nor one where a record differs from the export', async () => {
      const text = await exportToString(source, provider);
      await crashedRestore(text, 'atomic', 1);
      const first = records[0] as ObjectRecord;
      await target.update({ ...first, version: first.version + 1, state: 'Compromised' }, first.version);
      expect((await rejection(restore(target, text))).message).to.match(/non-empty/);
      expect((await target.get(first.id))?.state).to.equal('Compromised');
    });

    it('the file changing between the verifying and the writing pass', async () => {
      const text = await exportToString(source, provider);
      const changed = editLines(text, (j, i) => (i === 200 ? { ...j, owner: 'CN=mallory' } : j));
      let opened = 0;
      const e = await rejection(
        importStore(target, () => fromText(++opened === 1 ? text : changed)(), { provider }),
      );
      expect(e).to.be.instanceOf(RestoreError);
      expect(e.message).to.match(/changed while it was being restored/);
      await expectEmpty(target);
    });
  });

  it('on MongoDB (FerretDB): a failure while writing is removed too; then a restore and an export', async function () {
    this.timeout(60_000);
    const text = await exportToString(source, provider);
    const ferret = await startFerretDb();
    try {
      const mongo = await openMongoStore(ferret.uri, { database: 'kmip_backup_test' });
      try {
        let calls = 0;
        const failing = hooked(mongo, 'atomic', async (ops) => {
          if (++calls === 2) throw new StoreUnavailableError('storage unavailable (injected)');
          return mongo.atomic(ops);
        });
        const e = await rejection(importStore(failing, fromText(text), { provider }));
        expect((e as RestoreError).rolledBack, e.message).to.equal(true);
        await expectEmpty(mongo);
        expect(await restore(mongo, text)).to.deep.equal({ keks: 1, objects: 250, audit: 30 });
        const again = await exportToString(mongo, provider);
        expect(lines(again).slice(1, -1)).to.deep.equal(lines(text).slice(1, -1));
      } finally {
        await mongo.close();
      }
    } finally {
      await ferret.stop();
    }
  });

  it('refuses to export a record whose KEK the store does not list', async () => {
    await target.insert(
      makeRecord({
        sealed: { kekId: 'kek-gone', nonce: new Uint8Array(12), ciphertext: new Uint8Array(32) },
      }),
    );
    const e = await rejection(exportToString(target, provider));
    expect(e).to.be.instanceOf(BackupIncompleteError);
    expect(e.message).to.match(/kek-gone/);
  });
});

describe('store backup during a KEK rotation', () => {
  let dir: string;
  let provider: MasterKeyProvider;
  let store: SqliteStore;
  let target: SqliteStore;
  const plain = new Map<string, Buffer>();

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kmip-backup-rotate-'));
    provider = await openSoftwareProvider(path.join(dir, 'master.key'), { log: silentLogger });
    store = await openSqliteStore(path.join(dir, 'a.db'));
    target = await openSqliteStore(path.join(dir, 'b.db'));
    const sealer = await Sealer.open(store, provider, { settleMs: 0 });
    try {
      const ops: WriteOp[] = [];
      for (let i = 0; i < 400; i++) {
        const id = `key-${i}`;
        const secret = randomBytes(32);
        plain.set(id, secret);
        ops.push({ kind: 'insert', record: makeRecord({ id, sealed: await sealer.seal(id, 1, secret) }) });
      }
      for (let i = 0; i < ops.length; i += 100) await store.atomic(ops.slice(i, i + 100));
    } finally {
      sealer.close();
    }
  });
  after(async () => {
    await store.close();
    await target.close();
    await provider.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('includes the KEK created, and objects re-sealed under, after the export began', async () => {
    const rotator = await Sealer.open(store, provider, { settleMs: 0 });
    const oldKek = rotator.activeKekId;
    let newKek: string | undefined;
    // `kek rotate` as src/cli/keys.ts runs it, between reading the 40th and the 41st object
    const during = hooked(store, 'iterate', (opts) =>
      (async function* () {
        let n = 0;
        for await (const r of store.iterate(opts)) {
          yield r;
          if (++n === 40) {
            newKek = await rotator.rotateKek();
            const result = await rotator.resealAll();
            expect(result.remaining).to.equal(0);
          }
        }
      })(),
    );
    const text = await exportToString(during, provider);
    rotator.close();
    expect(newKek).to.be.a('string');

    const counts = await restore(text);
    const sealer = await Sealer.open(target, provider, { settleMs: 0 });
    try {
      const byKek = new Map<string, number>();
      for (const [id, secret] of plain) {
        const r = await target.get(id);
        if (r?.sealed === undefined) return expect.fail(`${id} restored without its secret`);
        byKek.set(r.sealed.kekId, (byKek.get(r.sealed.kekId) ?? 0) + 1);
        expect(Buffer.from(await sealer.unseal(id, r.version, r.sealed)).equals(secret), id).to.equal(true);
      }
      // the export really did catch objects on both sides of the rotation
      expect(byKek.get(oldKek) ?? 0).to.be.greaterThan(0);
      expect(byKek.get(newKek ?? '') ?? 0).to.be.greaterThan(0);
      expect(counts).to.deep.include({ keks: 2, objects: 400 });
    } finally {
      sealer.close();
    }
  });

  function restore(text: string) {
    return importStore(target, fromText(text), { provider });
  }
});
