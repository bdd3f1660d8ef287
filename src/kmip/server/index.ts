import { readFile } from 'node:fs/promises';
import { type ServerConfig, tlsCipherList } from '../../config/index.js';
import type { Logger } from '../../log.js';
import { OPERATIONS } from '../operations/index.js';
import { createBatchExecutor } from './executor.js';
import { createKmipListener } from './listener.js';

export interface RunningServer {
  readonly address: { readonly host: string; readonly port: number };
  /** Stops accepting, lets in-flight requests finish, closes every connection. */
  close(): Promise<void>;
}

export const PRODUCT_NAME = 'kmip-server';
export const PRODUCT_VERSION = '0.1.0';

/** Node gives a repeated subject attribute as an array; the first one names the client. */
function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export async function startServer(config: ServerConfig, log: Logger): Promise<RunningServer> {
  const [cert, key, ca] = await Promise.all([
    readFile(config.tls.cert),
    readFile(config.tls.key),
    readFile(config.tls.ca),
  ]);
  const executor = createBatchExecutor({
    operations: OPERATIONS,
    server: {
      vendorIdentification: PRODUCT_NAME,
      productName: PRODUCT_NAME,
      productVersion: PRODUCT_VERSION,
      // Managed objects arrive with the storage and lifecycle work.
      objectTypes: [],
    },
    log,
    maxDepth: config.limits.maxDepth,
    maxBatchItems: config.limits.maxBatchItems,
  });
  const listener = createKmipListener(
    {
      host: config.listen.host,
      port: config.listen.port,
      cert,
      key,
      ca,
      // Node takes TLS 1.3 suites only inside `ciphers`.
      ciphers: tlsCipherList(config.tls),
      minVersion: config.tls.minVersion,
      sessionTimeoutSeconds: config.tls.sessionTimeoutSeconds,
      maxMessageBytes: config.limits.maxMessageBytes,
      maxConnections: config.limits.maxConnections,
      idleTimeoutMs: config.limits.idleTimeoutMs,
      readTimeoutMs: config.limits.readTimeoutMs,
    },
    (message, conn, signal) =>
      executor.execute(
        message,
        {
          commonName: firstValue(conn.peerCertificate?.subject?.CN),
          remoteAddress: conn.remoteAddress,
        },
        signal,
      ),
    log,
  );
  const address = await listener.listen();
  log.info('KMIP server listening', { host: address.host, port: address.port });
  return {
    address,
    close: () => listener.close(),
  };
}
