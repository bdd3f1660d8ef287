/**
 * `kmip-server start` with server.workers: 2 (node:cluster): both workers
 * serve the one port and share the store, SIGHUP reaches the workers without
 * stopping anything, SIGTERM drains every worker and the primary exits 0.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Operation, ResultStatus } from '../../src/kmip/spec/index.js';
import { TestKmipClient } from '../helpers/kmip-client.js';
import { type ServerProcess, spawnServer } from '../helpers/server-process.js';

function childrenOf(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('kmip-server start with server.workers: 2 (integration)', function () {
  this.timeout(120_000);
  let dataDir: string;
  let server: ServerProcess | undefined;

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-cluster-'));
    server = await spawnServer(dataDir, { server: { workers: 2 } });
  });

  after(async () => {
    if (server !== undefined && server.child.exitCode === null) {
      server.kill('SIGKILL');
      await server.exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves from two worker processes that share the store', async () => {
    const s = server as ServerProcess;
    // the second worker starts after the first listens
    const deadline = Date.now() + 60_000;
    while (childrenOf(s.child.pid).length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect(childrenOf(s.child.pid)).to.have.length(2);
    await new Promise((r) => setTimeout(r, 3000));
    const clients = await Promise.all(Array.from({ length: 8 }, () => TestKmipClient.connect(s)));
    try {
      const ids = await Promise.all(clients.map((c) => c.createAes()));
      // every object is visible through every connection, whichever worker serves it
      for (const c of clients) {
        for (const id of ids) {
          const r = await c.call(Operation.Get, [c.uidItem(id)]);
          expect(r.status, r.message).to.equal(ResultStatus.Success);
        }
      }
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('keeps serving after SIGHUP and drains every worker on SIGTERM', async () => {
    const s = server as ServerProcess;
    const workers = childrenOf(s.child.pid);
    s.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 1000));
    const c = await TestKmipClient.connect(s);
    try {
      await c.createAes();
    } finally {
      c.close();
    }
    s.kill('SIGTERM');
    expect(await s.exited).to.equal(0);
    for (const pid of workers) expect(alive(pid), `worker ${pid}`).to.equal(false);
  });
});
