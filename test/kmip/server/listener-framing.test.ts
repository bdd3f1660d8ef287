import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import { REQUEST_MESSAGE_TAG } from '../../../src/kmip/server/framing.js';
import { echo, echoHandler, requestFrame as request, waitUntil } from '../../helpers/listener.js';
import { concurrencyProbe, connect, recordingLogger, seqOf, useListenerSuite } from './listener-fixtures.js';

describe('kmip/server/listener: framing and ordering', function () {
  this.timeout(30_000);
  const { start } = useListenerSuite();

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
      const probe = concurrencyProbe(() => Math.floor(Math.random() * 20));
      const { port } = await start({}, probe.handler);
      const client = await connect(port);
      // all ten in one write, so several frames arrive in one chunk
      client.socket.write(Buffer.concat(Array.from({ length: 10 }, (_, i) => request(i, 8 + (i % 3) * 8))));
      const responses = await client.waitFor(10);
      expect(responses.map(seqOf)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(probe.maxActive()).to.equal(1);
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
      const probe = concurrencyProbe(() => 50);
      const { port } = await start({}, probe.handler);
      const clients = await Promise.all([connect(port), connect(port), connect(port)]);
      for (const [i, c] of clients.entries()) c.socket.write(request(i));
      for (const [i, c] of clients.entries()) expect((await c.waitFor(1)).map(seqOf)).to.deep.equal([i]);
      expect(probe.maxActive()).to.be.greaterThan(1);
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
});
