import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, createReadStream, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { runCli } from '../../src/cli/main.js';
import { openSoftwareProvider } from '../../src/hsm/software/index.js';
import { silentLogger } from '../../src/log.js';
import { openStore } from '../../src/store/index.js';
import { Sealer } from '../../src/store/sealing.js';
import type { ObjectRecord, ObjectStore, WriteOp } from '../../src/store/types.js';
import { runCliCaptured } from '../helpers/cli.js';

function record(i: number): ObjectRecord {
  return {
    id: `obj-${i}`,
    version: 1,
    objectType: 'SymmetricKey',
    state: 'PreActive',
    owner: 'admin',
    names: [`name-${i}`],
    objectGroups: [],
    algorithm: 'AES',
    length: 256,
    dates: { InitialDate: 1_700_000_000 + i },
    custom: { 'x-n': [String(i)] },
    attributes: new Uint8Array([i & 0xff, 1, 2, 3]),
    sealed: {
      kekId: 'kek-1',
      nonce: new Uint8Array(12).fill(i & 0xff),
      ciphertext: new Uint8Array(48).fill(7),
    },
    createdAt: 1_700_000_000_000 + i,
    updatedAt: 1_700_000_000_000 + i,
    tombstoned: i % 10 === 0,
  };
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } };
}

async function createMasterKey(dir: string): Promise<void> {
  await (await openSoftwareProvider(path.join(dir, 'master.key'), { log: silentLogger })).close();
}

async function expectEmpty(uri: string): Promise<void> {
  const s = await openStore(uri);
  try {
    expect(await s.count({ includeTombstoned: true })).to.equal(0);
    expect(await s.listKeks()).to.deep.equal([]);
    expect((await s.readAudit({ limit: 1 })[Symbol.asyncIterator]().next()).done).to.equal(true);
  } finally {
    await s.close();
  }
}

describe('cli backup / restore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kmip-backup-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('exports a store to a file and restores it into an empty one, record for record', async () => {
    await createMasterKey(dir);
    const source = `sqlite:${path.join(dir, 'a.db')}`;
    const target = `sqlite:${path.join(dir, 'b.db')}`;
    const a = await openStore(source);
    await a.putKek({
      id: 'kek-1',
      masterKeyId: 'software:x:v1',
      wrapped: new Uint8Array(40).fill(9),
      createdAt: 1,
      active: true,
    });
    await a.atomic(Array.from({ length: 250 }, (_, i): WriteOp => ({ kind: 'insert', record: record(i) })));
    await a.appendAudit({
      at: 5,
      actor: 'admin',
      operation: 'Create',
      objectId: 'obj-1',
      outcome: 'Success',
      detail: {},
    });
    await a.close();

    const file = path.join(dir, 'backup.jsonl');
    const made = await runCliCaptured(['backup', '--store', source, '--out', file, '--data-dir', dir]);
    expect(made.code, made.err).to.equal(0);
    expect(made.out).to.contain('250 objects');
    expect(made.err).to.contain('objects');
    expect(existsSync(`${file}.partial`)).to.equal(false);

    // altered: refused, nothing written
    const text = await readFile(file, 'utf8');
    const tampered = path.join(dir, 'tampered.jsonl');
    await writeFile(tampered, text.replace('"owner":"admin"', '"owner":"mallory"'));
    const t = await runCliCaptured(['restore', '--store', target, '--data-dir', dir, tampered]);
    expect(t.code).to.equal(1);
    expect(t.err).to.match(/failed authentication/);
    await expectEmpty(target);
    // under another master key: refused, nothing written
    const otherDir = path.join(dir, 'other');
    await createMasterKey(otherDir);
    const o = await runCliCaptured(['restore', '--store', target, '--data-dir', otherDir, file]);
    expect(o.code).to.equal(1);
    expect(o.err).to.match(/cannot unwrap the export's authentication key/);
    await expectEmpty(target);

    const restored = await runCliCaptured(['restore', '--store', target, '--data-dir', dir, file]);
    expect(restored.code, restored.err).to.equal(0);
    expect(restored.out).to.contain('restored 250 objects, 1 KEKs, 1 audit records');
    const b = await openStore(target);
    try {
      for (let i = 0; i < 250; i++) expect(await b.get(`obj-${i}`)).to.deep.equal(record(i));
      expect(await b.listKeks()).to.have.length(1);
      const audit = [];
      for await (const r of b.readAudit()) audit.push(r.operation);
      expect(audit).to.deep.equal(['Create']);
    } finally {
      await b.close();
    }
    // A second restore into the now non-empty store is refused.
    const again = await runCliCaptured(['restore', '--store', target, '--data-dir', dir, file]);
    expect(again.code).to.equal(1);
    expect(again.err).to.match(/non-empty/);
    expect(text.split('\n')[0]).to.contain('kmip-server-store');
  });

  it('fails, leaving no file, when the store lacks a KEK that an object needs', async () => {
    await createMasterKey(dir);
    const source = `sqlite:${path.join(dir, 'a.db')}`;
    const a = await openStore(source);
    await a.insert(record(1));
    await a.close();
    const file = path.join(dir, 'backup.jsonl');
    const r = await runCliCaptured(['backup', '--store', source, '--out', file, '--data-dir', dir]);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/no key-encryption key kek-1/);
    expect(existsSync(file)).to.equal(false);
    expect(existsSync(`${file}.partial`)).to.equal(false);
  });

  it('needs --out, and a master key', async () => {
    expect((await runCliCaptured(['backup', '--data-dir', dir])).code).to.equal(2);
    const r = await runCliCaptured(['backup', '--data-dir', dir, '--out', path.join(dir, 'b.jsonl')]);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/master key file .* does not exist/);
    expect(existsSync(path.join(dir, 'master.key'))).to.equal(false);
  });
});

/**
 * `backup` beside a real `kek rotate` (src/cli/keys.ts: a new KEK, then every
 * object re-sealed under it, online). The backup writes into a pipe the test
 * reads: by pausing the reader the test stops the backup's cursor part-way
 * through the objects — a slow destination (ssh, an upload) does the same —
 * and lets the rotation overtake it. Every round's backup must restore into a
 * store where every key unseals.
 */
describe('cli backup during kek rotate', function () {
  this.timeout(120_000);
  const OBJECTS = 2000;
  let dir: string;
  const secrets = new Map<string, Buffer>();

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kmip-backup-rotate-'));
    const provider = await openSoftwareProvider(path.join(dir, 'master.key'), { log: silentLogger });
    const store = await openStore(`sqlite:${path.join(dir, 'kmip.db')}`);
    try {
      const sealer = await Sealer.open(store, provider, { settleMs: 0 });
      try {
        const ops: WriteOp[] = [];
        for (let i = 0; i < OBJECTS; i++) {
          const id = `key-${i}`;
          const secret = randomBytes(32);
          secrets.set(id, secret);
          const r = record(i);
          ops.push({ kind: 'insert', record: { ...r, id, sealed: await sealer.seal(id, 1, secret) } });
        }
        for (let i = 0; i < ops.length; i += 500) await store.atomic(ops.slice(i, i + 500));
      } finally {
        sealer.close();
      }
    } finally {
      await store.close();
      await provider.close();
    }
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  /** Unseals every key of the store restored from `file`. */
  async function restoreAndRead(file: string, round: number): Promise<Map<string, number>> {
    const uri = `sqlite:${path.join(dir, `restored-${round}.db`)}`;
    const restored = await runCliCaptured(['restore', '--data-dir', dir, '--store', uri, file]);
    expect(restored.code, `restore: ${restored.err}`).to.equal(0);
    const provider = await openSoftwareProvider(path.join(dir, 'master.key'), {
      create: false,
      log: silentLogger,
    });
    const store: ObjectStore = await openStore(uri);
    const byKek = new Map<string, number>();
    try {
      const sealer = await Sealer.open(store, provider, { settleMs: 0 });
      try {
        const unreadable: string[] = [];
        for (const [id, secret] of secrets) {
          const r = await store.get(id);
          if (r?.sealed === undefined) {
            unreadable.push(`${id}: missing`);
            continue;
          }
          byKek.set(r.sealed.kekId, (byKek.get(r.sealed.kekId) ?? 0) + 1);
          try {
            if (!Buffer.from(await sealer.unseal(id, r.version, r.sealed)).equals(secret))
              unreadable.push(`${id}: wrong secret`);
          } catch (e) {
            unreadable.push(`${id}: ${(e as Error).message}`);
          }
        }
        expect(unreadable.length, `round ${round}: ${unreadable.slice(0, 3).join('; ')}`).to.equal(0);
      } finally {
        sealer.close();
      }
    } finally {
      await store.close();
      await provider.close();
    }
    return byKek;
  }

  /**
   * One round: `backup` into a pipe and `kek rotate`. With `pauseAfterLines`,
   * the reader stops after that many lines (the backup stalls once the pipe
   * is full), then `kek rotate` starts, and the reader reads on once the new
   * KEK exists ('new-kek') or the rotation is over ('rotated'). Without it,
   * both start together.
   */
  async function round(
    n: number,
    plan: { pauseAfterLines?: number; resumeOn?: 'new-kek' | 'rotated' },
  ): Promise<Map<string, number>> {
    const out = path.join(dir, `backup-${n}.jsonl`);
    const fifo = `${out}.partial`;
    execFileSync('mkfifo', [fifo]);
    const chunks: Buffer[] = [];
    let lines = 0;
    let held = false;
    const reader = createReadStream(fifo);
    const paused = new Promise<void>((resolve) => {
      reader.on('data', (c: Buffer | string) => {
        const b = typeof c === 'string' ? Buffer.from(c) : c;
        chunks.push(b);
        for (const x of b) if (x === 0x0a) lines++;
        if (plan.pauseAfterLines !== undefined && lines >= plan.pauseAfterLines && !held) {
          held = true;
          reader.pause();
          resolve();
        }
      });
    });
    const readAll = new Promise<void>((resolve, reject) => {
      reader.once('end', resolve);
      reader.once('error', reject);
    });
    const b = capture();
    const r = capture();
    let sawNewKek!: () => void;
    const newKek = new Promise<void>((resolve) => {
      sawNewKek = resolve;
    });
    const rotateIo = {
      out: (s: string) => {
        r.out.push(s);
        if (s.startsWith('new key-encryption key')) sawNewKek();
      },
      err: (s: string) => r.err.push(s),
    };
    try {
      const backup = runCli(['backup', '--data-dir', dir, '--out', out], b.io);
      // a backup that ends early must not leave the test waiting for a pause
      const backupEnded = backup.then((code) => `backup ended (${code}) ${b.err.join('')}`);
      let rotate: Promise<number>;
      if (plan.pauseAfterLines !== undefined) {
        await Promise.race([paused, backupEnded.then((m) => expect.fail(`${m} before the pause`))]);
        rotate = runCli(['kek', 'rotate', '--data-dir', dir], rotateIo);
        await (plan.resumeOn === 'new-kek' ? Promise.race([newKek, rotate]) : rotate);
        reader.resume();
      } else {
        rotate = runCli(['kek', 'rotate', '--data-dir', dir], rotateIo);
      }
      const [backupCode, rotateCode] = await Promise.all([backup, rotate]);
      expect(rotateCode, `kek rotate: ${r.out.join('')}${r.err.join('')}`).to.equal(0);
      expect(backupCode, `backup: ${b.err.join('')}`).to.equal(0);
      await readAll;
    } finally {
      // a reader still blocked opening the pipe (the backup never opened it) gets its EOF
      for (const p of [fifo, out]) {
        try {
          closeSync(openSync(p, constants.O_WRONLY | constants.O_NONBLOCK));
        } catch {
          // no reader waiting, or no pipe
        }
      }
      reader.destroy();
    }
    const file = `${out}.data`;
    await writeFile(file, Buffer.concat(chunks));
    await rm(out, { force: true });
    return restoreAndRead(file, n);
  }

  it('every backup restores with every key readable', async () => {
    // the backup stalled part-way through the objects while the whole rotation runs
    const first = await round(1, { pauseAfterLines: 50, resumeOn: 'rotated' });
    expect(first.size, 'objects under the old and the new KEK').to.equal(2);
    // the backup resumes as soon as the new KEK exists: the two race through the objects
    await round(2, { pauseAfterLines: 50, resumeOn: 'new-kek' });
    // started together, nothing held back
    await round(3, {});
  });
});
