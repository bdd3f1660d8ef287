/**
 * DESIGN.md: "An HSM call per KMIP request is not needed: after warm-up,
 * Get/Encrypt touch only cached KEKs." Counts PKCS#11 round trips
 * (pkcs11CallCount) per 1,000 Get and Encrypt requests to a real server on
 * the pkcs11 provider; BENCHMARKS.md "HSM provider" quotes the figure.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { type RunningServer, startServer } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { pkcs11CallCount } from '../../src/hsm/pkcs11/index.js';
import { Operation, Tag } from '../../src/kmip/spec/index.js';
import { silentLogger } from '../../src/log.js';
import { ensureDevPki } from '../../src/pki/index.js';
import { connectAdmin, pkcs11Hsm, writeServerConfig } from '../helpers/server-config.js';
import { createSoftHsmToken } from '../helpers/softhsm.js';

describe('HSM calls per 1,000 requests after warm-up (pkcs11 provider)', function () {
  this.timeout(120_000);
  let dataDir: string;
  let server: RunningServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('Get and Encrypt of sealed keys make no HSM call once their KEK is cached', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-hsm-calls-'));
    await ensureDevPki(dataDir);
    const token = createSoftHsmToken();
    const configFile = await writeServerConfig(dataDir, { hsm: pkcs11Hsm(token) });
    server = await startServer(loadConfig({ configFile, env: {} }), silentLogger);
    const c = await connectAdmin(server.address, dataDir);
    const activation = {
      key: { kind: 'standard' as const, tag: Tag.ActivationDate },
      index: undefined,
      value: {
        tag: Tag.ActivationDate,
        type: 'DateTime' as const,
        value: BigInt(Math.floor(Date.now() / 1000) - 60),
      },
    };
    const keys: string[] = [];
    for (let i = 0; i < 50; i++) keys.push(await c.createAes([activation]));
    for (const k of keys) await c.ok(Operation.Get, [c.uidItem(k)]); // warm-up (clears Fresh)

    const before = pkcs11CallCount();
    for (let i = 0; i < 1000; i++) await c.ok(Operation.Get, [c.uidItem(keys[i % keys.length] ?? '')]);
    const gets = pkcs11CallCount() - before;
    const data = { tag: Tag.Data, type: 'ByteString' as const, value: new Uint8Array(64) };
    const mid = pkcs11CallCount();
    for (let i = 0; i < 1000; i++)
      await c.ok(Operation.Encrypt, [c.uidItem(keys[i % keys.length] ?? ''), data]);
    const encrypts = pkcs11CallCount() - mid;
    // A key kept inside the HSM: every Encrypt is one HSM call (nothing of it is in memory).
    const resident = await c.createAes([
      activation,
      {
        key: { kind: 'custom', vendor: 'x', name: 'HSM-Resident' },
        index: undefined,
        value: { tag: Tag.AttributeValue, type: 'Boolean', value: true },
      },
    ]);
    await c.ok(Operation.Encrypt, [c.uidItem(resident), data]);
    const start = pkcs11CallCount();
    for (let i = 0; i < 1000; i++) await c.ok(Operation.Encrypt, [c.uidItem(resident), data]);
    const residentCalls = pkcs11CallCount() - start;
    c.close();
    process.stderr.write(
      `      HSM calls per 1,000 Get: ${gets}; per 1,000 Encrypt: ${encrypts}; per 1,000 Encrypt with a key inside the HSM: ${residentCalls}\n`,
    );
    expect(residentCalls).to.equal(1000);
    expect(gets).to.be.at.most(1);
    expect(encrypts).to.be.at.most(1);
  });
});
