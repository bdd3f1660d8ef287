/**
 * kill -9 at random points during a load of the operations that write several
 * objects (Re-key, Create Key Pair, Re-key Key Pair) leaves every link pair
 * consistent, no orphan replacement, no name on two live objects, and every
 * acknowledged operation present — read straight from the store afterwards.
 * Then two Re-keys of one key at once: exactly one wins, the loser gets a
 * clean KMIP error and nothing of it is stored. Bounded in rounds and time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { findEnum, type ModelAttribute, standardKey } from '../../src/kmip/model/attributes.js';
import { fromRecord } from '../../src/kmip/model/record.js';
import { linkedId } from '../../src/kmip/operations/support/replacement.js';
import {
  CryptographicAlgorithm,
  LinkType,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  State,
  Tag,
} from '../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../src/kmip/ttlv/types.js';
import { type ObjectStore, openStore } from '../../src/store/index.js';
import { startFerretDb } from '../helpers/ferretdb.js';
import { nameAttribute, TestKmipClient } from '../helpers/kmip-client.js';
import { type ServerProcess, spawnServer } from '../helpers/server-process.js';

const ROUNDS = 12;
/** FerretDB's SQLite backend is slow to start and to write: fewer rounds */
const FERRET_ROUNDS = 6;
const CLIENTS = 4;
const SUITE_BUDGET_MS = 150_000;

const uidOf = (p: { value: readonly TtlvItem[] }, tag: number): string => {
  const x = p.value.find((c) => c.tag === tag);
  if (x?.type !== 'TextString') throw new Error('no identifier in the response');
  return x.value;
};

function ecPairPayload(c: TestKmipClient, name: string): TtlvItem[] {
  const common = c.attributesPayload([
    {
      key: standardKey(Tag.CryptographicAlgorithm),
      index: undefined,
      value: { tag: Tag.CryptographicAlgorithm, type: 'Enumeration', value: CryptographicAlgorithm.EC },
    },
    {
      key: standardKey(Tag.CryptographicLength),
      index: undefined,
      value: { tag: Tag.CryptographicLength, type: 'Integer', value: 256 },
    },
    nameAttribute(name),
  ] as ModelAttribute[]);
  return [{ ...common, tag: Tag.CommonTemplateAttribute }];
}

/** One client's loop: Create + Re-key chains and key pairs + Re-key Key Pair, until the server dies. */
async function work(c: TestKmipClient, prefix: string, acked: Set<string>): Promise<void> {
  try {
    for (let i = 0; ; i++) {
      let key = await c.createAes([nameAttribute(`${prefix}-k${i}`)]);
      acked.add(key);
      for (let r = 0; r < 3; r++) {
        key = uidOf(await c.ok(Operation.ReKey, [c.uidItem(key)]), Tag.UniqueIdentifier);
        acked.add(key);
      }
      const pair = await c.ok(Operation.CreateKeyPair, ecPairPayload(c, `${prefix}-p${i}`));
      acked.add(uidOf(pair, Tag.PrivateKeyUniqueIdentifier));
      acked.add(uidOf(pair, Tag.PublicKeyUniqueIdentifier));
      const next = await c.ok(Operation.ReKeyKeyPair, [
        {
          tag: Tag.PrivateKeyUniqueIdentifier,
          type: 'TextString',
          value: uidOf(pair, Tag.PrivateKeyUniqueIdentifier),
        },
      ]);
      acked.add(uidOf(next, Tag.PrivateKeyUniqueIdentifier));
      acked.add(uidOf(next, Tag.PublicKeyUniqueIdentifier));
    }
  } catch {
    // the server died under this request: not acknowledged
  }
}

/** The invariants, read from the store the server left. */
interface StoreUnderTest {
  /** server configuration for the store */
  readonly config: Record<string, unknown>;
  /** opens the same store from the test */
  open(): Promise<ObjectStore>;
}

async function checkStore(target: StoreUnderTest, acked: ReadonlySet<string>): Promise<number> {
  const store = await target.open();
  try {
    const objects = new Map<string, ReturnType<typeof fromRecord>>();
    for await (const rec of store.iterate()) if (!rec.tombstoned) objects.set(rec.id, fromRecord(rec));
    const problems: string[] = [];
    const names = new Map<string, string>();
    for (const o of objects.values()) {
      if (findEnum(o.attributes, Tag.State) === State.Destroyed) continue;
      const link = (type: number) => linkedId(o.attributes, type);
      const back = (id: string | undefined, type: number) =>
        id === undefined ? undefined : linkedId(objects.get(id)?.attributes ?? [], type);
      const replaced = link(LinkType.ReplacedObjectLink);
      if (replaced !== undefined && back(replaced, LinkType.ReplacementObjectLink) !== o.id)
        problems.push(`${o.id} replaces ${replaced}, which does not link back (orphan replacement)`);
      const replacement = link(LinkType.ReplacementObjectLink);
      if (replacement !== undefined && back(replacement, LinkType.ReplacedObjectLink) !== o.id)
        problems.push(`${o.id} is replaced by ${replacement}, which is missing or does not link back`);
      if (o.objectType === ObjectType.PrivateKey) {
        const pub = link(LinkType.PublicKeyLink);
        if (pub === undefined || back(pub, LinkType.PrivateKeyLink) !== o.id)
          problems.push(`private key ${o.id} has no public key linking back`);
      }
      if (o.objectType === ObjectType.PublicKey) {
        const priv = link(LinkType.PrivateKeyLink);
        if (priv === undefined || back(priv, LinkType.PublicKeyLink) !== o.id)
          problems.push(`public key ${o.id} has no private key linking back`);
      }
      for (const a of o.attributes) {
        if (a.value.tag !== Tag.Name || a.value.type !== 'Structure') continue;
        const v = a.value.value.find((x) => x.tag === Tag.NameValue);
        if (v?.type !== 'TextString') continue;
        // a Create Key Pair's common Name goes to both halves: unique per object type
        const key = `${o.objectType}:${v.value}`;
        const other = names.get(key);
        if (other !== undefined) problems.push(`name ${v.value} is on ${other} and ${o.id}`);
        names.set(key, o.id);
      }
    }
    for (const id of acked) if (!objects.has(id)) problems.push(`acknowledged object ${id} is missing`);
    expect(problems.slice(0, 10), `${problems.length} problem(s)`).to.deep.equal([]);
    return objects.size;
  } finally {
    await store.close();
  }
}

function multiObjectSuite(
  label: string,
  target: () => StoreUnderTest,
  roundsWanted: number,
  minAcked: number,
): void {
  describe(label, () => {
    let dataDir: string;

    before(async () => {
      dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-crash-multi-'));
    });
    after(async () => {
      await rm(dataDir, { recursive: true, force: true });
    });

    it('leaves no orphan, no duplicate name and no broken link pair, and loses nothing acknowledged', async () => {
      const acked = new Set<string>();
      const deadline = Date.now() + SUITE_BUDGET_MS;
      let rng = 0x9e3779b9;
      const random = () => {
        rng = (rng * 1664525 + 1013904223) >>> 0;
        return rng / 2 ** 32;
      };
      let rounds = 0;
      const maxRounds = roundsWanted;
      for (; rounds < maxRounds && Date.now() < deadline; rounds++) {
        const server = await spawnServer(dataDir, { ...target().config, server: { workers: 1 } });
        const clients = await Promise.all(
          Array.from({ length: CLIENTS }, () => TestKmipClient.connect(server)),
        );
        const loops = clients.map((c, i) => work(c, `r${rounds}c${i}`, acked));
        await new Promise((r) => setTimeout(r, 300 + Math.floor(random() * 1200)));
        server.kill('SIGKILL');
        await server.exited;
        await Promise.all(loops);
        for (const c of clients) c.close();
        await checkStore(target(), acked);
      }
      expect(rounds).to.be.at.least(5);
      expect(acked.size, 'objects acknowledged under load').to.be.greaterThan(minAcked);
    });

    it('two Re-keys of one key at once: one wins, the loser writes nothing', async () => {
      const server: ServerProcess = await spawnServer(dataDir, {
        ...target().config,
        server: { workers: 2 },
      });
      const [a, b] = await Promise.all([TestKmipClient.connect(server), TestKmipClient.connect(server)]);
      if (a === undefined || b === undefined) throw new Error('no clients');
      try {
        let losers = 0;
        for (let round = 0; round < 10; round++) {
          const key = await a.createAes([nameAttribute(`race-${round}`)]);
          const results = await Promise.all([
            a.call(Operation.ReKey, [a.uidItem(key)]),
            b.call(Operation.ReKey, [b.uidItem(key)]),
          ]);
          const won = results.filter((r) => r.status === ResultStatus.Success);
          expect(won, 'exactly one Re-key wins').to.have.length(1);
          for (const r of results) {
            if (r.status === ResultStatus.Success) continue;
            losers++;
            expect(r.reason).to.equal(ResultReason.IllegalOperation);
            expect(r.message).to.match(/already replaced by/);
          }
        }
        expect(losers).to.equal(10);
      } finally {
        a.close();
        b.close();
        server.kill('SIGTERM');
        await server.exited;
      }
      await checkStore(target(), new Set());
    });
  });
}

describe('multi-object operations under kill -9 and races (integration)', function () {
  this.timeout(2 * SUITE_BUDGET_MS + 120_000);
  let sqliteDir = '';
  multiObjectSuite(
    'sqlite',
    () => ({
      config: { store: { uri: `sqlite:${path.join(sqliteDir, 'kmip.db')}` } },
      open: () => openStore(`sqlite:${path.join(sqliteDir, 'kmip.db')}`),
    }),
    ROUNDS,
    50,
  );
  before(async () => {
    sqliteDir = await mkdtemp(path.join(tmpdir(), 'kmip-crash-multi-db-'));
  });
  after(async () => {
    await rm(sqliteDir, { recursive: true, force: true });
  });

  describe('mongodb (FerretDB)', () => {
    let ferret: Awaited<ReturnType<typeof startFerretDb>> | undefined;
    const database = `multi${Date.now()}`;
    before(async function () {
      this.timeout(60_000);
      ferret = await startFerretDb();
    });
    after(async () => ferret?.stop());
    multiObjectSuite(
      'mongodb',
      () => ({
        config: { store: { uri: ferret?.uri ?? '', database } },
        open: () => openStore(ferret?.uri ?? '', { database }),
      }),
      FERRET_ROUNDS,
      15,
    );
  });
});
