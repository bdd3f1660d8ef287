/**
 * Sealed at rest (issue 3): after keys are created and registered through
 * KMIP, no file under the data directory — nor FerretDB's own files — holds
 * any of them, raw, hex or base64. The software master key file is the one
 * documented exception (development only) and is excluded by name.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { Operation, Tag } from '../../src/kmip/spec/index.js';
import { startFerretDb } from '../helpers/ferretdb.js';
import { aes256Attributes, nameAttribute, TestKmipClient } from '../helpers/kmip-client.js';
import { assertNoKeyMaterial } from '../helpers/no-key-material.js';
import { symmetricKey } from '../helpers/requests.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

async function exercise(c: TestKmipClient): Promise<Uint8Array[]> {
  const keys: Uint8Array[] = [];
  for (let i = 0; i < 10; i++) {
    const bytes = randomBytes(32);
    keys.push(bytes);
    await c.ok(Operation.Register, [
      { tag: Tag.ObjectType, type: 'Enumeration', value: 2 /* Symmetric Key */ },
      c.attributesPayload([...aes256Attributes(), nameAttribute(`at-rest-${i}`)]),
      symmetricKey(bytes),
    ]);
  }
  for (let i = 0; i < 10; i++) {
    const uid = await c.createAes();
    const got = await c.ok(Operation.Get, [c.uidItem(uid)]);
    const material = TestKmipClient.keyMaterial(got);
    expect(material?.length).to.equal(32);
    if (material) keys.push(material);
  }
  return keys;
}

/** Runs `exercise` against `server`, stops it, and checks that its data directory (but the master key) holds none of the keys. */
async function exerciseAndCheck(server: TestServer): Promise<Uint8Array[]> {
  const c = await TestKmipClient.connect(server);
  const keys = await exercise(c);
  c.close();
  await server.close();
  await assertNoKeyMaterial(server.dataDir, keys, { exclude: [path.join(server.dataDir, 'master.key')] });
  return keys;
}

describe('no key material at rest (integration)', function () {
  this.timeout(120_000);

  it('sqlite: the data directory holds no key bytes', async () => {
    const server = await startTestServer({ keepDataDir: true });
    try {
      await exerciseAndCheck(server);
    } finally {
      await server.close();
      await rm(server.dataDir, { recursive: true, force: true });
    }
  });

  it('mongodb (FerretDB): neither the data directory nor the database files hold key bytes', async () => {
    const ferret = await startFerretDb();
    const server = await startTestServer({
      keepDataDir: true,
      overrides: { store: { uri: ferret.uri, database: 'atrest' } },
    });
    try {
      const keys = await exerciseAndCheck(server);
      // FerretDB's SQLite files (and their WAL), read while it runs: stop() removes them.
      await assertNoKeyMaterial(ferret.dataDir, keys);
    } finally {
      await server.close();
      await ferret.stop();
      await rm(server.dataDir, { recursive: true, force: true });
    }
  });
});
