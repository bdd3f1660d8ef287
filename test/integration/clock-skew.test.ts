/**
 * Two server processes on one MongoDB (FerretDB), one of them with its clock a
 * minute ahead (libfaketime): no acknowledged concurrent update is lost, and
 * no claim is left behind. Claims and journals are stamped in the database's
 * time (src/store/mongo/clock.ts), never a node's wall clock.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { MongoClient } from 'mongodb';
import { ensureDevPki } from '../../src/pki/index.js';
import { startFerretDb } from '../helpers/ferretdb.js';
import { TestKmipClient, textAttribute } from '../helpers/kmip-client.js';
import { type ServerProcess, spawnServer } from '../helpers/server-process.js';

const FAKETIME_LIB = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1',
  '/usr/lib/faketime/libfaketimeMT.so.1',
];

describe('two nodes, one clock a minute ahead (integration, FerretDB + faketime)', function () {
  this.timeout(180_000);
  let ferret: Awaited<ReturnType<typeof startFerretDb>>;
  let dataDir: string;
  const servers: ServerProcess[] = [];

  before(async () => {
    const lib = FAKETIME_LIB.find((p) => existsSync(p));
    if (lib === undefined) throw new Error('libfaketime is missing: apt-get install faketime (.ci/run does)');
    ferret = await startFerretDb();
    dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-skew-'));
    await ensureDevPki(dataDir);
    const config = { store: { uri: ferret.uri, database: 'skew' } };
    servers.push(await spawnServer(dataDir, config));
    servers.push(
      await spawnServer(dataDir, config, {
        env: { LD_PRELOAD: lib, FAKETIME: '+60s', FAKETIME_DONT_RESET: '1' },
      }),
    );
  });

  after(async () => {
    for (const s of servers) {
      s.kill('SIGTERM');
      await s.exited;
    }
    await ferret?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps all 100 concurrent Add Attribute through both nodes and leaves no claim', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const first = await TestKmipClient.connect(a);
    const uid = await first.createAes();
    const clients = await Promise.all(
      Array.from({ length: 20 }, (_, i) => TestKmipClient.connect(i % 2 ? a : b)),
    );
    try {
      await Promise.all(
        clients.map(async (c, ci) => {
          for (let k = 0; k < 5; k++)
            await c.addAttribute(uid, textAttribute(`x-c${ci}-${k}`, `v${ci}-${k}`));
        }),
      );
      const custom = (await first.getAttributes(uid)).filter((x) => x.key.kind === 'custom');
      expect(custom).to.have.length(100);
    } finally {
      for (const c of clients) c.close();
      first.close();
    }
    const mongo = await MongoClient.connect(ferret.uri);
    try {
      expect(await mongo.db('skew').collection('claims').countDocuments({})).to.equal(0);
    } finally {
      await mongo.close();
    }
  });
});
