import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { openPkcs11Provider } from '../../src/hsm/pkcs11/index.js';
import { openSoftwareProvider } from '../../src/hsm/software/index.js';
import type { MasterKeyProvider } from '../../src/hsm/types.js';
import { openStore } from '../../src/store/index.js';
import { Sealer, SealingError, sealingAad } from '../../src/store/sealing.js';
import type { ObjectStore, SealedBlob } from '../../src/store/types.js';
import { assertNoKeyMaterial } from '../helpers/no-key-material.js';
import { createSoftHsmToken, type SoftHsmToken, testHsmProvider } from '../helpers/softhsm.js';
import { sealedRecord } from './fixtures.js';

/** Records a copy of every KEK it wraps, so that tests can grep for KEKs too. */
function recordingProvider(inner: MasterKeyProvider): MasterKeyProvider & { keks: Uint8Array[] } {
  const keks: Uint8Array[] = [];
  return {
    kind: inner.kind,
    get currentKeyId() {
      return inner.currentKeyId;
    },
    keks,
    async wrap(kek) {
      keks.push(new Uint8Array(kek));
      return inner.wrap(kek);
    },
    unwrap: (id, wrapped) => inner.unwrap(id, wrapped),
    close: () => inner.close(),
  };
}

async function sealingError(p: Promise<unknown>): Promise<SealingError> {
  try {
    await p;
  } catch (err: unknown) {
    expect(err).to.be.instanceOf(SealingError);
    expect((err as SealingError).code).to.equal('ERR_SEALING');
    return err as SealingError;
  }
  expect.fail('expected a SealingError');
}

function flip(bytes: Uint8Array, i: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[i] = (copy[i] ?? 0) ^ 0x01;
  return copy;
}

describe(`store/sealing (${testHsmProvider()} master-key provider)`, () => {
  let dir: string;
  // KMIP_TEST_HSM=pkcs11: every node of a test shares one fresh SoftHSM2 token.
  let token: SoftHsmToken | undefined;
  let keyFile: string;
  let dbUri: string;
  let provider: MasterKeyProvider;
  let store: ObjectStore;
  const toClose: (() => unknown)[] = [];

  async function openNode(): Promise<{ store: ObjectStore; provider: MasterKeyProvider }> {
    const s = await openStore(dbUri);
    const p =
      token === undefined
        ? await openSoftwareProvider(keyFile)
        : await openPkcs11Provider({ module: token.module, tokenLabel: token.tokenLabel, pin: token.pin });
    toClose.push(
      () => s.close(),
      () => p.close(),
    );
    return { store: s, provider: p };
  }

  async function openSealer(opts: { cacheSize?: number } = {}): Promise<Sealer> {
    const sealer = await Sealer.open(store, provider, { settleMs: 10, ...opts });
    toClose.push(() => sealer.close());
    return sealer;
  }

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kmip-seal-'));
    keyFile = path.join(dir, 'master.key');
    dbUri = `sqlite:${path.join(dir, 'kmip.db')}`;
    token = testHsmProvider() === 'pkcs11' ? createSoftHsmToken() : undefined;
    ({ store, provider } = await openNode());
  });

  afterEach(async () => {
    for (const close of toClose.splice(0).reverse()) await close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('sealingAad', () => {
    it('encodes (id, version) unambiguously', () => {
      const seen = new Set<string>();
      for (const [id, v] of [
        ['a', 1],
        ['a', 256],
        ['a\u0000', 1],
        ['', 0],
        ['ab', 1],
        ['é', 1],
      ] as const) {
        seen.add(sealingAad(id, v).toString('hex'));
      }
      expect(seen.size).to.equal(6);
    });

    it('rejects a version that is not a non-negative integer', () => {
      expect(() => sealingAad('x', -1)).to.throw(SealingError);
      expect(() => sealingAad('x', 1.5)).to.throw(SealingError);
    });
  });

  it('creates one active KEK on first open and reuses it afterwards', async () => {
    const a = await openSealer();
    const keks = await store.listKeks();
    expect(keks).to.have.length(1);
    expect(keks[0]?.active).to.equal(true);
    expect(keks[0]?.id).to.equal(a.activeKekId);
    expect(keks[0]?.masterKeyId).to.equal(provider.currentKeyId);
    const b = await openSealer();
    expect(b.activeKekId).to.equal(a.activeKekId);
    expect(await store.listKeks()).to.have.length(1);
  });

  it('round-trips secrets of any size', async () => {
    const sealer = await openSealer();
    for (const size of [0, 1, 16, 32, 33, 512, 10_000]) {
      const plain = new Uint8Array(randomBytes(size));
      const blob = await sealer.seal('obj-1', 3, plain);
      expect(blob.kekId).to.equal(sealer.activeKekId);
      expect(blob.nonce).to.have.length(12);
      expect(blob.ciphertext).to.have.length(size + 16);
      expect(Buffer.from(await sealer.unseal('obj-1', 3, blob)).equals(Buffer.from(plain))).to.equal(true);
    }
  });

  it('binds a blob to its object id and version', async () => {
    const sealer = await openSealer();
    const blob = await sealer.seal('obj-1', 1, new Uint8Array(randomBytes(32)));
    await sealingError(sealer.unseal('obj-2', 1, blob));
    await sealingError(sealer.unseal('obj-1', 2, blob));
    await sealingError(sealer.unseal('obj-1\u0000', 1, blob));
    await sealingError(sealer.unseal('obj-', 1, blob));
  });

  it('detects any flipped bit in the nonce, ciphertext or tag', async () => {
    const sealer = await openSealer();
    const blob = await sealer.seal('obj-1', 1, new Uint8Array(randomBytes(32)));
    for (let i = 0; i < blob.nonce.length; i++) {
      await sealingError(sealer.unseal('obj-1', 1, { ...blob, nonce: flip(blob.nonce, i) }));
    }
    for (let i = 0; i < blob.ciphertext.length; i++) {
      await sealingError(sealer.unseal('obj-1', 1, { ...blob, ciphertext: flip(blob.ciphertext, i) }));
    }
    await sealingError(sealer.unseal('obj-1', 1, { ...blob, ciphertext: blob.ciphertext.subarray(0, 40) }));
    await sealingError(sealer.unseal('obj-1', 1, { ...blob, nonce: blob.nonce.subarray(0, 8) }));
    const err = await sealingError(sealer.unseal('obj-1', 1, { ...blob, kekId: randomUUID() }));
    expect(err.message).to.include('unknown key-encryption key');
  });

  it('uses a fresh nonce for every seal', async () => {
    const sealer = await openSealer();
    const plain = new Uint8Array(32);
    const nonces = new Set<string>();
    const cts = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const blob = await sealer.seal('obj-1', 1, plain);
      nonces.add(Buffer.from(blob.nonce).toString('hex'));
      cts.add(Buffer.from(blob.ciphertext).toString('hex'));
    }
    expect(nonces.size).to.equal(1000);
    expect(cts.size).to.equal(1000);
  });

  it('rotateKek: new seals use the new KEK, old blobs still unseal', async () => {
    const sealer = await openSealer();
    const first = sealer.activeKekId;
    const plain = new Uint8Array(randomBytes(32));
    const old = await sealer.seal('obj-1', 1, plain);
    const second = await sealer.rotateKek();
    expect(second).not.to.equal(first);
    expect(sealer.activeKekId).to.equal(second);
    const fresh = await sealer.seal('obj-2', 1, plain);
    expect(fresh.kekId).to.equal(second);
    expect(Buffer.from(await sealer.unseal('obj-1', 1, old)).equals(Buffer.from(plain))).to.equal(true);
    const keks = await store.listKeks();
    expect(keks.filter((k) => k.active).map((k) => k.id)).to.deep.equal([second]);
    // a node opening later picks the rotated KEK and reads blobs of both
    const other = await openSealer();
    expect(other.activeKekId).to.equal(second);
    expect(Buffer.from(await other.unseal('obj-1', 1, old)).equals(Buffer.from(plain))).to.equal(true);
    expect(Buffer.from(await other.unseal('obj-2', 1, fresh)).equals(Buffer.from(plain))).to.equal(true);
  });

  it('after warm-up, seals and 1,000 unseals make no provider call', async () => {
    const sealer = await openSealer();
    const oldBlob = await sealer.seal('obj-old', 1, new Uint8Array(32));
    await sealer.rotateKek();
    const newBlob = await sealer.seal('obj-new', 1, new Uint8Array(32));
    const cold = await openSealer();
    await cold.unseal('obj-old', 1, oldBlob);
    const calls = cold.providerCalls;
    for (let i = 0; i < 500; i++) {
      await cold.unseal('obj-old', 1, oldBlob);
      await cold.unseal('obj-new', 1, newBlob);
      await cold.seal('obj-x', 1, new Uint8Array(32));
    }
    expect(cold.providerCalls).to.equal(calls);
  });

  it('evicts with a small cache and still unseals everything', async () => {
    const sealer = await openSealer();
    const blobs: { id: string; blob: SealedBlob; plain: Uint8Array }[] = [];
    for (let i = 0; i < 4; i++) {
      const plain = new Uint8Array(randomBytes(32));
      const id = `obj-${i}`;
      blobs.push({ id, blob: await sealer.seal(id, 1, plain), plain });
      await sealer.rotateKek();
    }
    // the active KEK is pinned; the 4 older ones share a cache of 2
    const small = await openSealer({ cacheSize: 2 });
    const before = small.providerCalls;
    for (let round = 0; round < 5; round++) {
      for (const { id, blob, plain } of blobs) {
        expect(Buffer.from(await small.unseal(id, 1, blob)).equals(Buffer.from(plain))).to.equal(true);
      }
    }
    // round-robin over 4 KEKs with room for 2: every unseal misses
    expect(small.providerCalls - before).to.equal(20);
    // a working set that fits stays warm
    const warm = small.providerCalls;
    for (let i = 0; i < 10; i++) {
      for (const b of blobs.slice(0, 2)) await small.unseal(b.id, 1, b.blob);
    }
    expect(small.providerCalls - warm).to.be.at.most(2);
  });

  it('concurrent unseals of a cold KEK share one provider call', async () => {
    const sealer = await openSealer();
    const plain = new Uint8Array(randomBytes(32));
    const blobs = await Promise.all(Array.from({ length: 50 }, (_, i) => sealer.seal(`o${i}`, 1, plain)));
    await sealer.rotateKek();
    const cold = await openSealer();
    const before = cold.providerCalls;
    const out = await Promise.all(blobs.map((b, i) => cold.unseal(`o${i}`, 1, b)));
    expect(cold.providerCalls - before).to.equal(1);
    for (const o of out) expect(Buffer.from(o).equals(Buffer.from(plain))).to.equal(true);
  });

  it('two nodes starting together agree on one active KEK and read each other', async () => {
    const nodeB = await openNode();
    const [a, b] = await Promise.all([
      Sealer.open(store, provider, { settleMs: 50 }),
      Sealer.open(nodeB.store, nodeB.provider, { settleMs: 50 }),
    ]);
    toClose.push(
      () => a.close(),
      () => b.close(),
    );
    expect(a.activeKekId).to.equal(b.activeKekId);
    const active = (await store.listKeks()).filter((k) => k.active);
    expect(active.map((k) => k.id)).to.deep.equal([a.activeKekId]);
    const plain = new Uint8Array(randomBytes(32));
    const fromA = await a.seal('obj-a', 1, plain);
    const fromB = await b.seal('obj-b', 1, plain);
    expect(Buffer.from(await b.unseal('obj-a', 1, fromA)).equals(Buffer.from(plain))).to.equal(true);
    expect(Buffer.from(await a.unseal('obj-b', 1, fromB)).equals(Buffer.from(plain))).to.equal(true);
    // A rotates; B adopts the new KEK on refresh and reads A's new blobs meanwhile
    const rotated = await a.rotateKek();
    const afterRotation = await a.seal('obj-a2', 1, plain);
    expect(Buffer.from(await b.unseal('obj-a2', 1, afterRotation)).equals(Buffer.from(plain))).to.equal(true);
    expect(await b.refreshActive()).to.equal(rotated);
    expect(b.activeKekId).to.equal(rotated);
  });

  it('rewrapKeks rewraps KEKs under a new master key version', async () => {
    const sealer = await openSealer();
    const plain = new Uint8Array(randomBytes(32));
    const blob = await sealer.seal('obj-1', 1, plain);
    const { provider: p2 } = await openNode();
    const v2 = await p2.rotate?.();
    const s2 = await Sealer.open(store, p2);
    toClose.push(() => s2.close());
    expect(await s2.rewrapKeks()).to.equal(1);
    expect((await store.listKeks()).map((k) => k.masterKeyId)).to.deep.equal([v2]);
    const s3 = await Sealer.open(store, p2);
    toClose.push(() => s3.close());
    expect(Buffer.from(await s3.unseal('obj-1', 1, blob)).equals(Buffer.from(plain))).to.equal(true);
  });

  it('refuses to work after close', async () => {
    const sealer = await openSealer();
    const blob = await sealer.seal('obj-1', 1, new Uint8Array(32));
    sealer.close();
    await sealingError(sealer.seal('obj-1', 1, new Uint8Array(32)));
    await sealingError(sealer.unseal('obj-1', 1, blob));
    expect(() => sealer.activeKekId).to.throw(SealingError);
  });

  it('error messages carry no key bytes', async () => {
    const sealer = await openSealer();
    const plain = new Uint8Array(randomBytes(32));
    const blob = await sealer.seal('obj-1', 1, plain);
    const err = await sealingError(sealer.unseal('obj-2', 1, blob));
    const text = `${err.message} ${err.stack ?? ''}`;
    await mkdir(path.join(dir, 'errors'));
    await writeFile(path.join(dir, 'errors', 'message.txt'), text);
    await assertNoKeyMaterial(path.join(dir, 'errors'), [plain]);
  });

  describe('no key material at rest', () => {
    it('the grep helper finds a key as raw, hex, HEX and base64 at every alignment', async () => {
      const probe = path.join(dir, 'probe');
      await mkdir(path.join(probe, 'nested'), { recursive: true });
      const key = new Uint8Array(randomBytes(32));
      const encodings = [
        Buffer.concat([Buffer.from('xx'), key, Buffer.from('yy')]),
        Buffer.from(`id=${Buffer.from(key).toString('hex')};`),
        Buffer.from(Buffer.from(key).toString('hex').toUpperCase()),
      ];
      for (const prefix of [0, 1, 2]) {
        const framed = Buffer.concat([randomBytes(prefix), key, randomBytes(5)]);
        encodings.push(Buffer.from(`{"k":"${framed.toString('base64')}"}`));
        encodings.push(Buffer.from(framed.toString('base64url')));
      }
      for (const [i, content] of encodings.entries()) {
        const file = path.join(probe, 'nested', `f${i}`);
        await writeFile(file, content);
        let failed = false;
        try {
          await assertNoKeyMaterial(probe, [key]);
        } catch (err: unknown) {
          failed = true;
          expect((err as Error).message).not.to.include(Buffer.from(key).toString('hex'));
        }
        expect(failed, `encoding #${i} not found`).to.equal(true);
        await rm(file);
      }
      await assertNoKeyMaterial(probe, [key]);
      await writeFile(path.join(probe, 'excluded'), key);
      await assertNoKeyMaterial(probe, [key], { exclude: ['excluded'] });
    });

    it('100 sealed keys leave no trace of themselves, their KEKs or the master key in the data directory', async () => {
      const recording = recordingProvider(provider);
      const sealer = await Sealer.open(store, recording, { settleMs: 10 });
      toClose.push(() => sealer.close());
      const keys: Uint8Array[] = [];
      for (let i = 0; i < 100; i++) {
        const key = new Uint8Array(randomBytes(32));
        keys.push(key);
        const id = randomUUID();
        await store.insert(sealedRecord(id, await sealer.seal(id, 1, key), [`key-${id}`]));
        if (i === 50) await sealer.rotateKek();
      }
      // read everything back through a second node before closing
      const { store: s2 } = await openNode();
      const reader = await Sealer.open(s2, provider, { settleMs: 10 });
      toClose.push(() => reader.close());
      let n = 0;
      for await (const r of s2.iterate()) {
        if (r.sealed) {
          const back = await reader.unseal(r.id, r.version, r.sealed);
          expect(keys.some((k) => Buffer.from(k).equals(Buffer.from(back)))).to.equal(true);
          n++;
        }
      }
      expect(n).to.equal(100);
      for (const close of toClose.splice(0).reverse()) await close();

      expect(recording.keks).to.have.length(2);
      if (token !== undefined) {
        // The master key never leaves the HSM: there is no key file to read it from.
        await assertNoKeyMaterial(dir, [...keys, ...recording.keks]);
        return;
      }
      const masterLine = (await readFile(keyFile, 'utf8')).split('\n').find((l) => l.startsWith('v1 '));
      const masterKey = new Uint8Array(Buffer.from(masterLine?.slice(3) ?? '', 'base64'));
      expect(masterKey).to.have.length(32);
      await assertNoKeyMaterial(dir, [...keys, ...recording.keks, masterKey], { exclude: [keyFile] });
    });
  });
});
