/** What the listener offers and takes: its options, the connection it hands the handler, and the handler. */

import type { ConnectionInfo } from '../hooks.js';

export type { ConnectionInfo, PeerCertificate } from '../hooks.js';

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
