import { constants as cryptoConstants } from 'node:crypto';
import type tls from 'node:tls';
import { expect } from 'chai';
import type { ConnectionInfo } from '../../../src/kmip/server/listener.js';
import { echo, RESPONSE_MESSAGE_TAG, requestFrame as request, waitUntil } from '../../helpers/listener.js';
import {
  connect,
  expectRefused,
  pki,
  recordingLogger,
  seqOf,
  useListenerSuite,
} from './listener-fixtures.js';

describe('kmip/server/listener: mutual TLS', function () {
  this.timeout(30_000);
  const { start } = useListenerSuite();

  describe('mutual TLS', () => {
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      it(`answers over ${version} and passes the peer certificate to the handler`, async () => {
        const seen: ConnectionInfo[] = [];
        const { port } = await start({}, async (m, conn) => {
          seen.push(conn);
          return echo(m);
        });
        const client = await connect(port, { minVersion: version, maxVersion: version });
        expect(client.socket.getProtocol()).to.equal(version);
        client.socket.write(request(7));
        const [response] = await client.waitFor(1);
        expect(response?.readUIntBE(0, 3)).to.equal(RESPONSE_MESSAGE_TAG);
        expect(response && seqOf(response)).to.equal(7);
        expect(seen).to.have.length(1);
        expect(seen[0]?.tlsProtocol).to.equal(version);
        expect(seen[0]?.peerCertificate?.subject.CN).to.equal('test-client');
        expect(seen[0]?.remoteAddress).to.equal('127.0.0.1');
        expect(seen[0]?.sessionReused).to.equal(false);
        client.socket.end();
        await client.closed;
      });
    }

    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      it(`refuses a client without a certificate (${version})`, async () => {
        const log = recordingLogger();
        let calls = 0;
        const { port } = await start(
          {},
          async (m) => {
            calls++;
            return echo(m);
          },
          log,
        );
        await expectRefused(port, { minVersion: version, maxVersion: version });
        expect(calls).to.equal(0);
        expect(log.atLeast('warn')).to.deep.equal([]);
      });
    }

    it('refuses a client certificate from another CA', async () => {
      let calls = 0;
      const { port } = await start({}, async (m) => {
        calls++;
        return echo(m);
      });
      for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
        await expectRefused(port, {
          cert: pki.otherCaClientCert,
          key: pki.otherCaClientKey,
          minVersion: version,
          maxVersion: version,
        });
      }
      expect(calls).to.equal(0);
    });

    it('refuses TLS 1.0 and 1.1', async () => {
      const { port } = await start();
      for (const version of ['TLSv1', 'TLSv1.1'] as const) {
        const code = await expectRefused(port, {
          cert: pki.clientCert,
          key: pki.clientKey,
          minVersion: version,
          maxVersion: version,
          // let the client offer the old protocol at all (OpenSSL 3 forbids it at level 1)
          ciphers: 'DEFAULT@SECLEVEL=0',
        });
        expect(code).to.match(/PROTOCOL|VERSION|closed|ECONNRESET/i);
      }
    });

    it('refuses TLS 1.2 when minVersion is TLSv1.3', async () => {
      const { port } = await start({ minVersion: 'TLSv1.3' });
      await expectRefused(port, {
        cert: pki.clientCert,
        key: pki.clientKey,
        maxVersion: 'TLSv1.2',
      });
      const client = await connect(port);
      expect(client.socket.getProtocol()).to.equal('TLSv1.3');
      client.socket.destroy();
    });

    describe('session resumption', () => {
      const cases: { name: string; version: 'TLSv1.2' | 'TLSv1.3'; extra: tls.ConnectionOptions }[] = [
        { name: 'TLS 1.2 session ticket', version: 'TLSv1.2', extra: {} },
        {
          name: 'TLS 1.2 session ID (client sends no ticket)',
          version: 'TLSv1.2',
          extra: { secureOptions: cryptoConstants.SSL_OP_NO_TICKET },
        },
        { name: 'TLS 1.3 ticket', version: 'TLSv1.3', extra: {} },
      ];
      for (const c of cases) {
        it(`resumes a ${c.name}`, async () => {
          const reused: boolean[] = [];
          const identities: (string | string[] | undefined)[] = [];
          const { port } = await start({}, async (m, conn) => {
            reused.push(conn.sessionReused);
            identities.push(conn.peerCertificate?.subject.CN);
            return echo(m);
          });
          const base = { minVersion: c.version, maxVersion: c.version, ...c.extra };
          const first = await connect(port, base);
          first.socket.write(request(1));
          await first.waitFor(1);
          await waitUntil(() => first.session !== undefined, 2000, 'a session');
          first.socket.end();
          await first.closed;

          const second = await connect(port, { ...base, session: first.session });
          expect(second.socket.isSessionReused()).to.equal(true);
          second.socket.write(request(2));
          await second.waitFor(1);
          expect(reused).to.deep.equal([false, true]);
          // the client identity survives resumption (no certificate is sent again)
          expect(identities).to.deep.equal(['test-client', 'test-client']);
          second.socket.end();
          await second.closed;
        });
      }
    });
  });
});
