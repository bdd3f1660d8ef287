import net from 'node:net';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import { createKmipListener } from '../../../src/kmip/server/listener.js';
import { echo, echoHandler, requestFrame as request, waitUntil } from '../../helpers/listener.js';
import { connect, connectFails, recordingLogger, seqOf, useListenerSuite } from './listener-fixtures.js';

describe('kmip/server/listener: close() and IPv6', function () {
  this.timeout(30_000);
  const { options, start } = useListenerSuite();

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
