import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type tls from 'node:tls';
import { expect } from 'chai';
import {
  type ConnectionInfo,
  createKmipListener,
  type KmipListener,
  type ListenerOptions,
  type MessageHandler,
} from '../../../src/kmip/server/listener.js';
import { silentLogger } from '../../../src/log.js';
import {
  echoHandler,
  listenerOptions,
  requestFrame as request,
  useListeners,
  waitUntil,
} from '../../helpers/listener.js';
import { type CrlPki, connectAs, makeCrlPki, tryRequest } from './listener-pki.js';

describe('kmip/server/listener hardening', function () {
  this.timeout(30_000);
  let pki: CrlPki;
  const started = useListeners();

  before(async () => {
    pki = await makeCrlPki();
  });

  async function start(
    overrides: Partial<ListenerOptions> = {},
    handler: MessageHandler = echoHandler,
  ): Promise<{ listener: KmipListener; port: number }> {
    const listener = createKmipListener(listenerOptions(pki, overrides), handler, silentLogger);
    started.push(listener);
    const { port } = await listener.listen();
    return { listener, port };
  }

  describe('certificate revocation (tls.crl)', () => {
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      it(`refuses a revoked client certificate at the handshake and serves the others (${version})`, async () => {
        const seen: string[] = [];
        const { port } = await start({ crl: pki.malloryRevokedCrl }, async (m, conn) => {
          seen.push(String(conn.peerCertificate?.subject.CN));
          return echoHandler(m, conn, new AbortController().signal);
        });
        const v = { minVersion: version, maxVersion: version };
        expect(await tryRequest(port, pki.ca, pki.mallory, request(1), v)).to.equal('refused');
        expect(await tryRequest(port, pki.ca, pki.alice, request(2), v)).to.equal('answered');
        expect(seen).to.deep.equal(['alice']);
      });
    }

    it('refuses every client of a CA whose CRL has expired (OpenSSL: CRL has expired)', async () => {
      await delay(1100); // the expired CRL's nextUpdate is one second after it was made
      const { port } = await start({ crl: pki.expiredCrl });
      expect(await tryRequest(port, pki.ca, pki.alice, request(1))).to.equal('refused');
    });
  });

  describe('reloadTls', () => {
    it('applies a new CRL to new connections and keeps open connections up', async () => {
      const { listener, port } = await start({ crl: pki.emptyCrl });
      const alice = await connectAs(port, pki.ca, pki.alice);
      const mallory = await connectAs(port, pki.ca, pki.mallory);
      mallory.socket.write(request(1));
      await mallory.waitFor(1);

      listener.reloadTls({
        cert: pki.serverCert,
        key: pki.serverKey,
        ca: pki.ca,
        crl: pki.malloryRevokedCrl,
      });

      alice.socket.write(request(2));
      await alice.waitFor(1);
      expect(await tryRequest(port, pki.ca, pki.mallory, request(3))).to.equal('refused');
      expect(await tryRequest(port, pki.ca, pki.bob, request(4))).to.equal('answered');
      // open connections are not re-verified by OpenSSL; closeWhere does it for the reloader
      mallory.socket.write(request(5));
      await mallory.waitFor(2);
      const n = listener.closeWhere((c: ConnectionInfo) => c.peerCertificate?.subject.CN === 'mallory');
      expect(n).to.equal(1);
      await mallory.closed;
      alice.socket.write(request(6));
      await alice.waitFor(2);
      alice.socket.destroy();
    });

    it('serves a new server certificate to new connections only', async () => {
      const { listener, port } = await start();
      const before = await connectAs(port, pki.ca, pki.alice);
      const oldSerial = before.socket.getPeerCertificate().serialNumber;
      listener.reloadTls({ cert: pki.serverCert2, key: pki.serverKey2, ca: pki.ca });
      const after = await connectAs(port, pki.ca, pki.alice);
      const newSerial = after.socket.getPeerCertificate().serialNumber;
      expect(newSerial).to.not.equal(oldSerial);
      expect(newSerial).to.equal(
        new (await import('node:crypto')).X509Certificate(pki.serverCert2).serialNumber,
      );
      before.socket.write(request(1));
      after.socket.write(request(2));
      await Promise.all([before.waitFor(1), after.waitFor(1)]);
      before.socket.destroy();
      after.socket.destroy();
    });

    it('throws on unusable material and keeps the previous context', async () => {
      const { listener, port } = await start();
      expect(() => listener.reloadTls({ cert: pki.serverCert2, key: pki.serverKey, ca: pki.ca })).to.throw();
      expect(() => listener.reloadTls({ cert: 'not a PEM', key: pki.serverKey, ca: pki.ca })).to.throw();
      const client = await connectAs(port, pki.ca, pki.alice);
      expect(client.socket.getPeerCertificate().serialNumber).to.equal(
        new (await import('node:crypto')).X509Certificate(pki.serverCert).serialNumber,
      );
      client.socket.destroy();
    });

    it('does not resume a session made before the reload (a revoked client must not get back in)', async () => {
      const { listener, port } = await start({ crl: pki.emptyCrl });
      const v = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;
      const first = await connectAs(port, pki.ca, pki.mallory, v);
      first.socket.write(request(1));
      await first.waitFor(1);
      await waitUntil(() => first.session !== undefined, 2000, 'a session');
      first.socket.end();
      await first.closed;
      const again = await connectAs(port, pki.ca, pki.mallory, { ...v, session: first.session });
      expect(again.socket.isSessionReused(), 'resumption works before the reload').to.equal(true);
      again.socket.destroy();

      listener.reloadTls({
        cert: pki.serverCert,
        key: pki.serverKey,
        ca: pki.ca,
        crl: pki.malloryRevokedCrl,
      });
      expect(
        await tryRequest(port, pki.ca, pki.mallory, request(2), { ...v, session: first.session }),
      ).to.equal('refused');
    });
  });

  describe('renegotiation', () => {
    it('refuses a client-initiated TLS 1.2 renegotiation', async () => {
      const { port } = await start();
      const client = await connectAs(port, pki.ca, pki.alice, {
        minVersion: 'TLSv1.2',
        maxVersion: 'TLSv1.2',
      });
      const outcome = await new Promise<string>((resolve) => {
        const ok = client.socket.renegotiate({}, (err) => resolve(err ? 'error' : 'renegotiated'));
        if (!ok) resolve('not started');
        setTimeout(() => resolve('no renegotiation'), 1000);
      });
      expect(outcome).to.not.equal('renegotiated');
      // OpenSSL answers the renegotiation ClientHello with a no_renegotiation alert
      expect(client.error?.message).to.match(/no renegotiation/);
      client.socket.write(request(1));
      await client.closed;
      expect(client.responses).to.have.length(0);
      client.socket.destroy();
      expect(await tryRequest(port, pki.ca, pki.alice, request(1))).to.equal('answered');
    });
  });

  describe('handshake timeout', () => {
    it('closes a TCP connection that never completes its handshake after handshakeTimeoutMs', async () => {
      const { listener, port } = await start({ handshakeTimeoutMs: 200, readTimeoutMs: 60_000 });
      const sock = net.connect(port, '127.0.0.1');
      sock.on('error', () => {});
      await new Promise((r) => sock.once('connect', r));
      const t0 = Date.now();
      // trickle a TLS record header, byte by byte, never completing it
      const trickle = setInterval(() => sock.write(Buffer.from([0x16])), 40);
      await new Promise((r) => sock.once('close', r));
      clearInterval(trickle);
      expect(Date.now() - t0).to.be.within(150, 2000);
      await waitUntil(() => listener.connectionCount === 0, 2000, 'the socket to go');
    });
  });

  describe('per-identity limits', () => {
    it('caps connections per identity (certificate CN) without affecting other identities', async () => {
      const { listener, port } = await start({ maxConnectionsPerIdentity: 2 });
      const a1 = await connectAs(port, pki.ca, pki.alice);
      const a2 = await connectAs(port, pki.ca, pki.alice);
      for (const [i, c] of [a1, a2].entries()) c.socket.write(request(i));
      await Promise.all([a1.waitFor(1), a2.waitFor(1)]);
      expect(await tryRequest(port, pki.ca, pki.alice, request(3))).to.equal('refused');
      expect(await tryRequest(port, pki.ca, pki.bob, request(4))).to.equal('answered');
      a1.socket.destroy();
      await a1.closed;
      await waitUntil(() => listener.connectionCount === 1, 2000, 'a1 to go');
      expect(await tryRequest(port, pki.ca, pki.alice, request(5))).to.equal('answered');
      a2.socket.destroy();
    });

    it('uses identityOf to name the identity', async () => {
      const { port } = await start({ maxConnectionsPerIdentity: 1, identityOf: () => 'everyone' });
      const a = await connectAs(port, pki.ca, pki.alice);
      a.socket.write(request(1));
      await a.waitFor(1);
      expect(await tryRequest(port, pki.ca, pki.bob, request(2))).to.equal('refused');
      a.socket.destroy();
    });

    it('delays requests over the per-identity rate, across its connections, and not other identities', async () => {
      const { port } = await start({ requestsPerSecondPerIdentity: 20, requestBurstPerIdentity: 5 });
      const a1 = await connectAs(port, pki.ca, pki.alice);
      const a2 = await connectAs(port, pki.ca, pki.alice);
      const bob = await connectAs(port, pki.ca, pki.bob);
      const t0 = Date.now();
      for (let i = 0; i < 10; i++) {
        a1.socket.write(request(i));
        a2.socket.write(request(100 + i));
      }
      // bob's burst is his own
      await delay(100);
      const tb = Date.now();
      bob.socket.write(request(1000));
      await bob.waitFor(1, 2000);
      const bobMs = Date.now() - tb;
      await Promise.all([a1.waitFor(10, 5000), a2.waitFor(10, 5000)]);
      const aliceMs = Date.now() - t0;
      // 20 requests, 5 at once, then 20/s: about 750 ms
      expect(aliceMs).to.be.within(600, 3000);
      // bob is not charged for alice's burst: answered while alice is still throttled
      expect(tb - t0 + bobMs).to.be.below(aliceMs);
      expect(a1.responses.map((r) => r.readUInt32BE(8))).to.deep.equal([...Array(10).keys()]);
      for (const c of [a1, a2, bob]) c.socket.destroy();
    });
  });

  describe('slowloris and connection floods', () => {
    it('keeps answering a well-behaved client with bounded latency while hostile sockets misbehave', async function () {
      this.timeout(30_000);
      const { listener, port } = await start({
        maxConnections: 40,
        maxHandshakes: 15,
        handshakeTimeoutMs: 5000,
        readTimeoutMs: 5000,
        maxConnectionsPerIdentity: 5,
      });
      const hostile: net.Socket[] = [];
      let stop = false;
      // 60 TCP sockets trickling a ClientHello that never completes (more than maxConnections)
      const tcpSlowloris = async () => {
        while (!stop) {
          if (hostile.filter((s) => !s.destroyed).length < 60) {
            const s = net.connect(port, '127.0.0.1');
            s.on('error', () => {});
            s.on('connect', () => s.write(Buffer.from([0x16, 0x03])));
            hostile.push(s);
          }
          for (const s of hostile) if (!s.destroyed && s.writable) s.write(Buffer.from([0x01]));
          await delay(20);
        }
      };
      // authenticated slowloris: mallory's connections each trickle one message that never completes
      const tlsSlowloris: tls.TLSSocket[] = [];
      for (let i = 0; i < 8; i++) {
        try {
          const c = await connectAs(port, pki.ca, pki.mallory);
          c.socket.write(request(1).subarray(0, 10));
          tlsSlowloris.push(c.socket);
        } catch {
          // over mallory's per-identity cap: refused, as it should be
        }
      }
      await delay(300); // TLS 1.3: the server's verdict reaches the client after its handshake
      expect(tlsSlowloris.filter((s) => !s.destroyed).length).to.be.at.most(5);
      const attack = tcpSlowloris();
      await delay(300);
      const latencies: number[] = [];
      for (let i = 0; i < 15; i++) {
        const t0 = Date.now();
        expect(await tryRequest(port, pki.ca, pki.alice, request(i))).to.equal('answered');
        latencies.push(Date.now() - t0);
        await delay(50);
      }
      stop = true;
      await attack;
      const sockets = hostile.length;
      for (const s of hostile) s.destroy();
      for (const s of tlsSlowloris) s.destroy();
      expect(sockets, 'the flood opened more sockets than the cap').to.be.above(40);
      expect(Math.max(...latencies)).to.be.below(1500);
      await waitUntil(() => listener.connectionCount === 0, 5000, 'hostile sockets to go');
    });
  });
});
