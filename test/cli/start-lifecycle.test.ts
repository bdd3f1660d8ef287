/**
 * `kmip-server start` as a supervisor sees it: SIGTERM to the whole process
 * group is one clean drain that seals the audit segment; a segment left open
 * by kill -9 is sealed at the next start; a start that cannot open its store
 * exits non-zero promptly, with one worker and with two.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { runCli } from '../../src/cli/run.js';
import { TestKmipClient } from '../helpers/kmip-client.js';
import { spawnServer } from '../helpers/server-process.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(repoRoot, 'src/cli/main.ts');

async function verifyStrict(dataDir: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(['audit', 'verify', '--strict', '--data-dir', dataDir], {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
  });
  return { code, out, err };
}

async function someTraffic(server: Parameters<typeof TestKmipClient.connect>[0]) {
  const c = await TestKmipClient.connect(server);
  try {
    for (let i = 0; i < 5; i++) await c.createAes();
  } finally {
    c.close();
  }
}

describe('kmip-server start: stop, crash and failed start (integration)', function () {
  this.timeout(180_000);
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-lifecycle-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  for (const workers of [1, 2]) {
    it(`SIGTERM to the process group drains once and seals the audit trail (workers: ${workers})`, async () => {
      const server = await spawnServer(dataDir, { server: { workers } }, { detached: true });
      try {
        await someTraffic(server);
      } finally {
        server.killGroup('SIGTERM');
      }
      const code = await server.exited;
      expect(code, server.output().slice(-2000)).to.equal(0);
      expect(server.output()).not.to.contain('without draining');
      const v = await verifyStrict(dataDir);
      expect(v.code, v.out + v.err).to.equal(0);
    });
  }

  it('seals a segment left open by kill -9 at the next start, marked as a crash', async () => {
    const first = await spawnServer(dataDir, { audit: { sealIntervalSeconds: 3600 } });
    await someTraffic(first);
    first.kill('SIGKILL');
    await first.exited;
    const broken = await verifyStrict(dataDir);
    expect(broken.code, 'unsealed records after a crash fail --strict').to.equal(1);

    const second = await spawnServer(dataDir, {}, { detached: true });
    await someTraffic(second);
    second.killGroup('SIGTERM');
    expect(await second.exited).to.equal(0);
    expect(second.output()).to.contain('sealed an audit segment left open by a crashed writer');
    const v = await verifyStrict(dataDir);
    expect(v.code, v.out + v.err).to.equal(0);
    expect(v.out).to.contain('1 closed after a crash of their writer');
  });

  for (const workers of [1, 2]) {
    it(`a start that cannot reach its store exits non-zero within 30 s (workers: ${workers})`, async () => {
      const configFile = path.join(dataDir, 'kmip.json');
      await writeFile(
        configFile,
        JSON.stringify({
          dataDir,
          listen: { host: '127.0.0.1', port: 0 },
          server: { workers },
          // a closed port on loopback: nothing answers
          store: { uri: 'mongodb://127.0.0.1:9/kmip' },
        }),
      );
      const started = Date.now();
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start', '--config', configFile], {
        cwd: repoRoot,
        stdio: 'ignore',
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      clearTimeout(timer);
      expect(code, 'killed after 45 s: it never exited').not.to.equal(null);
      expect(code).not.to.equal(0);
      expect(Date.now() - started).to.be.below(30_000);
    });
  }
});
