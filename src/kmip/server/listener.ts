/**
 * The KMIP listener: mutually authenticated TLS (KMIP 1.x/2.x "TLS profiles"),
 * message framing, one message at a time per connection (its answer may
 * still be pending while the next one runs; answers leave in order), timeouts, a
 * connection cap, backpressure (reading stops while a connection's answers
 * not yet written exceed maxPendingResponseBytes) and graceful shutdown. It knows nothing of what
 * a message means: each frame goes to the MessageHandler and the Buffer it
 * returns is written back in order.
 */

import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../log.js';
import { Connection } from './connection.js';
import { IdentityLimits } from './limits.js';
import type {
  ConnectionInfo,
  KmipListener,
  ListenerOptions,
  MessageHandler,
  PeerCertificate,
} from './listener-types.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { isTls13Session, SessionCache } from './session-cache.js';
import { CERT_VALIDITY, errorCode, QUIET_ERROR_CODES } from './socket-errors.js';
import { secureContextOptions } from './tls-context.js';

export { DEFAULT_MAX_PENDING_RESPONSE_BYTES } from './connection.js';
export type {
  ConnectionInfo,
  DeferredAnswer,
  KmipListener,
  ListenerOptions,
  MessageHandler,
  PeerCertificate,
  TlsMaterial,
} from './listener-types.js';
export { isTls13Session } from './session-cache.js';

const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
const SESSION_CACHE_MAX = 10_000;
const LIMIT_LOG_INTERVAL_MS = 10_000;

export function createKmipListener(
  opts: ListenerOptions,
  handler: MessageHandler,
  log: Logger,
): KmipListener {
  const sessions = new SessionCache(SESSION_CACHE_MAX, opts.sessionTimeoutSeconds * 1000);
  const server = tls.createServer({
    ...secureContextOptions(opts, opts),
    requestCert: true,
    // Checked first thing in 'secureConnection' instead: Node drops a refused client
    // certificate without any event, so an expired certificate or a wrong clock on this
    // host failed every handshake with nothing in the log. Nothing is read before the check.
    rejectUnauthorized: false,
    handshakeTimeout: opts.handshakeTimeoutMs ?? opts.readTimeoutMs,
  });
  const maxHandshakes = Math.min(opts.maxHandshakes ?? opts.maxConnections, opts.maxConnections);
  const identities = new IdentityLimits(
    opts.maxConnectionsPerIdentity ?? 0,
    opts.requestsPerSecondPerIdentity ?? 0,
    opts.requestBurstPerIdentity,
  );
  const throttleLog = new RateLimitedLog(log, LIMIT_LOG_INTERVAL_MS);
  const limitLog = new RateLimitedLog(log, LIMIT_LOG_INTERVAL_MS);

  /** every accepted TCP socket until it closes, with its "address|port" */
  const rawSockets = new Map<Socket, string>();
  /** TCP sockets whose TLS handshake is still in progress, oldest first */
  const handshaking = new Map<string, Socket>();
  const connections = new Set<Connection>();
  let nextId = 0;
  let closing = false;
  let closePromise: Promise<void> | undefined;
  let onAllClosed: (() => void) | undefined;

  const checkAllClosed = () => {
    if (closing && rawSockets.size === 0 && connections.size === 0) onAllClosed?.();
  };

  server.on('newSession', (id: Buffer, data: Buffer, cb: () => void) => {
    // OpenSSL reports every TLS 1.3 ticket here too (two per connection, each with
    // the client certificate) under a dummy ID no client ever sends back: TLS 1.3
    // resumes from the stateless ticket alone. Kept, they cost ~2 KB per connection.
    if (!isTls13Session(data)) sessions.set(id.toString('hex'), data);
    cb();
  });
  server.on('resumeSession', (id: Buffer, cb: (err: Error | null, data: Buffer | null) => void) => {
    cb(null, sessions.get(id.toString('hex')) ?? null);
  });

  server.on('connection', (raw: Socket) => {
    const key = socketKey(raw.remoteAddress, raw.remotePort);
    rawSockets.set(raw, key);
    handshaking.set(key, raw);
    raw.on('error', () => {}); // reported through the TLS socket or tlsClientError
    raw.on('close', () => {
      rawSockets.delete(raw);
      if (handshaking.get(key) === raw) handshaking.delete(key);
      checkAllClosed();
    });
    // The caps are enforced here rather than with server.maxConnections, which
    // drops the newcomer: dropping the oldest handshake instead means sockets that
    // never finish theirs (slowloris, floods) cannot lock real clients out.
    if (rawSockets.size > opts.maxConnections || handshaking.size > maxHandshakes) {
      const [oldestKey, oldest] = handshaking.entries().next().value ?? [];
      if (oldest === undefined || oldest === raw || oldestKey === undefined) {
        limitLog.warn('connection limit reached; dropping new connections', {
          maxConnections: opts.maxConnections,
        });
        raw.destroy();
      } else {
        handshaking.delete(oldestKey);
        limitLog.warn('connection limit reached; dropping the oldest TLS handshakes in progress', {
          maxConnections: opts.maxConnections,
          maxHandshakes,
        });
        oldest.destroy();
      }
    }
  });

  server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
    const code = errorCode(err);
    const meta = { remoteAddress: socket.remoteAddress, code, error: err.message };
    if (CERT_VALIDITY.test(err.message)) {
      // A certificate outside its validity, or a clock off on either side: name it, at warn.
      log.warn(
        'TLS handshake failed: a certificate is not valid at this time (expired, not yet valid, or a wrong clock)',
        meta,
      );
    } else if (QUIET_ERROR_CODES.has(code)) log.debug('TLS handshake aborted', meta);
    else log.info('TLS handshake failed', meta);
    socket.destroy();
  });

  server.on('error', (err: Error) => {
    log.error('KMIP listener error', { code: errorCode(err), error: err.message });
  });

  const refusedLog = new RateLimitedLog(log, LIMIT_LOG_INTERVAL_MS);
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    handshaking.delete(socketKey(socket.remoteAddress, socket.remotePort));
    if (!socket.authorized) {
      const reason = String(socket.authorizationError ?? 'no client certificate');
      const meta = { remoteAddress: socket.remoteAddress, reason };
      if (CERT_VALIDITY.test(reason))
        refusedLog.warn(
          'TLS handshake failed: a certificate is not valid at this time (expired, not yet valid, or a wrong clock)',
          meta,
        );
      else refusedLog.info('TLS client certificate refused', meta);
      socket.destroy();
      return;
    }
    // RFC 5746 secure renegotiation is still renegotiation: refuse it (issue 7, TLS hardening).
    socket.disableRenegotiation();
    const cert = socket.getPeerCertificate(false);
    const base = {
      id: ++nextId,
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      peerCertificate: cert && Object.keys(cert).length > 0 ? keptCertificate(cert) : undefined,
      tlsProtocol: socket.getProtocol(),
      sessionReused: socket.isSessionReused(),
    };
    const info: ConnectionInfo = {
      ...base,
      identity: (opts.identityOf ?? defaultIdentity)(base) ?? defaultIdentity(base),
    };
    if (!identities.acquire(info.identity)) {
      limitLog.warn('per-identity connection limit reached; closing new connections', {
        identity: info.identity,
        maxConnectionsPerIdentity: opts.maxConnectionsPerIdentity,
      });
      socket.destroy();
      return;
    }
    const conn = new Connection(socket, info, opts, handler, log, {
      throttle: () => {
        const waitMs = identities.reserve(info.identity, Date.now());
        if (waitMs > 0) {
          throttleLog.info('request rate limit reached; delaying requests', {
            identity: info.identity,
            requestsPerSecondPerIdentity: opts.requestsPerSecondPerIdentity,
          });
        }
        return waitMs;
      },
      onClose: () => {
        identities.release(info.identity);
        connections.delete(conn);
        checkAllClosed();
      },
    });
    connections.add(conn);
    log.debug('KMIP connection opened', {
      conn: info.id,
      remoteAddress: info.remoteAddress,
      tlsProtocol: info.tlsProtocol,
      sessionReused: info.sessionReused,
    });
    if (closing) conn.drain();
  });

  return {
    listen() {
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.once('error', onError);
        server.listen(opts.port, opts.host, () => {
          server.off('error', onError);
          const addr = server.address();
          if (addr === null || typeof addr === 'string') {
            resolve({ host: opts.host, port: opts.port });
          } else {
            resolve({ host: addr.address, port: addr.port });
          }
        });
      });
    },

    close(closeOpts = {}) {
      closePromise ??= new Promise<void>((resolve) => {
        closing = true;
        const drainTimeoutMs = closeOpts.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
        let serverClosed = !server.listening;
        let done = false;
        const finish = () => {
          if (done || !serverClosed || rawSockets.size > 0 || connections.size > 0) return;
          done = true;
          clearTimeout(deadline);
          sessions.clear();
          resolve();
        };
        onAllClosed = finish;
        const deadline = setTimeout(() => {
          for (const conn of connections) conn.destroy();
          for (const raw of rawSockets.keys()) raw.destroy();
        }, drainTimeoutMs);
        if (!serverClosed) {
          server.close(() => {
            serverClosed = true;
            finish();
          });
        }
        const secureKeys = new Set<string>();
        for (const conn of connections) {
          secureKeys.add(socketKey(conn.info.remoteAddress, conn.info.remotePort));
          conn.drain();
        }
        // Handshakes in progress (or TCP health checks) hold nothing worth waiting for.
        for (const [raw, key] of rawSockets) if (!secureKeys.has(key)) raw.destroy();
        finish();
      });
      return closePromise;
    },

    get connectionCount() {
      return rawSockets.size;
    },

    reloadTls(material) {
      const options = secureContextOptions(opts, material);
      // Validate first: setSecureContext would keep half of a bad update.
      tls.createSecureContext(options);
      server.setSecureContext(options);
      sessions.clear();
      log.info('TLS certificate, key, CA and CRL reloaded', { crl: material.crl !== undefined });
    },

    closeWhere(pred) {
      let n = 0;
      for (const conn of connections) {
        if (pred(conn.info)) {
          conn.destroy();
          n++;
        }
      }
      return n;
    },
  };
}

function keptCertificate(cert: tls.PeerCertificate): PeerCertificate {
  const { subject, subjectaltname, fingerprint256, serialNumber, raw } = cert;
  return { subject, subjectaltname, fingerprint256, serialNumber, raw };
}

function defaultIdentity(conn: Omit<ConnectionInfo, 'identity'>): string {
  const cn = conn.peerCertificate?.subject?.CN;
  const first = Array.isArray(cn) ? cn[0] : cn;
  return first ?? conn.peerCertificate?.fingerprint256 ?? conn.remoteAddress;
}

function socketKey(address: string | undefined, port: number | undefined): string {
  return `${address ?? ''}|${port ?? 0}`;
}
