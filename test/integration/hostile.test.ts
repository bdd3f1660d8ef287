/**
 * Hostile input against the live server: a broken frame closes only its own
 * connection, a bad message inside a good frame gets Invalid Message, and the
 * server keeps serving other clients with bounded memory.
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import tls from 'node:tls';
import { expect } from 'chai';
import { KmipConnection, type TlsTarget } from '../../conformance-tests/lib/client.js';
import { Operation, ResultReason, ResultStatus, Tag } from '../../src/kmip/spec/index.js';
import { encodeTtlv } from '../../src/kmip/ttlv/binary.js';
import { issueClientCertificate } from '../../src/pki/index.js';
import { encodeRequest, firstResult, S } from '../helpers/requests.js';
import { adminTarget, startTestServer, type TestServer } from '../helpers/server.js';

function discoverVersions(minor = 4): Buffer {
  return encodeRequest([{ op: Operation.DiscoverVersions }], { version: { major: 1, minor } });
}

const resultOf = firstResult;

/** A frame with a valid Request Message header around `body`. */
function frame(body: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE((Tag.RequestMessage << 8) | 0x01, 0);
  h.writeUInt32BE(body.length, 4);
  return Buffer.concat([h, body]);
}

/** Sends raw bytes and resolves when the server closes the connection. */
function sendAndAwaitClose(target: TlsTarget, bytes: Buffer, timeoutMs = 5000): Promise<'closed'> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ ...target, servername: undefined }, () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('server kept the connection open'));
    }, timeoutMs);
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
  });
}

describe('hostile input against the live server (integration)', function () {
  this.timeout(60_000);
  let server: TestServer;
  let target: TlsTarget;

  before(async () => {
    server = await startTestServer();
    target = await adminTarget(server);
  });
  after(async () => server?.close());

  it('answers 10,000-deep nesting inside a valid frame with Invalid Message and keeps the connection', async () => {
    const depth = 10_000;
    const body = Buffer.alloc(depth * 8);
    for (let i = 0; i < depth; i++) {
      body.writeUInt32BE((Tag.RequestHeader << 8) | 0x01, i * 8);
      body.writeUInt32BE((depth - i - 1) * 8, i * 8 + 4);
    }
    const conn = await KmipConnection.open(target, 5000);
    try {
      const r = resultOf(await conn.exchange(frame(body), 5000));
      expect(r.status).to.equal(ResultStatus.OperationFailed);
      expect(r.reason).to.equal(ResultReason.InvalidMessage);
      expect(resultOf(await conn.exchange(discoverVersions(), 5000)).status).to.equal(ResultStatus.Success);
    } finally {
      conn.close();
    }
  });

  it('answers bad padding, a wrong fixed length and invalid UTF-8 with Invalid Message', async () => {
    const good = discoverVersions(2);
    const badPadding = Buffer.from(good);
    badPadding[badPadding.length - 1] = 0xff;
    const wrongLength = Buffer.from(good);
    // Protocol Version Major (Integer) claims 8 bytes instead of 4.
    wrongLength.writeUInt32BE(8, 28);
    const badText = frame(
      encodeTtlv(
        S(Tag.RequestHeader, [{ tag: Tag.ResultMessage, type: 'TextString', value: 'ok' }]),
      ).subarray(0),
    );
    const textAt = badText.indexOf(Buffer.from('ok'));
    badText[textAt] = 0xc3; // a UTF-8 lead byte followed by ASCII
    const conn = await KmipConnection.open(target, 5000);
    try {
      for (const bytes of [badPadding, wrongLength, badText]) {
        const r = resultOf(await conn.exchange(bytes, 5000));
        expect(r.reason).to.equal(ResultReason.InvalidMessage);
      }
    } finally {
      conn.close();
    }
  });

  it('closes connections with a broken frame and keeps serving everyone else with bounded memory', async () => {
    const before = process.memoryUsage();
    const huge = Buffer.alloc(8);
    huge.writeUInt32BE((Tag.RequestMessage << 8) | 0x01, 0);
    huge.writeUInt32BE(0xfffffff8, 4); // a 4 GiB length claim
    const wrongTag = Buffer.from(discoverVersions());
    wrongTag.writeUInt32BE((Tag.ResponseMessage << 8) | 0x01, 0);
    const garbage = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const victim = await KmipConnection.open(target, 5000);
    try {
      for (let round = 0; round < 20; round++) {
        await Promise.all([huge, wrongTag, garbage].map((b) => sendAndAwaitClose(target, b)));
      }
      // A truncated frame followed by the client going away.
      const cut = tls.connect({ ...target, servername: undefined }, () => {
        cut.end(discoverVersions().subarray(0, 20));
      });
      cut.on('error', () => {});
      await new Promise((r) => cut.on('close', r));
      expect(resultOf(await victim.exchange(discoverVersions(), 5000)).status).to.equal(ResultStatus.Success);
    } finally {
      victim.close();
    }
    const after = process.memoryUsage();
    expect(after.arrayBuffers - before.arrayBuffers).to.be.below(64 * 1024 * 1024);
  });

  it('keeps answering a well-behaved client with bounded latency during a slowloris and a connection flood', async () => {
    const limited = await startTestServer({
      overrides: {
        limits: {
          maxConnections: 40,
          maxHandshakes: 15,
          handshakeTimeoutMs: 3000,
          readTimeoutMs: 3000,
          maxConnectionsPerIdentity: 5,
        },
      },
    });
    const hostileTcp: net.Socket[] = [];
    const hostileTls: tls.TLSSocket[] = [];
    try {
      const [ca, cert, key] = await Promise.all([
        readFile(limited.pki.ca),
        readFile(limited.pki.adminCert),
        readFile(limited.pki.adminKey),
      ]);
      const good: TlsTarget = { host: limited.host, port: limited.port, ca, cert, key };
      const bad = await issueClientCertificate(limited.dataDir, 'hostile');
      const badPem = { cert: await readFile(bad.cert), key: await readFile(bad.key) };
      // authenticated slowloris: one identity opens more connections than its cap, each trickling a message
      for (let i = 0; i < 10; i++) {
        const s = tls.connect({ ...good, ...badPem, servername: undefined });
        s.on('error', () => {});
        s.on('secureConnect', () => s.write(discoverVersions().subarray(0, 12)));
        hostileTls.push(s);
      }
      let stop = false;
      // unauthenticated flood: TCP sockets trickling a ClientHello that never completes, beyond maxConnections
      const flood = (async () => {
        while (!stop) {
          if (hostileTcp.filter((s) => !s.destroyed).length < 60) {
            const s = net.connect(limited.port, limited.host);
            s.on('error', () => {});
            s.on('connect', () => s.write(Buffer.from([0x16, 0x03])));
            hostileTcp.push(s);
          }
          for (const s of hostileTcp) if (!s.destroyed && s.writable) s.write(Buffer.from([0x01]));
          await delay(20);
        }
      })();
      await delay(300);
      const latencies: number[] = [];
      for (let i = 0; i < 15; i++) {
        const t0 = Date.now();
        const conn = await KmipConnection.open(good, 3000);
        try {
          expect(resultOf(await conn.exchange(discoverVersions(), 3000)).status).to.equal(
            ResultStatus.Success,
          );
        } finally {
          conn.close();
        }
        latencies.push(Date.now() - t0);
        await delay(50);
      }
      stop = true;
      await flood;
      expect(hostileTcp.length, 'sockets the flood opened').to.be.above(40);
      expect(
        hostileTls.filter((s) => !s.destroyed).length,
        'hostile TLS connections left open',
      ).to.be.at.most(5);
      expect(Math.max(...latencies)).to.be.below(1500);
    } finally {
      for (const s of hostileTcp) s.destroy();
      for (const s of hostileTls) s.destroy();
      await limited.close();
    }
  });
});
