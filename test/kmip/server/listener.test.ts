import { constants as cryptoConstants } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import tls from 'node:tls';
import { expect } from 'chai';
import { REQUEST_MESSAGE_TAG } from '../../../src/kmip/server/framing.js';
import {
  type ConnectionInfo,
  createKmipListener,
  type KmipListener,
  type ListenerOptions,
  type MessageHandler,
} from '../../../src/kmip/server/listener.js';
import type { Logger } from '../../../src/log.js';
import {
  clientTlsOptions,
  echo,
  echoHandler,
  listenerOptions,
  RESPONSE_MESSAGE_TAG,
  requestFrame as request,
  useListeners,
  waitUntil,
} from '../../helpers/listener.js';
import { makeTestPki, type TestPki } from '../../helpers/pki.js';

function seqOf(frame: Buffer): number {
  return frame.readUInt32BE(8);
}

interface LogEntry {
  level: 'error' | 'warn' | 'info' | 'debug';
  message: string;
  meta: Record<string, unknown> | undefined;
}

function recordingLogger(): Logger & { entries: LogEntry[]; atLeast(level: 'warn' | 'info'): LogEntry[] } {
  const entries: LogEntry[] = [];
  const add = (level: LogEntry['level']) => (message: string, meta?: Record<string, unknown>) => {
    entries.push({ level, message, meta });
  };
  return {
    entries,
    error: add('error'),
    warn: add('warn'),
    info: add('info'),
    debug: add('debug'),
    atLeast(level) {
      const levels = level === 'warn' ? ['error', 'warn'] : ['error', 'warn', 'info'];
      return entries.filter((e) => levels.includes(e.level));
    },
  };
}

/** Reads Response Message frames from the client side of a connection. */
class TestClient {
  readonly responses: Buffer[] = [];
  error: (Error & { code?: string }) | undefined;
  /** the last session the server handed out (TLS 1.2: during the handshake; 1.3: after it) */
  session: Buffer | undefined;
  readonly closed: Promise<void>;
  #buffered = Buffer.alloc(0);
  #waiters: (() => void)[] = [];

  constructor(readonly socket: tls.TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      while (this.#buffered.length >= 8) {
        const total = 8 + this.#buffered.readUInt32BE(4);
        if (this.#buffered.length < total) break;
        this.responses.push(this.#buffered.subarray(0, total));
        this.#buffered = this.#buffered.subarray(total);
      }
      this.#wake();
    });
    socket.on('error', (err) => {
      this.error ??= err;
    });
    socket.on('session', (session: Buffer) => {
      this.session = session;
    });
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    void this.closed.then(() => this.#wake());
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when `n` responses have arrived; rejects if the connection closes first. */
  async waitFor(n: number, timeoutMs = 5000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.responses.length < n) {
      if (this.socket.destroyed)
        throw new Error(`connection closed after ${this.responses.length} responses`);
      if (Date.now() > deadline) throw new Error(`timed out after ${this.responses.length} responses`);
      await Promise.race([new Promise<void>((r) => this.#waiters.push(r)), delay(50)]);
    }
    return this.responses.slice(0, n);
  }
}

let pki: TestPki;

function connect(port: number, extra: tls.ConnectionOptions = {}): Promise<TestClient> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(clientTlsOptions(port, pki, extra));
    const client = new TestClient(socket);
    socket.once('secureConnect', () => resolve(client));
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before secureConnect')));
  });
}

/** Connects and expects the server to refuse: resolves with the client-side error code (or 'closed'). */
async function expectRefused(port: number, extra: tls.ConnectionOptions): Promise<string> {
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    ca: pki.ca,
    servername: 'localhost',
    ...extra,
  });
  const client = new TestClient(socket);
  socket.on('secureConnect', () => {
    // TLS 1.3: the client finishes first, the server's verdict comes after
    socket.write(request(1));
  });
  await client.closed;
  expect(client.responses, 'no response on a refused connection').to.have.length(0);
  return client.error?.code ?? 'closed';
}

async function connectFails(port: number): Promise<boolean> {
  try {
    const client = await connect(port);
    client.socket.destroy();
    return false;
  } catch {
    return true;
  }
}

describe('kmip/server/listener', function () {
  this.timeout(30_000);
  const started = useListeners();

  before(async () => {
    pki = await makeTestPki();
  });

  function options(overrides: Partial<ListenerOptions> = {}): ListenerOptions {
    return listenerOptions(pki, {
      ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305',
      ...overrides,
    });
  }

  async function start(
    overrides: Partial<ListenerOptions> = {},
    handler: MessageHandler = echoHandler,
    log: Logger = recordingLogger(),
  ): Promise<{ listener: KmipListener; port: number; host: string }> {
    const listener = createKmipListener(options(overrides), handler, log);
    started.push(listener);
    const { host, port } = await listener.listen();
    return { listener, port, host };
  }

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

  describe('framing and ordering', () => {
    it('reassembles a message sent one byte at a time', async () => {
      const { port } = await start();
      const client = await connect(port);
      client.socket.setNoDelay(true);
      const msg = request(42, 48);
      for (let i = 0; i < msg.length; i++) {
        client.socket.write(msg.subarray(i, i + 1));
        await delay(1);
      }
      const [response] = await client.waitFor(1);
      expect(response?.equals(echo(msg))).to.equal(true);
      client.socket.destroy();
    });

    it('answers 10 pipelined messages in order, one at a time, with varying handler latency', async () => {
      let active = 0;
      let maxActive = 0;
      const { port } = await start({}, async (m) => {
        active++;
        maxActive = Math.max(maxActive, active);
        await delay(Math.floor(Math.random() * 20));
        active--;
        return echo(m);
      });
      const client = await connect(port);
      // all ten in one write, so several frames arrive in one chunk
      client.socket.write(Buffer.concat(Array.from({ length: 10 }, (_, i) => request(i, 8 + (i % 3) * 8))));
      const responses = await client.waitFor(10);
      expect(responses.map(seqOf)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(maxActive).to.equal(1);
      client.socket.destroy();
    });

    it('runs the next message while an answer is deferred, and writes answers in request order only once ready', async () => {
      const ran: number[] = [];
      const release = new Map<number, () => void>();
      const { port } = await start({}, async (m) => {
        const seq = seqOf(m);
        ran.push(seq);
        const ready = new Promise<void>((r) => release.set(seq, r));
        return { response: ready.then(() => echo(m)) };
      });
      const client = await connect(port);
      client.socket.write(Buffer.concat([request(1), request(2), request(3)]));
      await waitUntil(() => ran.length === 3, 5000, 'all three messages to run');
      expect(ran).to.deep.equal([1, 2, 3]);
      // the later answers are ready first: they must wait for the first
      release.get(3)?.();
      release.get(2)?.();
      await delay(100);
      expect(client.responses, 'no answer before the first is ready').to.have.length(0);
      release.get(1)?.();
      const responses = await client.waitFor(3);
      expect(responses.map(seqOf)).to.deep.equal([1, 2, 3]);
      client.socket.destroy();
    });

    it('keeps order between immediate and deferred answers, and answers all before a half-close ends', async () => {
      const { port } = await start({}, async (m) => {
        const seq = seqOf(m);
        if (seq % 2 === 0) return echo(m);
        return { response: delay(30).then(() => echo(m)) };
      });
      const client = await connect(port);
      client.socket.end(Buffer.concat([1, 2, 3, 4, 5].map((i) => request(i))));
      await client.closed;
      expect(client.responses.map(seqOf)).to.deep.equal([1, 2, 3, 4, 5]);
    });

    it('closes the connection when a deferred answer rejects', async () => {
      const log = recordingLogger();
      const { port } = await start(
        {},
        async (m) => (seqOf(m) === 2 ? { response: Promise.reject(new Error('boom')) } : echo(m)),
        log,
      );
      const client = await connect(port);
      client.socket.write(Buffer.concat([request(1), request(2), request(3)]));
      await client.closed;
      expect(client.responses.map(seqOf)).to.deep.equal([1]);
    });

    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      it(`answers every message sent before the client half-closes (${version})`, async () => {
        const { port } = await start({}, async (m) => {
          await delay(20);
          return echo(m);
        });
        const client = await connect(port, { minVersion: version, maxVersion: version });
        client.socket.end(Buffer.concat([request(1), request(2), request(3)]));
        await client.closed;
        expect(client.responses.map(seqOf)).to.deep.equal([1, 2, 3]);
      });
    }

    it('handles connections concurrently', async () => {
      let active = 0;
      let maxActive = 0;
      const { port } = await start({}, async (m) => {
        active++;
        maxActive = Math.max(maxActive, active);
        await delay(50);
        active--;
        return echo(m);
      });
      const clients = await Promise.all([connect(port), connect(port), connect(port)]);
      for (const [i, c] of clients.entries()) c.socket.write(request(i));
      for (const [i, c] of clients.entries()) expect((await c.waitFor(1)).map(seqOf)).to.deep.equal([i]);
      expect(maxActive).to.be.greaterThan(1);
      for (const c of clients) c.socket.destroy();
    });

    it('closes on an oversize length claim and keeps serving other clients', async () => {
      const log = recordingLogger();
      let calls = 0;
      const { port, listener } = await start(
        { maxMessageBytes: 1024 },
        async (m) => {
          calls++;
          return echo(m);
        },
        log,
      );
      const bad = await connect(port);
      const header = Buffer.alloc(8);
      header.writeUIntBE(REQUEST_MESSAGE_TAG, 0, 3);
      header.writeUInt8(0x01, 3);
      header.writeUInt32BE(0xffffffff, 4);
      bad.socket.write(header);
      await bad.closed;
      expect(calls).to.equal(0);
      const warn = log.entries.find((e) => e.level === 'warn');
      expect(warn?.meta).to.include({ code: 'ERR_FRAME_TOO_LARGE' });
      expect(warn?.meta).to.have.property('conn').that.is.a('number');
      expect(JSON.stringify(log.entries)).to.not.include('ffffffff');

      const good = await connect(port);
      good.socket.write(request(5));
      expect((await good.waitFor(1)).map(seqOf)).to.deep.equal([5]);
      good.socket.destroy();
      await waitUntil(() => listener.connectionCount === 0, 5000, 'connections to close');
    });

    it('closes on a wrong tag (a Response Message sent to the server)', async () => {
      const log = recordingLogger();
      const { port } = await start({}, echoHandler, log);
      const client = await connect(port);
      client.socket.write(echo(request(1)));
      await client.closed;
      expect(client.responses).to.have.length(0);
      expect(log.entries.find((e) => e.level === 'warn')?.meta).to.include({ code: 'ERR_FRAME_BAD_TAG' });
    });

    it('answers the good messages that precede a bad frame in a later chunk', async () => {
      const { port } = await start();
      const client = await connect(port);
      client.socket.write(request(1));
      await client.waitFor(1);
      const notStructure = request(2);
      notStructure.writeUInt8(0x07, 3);
      client.socket.write(notStructure);
      await client.closed;
      expect(client.responses.map(seqOf)).to.deep.equal([1]);
    });

    it('closes the connection when the handler rejects, and logs it', async () => {
      const log = recordingLogger();
      const { port, listener } = await start(
        {},
        async () => {
          throw new Error('executor bug');
        },
        log,
      );
      const client = await connect(port);
      client.socket.write(request(1));
      await client.closed;
      expect(log.entries.filter((e) => e.level === 'error')).to.have.length(1);
      await waitUntil(() => listener.connectionCount === 0, 5000, 'connections to close');
    });

    it('pauses reading while responses back up, then catches up', async () => {
      let calls = 0;
      const big = 2 * 1024 * 1024;
      const { port } = await start({}, async (m) => {
        calls++;
        const out = Buffer.alloc(8 + big);
        echo(m).copy(out, 0, 0, 12);
        out.writeUInt32BE(big, 4);
        return out;
      });
      const client = await connect(port);
      client.socket.pause();
      client.socket.write(Buffer.concat(Array.from({ length: 12 }, (_, i) => request(i))));
      await delay(300);
      expect(calls).to.be.lessThan(12);
      client.socket.resume();
      const responses = await client.waitFor(12, 20_000);
      expect(responses.map(seqOf)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect(calls).to.equal(12);
      client.socket.destroy();
    });
  });

  describe('timeouts and limits', () => {
    it('closes an idle connection quietly', async () => {
      const log = recordingLogger();
      const { port, listener } = await start({ idleTimeoutMs: 150 }, echoHandler, log);
      const client = await connect(port);
      client.socket.write(request(1));
      await client.waitFor(1);
      const t0 = Date.now();
      await client.closed;
      expect(Date.now() - t0).to.be.within(100, 3000);
      expect(client.error).to.equal(undefined);
      expect(log.atLeast('info')).to.deep.equal([]);
      await waitUntil(() => listener.connectionCount === 0, 5000, 'connections to close');
    });

    it('does not count a slow handler as idleness', async () => {
      const { port } = await start({ idleTimeoutMs: 100 }, async (m) => {
        await delay(400);
        return echo(m);
      });
      const client = await connect(port);
      client.socket.write(request(3));
      expect((await client.waitFor(1)).map(seqOf)).to.deep.equal([3]);
      client.socket.destroy();
    });

    it('closes a connection whose partial message is not completed in time', async () => {
      const log = recordingLogger();
      const { port } = await start({ readTimeoutMs: 200, idleTimeoutMs: 10_000 }, echoHandler, log);
      const client = await connect(port);
      const msg = request(1, 64);
      client.socket.write(msg.subarray(0, 20));
      const t0 = Date.now();
      // trickling bytes must not extend the deadline
      const trickle = setInterval(() => client.socket.write(Buffer.alloc(0)), 50);
      await client.closed;
      clearInterval(trickle);
      expect(Date.now() - t0).to.be.within(150, 3000);
      expect(client.responses).to.have.length(0);
      expect(log.entries.some((e) => e.message.includes('not completed in time'))).to.equal(true);
    });

    it('read deadline applies per message, not per connection', async () => {
      const { port } = await start({ readTimeoutMs: 300 });
      const client = await connect(port);
      for (let i = 0; i < 4; i++) {
        const msg = request(i, 32);
        client.socket.write(msg.subarray(0, 10));
        await delay(150);
        client.socket.write(msg.subarray(10));
      }
      expect((await client.waitFor(4)).map(seqOf)).to.deep.equal([0, 1, 2, 3]);
      client.socket.destroy();
    });

    it('accepts a health-check session that sends nothing, without warnings', async () => {
      const log = recordingLogger();
      const { port, listener } = await start({}, echoHandler, log);
      for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
        const client = await connect(port, { minVersion: version, maxVersion: version });
        client.socket.end();
        await client.closed;
        const abrupt = await connect(port, { minVersion: version, maxVersion: version });
        abrupt.socket.destroy();
      }
      // a plain TCP probe, no TLS at all
      const probe = net.connect(port, '127.0.0.1');
      await new Promise((r) => probe.once('connect', r));
      probe.destroy();
      await waitUntil(() => listener.connectionCount === 0, 5000, 'connections to close');
      expect(log.atLeast('warn')).to.deep.equal([]);
    });

    it('caps the number of connections and logs it', async () => {
      const log = recordingLogger();
      const { port, listener } = await start({ maxConnections: 2 }, echoHandler, log);
      const a = await connect(port);
      const b = await connect(port);
      // answered: both handshakes are complete on the server's side too
      a.socket.write(request(1));
      b.socket.write(request(11));
      expect((await a.waitFor(1)).map(seqOf)).to.deep.equal([1]);
      await b.waitFor(1);
      await waitUntil(() => listener.connectionCount === 2, 5000, 'two connections');
      expect(await connectFails(port)).to.equal(true);
      expect(log.entries.filter((e) => e.level === 'warn' && e.message.includes('limit'))).to.have.length(1);
      a.socket.destroy();
      await waitUntil(() => listener.connectionCount === 1, 5000, 'one connection');
      const c = await connect(port);
      c.socket.write(request(2));
      expect((await c.waitFor(1)).map(seqOf)).to.deep.equal([2]);
      b.socket.destroy();
      c.socket.destroy();
    });

    it('survives 1,000 connect/close cycles without leaking connections', async function () {
      this.timeout(120_000);
      const log = recordingLogger();
      const { port, listener } = await start({}, echoHandler, log);
      const cycles = 1000;
      const parallel = 20;
      let next = 0;
      const worker = async () => {
        while (next < cycles) {
          const i = next++;
          const client = await connect(port);
          if (i % 3 === 0) {
            client.socket.write(request(i));
            await client.waitFor(1);
          }
          if (i % 2 === 0) client.socket.end();
          else client.socket.destroy();
          await client.closed;
        }
      };
      await Promise.all(Array.from({ length: parallel }, worker));
      await waitUntil(() => listener.connectionCount === 0, 10_000, 'connections to close');
      expect(log.atLeast('warn')).to.deep.equal([]);
    });
  });

  describe('close()', () => {
    it('lets an in-flight handler finish and deliver its response, then resolves', async () => {
      let startedHandler!: () => void;
      const handlerStarted = new Promise<void>((r) => {
        startedHandler = r;
      });
      const { port, listener } = await start({}, async (m) => {
        startedHandler();
        await delay(300);
        return echo(m);
      });
      const busy = await connect(port);
      const idle = await connect(port);
      busy.socket.write(request(9));
      await handlerStarted;
      const closed = listener.close({ drainTimeoutMs: 5000 });
      await idle.closed;
      expect(busy.socket.destroyed).to.equal(false);
      await closed;
      expect(busy.responses.map(seqOf)).to.deep.equal([9]);
      await busy.closed;
      expect(listener.connectionCount).to.equal(0);
      expect(await connectFails(port)).to.equal(true);
    });

    it('destroys connections whose handler outlives the drain timeout, aborting its signal', async () => {
      let aborted = false;
      let startedHandler!: () => void;
      const handlerStarted = new Promise<void>((r) => {
        startedHandler = r;
      });
      const { port, listener } = await start({}, (m, _conn, signal) => {
        startedHandler();
        return new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve(echo(m));
          });
        });
      });
      const client = await connect(port);
      client.socket.write(request(1));
      await handlerStarted;
      const t0 = Date.now();
      await listener.close({ drainTimeoutMs: 150 });
      expect(Date.now() - t0).to.be.within(100, 3000);
      expect(aborted).to.equal(true);
      await client.closed;
      expect(client.responses).to.have.length(0);
      expect(listener.connectionCount).to.equal(0);
    });

    it('closes handshakes in progress and TCP probes at once', async () => {
      const { port, listener } = await start();
      const probe = net.connect(port, '127.0.0.1');
      probe.on('error', () => {});
      await new Promise((r) => probe.once('connect', r));
      await waitUntil(() => listener.connectionCount === 1, 5000, 'the probe');
      const t0 = Date.now();
      await listener.close({ drainTimeoutMs: 5000 });
      expect(Date.now() - t0).to.be.lessThan(1000);
      probe.destroy();
    });

    it('is idempotent and works before listen()', async () => {
      const listener = createKmipListener(options(), echoHandler, recordingLogger());
      await Promise.all([listener.close(), listener.close()]);
      expect(listener.connectionCount).to.equal(0);
    });
  });

  describe('IPv6', () => {
    const hasIpv6Loopback = Object.values(os.networkInterfaces()).some((list) =>
      (list ?? []).some((i) => i.family === 'IPv6' && i.internal),
    );

    it('serves on ::1', async function () {
      if (!hasIpv6Loopback) this.skip();
      const { port, host } = await start({ host: '::1' });
      expect(host).to.equal('::1');
      const client = await connect(port, { host: '::1' });
      client.socket.write(request(6));
      expect((await client.waitFor(1)).map(seqOf)).to.deep.equal([6]);
      client.socket.destroy();
    });
  });
});
