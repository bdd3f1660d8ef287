/**
 * The Sealer with a real HSM (SoftHSM2 through PKCS#11): the grace period
 * while the HSM is lost, KEK re-sealing (kek rotate), master-key rewrap
 * (master-key rotate) and the software → pkcs11 migration.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { openPkcs11Provider } from '../../src/hsm/pkcs11/index.js';
import { openSoftwareProvider } from '../../src/hsm/software/index.js';
import type { MasterKeyProvider } from '../../src/hsm/types.js';
import { silentLogger } from '../../src/log.js';
import { openStore } from '../../src/store/index.js';
import { keksByMasterKey, rewrapKeks, Sealer } from '../../src/store/sealing.js';
import type { ObjectRecord, ObjectStore } from '../../src/store/types.js';
import { rejection } from '../helpers/assertions.js';
import { createSoftHsmToken, type SoftHsmToken, useHsmLoss } from '../helpers/softhsm.js';
import { sealedRecord } from './fixtures.js';

async function unsealStored(sealer: Sealer, store: ObjectStore, id: string): Promise<Buffer> {
  const rec = await store.get(id);
  if (rec?.sealed === undefined) throw new Error(`object ${id} has no sealed content`);
  return Buffer.from(await sealer.unseal(id, rec.version, rec.sealed));
}

describe('store/sealing: rotation, migration and HSM loss', function () {
  this.timeout(60_000);
  let dir: string;
  let store: ObjectStore;
  const toClose: (() => unknown)[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kmip-seal-rot-'));
    store = await openStore(`sqlite:${path.join(dir, 'kmip.db')}`);
  });

  afterEach(async () => {
    for (const c of toClose.splice(0).reverse()) await c();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function pkcs11(token: SoftHsmToken, graceMs = 300_000): Promise<MasterKeyProvider> {
    const p = await openPkcs11Provider({
      module: token.module,
      tokenLabel: token.tokenLabel,
      pin: token.pin,
      graceMs,
      healthCheckMs: 20,
      retryMs: 20,
      log: silentLogger,
    });
    toClose.push(() => p.close());
    return p;
  }

  async function sealer(provider: MasterKeyProvider): Promise<Sealer> {
    const s = await Sealer.open(store, provider, { settleMs: 0 });
    toClose.push(() => s.close());
    return s;
  }

  async function put(s: Sealer, n: number): Promise<Map<string, Buffer>> {
    const secrets = new Map<string, Buffer>();
    for (let i = 0; i < n; i++) {
      const id = randomUUID();
      const secret = randomBytes(32);
      await store.insert(sealedRecord(id, await s.seal(id, 1, secret)));
      secrets.set(id, secret);
    }
    return secrets;
  }

  describe('losing the HSM', () => {
    const hsm = useHsmLoss();

    it('cached KEKs serve during the grace period, cold ones fail "HSM unavailable", all fail after it, all recover', async () => {
      const token = createSoftHsmToken();
      const writer = await sealer(await pkcs11(token));
      const old = await put(writer, 3);
      await writer.rotateKek();
      const fresh = await put(writer, 3);

      // A node that has only the active KEK in memory.
      const provider = await pkcs11(token, 400);
      const node = await sealer(provider);
      const [freshId, freshSecret] = [...fresh][0] ?? [];
      const [oldId, oldSecret] = [...old][0] ?? [];
      if (!freshId || !freshSecret || !oldId || !oldSecret) throw new Error('no objects');

      hsm.lose();
      await sleep(60); // the health check notices
      expect(provider.health?.().available).to.equal(false);
      // Within the grace period: warm KEK serves, new seals work, a cold KEK cannot be unwrapped.
      expect((await unsealStored(node, store, freshId)).equals(freshSecret)).to.equal(true);
      await node.seal('new-object', 1, randomBytes(16));
      const cold = await rejection(unsealStored(node, store, oldId));
      expect(cold.name).to.equal('StoreUnavailableError');
      expect(cold.message).to.match(/^HSM unavailable/);

      await sleep(450);
      const late = await rejection(unsealStored(node, store, freshId));
      expect(late.name).to.equal('StoreUnavailableError');
      expect(late.message).to.match(/HSM unavailable for \d+ s, beyond the \d+ s grace period/);
      expect((await rejection(node.seal('x', 1, randomBytes(16)))).name).to.equal('StoreUnavailableError');

      hsm.regain();
      for (let i = 0; i < 100 && provider.health?.().available !== true; i++) await sleep(20);
      expect((await unsealStored(node, store, freshId)).equals(freshSecret)).to.equal(true);
      expect((await unsealStored(node, store, oldId)).equals(oldSecret)).to.equal(true);
      await node.seal('after', 1, randomBytes(16));
    });

    it('grace period 0: nothing serves without the HSM', async () => {
      const token = createSoftHsmToken();
      const provider = await pkcs11(token, 0);
      const node = await sealer(provider);
      const secrets = await put(node, 1);
      const [id] = [...secrets.keys()];
      hsm.lose();
      await sleep(60);
      expect((await rejection(unsealStored(node, store, id ?? ''))).name).to.equal('StoreUnavailableError');
    });
  });

  it('master-key rotation rewraps every KEK while sealing goes on; objects untouched; restart reads all', async () => {
    const token = createSoftHsmToken();
    const provider = await pkcs11(token);
    const node = await sealer(provider);
    const secrets = await put(node, 5);
    await node.rotateKek();
    for (const [k, v] of await put(node, 5)) secrets.set(k, v);
    const before = await Promise.all([...secrets.keys()].map((id) => store.get(id)));

    // An admin process (its own provider and store handle) rotates the master key.
    const admin = await pkcs11(token);
    const v1 = admin.currentKeyId;
    const v2 = await admin.rotate?.();
    const seen: number[] = [];
    const serving = put(node, 5); // the server keeps sealing meanwhile
    const result = await rewrapKeks(store, admin, { onProgress: (p) => seen.push(p.done) });
    for (const [k, v] of await serving) secrets.set(k, v);
    expect(result).to.deep.equal({ total: 2, rewrapped: 2 });
    expect(seen).to.deep.equal([1, 2]);
    const counts = await keksByMasterKey(store);
    expect([...counts.keys()]).to.deep.equal([v2]);
    expect(counts.get(v2 ?? '')?.keks).to.equal(2);
    // Resuming a finished rotation does nothing.
    expect(await rewrapKeks(store, admin)).to.deep.equal({ total: 2, rewrapped: 0 });
    const after = await Promise.all([...secrets.keys()].slice(0, 10).map((id) => store.get(id)));
    expect(after.map((r) => r?.version)).to.deep.equal(before.map((r) => r?.version));
    expect(v1).to.not.equal(v2);

    // Restart: a fresh provider and sealer read every object.
    const restarted = await sealer(await pkcs11(token));
    for (const [id, secret] of secrets)
      expect((await unsealStored(restarted, store, id)).equals(secret)).to.equal(true);
  });

  it('kek rotate: re-seals every object under the new KEK, throttled, resumable, concurrent updates kept', async () => {
    const token = createSoftHsmToken();
    const node = await sealer(await pkcs11(token));
    const secrets = await put(node, 20);
    const oldKek = node.activeKekId;
    const newKek = await node.rotateKek();

    // First run interrupted after 5 objects.
    const abort = new AbortController();
    const first = await node.resealAll({
      onProgress: (p) => {
        if (p.done >= 5) abort.abort();
      },
      signal: abort.signal,
    });
    expect(first.resealed).to.equal(5);
    // Resume, throttled to 200 objects/s: 15 objects take at least ~70 ms.
    const t0 = Date.now();
    const progress: number[] = [];
    const second = await node.resealAll({ ratePerSecond: 200, onProgress: (p) => progress.push(p.done) });
    expect(Date.now() - t0).to.be.greaterThan(60);
    expect(second).to.include({ kekId: newKek, total: 20, resealed: 15, skipped: 5, remaining: 0 });
    expect(progress.at(-1)).to.equal(20);
    for await (const rec of store.iterate()) {
      expect(rec.sealed?.kekId).to.equal(newKek);
      expect(rec.version).to.equal(2);
    }
    expect(oldKek).to.not.equal(newKek);
    for (const [id, secret] of secrets)
      expect((await unsealStored(node, store, id)).equals(secret)).to.equal(true);
    // Nothing left: a third run re-seals nothing.
    expect((await node.resealAll()).resealed).to.equal(0);
  });

  it('kek rotate: an object another node updates meanwhile is read again, not overwritten', async () => {
    const token = createSoftHsmToken();
    const provider = await pkcs11(token);
    const otherNode = await sealer(provider); // keeps sealing under the old KEK
    const secrets = await put(otherNode, 3);
    const [id] = [...secrets.keys()];
    if (id === undefined) throw new Error('no object');
    let interfered = false;
    // The other node writes the object between the re-sealer's read and its write.
    const racing = new Proxy(store, {
      get(target, prop) {
        if (prop === 'update') {
          return async (rec: ObjectRecord, expected: number) => {
            if (!interfered && rec.id === id) {
              interfered = true;
              const cur = await target.get(id);
              if (cur?.sealed === undefined) throw new Error('missing');
              const plain = await otherNode.unseal(id, cur.version, cur.sealed);
              const sealed = await otherNode.seal(id, cur.version + 1, plain);
              await target.update(
                { ...cur, version: cur.version + 1, names: ['changed'], sealed },
                cur.version,
              );
            }
            return target.update(rec, expected);
          };
        }
        const v: unknown = Reflect.get(target, prop);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const node = await Sealer.open(racing, provider, { settleMs: 0 });
    toClose.push(() => node.close());
    const newKek = await node.rotateKek();
    const result = await node.resealAll();
    expect(interfered).to.equal(true);
    expect(result).to.include({ resealed: 3, remaining: 0 });
    const rec = await store.get(id);
    expect(rec?.names).to.deep.equal(['changed']);
    expect(rec?.version).to.equal(3);
    expect(rec?.sealed?.kekId).to.equal(newKek);
    expect((await unsealStored(node, store, id)).equals(secrets.get(id) ?? Buffer.alloc(0))).to.equal(true);
  });

  it('software → pkcs11 migration rewraps every KEK under the HSM key; the software key is then not needed', async () => {
    const keyFile = path.join(dir, 'master.key');
    const software = await openSoftwareProvider(keyFile, { log: silentLogger });
    toClose.push(() => software.close());
    const before = await sealer(software);
    const secrets = await put(before, 4);
    await before.rotateKek();
    for (const [k, v] of await put(before, 4)) secrets.set(k, v);
    before.close();

    const token = createSoftHsmToken();
    const hsm = await pkcs11(token);
    // Before migration the pkcs11 provider cannot open the store's KEKs, and says why.
    const refused = await rejection(Sealer.open(store, hsm, { settleMs: 0 }));
    expect(refused.message).to.include('hsm migrate');

    const seen: number[] = [];
    const result = await rewrapKeks(store, hsm, {
      sources: [software],
      onProgress: (p) => seen.push(p.done),
    });
    expect(result).to.deep.equal({ total: 2, rewrapped: 2 });
    expect([...(await keksByMasterKey(store)).keys()]).to.deep.equal([hsm.currentKeyId]);
    await software.close();
    await rm(keyFile);

    const after = await sealer(hsm);
    for (const [id, secret] of secrets)
      expect((await unsealStored(after, store, id)).equals(secret)).to.equal(true);
    // Re-running is harmless (resumable).
    expect((await rewrapKeks(store, hsm)).rewrapped).to.equal(0);
  });
});
