import { readFile } from 'node:fs/promises';
import { type ServerConfig, tlsCipherList } from '../../config/index.js';
import { openMasterKeyProvider } from '../../hsm/index.js';
import type { Logger } from '../../log.js';
import { openStore } from '../../store/index.js';
import { Sealer } from '../../store/sealing.js';
import { SUPPORTED_OBJECT_TYPES } from '../model/object.js';
import { ObjectService } from '../model/service.js';
import { OPERATIONS } from '../operations/index.js';
import { StreamRegistry } from '../operations/streams.js';
import type { OperationServices } from '../operations/types.js';
import { createBatchExecutor } from './executor.js';
import { createKmipListener } from './listener.js';

export interface RunningServer {
  readonly address: { readonly host: string; readonly port: number };
  /** Stops accepting, lets in-flight requests finish, closes every connection. */
  close(): Promise<void>;
}

export const PRODUCT_NAME = 'kmip-server';
export const PRODUCT_VERSION = '0.1.0';

const KEK_REFRESH_MS = 60_000;

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
  const store = await openStore(config.store.uri, { database: config.store.database, log });
  const resources: { close(): unknown }[] = [store];
  const closeAll = async () => {
    // Newest first: the sealer before the provider, the store last.
    for (const r of resources.reverse()) {
      try {
        await r.close();
      } catch (e: unknown) {
        log.error('closing a server resource failed', { error: e instanceof Error ? e.message : String(e) });
      }
    }
    resources.length = 0;
  };
  let services: OperationServices;
  try {
    const provider = await openMasterKeyProvider(config.hsm, log);
    resources.push(provider);
    const sealer = await Sealer.open(store, provider, { log });
    resources.push(sealer);
    // Several nodes share the KEKs: adopt one another node made active (KEK rotation).
    const refresh = setInterval(() => {
      sealer.refreshActive().catch((e: unknown) => {
        log.warn('could not refresh the active KEK', { error: e instanceof Error ? e.message : String(e) });
      });
    }, KEK_REFRESH_MS);
    refresh.unref();
    resources.push({ close: () => clearInterval(refresh) });
    const clock = () => new Date();
    services = {
      objects: new ObjectService({ store, sealer, clock }),
      clock,
      streams: new StreamRegistry(),
      policy: { allowTripleDes: config.crypto.allowTripleDes },
    };
  } catch (e: unknown) {
    await closeAll();
    throw e;
  }
  const executor = createBatchExecutor({
    operations: OPERATIONS,
    server: {
      vendorIdentification: PRODUCT_NAME,
      productName: PRODUCT_NAME,
      productVersion: PRODUCT_VERSION,
      objectTypes: SUPPORTED_OBJECT_TYPES,
    },
    services,
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
          certificateFingerprint: conn.peerCertificate?.fingerprint256,
          subjectAltNames: conn.peerCertificate?.subjectaltname?.split(', ').filter((n) => n !== ''),
        },
        signal,
      ),
    log,
  );
  let address: { host: string; port: number };
  try {
    address = await listener.listen();
  } catch (e: unknown) {
    await closeAll();
    throw e;
  }
  log.info('KMIP server listening', { host: address.host, port: address.port });
  return {
    address,
    async close() {
      try {
        await listener.close();
      } finally {
        await closeAll();
      }
    },
  };
}
