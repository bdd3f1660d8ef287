/**
 * Several server nodes on one MongoDB database act as one service (issue 3):
 * read-your-writes across nodes, no lost concurrent attribute changes, unique
 * identifiers, and no stale lifecycle state served from a cache.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { type RunningServer, startServer } from '../../src/app.js';
import { Operation, ResultStatus, State, Tag } from '../../src/kmip/spec/index.js';
import { silentLogger } from '../../src/log.js';
import { ensureDevPki } from '../../src/pki/index.js';
import { startFerretDb } from '../helpers/ferretdb.js';
import { TestKmipClient, textAttribute } from '../helpers/kmip-client.js';
import { localConfig } from '../helpers/server-config.js';

describe('two server nodes on one MongoDB (integration)', function () {
  this.timeout(120_000);
  let ferret: Awaited<ReturnType<typeof startFerretDb>>;
  let dataDir: string;
  const nodes: RunningServer[] = [];
  let a: TestKmipClient;
  let b: TestKmipClient;

  before(async () => {
    ferret = await startFerretDb();
    dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-2nodes-'));
    const { paths } = await ensureDevPki(dataDir);
    // Both nodes share the configuration directory (PKI, master key) and the database.
    for (let i = 0; i < 2; i++) {
      const config = localConfig(dataDir, { store: { uri: ferret.uri, database: 'twonodes' } });
      nodes.push(await startServer(config, silentLogger));
    }
    const pki = { ca: paths.caCert, adminCert: paths.adminCert, adminKey: paths.adminKey };
    const [na, nb] = nodes as [RunningServer, RunningServer];
    a = await TestKmipClient.connect({ ...na.address, pki });
    b = await TestKmipClient.connect({ ...nb.address, pki }, '2.1');
  });

  after(async () => {
    a?.close();
    b?.close();
    await Promise.all(nodes.map((n) => n.close()));
    await ferret?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('an object created through node A is readable through node B at once', async () => {
    const uid = await a.createAes();
    const got = await b.ok(Operation.Get, [b.uidItem(uid)]);
    expect(TestKmipClient.keyMaterial(got)?.length).to.equal(32);
    const viaA = await a.ok(Operation.Get, [a.uidItem(uid)]);
    expect(Buffer.from(TestKmipClient.keyMaterial(viaA) ?? [])).to.deep.equal(
      Buffer.from(TestKmipClient.keyMaterial(got) ?? []),
    );
  });

  it('concurrent attribute changes through A and B lose nothing', async () => {
    const uid = await a.createAes();
    const n = 15;
    await Promise.all([
      ...Array.from({ length: n }, (_, i) => a.addAttribute(uid, textAttribute(`x-a${i}`, `A${i}`))),
      ...Array.from({ length: n }, (_, i) => b.addAttribute(uid, textAttribute(`x-b${i}`, `B${i}`))),
    ]);
    const attrs = await a.getAttributes(uid);
    const custom = attrs.filter((x) => x.key.kind === 'custom').map((x) => x.value.value);
    for (let i = 0; i < n; i++) expect(custom).to.include.members([`A${i}`, `B${i}`]);
  });

  it('identifiers are unique across nodes', async () => {
    const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).createAes()));
    expect(new Set(ids).size).to.equal(ids.length);
  });

  it('never serves a stale lifecycle state from a cache', async () => {
    const uid = await a.createAes();
    const stateOf = async (c: TestKmipClient) =>
      (await c.getAttributes(uid, [{ kind: 'standard', tag: Tag.State }]))[0]?.value.value;
    expect(await stateOf(b)).to.equal(State.PreActive);
    await a.ok(Operation.Get, [a.uidItem(uid)]); // warm node A's caches
    await b.ok(Operation.Activate, [b.uidItem(uid)]);
    expect(await stateOf(a)).to.equal(State.Active);
    await a.ok(Operation.Revoke, [
      a.uidItem(uid),
      {
        tag: Tag.RevocationReason,
        type: 'Structure',
        value: [
          { tag: Tag.RevocationReasonCode, type: 'Enumeration', value: 5 /* Cessation of Operation */ },
        ],
      },
    ]);
    await b.ok(Operation.Destroy, [b.uidItem(uid)]);
    const r = await a.call(Operation.Get, [a.uidItem(uid)]);
    expect(r.status).to.equal(ResultStatus.OperationFailed);
    expect(await stateOf(a)).to.equal(State.Destroyed);
  });

  it('100 concurrent Add Attribute on one object through ten connections to each node keep all 100', async () => {
    const uid = await a.createAes();
    const [na, nb] = nodes as [RunningServer, RunningServer];
    const pki = {
      ca: path.join(dataDir, 'pki', 'ca.crt'),
      adminCert: path.join(dataDir, 'pki', 'admin.crt'),
      adminKey: path.join(dataDir, 'pki', 'admin.key'),
    };
    const clients = await Promise.all(
      Array.from({ length: 20 }, (_, i) => TestKmipClient.connect({ ...(i % 2 ? na : nb).address, pki })),
    );
    try {
      await Promise.all(
        clients.map(async (c, ci) => {
          for (let k = 0; k < 5; k++)
            await c.addAttribute(uid, textAttribute(`x-c${ci}-${k}`, `v${ci}-${k}`));
        }),
      );
    } finally {
      for (const c of clients) c.close();
    }
    const custom = (await a.getAttributes(uid)).filter((x) => x.key.kind === 'custom');
    expect(custom).to.have.length(100);
  });

  it('two Re-keys of one key through A and B at once: exactly one wins, nothing of the loser is stored', async () => {
    const countAll = async () =>
      (await a.ok(Operation.Locate, [])).value.filter((x) => x.tag === Tag.UniqueIdentifier).length;
    for (let round = 0; round < 10; round++) {
      const before = await countAll();
      const key = await a.createAes([textAttribute('x-round', String(round))]);
      const results = await Promise.all([
        a.call(Operation.ReKey, [a.uidItem(key)]),
        b.call(Operation.ReKey, [b.uidItem(key)]),
      ]);
      const won = results.filter((r) => r.status === ResultStatus.Success);
      expect(won, results.map((r) => r.message).join('; ')).to.have.length(1);
      const loser = results.find((r) => r.status !== ResultStatus.Success);
      expect(loser?.message).to.match(/already replaced by/);
      // the old key links to the winner, and the loser stored no key of its own
      const winner = won[0]?.payload === undefined ? '' : TestKmipClient.uid(won[0].payload);
      const links = (await a.getAttributes(key, [{ kind: 'standard', tag: Tag.Link }])).map((x) => x.value);
      expect(JSON.stringify(links, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).to.contain(
        winner,
      );
      expect(await countAll()).to.equal(before + 2);
    }
  });
});
