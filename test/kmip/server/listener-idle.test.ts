import tls from 'node:tls';
import { expect } from 'chai';
import {
  type ConnectionInfo,
  createKmipListener,
  isTls13Session,
  type ListenerOptions,
} from '../../../src/kmip/server/listener.js';
import { silentLogger } from '../../../src/log.js';
import { clientTlsOptions, EMPTY_REQUEST, listenerOptions, useListeners } from '../../helpers/listener.js';
import { makeTestPki, type TestPki } from '../../helpers/pki.js';

/** A request message with an empty body: the echo handler answers it. */
const REQUEST = EMPTY_REQUEST;

interface Opened {
  socket: tls.TLSSocket;
  /** the last session the server handed out */
  session: Promise<Buffer>;
}

describe('kmip/server/listener: what an idle connection keeps (issue 8)', function () {
  this.timeout(20_000);
  let pki: TestPki;
  const started = useListeners();

  before(async () => {
    pki = await makeTestPki();
  });

  async function start(
    overrides: Partial<ListenerOptions> = {},
    seen: ConnectionInfo[] = [],
  ): Promise<number> {
    const listener = createKmipListener(
      listenerOptions(pki, overrides),
      async (message, conn) => {
        seen.push(conn);
        const out = Buffer.from(message);
        out[2] = 0x7b; // Response Message
        return out;
      },
      silentLogger,
    );
    started.push(listener);
    return (await listener.listen()).port;
  }

  function open(port: number, extra: tls.ConnectionOptions): Promise<Opened> {
    return new Promise((resolve, reject) => {
      let gotSession: (s: Buffer) => void = () => {};
      const session = new Promise<Buffer>((r) => {
        gotSession = r;
      });
      const socket = tls.connect(clientTlsOptions(port, pki, extra), () => resolve({ socket, session }));
      socket.on('session', (s: Buffer) => gotSession(s));
      socket.once('error', reject);
      socket.resume();
    });
  }

  async function roundTrip(o: Opened): Promise<void> {
    o.socket.write(REQUEST);
    await new Promise((r) => o.socket.once('data', r));
  }

  it('tells TLS 1.3 sessions from TLS 1.2 ones', async () => {
    const port = await start();
    for (const [version, expected] of [
      ['TLSv1.3', true],
      ['TLSv1.2', false],
    ] as const) {
      const o = await open(port, { minVersion: version, maxVersion: version });
      await roundTrip(o);
      expect(isTls13Session(await o.session), version).to.equal(expected);
      o.socket.destroy();
    }
    expect(isTls13Session(Buffer.alloc(0))).to.equal(false);
    expect(isTls13Session(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]))).to.equal(false);
  });

  it('keeps only the named fields of the client certificate', async () => {
    const seen: ConnectionInfo[] = [];
    const port = await start({}, seen);
    const o = await open(port, {});
    await roundTrip(o);
    const cert = seen[0]?.peerCertificate;
    expect(cert?.subject.CN).to.equal('test-client');
    expect(cert?.fingerprint256).to.match(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(Buffer.isBuffer(cert?.raw)).to.equal(true);
    expect(Object.keys(cert ?? {}).sort()).to.deep.equal([
      'fingerprint256',
      'raw',
      'serialNumber',
      'subject',
      'subjectaltname',
    ]);
    o.socket.destroy();
  });

  it('without session tickets, still resumes TLS 1.2 sessions by session ID', async () => {
    const port = await start({ sessionTickets: false });
    const first = await open(port, { maxVersion: 'TLSv1.2' });
    await roundTrip(first);
    const session = await first.session;
    first.socket.destroy();
    const second = await open(port, { maxVersion: 'TLSv1.2', session });
    expect(second.socket.isSessionReused()).to.equal(true);
    await roundTrip(second);
    second.socket.destroy();
  });
});
