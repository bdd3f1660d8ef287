/**
 * The KMIP listener: mutually authenticated TLS (KMIP 1.x/2.x "TLS profiles"),
 * message framing, one message at a time per connection (its answer may
 * still be pending while the next one runs; answers leave in order), timeouts, a
 * connection cap, backpressure (reading stops while a connection's answers
 * not yet written exceed maxPendingResponseBytes) and graceful shutdown. It knows nothing of what
 * a message means: each frame goes to the MessageHandler and the Buffer it
 * returns is written back in order.
 */

import { constants as cryptoConstants, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import type { Logger } from '../../log.js';
import { FrameReader, FramingError } from './framing.js';

export interface ConnectionInfo {
  id: number;
  remoteAddress: string;
  remotePort: number;
  peerCertificate: PeerCertificate | undefined;
  tlsProtocol: string | null;
  sessionReused: boolean;
  /** whom the per-identity limits count this connection against (see ListenerOptions.identityOf) */
  identity: string;
}

/**
 * A message that has run but whose answer is not ready yet (its audit record
 * is being committed): the connection goes on with its next message and
 * writes this answer, in order, when `response` resolves.
 */
export interface DeferredAnswer {
  readonly response: Promise<Buffer>;
  /** what the answer will take, at most; counted against maxPendingResponseBytes until written */
  readonly bytes?: number;
}

/**
 * What a connection keeps of the client certificate. Not the whole
 * getPeerCertificate() object: with its issuer chain it costs ~2.5 KB of heap
 * per connection, and thousands of idle connections hold one each (issue 8).
 */
export type PeerCertificate = Pick<
  tls.PeerCertificate,
  'subject' | 'subjectaltname' | 'fingerprint256' | 'serialNumber' | 'raw'
>;

/** Answers one request message. Should never reject: a rejection closes the connection. */
export type MessageHandler = (
  message: Buffer,
  conn: ConnectionInfo,
  signal: AbortSignal,
) => Promise<Buffer | DeferredAnswer>;

/** What the TLS context is made of; {@link KmipListener.reloadTls} replaces it. */
export interface TlsMaterial {
  cert: Buffer | string;
  key: Buffer | string;
  /** CA certificates that issue client certificates */
  ca: Buffer | string;
  /**
   * PEM CRL(s). When present, OpenSSL checks the client certificate against them
   * and refuses a revoked one at the handshake; every CA in `ca` that issues
   * client certificates then needs a current CRL here.
   */
  crl?: Buffer | string | readonly (Buffer | string)[];
}

export interface ListenerOptions extends TlsMaterial {
  host: string;
  port: number;
  /** TLS 1.2 cipher list (OpenSSL syntax) */
  ciphers: string;
  /** TLS 1.3 cipher suites (OpenSSL syntax); OpenSSL's default when absent */
  ciphersuites?: string;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  sessionTimeoutSeconds: number;
  /**
   * Session tickets (default true). false saves ~11 KB per idle connection
   * (issue 8) but leaves TLS 1.3 clients without resumption: node cannot serve
   * TLS 1.3 stateful tickets from the session cache. TLS 1.2 clients still
   * resume through session IDs.
   */
  sessionTickets?: boolean;
  /** largest accepted request message, header included */
  maxMessageBytes: number;
  /**
   * Answers a connection may hold, in bytes: ready but unwritten (the socket's
   * write buffer) plus announced by pending DeferredAnswers. At or past it the
   * connection reads and runs nothing more until the peer takes its answers
   * (default DEFAULT_MAX_PENDING_RESPONSE_BYTES; the server passes
   * limits.maxResponseBytes). One message's answer may still take it past the
   * bound once: a connection holds less than twice it.
   */
  maxPendingResponseBytes?: number;
  maxConnections: number;
  /** close a connection that sends nothing for this long between messages */
  idleTimeoutMs: number;
  /** close a connection whose started message is not complete within this time */
  readTimeoutMs: number;
  /** close a connection whose TLS handshake is not complete within this time (default readTimeoutMs) */
  handshakeTimeoutMs?: number;
  /**
   * TLS handshakes in progress at most (default maxConnections). Past it, or
   * past maxConnections, the oldest handshake in progress is dropped to make
   * room: a real client finishes in milliseconds, a slowloris never does.
   */
  maxHandshakes?: number;
  /** authenticated connections per identity; 0 or absent: no cap */
  maxConnectionsPerIdentity?: number;
  /** request messages per second per identity (token bucket); 0 or absent: no limit */
  requestsPerSecondPerIdentity?: number;
  /** bucket size: requests an identity may send at once after a quiet period (default: one second's worth) */
  requestBurstPerIdentity?: number;
  /** names the client for the per-identity limits; default the certificate subject CN, else its fingerprint */
  identityOf?: (conn: Omit<ConnectionInfo, 'identity'>) => string | undefined;
}

export interface KmipListener {
  listen(): Promise<{ host: string; port: number }>;
  /** Stops accepting, lets in-flight messages finish (up to drainTimeoutMs, default 10 s), then closes everything. */
  close(opts?: { drainTimeoutMs?: number }): Promise<void>;
  /** Open TCP connections, TLS handshakes in progress included. */
  readonly connectionCount: number;
  /**
   * Replaces certificate, key, CA and CRL for new connections; open connections
   * keep going. Throws (and keeps the old context) when the material is unusable.
   * Session tickets and cached sessions are invalidated: a resumed session skips
   * certificate verification, so a client revoked since would get back in.
   */
  reloadTls(material: TlsMaterial): void;
  /** Closes the open connections `pred` selects (e.g. revoked certificates); returns how many. */
  closeWhere(pred: (conn: ConnectionInfo) => boolean): number;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
const SESSION_ID_CONTEXT = 'kmip-server';
/** Pipelined messages held per connection before reading pauses. */
const MAX_QUEUED_MESSAGES = 16;
/** Messages run whose answers are still pending, per connection, before the next waits. */
const MAX_UNANSWERED = 16;
/** ListenerOptions.maxPendingResponseBytes when not given: limits.maxResponseBytes' default. */
export const DEFAULT_MAX_PENDING_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Grace for the peer to answer our close_notify before the socket is destroyed. */
const END_GRACE_MS = 2_000;
const SESSION_CACHE_MAX = 10_000;
const LIMIT_LOG_INTERVAL_MS = 10_000;
/** Per-identity records kept before idle ones are swept. */
const IDENTITY_SWEEP_THRESHOLD = 1024;
/** Peer behaviour, not server trouble: logged at debug only. */
/** OpenSSL's own words, and the alerts a client sends, when a certificate's validity period is the cause */
const CERT_VALIDITY =
  /certificate (has expired|is not yet valid)|alert certificate expired|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID/i;

const QUIET_ERROR_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ERR_STREAM_DESTROYED',
  'ERR_TLS_HANDSHAKE_TIMEOUT',
  'ERR_SSL_UNEXPECTED_EOF_WHILE_READING',
]);

export function createKmipListener(
  opts: ListenerOptions,
  handler: MessageHandler,
  log: Logger,
): KmipListener {
  const sessions = new SessionCache(SESSION_CACHE_MAX, opts.sessionTimeoutSeconds * 1000);
  const secureContextOptions = (material: TlsMaterial): tls.TlsOptions => ({
    cert: material.cert,
    key: material.key,
    ca: material.ca,
    ...(material.crl !== undefined
      ? {
          crl:
            typeof material.crl === 'string' || Buffer.isBuffer(material.crl)
              ? material.crl
              : [...material.crl],
        }
      : {}),
    minVersion: opts.minVersion,
    maxVersion: 'TLSv1.3',
    ciphers: opts.ciphers,
    ...(opts.ciphersuites !== undefined ? { ciphersuites: opts.ciphersuites } : {}),
    honorCipherOrder: true,
    // Renegotiation is refused by OpenSSL here and by node per socket (disableRenegotiation):
    // a client-initiated renegotiation is a CPU-exhaustion lever and no KMIP client needs it.
    secureOptions:
      cryptoConstants.SSL_OP_NO_RENEGOTIATION |
      (opts.sessionTickets === false ? cryptoConstants.SSL_OP_NO_TICKET : 0),
    // Session resumption (Veeam and others rely on it): stateless tickets with a
    // per-process key, plus TLS 1.2 session IDs for clients that send no ticket.
    // The fixed session-id context keeps sessions from being resumed by another
    // service that shares the certificate.
    ticketKeys: randomBytes(48),
    sessionIdContext: SESSION_ID_CONTEXT,
    sessionTimeout: opts.sessionTimeoutSeconds,
  });
  const server = tls.createServer({
    ...secureContextOptions(opts),
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
      const options = secureContextOptions(material);
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

/** One authenticated TLS connection. */
class Connection {
  readonly #reader: FrameReader;
  readonly #queue: Buffer[] = [];
  /** created when a message first needs a signal: an idle connection never does */
  #abort: AbortController | undefined;
  #busy = false;
  /** answers not yet written, in request order */
  #unanswered = 0;
  /** bytes the pending DeferredAnswers announced */
  #pendingBytes = 0;
  readonly #maxPending: number;
  #answers: Promise<void> = Promise.resolve();
  #closed = false;
  #draining = false;
  #peerEnded = false;
  #paused = false;
  #writeBlocked = false;
  #corked = false;
  #readTimer: NodeJS.Timeout | undefined;
  #endTimer: NodeJS.Timeout | undefined;
  /** wakes #pump when the connection may go on: written, drained or closed */
  #drained: (() => void) | undefined;

  constructor(
    readonly socket: tls.TLSSocket,
    readonly info: ConnectionInfo,
    readonly opts: ListenerOptions,
    readonly handler: MessageHandler,
    readonly log: Logger,
    readonly hooks: {
      /** ms the next message must wait (per-identity request rate); reserves its turn */
      throttle(): number;
      onClose(): void;
    },
  ) {
    this.#reader = new FrameReader({ maxMessageBytes: opts.maxMessageBytes });
    // Not below the socket's own buffer: 'drain' (which wakes a blocked connection) only
    // follows a write that went past it.
    this.#maxPending = Math.max(
      opts.maxPendingResponseBytes ?? DEFAULT_MAX_PENDING_RESPONSE_BYTES,
      socket.writableHighWaterMark,
    );
    // A client may send its requests then shut down its side: it still gets its
    // answers (#onPeerEnd). Only after the handshake: a half-open handshake would hang.
    socket.allowHalfOpen = true;
    socket.setNoDelay(true);
    socket.setTimeout(opts.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('timeout', () => this.#onIdle());
    socket.on('end', () => this.#onPeerEnd());
    socket.on('drain', () => this.#onDrain());
    socket.on('error', (err: Error) => this.#onError(err));
    socket.on('close', () => this.#onClosed());
  }

  #signal(): AbortSignal {
    if (!this.#abort) {
      this.#abort = new AbortController();
      if (this.#closed) this.#abort.abort();
    }
    return this.#abort.signal;
  }

  /** Graceful shutdown: finish the message in progress, read no more, then end. */
  drain(): void {
    if (this.#closed || this.#draining) return;
    this.#draining = true;
    this.#queue.length = 0;
    this.#setPaused(true);
    this.#endWhenIdle();
  }

  destroy(): void {
    if (!this.#closed) this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.#reader.push(chunk);
    } catch (e) {
      const code = e instanceof FramingError ? e.code : errorCode(e);
      this.log.warn('closing connection: invalid message frame', { conn: this.info.id, code });
      this.destroy();
      return;
    }
    if (this.#draining) return;
    if (frames.length > 0) {
      this.#clearReadTimer();
      this.#queue.push(...frames);
    }
    this.#armReadTimer();
    this.#updateFlow();
    void this.#pump();
  }

  async #pump(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (;;) {
        // A client that does not read its answers gets no more run for it (issue: bounded
        // responses): the socket's buffer and the pending answers stay below the bound.
        while (this.#blocked() && !this.#closed && !this.#draining) {
          await new Promise<void>((resolve) => (this.#drained = resolve));
        }
        if (this.#closed || this.#draining) return;
        const message = this.#queue.shift();
        if (message === undefined) return;
        this.#updateFlow();
        const waitMs = this.hooks.throttle();
        if (waitMs > 0) {
          // Delaying, not refusing: KMIP 1.x has no result reason for it (Server Limit
          // Exceeded is KMIP 2.0+), and a delayed client backs off by itself.
          try {
            await sleep(waitMs, undefined, { signal: this.#signal() });
          } catch {
            return;
          }
          if (this.#closed || this.#draining) return;
        }
        let answer: Buffer | DeferredAnswer;
        try {
          answer = await this.handler(message, this.info, this.#signal());
        } catch (e) {
          this.#handlerFailed(e);
          return;
        }
        if (this.#closed) return;
        if (Buffer.isBuffer(answer) && this.#unanswered === 0) this.#send(answer);
        else if (Buffer.isBuffer(answer)) this.#answerInOrder(answer, answer.length);
        else this.#answerInOrder(answer.response, answer.bytes ?? 0);
        if (this.#unanswered >= MAX_UNANSWERED) await this.#answers;
      }
    } finally {
      this.#busy = false;
      this.#endWhenIdle();
    }
  }

  #answerInOrder(response: Buffer | Promise<Buffer>, bytes: number): void {
    this.#unanswered++;
    this.#pendingBytes += bytes;
    this.#updateFlow();
    this.#answers = this.#answers
      .then(() => response)
      .then(
        (buf) => {
          this.#unanswered--;
          this.#pendingBytes -= bytes;
          if (this.#closed) return;
          this.#send(buf);
          this.#wake();
          this.#endWhenIdle();
        },
        (e: unknown) => {
          this.#unanswered--;
          this.#pendingBytes -= bytes;
          this.#handlerFailed(e);
        },
      );
  }

  /** Answers held for the peer: the socket's unwritten bytes and the pending answers' announced ones. */
  #outstanding(): number {
    return this.#pendingBytes + this.socket.writableLength;
  }

  /** The next message must wait: the peer is not taking its answers. */
  #blocked(): boolean {
    return this.#writeBlocked || this.#outstanding() >= this.#maxPending;
  }

  #wake(): void {
    this.#updateFlow();
    const drained = this.#drained;
    this.#drained = undefined;
    drained?.();
  }

  #handlerFailed(e: unknown): void {
    // the answers already written this tick still go out
    if (this.#corked) this.socket.uncork();
    if (!this.#closed) {
      this.log.error('message handler failed; closing connection', {
        conn: this.info.id,
        code: errorCode(e),
        error: e instanceof Error ? e.message : String(e),
      });
    }
    this.destroy();
  }

  /** After a drain or the peer's end: close once every message read has been answered. */
  #endWhenIdle(): void {
    if ((this.#draining || this.#peerEnded) && !this.#busy && this.#unanswered === 0 && !this.#closed)
      this.#end();
  }

  #send(response: Buffer): void {
    // Responses that become ready in the same tick leave in one TLS write.
    if (!this.#corked) {
      this.#corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.socket.uncork();
      });
    }
    if (!this.socket.write(response)) {
      this.#writeBlocked = true;
      this.#updateFlow();
    }
  }

  #onDrain(): void {
    this.#writeBlocked = false;
    this.#wake();
  }

  /** Pause reading while responses back up or too many messages wait. */
  #updateFlow(): void {
    this.#setPaused(this.#draining || this.#blocked() || this.#queue.length >= MAX_QUEUED_MESSAGES);
  }

  #setPaused(paused: boolean): void {
    if (paused === this.#paused || this.#closed) return;
    this.#paused = paused;
    if (paused) {
      this.socket.pause();
      // our own stall must not count against the peer's read deadline
      this.#clearReadTimer();
    } else {
      this.socket.resume();
      this.#armReadTimer();
    }
  }

  #armReadTimer(): void {
    if (this.#readTimer || this.#paused || this.#closed || this.#peerEnded || !this.#reader.inMessage) return;
    this.#readTimer = setTimeout(() => {
      this.#readTimer = undefined;
      if (!this.#reader.inMessage || this.#closed) return;
      this.log.info('closing connection: message not completed in time', {
        conn: this.info.id,
        readTimeoutMs: this.opts.readTimeoutMs,
        received: this.#reader.pending,
      });
      this.destroy();
    }, this.opts.readTimeoutMs);
  }

  #clearReadTimer(): void {
    if (this.#readTimer) clearTimeout(this.#readTimer);
    this.#readTimer = undefined;
  }

  /** The peer will send no more: answer what it sent, then end our side. */
  #onPeerEnd(): void {
    this.#peerEnded = true;
    this.#clearReadTimer();
    this.#endWhenIdle();
  }

  #onIdle(): void {
    if (
      this.#busy ||
      this.#unanswered > 0 ||
      this.#queue.length > 0 ||
      this.#reader.inMessage ||
      this.#closed
    )
      return;
    this.log.debug('closing idle connection', { conn: this.info.id });
    this.#end();
  }

  /** Sends close_notify; destroys the socket if the peer does not close in time. */
  #end(): void {
    if (this.#closed || this.#endTimer) return;
    this.socket.end();
    this.#endTimer = setTimeout(() => this.destroy(), END_GRACE_MS);
    this.#endTimer.unref();
  }

  #onError(err: Error): void {
    const code = errorCode(err);
    const meta = { conn: this.info.id, code, error: err.message };
    if (QUIET_ERROR_CODES.has(code)) this.log.debug('connection error', meta);
    else this.log.warn('connection error', meta);
  }

  #onClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearReadTimer();
    if (this.#endTimer) clearTimeout(this.#endTimer);
    this.#abort?.abort();
    this.#queue.length = 0;
    this.#wake();
    this.log.debug('KMIP connection closed', { conn: this.info.id });
    this.hooks.onClose();
  }
}

/** Connection counts and request token buckets, per identity. */
class IdentityLimits {
  readonly #entries = new Map<string, { connections: number; tokens: number; updated: number }>();
  readonly #burst: number;

  constructor(
    readonly maxConnections: number,
    readonly ratePerSecond: number,
    burst: number | undefined,
  ) {
    this.#burst = Math.max(1, burst ?? Math.ceil(ratePerSecond));
  }

  /** Counts a new connection; false when the identity is at its cap. */
  acquire(identity: string): boolean {
    let entry = this.#entries.get(identity);
    if (!entry) {
      if (this.#entries.size >= IDENTITY_SWEEP_THRESHOLD) this.#sweep(Date.now());
      entry = { connections: 0, tokens: this.#burst, updated: Date.now() };
      this.#entries.set(identity, entry);
    }
    if (this.maxConnections > 0 && entry.connections >= this.maxConnections) return false;
    entry.connections++;
    return true;
  }

  release(identity: string): void {
    const entry = this.#entries.get(identity);
    if (!entry) return;
    entry.connections--;
    // Kept while its bucket is not full: reconnecting must not reset the rate.
    if (
      entry.connections <= 0 &&
      (this.ratePerSecond <= 0 || this.#refill(entry, Date.now()) >= this.#burst)
    ) {
      this.#entries.delete(identity);
    }
  }

  /**
   * Takes a token and returns how long the request must wait for it (0: none).
   * Waiting requests go into debt; the debt is bounded because a connection
   * runs one message at a time and the connections per identity are capped.
   */
  reserve(identity: string, now: number): number {
    if (this.ratePerSecond <= 0) return 0;
    const entry = this.#entries.get(identity);
    if (!entry) return 0;
    entry.tokens = this.#refill(entry, now) - 1;
    entry.updated = now;
    return entry.tokens >= 0 ? 0 : Math.ceil((-entry.tokens * 1000) / this.ratePerSecond);
  }

  #refill(entry: { tokens: number; updated: number }, now: number): number {
    return Math.min(this.#burst, entry.tokens + ((now - entry.updated) * this.ratePerSecond) / 1000);
  }

  #sweep(now: number): void {
    for (const [identity, entry] of this.#entries) {
      if (entry.connections <= 0 && (this.ratePerSecond <= 0 || this.#refill(entry, now) >= this.#burst)) {
        this.#entries.delete(identity);
      }
    }
  }
}

/** A warning about a limit, at most once per interval, with how often it happened meanwhile. */
class RateLimitedLog {
  #last = 0;
  #count = 0;
  constructor(
    readonly log: Logger,
    readonly intervalMs: number,
  ) {}

  warn(message: string, meta: Record<string, unknown>): void {
    this.#emit('warn', message, meta);
  }

  info(message: string, meta: Record<string, unknown>): void {
    this.#emit('info', message, meta);
  }

  #emit(level: 'warn' | 'info', message: string, meta: Record<string, unknown>): void {
    this.#count++;
    const now = Date.now();
    if (now - this.#last < this.intervalMs) return;
    this.log[level](message, { ...meta, occurrences: this.#count });
    this.#last = now;
    this.#count = 0;
  }
}

/** TLS 1.2 session-ID cache: bounded, entries expire after the session timeout. */
class SessionCache {
  readonly #entries = new Map<string, { data: Buffer; expires: number }>();
  constructor(
    readonly max: number,
    readonly ttlMs: number,
  ) {}

  set(id: string, data: Buffer): void {
    this.#entries.delete(id);
    if (this.#entries.size >= this.max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(id, { data, expires: Date.now() + this.ttlMs });
  }

  get(id: string): Buffer | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    if (entry.expires <= Date.now()) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry.data;
  }

  clear(): void {
    this.#entries.clear();
  }
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

/** A serialized SSL_SESSION (DER: SEQUENCE { INTEGER 1, INTEGER protocol version, ... }) of TLS 1.3. */
export function isTls13Session(der: Buffer): boolean {
  if (der[0] !== 0x30 || der.length < 4) return false;
  const lengthByte = der[1] ?? 0;
  const off = 2 + (lengthByte & 0x80 ? lengthByte & 0x7f : 0) + 3; // past the length and INTEGER 1
  return (
    der[off] === 0x02 &&
    der[off + 1] === 0x02 &&
    der.length >= off + 4 &&
    der.readUInt16BE(off + 2) === 0x0304
  );
}

function socketKey(address: string | undefined, port: number | undefined): string {
  return `${address ?? ''}|${port ?? 0}`;
}

function errorCode(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return 'UNKNOWN';
}
