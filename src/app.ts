/**
 * The composition root: opens the store, the master-key provider, the sealer,
 * the audit trail and access control, and wires them into the executor and the
 * KMIP listener. The layers below (kmip/server, auth, audit, store, hsm) know
 * nothing of one another's construction.
 */
import { type AuditService, startAudit } from './audit/index.js';
import { AccessControl } from './auth/access.js';
import { listenerIdentityOf, unscopedPrincipal } from './auth/identity.js';
import { type ServerConfig, tlsCipherList } from './config/index.js';
import { openMasterKeyProvider } from './hsm/index.js';
import { SUPPORTED_OBJECT_TYPES } from './kmip/model/object.js';
import { ObjectService } from './kmip/model/service.js';
import { OPERATIONS } from './kmip/operations/index.js';
import { StreamRegistry } from './kmip/operations/support/streams.js';
import type { OperationServices } from './kmip/operations/types.js';
import {
  createBatchExecutor,
  createKmipListener,
  readTlsMaterial,
  tlsReloader,
} from './kmip/server/index.js';
import type { Logger } from './log.js';
import { openStore } from './store/index.js';
import { Sealer } from './store/sealing.js';

export interface RunningServer {
  readonly address: { readonly host: string; readonly port: number };
  /** Stops accepting, lets in-flight requests finish, closes every connection. */
  close(): Promise<void>;
  /** Rereads tls.cert, tls.key, tls.ca and tls.crl into the live listener (what SIGHUP does). */
  reloadTls(): Promise<void>;
}

export const PRODUCT_NAME = 'kmip-server';
export const PRODUCT_VERSION = '0.1.0';

const KEK_REFRESH_MS = 60_000;

/** Node gives a repeated subject attribute as an array; the first one names the client. */
function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export async function startServer(config: ServerConfig, log: Logger): Promise<RunningServer> {
  const tls = await readTlsMaterial(config.tls, log);
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
  let audit: AuditService;
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
    // Closed before the sealer and the store: its last seal is written at close.
    audit = await startAudit(config.audit, { store, sealer, log });
    resources.push(audit);
    const clock = () => new Date();
    services = {
      objects: new ObjectService({ store, sealer, clock }),
      clock,
      streams: new StreamRegistry(),
      policy: { allowTripleDes: config.crypto.allowTripleDes },
      limits: { locateMaxItems: config.limits.locateMaxItems, locateMaxScan: config.limits.locateMaxScan },
      ...(provider.residentKeys === undefined ? {} : { hsm: provider.residentKeys }),
    };
  } catch (e: unknown) {
    await closeAll();
    throw e;
  }
  // Access control (docs/access-control.md); off, every client acts in tenant "default" unchecked.
  const access = config.auth.enabled
    ? new AccessControl({
        config: config.auth,
        store,
        objects: services.objects,
        caPem: tls.material.ca.toString(),
        ...(config.tls.crl === undefined ? {} : { crlFile: config.tls.crl }),
        log,
      })
    : undefined;
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
    maxResponseBytes: config.limits.maxResponseBytes,
    onItem: audit.onItem,
    // Auth off: the CN, in the implicit tenant; never one in the server's reserved namespace.
    ...(access === undefined
      ? { resolvePrincipal: unscopedPrincipal(log) }
      : { resolvePrincipal: access.resolvePrincipal, scopeServices: access.scopeServices }),
    // The purpose check runs after roles and tenants but before dual control, so a request
    // it refuses never spends an approval.
    guards: access === undefined ? [audit.guard] : access.guardsWith([audit.guard]),
  });
  const listener = createKmipListener(
    {
      host: config.listen.host,
      port: config.listen.port,
      ...tls.material,
      // Node takes TLS 1.3 suites only inside `ciphers`.
      ciphers: tlsCipherList(config.tls),
      minVersion: config.tls.minVersion,
      sessionTimeoutSeconds: config.tls.sessionTimeoutSeconds,
      sessionTickets: config.tls.sessionTickets,
      maxMessageBytes: config.limits.maxMessageBytes,
      maxPendingResponseBytes: config.limits.maxResponseBytes,
      maxConnections: config.limits.maxConnections,
      idleTimeoutMs: config.limits.idleTimeoutMs,
      readTimeoutMs: config.limits.readTimeoutMs,
      handshakeTimeoutMs: config.limits.handshakeTimeoutMs,
      maxHandshakes: config.limits.maxHandshakes,
      maxConnectionsPerIdentity: config.limits.maxConnectionsPerIdentity,
      requestsPerSecondPerIdentity: config.limits.requestsPerSecondPerIdentity,
      requestBurstPerIdentity: config.limits.requestBurstPerIdentity,
      identityOf: listenerIdentityOf(config.auth),
    },
    (message, conn, signal) =>
      executor.stage(
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
  const reloader = tlsReloader(listener, config.tls, log);
  return {
    address,
    reloadTls: () => reloader.reload(),
    async close() {
      reloader.close();
      try {
        await listener.close();
      } finally {
        await closeAll();
      }
    },
  };
}
