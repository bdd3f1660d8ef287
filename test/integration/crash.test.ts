/**
 * kill -9 during heavy Create load loses no acknowledged object and leaves no
 * half-written one — on SQLite and on MongoDB (FerretDB). Bounded: three
 * rounds, each a fixed short burst.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Operation, ResultStatus } from '../../src/kmip/spec/index.js';
import { startFerretDb } from '../helpers/ferretdb.js';
import { nameAttribute, TestKmipClient } from '../helpers/kmip-client.js';
import { type ServerProcess, spawnServer } from '../helpers/server-process.js';

const ROUNDS = 3;
const CLIENTS = 8;
const BURST_MS = 1500;

interface Acked {
  readonly uid: string;
  readonly name: string;
}

async function load(server: ServerProcess, round: number, acked: Acked[]): Promise<void> {
  const stopAt = Date.now() + BURST_MS;
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => TestKmipClient.connect(server)));
  const killer = new Promise<void>((resolve) =>
    setTimeout(() => {
      server.kill('SIGKILL');
      resolve();
    }, BURST_MS),
  );
  await Promise.all(
    clients.map(async (c, ci) => {
      for (let i = 0; Date.now() < stopAt + 5000; i++) {
        const name = `crash-${round}-${ci}-${i}`;
        try {
          const uid = await c.createAes([nameAttribute(name)]);
          acked.push({ uid, name });
        } catch {
          return; // the server died under this request: not acknowledged
        }
      }
    }),
  );
  await killer;
  await server.exited;
  for (const c of clients) c.close();
}

async function verify(server: ServerProcess, acked: readonly Acked[]): Promise<number> {
  const c = await TestKmipClient.connect(server);
  try {
    for (const a of acked) {
      const got = await c.ok(Operation.Get, [c.uidItem(a.uid)]);
      expect(TestKmipClient.keyMaterial(got)?.length, `key material of ${a.uid}`).to.equal(32);
    }
    // Every object the store holds is whole: Get succeeds with 32 bytes of key material.
    const located = await c.ok(Operation.Locate, []);
    const ids = located.value.filter((x) => x.type === 'TextString').map((x) => String(x.value));
    expect(ids.length).to.be.at.least(acked.length);
    for (const id of ids) {
      const r = await c.call(Operation.Get, [c.uidItem(id)]);
      expect(r.status, `Get ${id}`).to.equal(ResultStatus.Success);
      expect(r.payload && TestKmipClient.keyMaterial(r.payload)?.length).to.equal(32);
    }
    return ids.length;
  } finally {
    c.close();
  }
}

function crashSuite(label: string, storeConfig: () => Promise<Record<string, unknown>>): void {
  it(`${label}: no acknowledged Create is lost and nothing is half-written after kill -9`, async function () {
    this.timeout(180_000);
    const dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-crash-'));
    try {
      const config = await storeConfig();
      const acked: Acked[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const server = await spawnServer(dataDir, config);
        if (round > 1) await verify(server, acked);
        await load(server, round, acked);
      }
      expect(acked.length, 'objects acknowledged under load').to.be.greaterThan(50);
      const final = await spawnServer(dataDir, config);
      try {
        await verify(final, acked);
      } finally {
        final.kill('SIGTERM');
        await final.exited;
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
}

describe('crash safety (integration)', () => {
  crashSuite('sqlite', async () => ({}));

  describe('mongodb (FerretDB)', () => {
    let ferret: Awaited<ReturnType<typeof startFerretDb>>;
    before(async function () {
      this.timeout(60_000);
      ferret = await startFerretDb();
    });
    after(async () => ferret?.stop());
    crashSuite('mongodb', async () => ({ store: { uri: ferret.uri, database: `crash${Date.now()}` } }));
  });
});
