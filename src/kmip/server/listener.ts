/**
 * The KMIP listener: mutually authenticated TLS (KMIP 1.x/2.x "TLS profiles"),
 * message framing, one message at a time per connection, timeouts, a
 * connection cap, backpressure and graceful shutdown. It knows nothing of what
 * a message means: each frame goes to the MessageHandler and the Buffer it
 * returns is written back in order.
 */

import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../log.js';
import { FrameReader, FramingError } from './framing.js';

export interface ConnectionInfo {
  id: number;
  remoteAddress: string;
  remotePort: number;
  peerCertificate: tls.DetailedPeerCertificate | undefined;
  tlsProtocol: string | null;
  sessionReused: boolean;
}

/** Answers one request message. Should never reject: a rejection closes the connection. */
export type MessageHandler = (message: Buffer, conn: ConnectionInfo, signal: AbortSignal) => Promise<Buffer>;

export interface ListenerOptions {
  host: string;
  port: number;
  cert: Buffer | string;
  key: Buffer | string;
  /** CA certificates that issue client certificates */
  ca: Buffer | string;
  /** TLS 1.2 cipher list (OpenSSL syntax) */
  ciphers: string;
  /** TLS 1.3 cipher suites (OpenSSL syntax); OpenSSL's default when absent */
  ciphersuites?: string;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  sessionTimeoutSeconds: number;
  /** largest accepted request message, header included */
  maxMessageBytes: number;
  maxConnections: number;
  /** close a connection that sends nothing for this long between messages */
  idleTimeoutMs: number;
  /** close a connection whose started message (or TLS handshake) is not complete within this time */
  readTimeoutMs: number;
}

export interface KmipListener {
  listen(): Promise<{ host: string; port: number }>;
  /** Stops accepting, lets in-flight messages finish (up to drainTimeoutMs, default 10 s), then closes everything. */
  close(opts?: { drainTimeoutMs?: number }): Promise<void>;
  /** Open TCP connections, TLS handshakes in progress included. */
  readonly connectionCount: number;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
/** Pipelined messages held per connection before reading pauses. */
const MAX_QUEUED_MESSAGES = 16;
/** Grace for the peer to answer our close_notify before the socket is destroyed. */
const END_GRACE_MS = 2_000;
const SESSION_CACHE_MAX = 10_000;
const DROP_LOG_INTERVAL_MS = 10_000;
/** Peer behaviour, not server trouble: logged at debug only. */
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
  const server = tls.createServer({
    cert: opts.cert,
    key: opts.key,
    ca: opts.ca,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: opts.minVersion,
    maxVersion: 'TLSv1.3',
    ciphers: opts.ciphers,
    ...(opts.ciphersuites !== undefined ? { ciphersuites: opts.ciphersuites } : {}),
    honorCipherOrder: true,
    // Session resumption (Veeam and others rely on it): stateless tickets with a
    // per-process key, plus TLS 1.2 session IDs for clients that send no ticket.
    ticketKeys: randomBytes(48),
    sessionIdContext: 'kmip-server',
    sessionTimeout: opts.sessionTimeoutSeconds,
    handshakeTimeout: opts.readTimeoutMs,
  });
  server.maxConnections = opts.maxConnections;

  /** every accepted TCP socket until it closes, with its "address|port" */
  const rawSockets = new Map<Socket, string>();
  const connections = new Set<Connection>();
  let nextId = 0;
  let closing = false;
  let closePromise: Promise<void> | undefined;
  let onAllClosed: (() => void) | undefined;
  let dropped = 0;
  let lastDropLog = 0;

  const checkAllClosed = () => {
    if (closing && rawSockets.size === 0 && connections.size === 0) onAllClosed?.();
  };

  server.on('newSession', (id: Buffer, data: Buffer, cb: () => void) => {
    sessions.set(id.toString('hex'), data);
    cb();
  });
  server.on('resumeSession', (id: Buffer, cb: (err: Error | null, data: Buffer | null) => void) => {
    cb(null, sessions.get(id.toString('hex')) ?? null);
  });

  server.on('connection', (raw: Socket) => {
    rawSockets.set(raw, socketKey(raw.remoteAddress, raw.remotePort));
    raw.on('error', () => {}); // reported through the TLS socket or tlsClientError
    raw.on('close', () => {
      rawSockets.delete(raw);
      checkAllClosed();
    });
  });

  server.on('drop', () => {
    dropped++;
    const now = Date.now();
    if (now - lastDropLog >= DROP_LOG_INTERVAL_MS) {
      log.warn('connection limit reached; dropping new connections', {
        maxConnections: opts.maxConnections,
        dropped,
      });
      lastDropLog = now;
      dropped = 0;
    }
  });

  server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
    const code = errorCode(err);
    const meta = { remoteAddress: socket.remoteAddress, code, error: err.message };
    if (QUIET_ERROR_CODES.has(code)) log.debug('TLS handshake aborted', meta);
    else log.info('TLS handshake failed', meta);
    socket.destroy();
  });

  server.on('error', (err: Error) => {
    log.error('KMIP listener error', { code: errorCode(err), error: err.message });
  });

  server.on('secureConnection', (socket: tls.TLSSocket) => {
    const cert = socket.getPeerCertificate(true);
    const info: ConnectionInfo = {
      id: ++nextId,
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      peerCertificate: cert && Object.keys(cert).length > 0 ? cert : undefined,
      tlsProtocol: socket.getProtocol(),
      sessionReused: socket.isSessionReused(),
    };
    const conn = new Connection(socket, info, opts, handler, log, () => {
      connections.delete(conn);
      checkAllClosed();
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
  };
}

/** One authenticated TLS connection. */
class Connection {
  readonly #reader: FrameReader;
  readonly #queue: Buffer[] = [];
  readonly #abort = new AbortController();
  #busy = false;
  #closed = false;
  #draining = false;
  #peerEnded = false;
  #paused = false;
  #writeBlocked = false;
  #corked = false;
  #readTimer: NodeJS.Timeout | undefined;
  #endTimer: NodeJS.Timeout | undefined;
  #drained: (() => void) | undefined;

  constructor(
    readonly socket: tls.TLSSocket,
    readonly info: ConnectionInfo,
    readonly opts: ListenerOptions,
    readonly handler: MessageHandler,
    readonly log: Logger,
    readonly onClose: () => void,
  ) {
    this.#reader = new FrameReader({ maxMessageBytes: opts.maxMessageBytes });
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

  /** Graceful shutdown: finish the message in progress, read no more, then end. */
  drain(): void {
    if (this.#closed || this.#draining) return;
    this.#draining = true;
    this.#queue.length = 0;
    this.#setPaused(true);
    if (!this.#busy) this.#end();
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
        if (this.#writeBlocked) await new Promise<void>((resolve) => (this.#drained = resolve));
        if (this.#closed || this.#draining) return;
        const message = this.#queue.shift();
        if (message === undefined) return;
        this.#updateFlow();
        let response: Buffer;
        try {
          response = await this.handler(message, this.info, this.#abort.signal);
        } catch (e) {
          if (!this.#closed) {
            this.log.error('message handler failed; closing connection', {
              conn: this.info.id,
              code: errorCode(e),
              error: e instanceof Error ? e.message : String(e),
            });
          }
          this.destroy();
          return;
        }
        if (this.#closed) return;
        this.#send(response);
      }
    } finally {
      this.#busy = false;
      if ((this.#draining || this.#peerEnded) && !this.#closed) this.#end();
    }
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
    this.#updateFlow();
    const drained = this.#drained;
    this.#drained = undefined;
    drained?.();
  }

  /** Pause reading while responses back up or too many messages wait. */
  #updateFlow(): void {
    this.#setPaused(this.#draining || this.#writeBlocked || this.#queue.length >= MAX_QUEUED_MESSAGES);
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
    if (!this.#busy) this.#end();
  }

  #onIdle(): void {
    if (this.#busy || this.#queue.length > 0 || this.#reader.inMessage || this.#closed) return;
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
    this.#abort.abort();
    this.#queue.length = 0;
    const drained = this.#drained;
    this.#drained = undefined;
    drained?.();
    this.log.debug('KMIP connection closed', { conn: this.info.id });
    this.onClose();
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

function socketKey(address: string | undefined, port: number | undefined): string {
  return `${address ?? ''}|${port ?? 0}`;
}

function errorCode(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return 'UNKNOWN';
}
