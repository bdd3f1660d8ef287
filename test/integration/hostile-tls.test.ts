/**
 * Who gets in, against the live server: a client without a certificate, with
 * one from another CA, or with a revoked one gets no answer; the CRL (made by
 * the openssl CLI, signed by the development CA) is reloaded on SIGHUP without
 * dropping the connections of clients still in good standing.
 */

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import { type RunningServer, startServer } from '../../src/app.js';
import { Operation } from '../../src/kmip/spec/index.js';
import { silentLogger } from '../../src/log.js';
import { ensureDevPki, issueClientCertificate } from '../../src/pki/index.js';
import { opensslCrl } from '../helpers/openssl.js';
import { makeTestPki } from '../helpers/pki.js';
import { encodeRequest } from '../helpers/requests.js';
import { localConfig } from '../helpers/server-config.js';
import { type ClientPair, connectAs, tryRequest } from '../kmip/server/listener-pki.js';

const DISCOVER = encodeRequest([{ op: Operation.DiscoverVersions }]);

describe('client certificates against the live server (integration)', function () {
  this.timeout(60_000);
  let dataDir: string;
  let server: RunningServer;
  let port: number;
  let ca: string;
  let admin: ClientPair;
  let mallory: ClientPair;
  let crlFile: string;
  let makeCrl: (revoke: string[]) => Promise<string>;

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-it-tls-'));
    const { paths } = await ensureDevPki(dataDir);
    await issueClientCertificate(dataDir, 'mallory');
    const read = (p: string) => readFile(p, 'utf8');
    ca = await read(paths.caCert);
    admin = { cert: await read(paths.adminCert), key: await read(paths.adminKey) };
    mallory = {
      cert: await read(path.join(paths.dir, 'mallory.crt')),
      key: await read(path.join(paths.dir, 'mallory.key')),
    };
    let generation = 0;
    makeCrl = async (revoke) => {
      const db = path.join(dataDir, `crl-db-${++generation}`);
      return opensslCrl(
        db,
        paths,
        revoke.map((name) => path.join(paths.dir, `${name}.crt`)),
      );
    };
    crlFile = path.join(dataDir, 'clients.crl');
    await writeFile(crlFile, await makeCrl([]));
    const config = localConfig(dataDir, { tls: { crl: crlFile } });
    server = await startServer(config, silentLogger);
    port = server.address.port;
  });

  after(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('gives no answer to a client without a certificate or with one from another CA', async () => {
    const other = await makeTestPki();
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const v = { minVersion: version, maxVersion: version };
      expect(await tryRequest(port, ca, undefined, DISCOVER, v), `no certificate, ${version}`).to.equal(
        'refused',
      );
      expect(
        await tryRequest(
          port,
          ca,
          { cert: other.otherCaClientCert, key: other.otherCaClientKey },
          DISCOVER,
          v,
        ),
        `another CA, ${version}`,
      ).to.equal('refused');
      expect(await tryRequest(port, ca, admin, DISCOVER, v), `admin, ${version}`).to.equal('answered');
    }
  });

  it('reloads the CRL on SIGHUP: a revoked client is refused, good connections stay up', async () => {
    const adminConn = await connectAs(port, ca, admin);
    const malloryConn = await connectAs(port, ca, mallory);
    adminConn.socket.write(DISCOVER);
    malloryConn.socket.write(DISCOVER);
    await Promise.all([adminConn.waitFor(1), malloryConn.waitFor(1)]);

    await writeFile(crlFile, await makeCrl(['mallory']));
    process.kill(process.pid, 'SIGHUP');
    const deadline = Date.now() + 5000;
    while ((await tryRequest(port, ca, mallory, DISCOVER)) === 'answered') {
      if (Date.now() > deadline) throw new Error('the revoked certificate is still accepted after SIGHUP');
      await delay(50);
    }
    // the open connection of the revoked client is closed too; the admin's is not
    await malloryConn.closed;
    adminConn.socket.write(DISCOVER);
    await adminConn.waitFor(2);
    expect(await tryRequest(port, ca, admin, DISCOVER)).to.equal('answered');
    adminConn.socket.destroy();
  });

  it('keeps the previous certificates when the reloaded files are unusable', async () => {
    await writeFile(crlFile, 'not a CRL');
    await server.reloadTls().then(
      () => expect.fail('reloadTls accepted a broken CRL file'),
      (e: unknown) => expect(String(e)).to.match(/CRL/),
    );
    expect(await tryRequest(port, ca, admin, DISCOVER)).to.equal('answered');
    expect(await tryRequest(port, ca, mallory, DISCOVER)).to.equal('refused');
  });
});
