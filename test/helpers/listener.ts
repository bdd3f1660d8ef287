/**
 * A KMIP listener's test settings over the test PKI (test/helpers/pki.ts),
 * and a mutual-TLS client connection to it, for suites that drive the
 * listener with a handler of their own.
 */
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import tls from 'node:tls';
import { REQUEST_MESSAGE_TAG } from '../../src/kmip/server/framing.js';
import type { KmipListener, ListenerOptions, MessageHandler } from '../../src/kmip/server/listener.js';
import type { TestPki } from './pki.js';

/** What a listener needs of a PKI: its server certificate and key, and the CA it trusts. */
export type ServerPki = Pick<TestPki, 'serverCert' | 'serverKey' | 'ca'>;

/** A request-shaped frame whose body (`bodyLength` bytes) starts with `seq`. */
export function requestFrame(seq: number, bodyLength = 16): Buffer {
  const buf = Buffer.alloc(8 + bodyLength);
  buf.writeUIntBE(REQUEST_MESSAGE_TAG, 0, 3);
  buf.writeUInt8(0x01, 3);
  buf.writeUInt32BE(bodyLength, 4);
  buf.writeUInt32BE(seq, 8);
  return buf;
}

/** The tag of a Response Message. */
export const RESPONSE_MESSAGE_TAG = 0x42007b;

/** The canned answer: the request with the Response Message tag. */
export function echo(message: Buffer): Buffer {
  const out = Buffer.from(message);
  out.writeUIntBE(RESPONSE_MESSAGE_TAG, 0, 3);
  return out;
}

/** A handler that answers each message with `echo`. */
export const echoHandler: MessageHandler = async (message) => echo(message);

/** Listeners a suite starts; each is closed after each test. */
export function useListeners(): KmipListener[] {
  const started: KmipListener[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((l) => l.close({ drainTimeoutMs: 200 })));
  });
  return started;
}

/** Polls `cond` every 10 ms; throws after `timeoutMs`. */
export async function waitUntil(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

/** A Request Message with an empty body: the smallest message a handler is given. */
export const EMPTY_REQUEST = Buffer.from([0x42, 0x00, 0x78, 0x01, 0, 0, 0, 0]);

/** Listener options on 127.0.0.1 and a free port with the test PKI and generous limits; `overrides` win. */
export function listenerOptions(pki: ServerPki, overrides: Partial<ListenerOptions> = {}): ListenerOptions {
  return {
    host: '127.0.0.1',
    port: 0,
    cert: pki.serverCert,
    key: pki.serverKey,
    ca: pki.ca,
    ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256',
    minVersion: 'TLSv1.2',
    sessionTimeoutSeconds: 300,
    maxMessageBytes: 64 * 1024,
    maxConnections: 100,
    idleTimeoutMs: 10_000,
    readTimeoutMs: 10_000,
    ...overrides,
  };
}

/** TLS options for a client on 127.0.0.1 with the test PKI's client certificate; `extra` wins. */
export function clientTlsOptions(
  port: number,
  pki: TestPki,
  extra: tls.ConnectionOptions = {},
): tls.ConnectionOptions {
  return {
    host: '127.0.0.1',
    port,
    ca: pki.ca,
    cert: pki.clientCert,
    key: pki.clientKey,
    servername: 'localhost',
    ...extra,
  };
}

/** A client connection with the test PKI's client certificate, once its handshake is done. */
export async function connectClient(port: number, pki: TestPki): Promise<tls.TLSSocket> {
  const socket = tls.connect(clientTlsOptions(port, pki));
  await once(socket, 'secureConnect');
  return socket;
}
