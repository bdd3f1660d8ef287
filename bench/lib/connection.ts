/**
 * One mutual-TLS KMIP connection that may have several requests in flight.
 * The server answers the messages of a connection in order
 * (src/kmip/server/listener.ts), so responses are matched to requests FIFO.
 */

import { connect, type TLSSocket } from 'node:tls';

const HEADER = 8;
/** The generator's own bound on an answer (a Locate of 10,000 ids is ~0.5 MB). */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface TlsTarget {
  host: string;
  port: number;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export type ResponseCallback = (frame: Buffer | Error, sentAt: number) => void;

interface Pending {
  sentAt: number;
  done: ResponseCallback;
}

export class PipelinedConnection {
  readonly #socket: TLSSocket;
  readonly #pending: Pending[] = [];
  #chunks: Buffer[] = [];
  #buffered = 0;
  #closed: Error | undefined;

  private constructor(socket: TLSSocket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (e: Error) => this.#fail(e));
    socket.on('close', () => this.#fail(new Error('connection closed by the server')));
  }

  static open(target: TlsTarget, timeoutMs: number): Promise<PipelinedConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: target.host,
        port: target.port,
        ca: target.ca,
        cert: target.cert,
        key: target.key,
        // an IP literal is checked against the certificate's IP SANs; SNI takes host names only
        servername: /^[\d.:]+$/.test(target.host) ? undefined : target.host,
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`TLS handshake timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(new PipelinedConnection(socket));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  get inFlight(): number {
    return this.#pending.length;
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** performance.now() of the oldest unanswered request, or undefined. */
  get oldestSentAt(): number | undefined {
    return this.#pending[0]?.sentAt;
  }

  /** `done` is called exactly once, with the response frame (header included) or an Error. */
  send(request: Buffer, done: ResponseCallback): void {
    const sentAt = performance.now();
    const closed = this.#closed;
    if (closed) {
      // asynchronously, so that a caller reacting by sending again cannot recurse
      setImmediate(() => done(closed, sentAt));
      return;
    }
    this.#pending.push({ sentAt, done });
    this.#socket.write(request);
  }

  close(): void {
    this.#socket.end();
    this.#socket.destroySoon();
  }

  destroy(reason: Error): void {
    this.#fail(reason);
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    while (this.#buffered >= HEADER) {
      const head = this.#chunks.length === 1 ? this.#chunks[0] : this.#flatten();
      if (head === undefined || head.length < HEADER) return;
      const total = HEADER + head.readUInt32BE(4);
      if (total > MAX_RESPONSE_BYTES) {
        this.destroy(new Error(`response announces ${total} bytes`));
        return;
      }
      if (this.#buffered < total) return;
      const all = this.#chunks.length === 1 ? head : this.#flatten();
      const frame = all.subarray(0, total);
      const rest = all.subarray(total);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#buffered = rest.length;
      const p = this.#pending.shift();
      if (p === undefined) {
        this.destroy(new Error('response without a request'));
        return;
      }
      p.done(frame, p.sentAt);
    }
  }

  #flatten(): Buffer {
    const one = Buffer.concat(this.#chunks, this.#buffered);
    this.#chunks = [one];
    return one;
  }

  #fail(e: Error): void {
    this.#closed ??= e;
    const waiting = this.#pending.splice(0);
    for (const p of waiting) p.done(e, p.sentAt);
  }
}
