import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { openSoftwareProvider } from '../../src/hsm/software/index.js';
import { openStore } from '../../src/store/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(repoRoot, 'src/cli/main.ts');

/** Runs the CLI as its own process; kills it with SIGKILL after `killAfterMs` unless it ended. */
function runKilled(args: string[], killAfterMs: number): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: repoRoot,
    stdio: 'ignore',
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, ms: Date.now() - started });
    }),
  );
}

describe('cli: master-key rotate killed at random points', function () {
  this.timeout(240_000);
  let dir: string;
  let configFile: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kmip-mk-crash-'));
    configFile = path.join(dir, 'kmip.json');
    await writeFile(configFile, JSON.stringify({ dataDir: dir }));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves no temporary key file and no new master-key version without its audit record', async () => {
    const args = ['master-key', 'rotate', '--config', configFile];
    // One uninterrupted run: it creates the store and key file and tells how long a rotation takes.
    const full = await runKilled(args, 60_000);
    expect(full.code).to.equal(0);
    let rng = 0x2545f491;
    const random = () => {
      rng = (rng * 1103515245 + 12345) >>> 0;
      return rng / 2 ** 32;
    };
    const deadline = Date.now() + 150_000;
    let killed = 0;
    for (let round = 0; round < 16 && Date.now() < deadline; round++) {
      const r = await runKilled(args, Math.floor(full.ms * (0.3 + 0.9 * random())));
      if (r.code === null) killed++;
    }
    expect(killed, 'rounds that were really killed').to.be.greaterThan(5);

    // What the next open of the key file sees and cleans up.
    const keyFile = path.join(dir, 'master.key');
    const provider = await openSoftwareProvider(keyFile, { create: false });
    await provider.close();
    const leftovers = (await readdir(dir)).filter((n) => n.endsWith('.tmp'));
    expect(leftovers).to.deep.equal([]);

    const versions = (await readFile(keyFile, 'utf8')).split('\n').filter((l) => /^v\d+ /.test(l)).length;
    const store = await openStore(`sqlite:${path.join(dir, 'kmip.db')}`);
    const starts: string[] = [];
    try {
      for await (const a of store.readAudit())
        if (a.operation === 'MasterKeyRotateStart') starts.push(a.operation);
    } finally {
      await store.close();
    }
    // version 1 is the key file's creation; every later version follows a start record
    expect(versions).to.be.greaterThan(1);
    expect(starts.length).to.be.at.least(versions - 1);
  });
});
