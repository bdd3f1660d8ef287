import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import { echo, echoHandler, requestFrame as request, waitUntil } from '../../helpers/listener.js';
import { connect, connectFails, recordingLogger, seqOf, useListenerSuite } from './listener-fixtures.js';

describe('kmip/server/listener: timeouts and limits', function () {
  this.timeout(30_000);
  const { start } = useListenerSuite();

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
});
