/**
 * Losing and regaining the HSM, seen by a KMIP client of a real server on
 * the pkcs11 provider (issue 6): while SoftHSM2 is gone, a Get that needs
 * an unwrap fails with General Failure "HSM unavailable", a Get served by a
 * cached KEK keeps working for hsm.gracePeriodSeconds and then stops too,
 * keys inside the HSM stop at once; once the HSM is back everything serves
 * again without a restart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { type RunningServer, startServer } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { openMasterKeyProvider } from '../../src/hsm/index.js';
import type { ModelAttribute } from '../../src/kmip/messages/attributes.js';
import { Operation, ResultReason, ResultStatus, Tag } from '../../src/kmip/spec/index.js';
import { silentLogger } from '../../src/log.js';
import { ensureDevPki } from '../../src/pki/index.js';
import { openStore } from '../../src/store/index.js';
import { Sealer } from '../../src/store/sealing.js';
import type { TestKmipClient } from '../helpers/kmip-client.js';
import { connectAdmin, pkcs11Hsm, writeServerConfig } from '../helpers/server-config.js';
import { createSoftHsmToken, loseHsm, type SoftHsmToken } from '../helpers/softhsm.js';

const GRACE_SECONDS = 3;

describe('losing and regaining the HSM through KMIP (pkcs11 provider)', function () {
  this.timeout(120_000);
  let dataDir: string;
  let configFile: string;
  let server: RunningServer | undefined;
  let token: SoftHsmToken;
  let regain: (() => void) | undefined;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-hsm-loss-'));
    await ensureDevPki(dataDir);
    token = createSoftHsmToken();
    configFile = await writeServerConfig(dataDir, {
      hsm: pkcs11Hsm(token, { gracePeriodSeconds: GRACE_SECONDS, healthCheckSeconds: 1 }),
    });
  });

  afterEach(async () => {
    regain?.();
    regain = undefined;
    await server?.close();
    server = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  async function start(): Promise<TestKmipClient> {
    server = await startServer(loadConfig({ configFile, env: {} }), silentLogger);
    return connectAdmin(server.address, dataDir);
  }

  async function get(c: TestKmipClient, uid: string) {
    return c.call(Operation.Get, [c.uidItem(uid)]);
  }

  function expectHsmUnavailable(r: {
    status: number;
    reason: number | undefined;
    message: string | undefined;
  }) {
    expect(r.status).to.equal(ResultStatus.OperationFailed);
    expect(r.reason).to.equal(ResultReason.GeneralFailure);
    expect(r.message).to.equal('HSM unavailable');
  }

  it('cold KEKs fail at once, warm ones serve for the grace period, all serve again after regain', async () => {
    // Key A under KEK 1; then KEK 2 becomes active, so that after a restart only KEK 2 is unwrapped.
    let c = await start();
    const coldKey = await c.createAes();
    c.close();
    await server?.close();
    server = undefined;
    {
      const store = await openStore(`sqlite:${path.join(dataDir, 'kmip.db')}`);
      const provider = await openMasterKeyProvider(token.hsm, silentLogger);
      const sealer = await Sealer.open(store, provider, { log: silentLogger, settleMs: 0 });
      await sealer.rotateKek();
      await sealer.close();
      await provider.close();
      await store.close();
    }
    c = await start();
    const warmKey = await c.createAes();
    const resident: ModelAttribute = {
      key: { kind: 'custom', vendor: 'x', name: 'HSM-Resident' },
      index: undefined,
      value: { tag: Tag.AttributeValue, type: 'Boolean', value: true },
    };
    const residentKey = await c.createAes([
      resident,
      {
        key: { kind: 'standard', tag: Tag.ActivationDate },
        index: undefined,
        value: {
          tag: Tag.ActivationDate,
          type: 'DateTime',
          value: BigInt(Math.floor(Date.now() / 1000) - 60),
        },
      },
    ]);
    expect((await get(c, warmKey)).status).to.equal(ResultStatus.Success);
    const data = { tag: Tag.Data, type: 'ByteString' as const, value: new Uint8Array(16) };
    expect((await c.call(Operation.Encrypt, [c.uidItem(residentKey), data])).status).to.equal(
      ResultStatus.Success,
    );

    regain = loseHsm();
    const lostAt = Date.now();
    expectHsmUnavailable(await get(c, coldKey));
    expect((await get(c, warmKey)).status, 'a cached KEK serves within the grace period').to.equal(
      ResultStatus.Success,
    );
    // Keys inside the HSM have nothing cached: they stop at once.
    expectHsmUnavailable(await c.call(Operation.Encrypt, [c.uidItem(residentKey), data]));
    expect(Date.now() - lostAt).to.be.below(GRACE_SECONDS * 1000);

    await sleep(GRACE_SECONDS * 1000 + 500 - (Date.now() - lostAt));
    expectHsmUnavailable(await get(c, warmKey));
    expectHsmUnavailable(await get(c, coldKey));

    regain();
    regain = undefined;
    // The health check (every second) or the next request reconnects; no restart.
    const deadline = Date.now() + 10_000;
    let back = await get(c, coldKey);
    while (back.status !== ResultStatus.Success && Date.now() < deadline) {
      await sleep(250);
      back = await get(c, coldKey);
    }
    expect(back.status, back.message).to.equal(ResultStatus.Success);
    expect((await get(c, warmKey)).status).to.equal(ResultStatus.Success);
    expect((await c.call(Operation.Encrypt, [c.uidItem(residentKey), data])).status).to.equal(
      ResultStatus.Success,
    );
    expect((await c.createAes()).length).to.be.above(0);
    c.close();
  });
});
