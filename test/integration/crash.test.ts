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
const BURST_MS = 800;
/** a slow store (FerretDB) still gets this many acknowledged Creates per round before the kill */
const MIN_ACKED_PER_ROUND = 15;

interface Acked {
  readonly uid: string;
  readonly name: string;
}

/** Creates under load, then kill -9 mid-flight: after burstMs, once this round has some acknowledged objects (bounded). */
async function load(server: ServerProcess, round: number, acked: Acked[], burstMs: number): Promise<void> {
  const stopAt = Date.now() + burstMs;
  const giveUpAt = stopAt + 10_000;
  const before = acked.length;
  let killed = false;
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => TestKmipClient.connect(server)));
  const killer = (async () => {
    while (Date.now() < giveUpAt && (Date.now() < stopAt || acked.length - before < MIN_ACKED_PER_ROUND)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    killed = true;
    server.kill('SIGKILL');
  })();
  await Promise.all(
    clients.map(async (c, ci) => {
      for (let i = 0; !killed || Date.now() < giveUpAt; i++) {
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
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => TestKmipClient.connect(server)));
  try {
    const first = clients[0] as TestKmipClient;
    const located = await first.ok(Operation.Locate, []);
    const ids = located.value.filter((x) => x.type === 'TextString').map((x) => String(x.value));
    const present = new Set(ids);
    const lost = acked.filter((a) => !present.has(a.uid));
    expect(lost, 'acknowledged objects missing after the crash').to.deep.equal([]);
    // Every object the store holds is whole: Get succeeds with its 32 bytes of key material.
    let next = 0;
    await Promise.all(
      clients.map(async (c) => {
        for (let k = next++; k < ids.length; k = next++) {
          const id = ids[k] as string;
          const r = await c.call(Operation.Get, [c.uidItem(id)]);
          expect(r.status, `Get ${id}: ${r.message ?? ''}`).to.equal(ResultStatus.Success);
          expect(
            r.payload && TestKmipClient.keyMaterial(r.payload)?.length,
            `key material of ${id}`,
          ).to.equal(32);
        }
      }),
    );
    return ids.length;
  } finally {
    for (const c of clients) c.close();
  }
}

function crashSuite(
  label: string,
  storeConfig: () => Promise<Record<string, unknown>>,
  burstMs: number,
): void {
  it(`${label}: no acknowledged Create is lost and nothing is half-written after kill -9`, async function () {
    this.timeout(180_000);
    const dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-crash-'));
    try {
      const config = await storeConfig();
      const acked: Acked[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const server = await spawnServer(dataDir, config);
        if (round > 1) await verify(server, acked);
        await load(server, round, acked, burstMs);
      }
      expect(acked.length, 'objects acknowledged under load').to.be.greaterThan(30);
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
  crashSuite('sqlite', async () => ({}), BURST_MS);

  describe('mongodb (FerretDB)', () => {
    let ferret: Awaited<ReturnType<typeof startFerretDb>>;
    before(async function () {
      this.timeout(60_000);
      ferret = await startFerretDb();
    });
    after(async () => ferret?.stop());
    // FerretDB's SQLite backend writes slowly (each Create also appends its audit
    // record), so the same burst yields a few dozen objects, enough to cut mid-write.
    crashSuite(
      'mongodb',
      async () => ({ store: { uri: ferret.uri, database: `crash${Date.now()}` } }),
      BURST_MS,
    );
  });
});
