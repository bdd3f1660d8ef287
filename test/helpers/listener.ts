/**
 * A KMIP listener's test settings over the test PKI (test/helpers/pki.ts),
 * and a mutual-TLS client connection to it, for suites that drive the
 * listener with a handler of their own.
 */
import { once } from 'node:events';
import tls from 'node:tls';
import type { ListenerOptions } from '../../src/kmip/server/listener.js';
import type { TestPki } from './pki.js';

/** A Request Message with an empty body: the smallest message a handler is given. */
export const EMPTY_REQUEST = Buffer.from([0x42, 0x00, 0x78, 0x01, 0, 0, 0, 0]);

/** Listener options on 127.0.0.1 and a free port with the test PKI and generous limits; `overrides` win. */
export function listenerOptions(pki: TestPki, overrides: Partial<ListenerOptions> = {}): ListenerOptions {
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

/** A client connection with the test PKI's client certificate, once its handshake is done. */
export async function connectClient(port: number, pki: TestPki): Promise<tls.TLSSocket> {
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    ca: pki.ca,
    cert: pki.clientCert,
    key: pki.clientKey,
    servername: 'localhost',
  });
  await once(socket, 'secureConnect');
  return socket;
}
