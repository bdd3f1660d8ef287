/**
 * A server whose clock is far outside its certificates' validity (libfaketime,
 * 30 years ahead) says so: at start about its own certificate, and for each
 * refused handshake with the reason, instead of failing every client silently.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ensureDevPki } from '../../src/pki/index.js';
import { TestKmipClient } from '../helpers/kmip-client.js';
import { spawnServer } from '../helpers/server-process.js';

const FAKETIME_LIB = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1',
  '/usr/lib/faketime/libfaketimeMT.so.1',
];

describe('certificate validity and the clock (integration, faketime)', function () {
  this.timeout(90_000);
  let dataDir: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-tls-clock-'));
    await ensureDevPki(dataDir);
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('logs why every handshake fails when the server clock is outside the certificates validity', async () => {
    const lib = FAKETIME_LIB.find((p) => existsSync(p));
    if (lib === undefined) throw new Error('libfaketime is missing: apt-get install faketime (.ci/run does)');
    const server = await spawnServer(
      dataDir,
      {},
      { env: { LD_PRELOAD: lib, FAKETIME: '+30y', FAKETIME_DONT_FAKE_MONOTONIC: '1' } },
    );
    try {
      expect(server.output()).to.contain('the server certificate is not valid at this server');
      let refused: unknown;
      try {
        const c = await TestKmipClient.connect(server);
        try {
          await c.createAes();
        } finally {
          c.close();
        }
      } catch (e: unknown) {
        refused = e;
      }
      expect(refused).to.be.instanceOf(Error);
      const deadline = Date.now() + 10_000;
      while (!server.output().includes('a certificate is not valid at this time') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(server.output()).to.contain('TLS handshake failed: a certificate is not valid at this time');
    } finally {
      server.kill('SIGTERM');
      await server.exited;
    }
  });
});
