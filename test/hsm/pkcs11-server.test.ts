/**
 * A real server on the pkcs11 provider (SoftHSM2): keys survive online
 * master-key and KEK rotation run by the admin commands while it serves, a
 * restart, and leave no key material in the data directory.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { type RunningServer, startServer } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { Operation, Tag } from '../../src/kmip/spec/index.js';
import { silentLogger } from '../../src/log.js';
import { ensureDevPki } from '../../src/pki/index.js';
import { openStore } from '../../src/store/index.js';
import { runCliCaptured } from '../helpers/cli.js';
import { aes256Attributes, nameAttribute, TestKmipClient } from '../helpers/kmip-client.js';
import { assertNoKeyMaterial } from '../helpers/no-key-material.js';
import { symmetricKey } from '../helpers/requests.js';
import { adminPki, connectAdmin, pkcs11Hsm, writeServerConfig } from '../helpers/server-config.js';
import { createSoftHsmToken, listObjects, type SoftHsmToken } from '../helpers/softhsm.js';

const cli = runCliCaptured;

describe('server on the pkcs11 provider (SoftHSM2)', function () {
  this.timeout(120_000);
  let dataDir: string;
  let configFile: string;
  let server: RunningServer | undefined;
  let token: SoftHsmToken;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-hsm-srv-'));
    await ensureDevPki(dataDir);
    token = createSoftHsmToken();
    configFile = await writeServerConfig(dataDir, { hsm: pkcs11Hsm(token) });
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  async function start(): Promise<TestKmipClient> {
    const config = loadConfig({ configFile, env: {} });
    server = await startServer(config, silentLogger);
    return connectAdmin(server.address, dataDir);
  }

  async function getAll(c: TestKmipClient, keys: Map<string, Uint8Array>): Promise<void> {
    for (const [uid, bytes] of keys) {
      const got = TestKmipClient.keyMaterial(await c.ok(Operation.Get, [c.uidItem(uid)]));
      expect(Buffer.from(got ?? []).equals(Buffer.from(bytes)), uid).to.equal(true);
    }
  }

  it('keys survive online master-key and KEK rotation and a restart; no key material at rest', async () => {
    let c = await start();
    const keys = new Map<string, Uint8Array>();
    for (let i = 0; i < 5; i++) {
      const bytes = randomBytes(32);
      const reg = await c.ok(Operation.Register, [
        { tag: Tag.ObjectType, type: 'Enumeration', value: 2 /* Symmetric Key */ },
        c.attributesPayload([...aes256Attributes(), nameAttribute(`hsm-${i}`)]),
        symmetricKey(bytes),
      ]);
      const uid = reg.value.find((x) => x.tag === Tag.UniqueIdentifier);
      if (uid?.type !== 'TextString') throw new Error('no uid');
      keys.set(uid.value, bytes);
    }
    for (let i = 0; i < 5; i++) {
      const uid = await c.createAes();
      const got = TestKmipClient.keyMaterial(await c.ok(Operation.Get, [c.uidItem(uid)]));
      if (got) keys.set(uid, got);
    }

    // Master-key rotation while the server serves.
    const rot = await cli(['master-key', 'rotate', '--config', configFile]);
    expect(rot.code, rot.err).to.equal(0);
    expect(rot.out).to.match(/new master key version pkcs11:kmip-master:v2\./);
    expect(rot.out).to.include('1 of 1 KEK(s) rewrapped');
    expect(rot.out).to.match(/audit: MasterKeyRotate by cli/);
    expect(rot.err).to.include('rewrap [');
    await getAll(c, keys);

    // KEK rotation while the server serves.
    const kek = await cli(['kek', 'rotate', '--config', configFile, '--rate', '1000']);
    expect(kek.code, kek.err).to.equal(0);
    expect(kek.out).to.include('10 object(s) re-sealed');
    expect(kek.err).to.include('reseal [');
    await getAll(c, keys);
    const resume = await cli(['kek', 'rotate', '--resume', '--config', configFile]);
    expect(resume.out).to.include('0 object(s) re-sealed');

    const status = await cli(['master-key', 'status', '--config', configFile]);
    expect(status.code, status.err).to.equal(0);
    expect(status.out).to.match(/\* pkcs11:kmip-master:v2\.[0-9a-f]{16} {2}protects 2 KEK\(s\) \(1 active\)/);
    expect(status.out).to.match(/ {3}pkcs11:kmip-master:v1\.[0-9a-f]{16} {2}protects 0 KEK\(s\)/);
    expect(status.out).to.include('every KEK is wrapped by the current master key');

    // Both versions are in the token, neither extractable.
    const listing = await listObjects(token);
    expect(listing.match(/never extractable/g)).to.have.length(2);

    // Restart.
    c.close();
    await server?.close();
    c = await start();
    await getAll(c, keys);
    c.close();
    await server?.close();
    server = undefined;

    const store = await openStore(`sqlite:${path.join(dataDir, 'kmip.db')}`);
    const ops: string[] = [];
    for await (const a of store.readAudit()) ops.push(a.operation);
    await store.close();
    expect(ops).to.include.members(['MasterKeyRotate', 'KekRotate', 'KekRotateResume']);

    // No master key file, and no key (nor hex/base64 of it) anywhere under the data directory.
    await access(path.join(dataDir, 'master.key')).then(
      () => expect.fail('a pkcs11 server wrote a master key file'),
      () => undefined,
    );
    await assertNoKeyMaterial(dataDir, [...keys.values()]);
  });

  it('hsm migrate moves a software-provider store to the HSM', async () => {
    // Start on the software provider (a laptop), then move to the HSM.
    const softConfig = await writeServerConfig(dataDir, {}, 'soft.json');
    const config = loadConfig({ configFile: softConfig, env: {} });
    server = await startServer(config, silentLogger);
    const pki = adminPki(dataDir);
    let c = await TestKmipClient.connect({ host: server.address.host, port: server.address.port, pki });
    const keys = new Map<string, Uint8Array>();
    for (let i = 0; i < 3; i++) {
      const uid = await c.createAes();
      const got = TestKmipClient.keyMaterial(await c.ok(Operation.Get, [c.uidItem(uid)]));
      if (got) keys.set(uid, got);
    }
    c.close();
    await server.close();
    server = undefined;

    const before = await cli(['master-key', 'status', '--config', configFile]);
    expect(before.code, before.err).to.equal(0);
    expect(before.out).to.match(/! software:[0-9a-f]{16}:v1 {2}protects 1 KEK\(s\)/);
    expect(before.out).to.include('run "kmip-server hsm migrate"');

    const migrate = await cli(['hsm', 'migrate', '--config', configFile]);
    expect(migrate.code, migrate.err).to.equal(0);
    expect(migrate.out).to.include('1 of 1 KEK(s) moved under pkcs11:kmip-master:v1.');
    await rm(path.join(dataDir, 'master.key'));

    c = await start();
    await getAll(c, keys);
    c.close();
  });
});
