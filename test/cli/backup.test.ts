import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { runCli } from '../../src/cli/main.js';
import { openStore } from '../../src/store/index.js';
import type { ObjectRecord } from '../../src/store/types.js';

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

describe('cli backup / restore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kmip-backup-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('exports a store to a file and restores it into an empty one, record for record', async () => {
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
    for (let i = 0; i < 250; i++) await a.insert(record(i));
    await a.appendAudit({
      at: 5,
      actor: 'admin',
      operation: 'Create',
      objectId: 'obj-1',
      outcome: 'Success',
      detail: {},
    });
    await a.close();

    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s) };
    const file = path.join(dir, 'backup.jsonl');
    expect(await runCli(['backup', '--store', source, '--out', file, '--data-dir', dir], io)).to.equal(0);
    expect(out.join('')).to.contain('250 objects');
    expect(err.join('')).to.contain('objects');
    expect(await runCli(['restore', '--store', target, '--data-dir', dir, file], io)).to.equal(0);

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
    expect(await runCli(['restore', '--store', target, '--data-dir', dir, file], io)).to.equal(1);
    expect((await readFile(file, 'utf8')).split('\n')[0]).to.contain('kmip-server-store');
  });

  it('needs --out', async () => {
    const io = { out: () => {}, err: () => {} };
    expect(await runCli(['backup', '--data-dir', dir], io)).to.equal(2);
  });
});
