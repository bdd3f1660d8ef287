import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { openSoftwareProvider } from '../../../src/hsm/index.js';
import type { MasterKeyProvider } from '../../../src/hsm/types.js';
import { findValue } from '../../../src/kmip/model/attributes.js';
import { newObjectAttributes } from '../../../src/kmip/model/lifecycle.js';
import { fromRecord } from '../../../src/kmip/model/record.js';
import { ObjectService } from '../../../src/kmip/model/service.js';
import { ObjectType, Tag } from '../../../src/kmip/spec/index.js';
import { silentLogger } from '../../../src/log.js';
import { openStore } from '../../../src/store/index.js';
import { Sealer } from '../../../src/store/sealing.js';
import type { ObjectRecord, ObjectStore } from '../../../src/store/types.js';

const freshOf = (attrs: Parameters<typeof findValue>[0]) => findValue(attrs, Tag.Fresh)?.value;

describe('Fresh after the first Get (ObjectService.clearFreshLater)', () => {
  let dir: string;
  let store: ObjectStore;
  let provider: MasterKeyProvider;
  let sealer: Sealer;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kmip-fresh-'));
    store = await openStore(`sqlite:${path.join(dir, 'kmip.db')}`, { log: silentLogger });
    provider = await openSoftwareProvider(path.join(dir, 'master.key'), { log: silentLogger });
    sealer = await Sealer.open(store, provider, { log: silentLogger, settleMs: 0 });
  });
  after(async () => {
    await sealer.close();
    await store.close();
    await provider.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers at once: the write waits for no one, the object shows Fresh false meanwhile and stores it after', async () => {
    // A store whose updates wait for the test's go-ahead: the old Get awaited this write and never answered.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let stored = 0;
    const update = async (record: ObjectRecord, expected: number) => {
      await gate;
      await store.update(record, expected);
      stored++;
    };
    const gated = new Proxy(store, {
      get(target, prop) {
        if (prop === 'update') return update;
        const v: unknown = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const objects = new ObjectService({ store: gated, sealer });
    const now = new Date();
    const obj = await objects.create({
      objectType: ObjectType.SecretData,
      attributes: newObjectAttributes({
        objectType: ObjectType.SecretData,
        attributes: [],
        content: undefined,
        now,
      }),
      content: undefined,
      owner: undefined,
    });
    expect(freshOf(obj.attributes)).to.equal(true);

    objects.clearFreshLater(obj.id);
    expect(stored).to.equal(0);
    expect(freshOf((await objects.require(obj.id)).attributes)).to.equal(false);
    const raw = await store.get(obj.id);
    expect(raw && freshOf(fromRecord(raw).attributes), 'not stored yet').to.equal(true);

    release();
    const deadline = Date.now() + 10_000;
    while (stored === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const after = await store.get(obj.id);
    expect(after && freshOf(fromRecord(after).attributes)).to.equal(false);
    expect(freshOf((await objects.require(obj.id)).attributes)).to.equal(false);
  });
});
