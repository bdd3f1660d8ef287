/**
 * A minimal KMIP-over-TLS client for the runner: one mutually authenticated
 * connection, one request at a time, each answer read as one TTLV frame
 * (8-byte header, then exactly the announced body).
 */

import { connect, type TLSSocket } from 'node:tls';

const HEADER = 8;
/** The runner refuses answers larger than this (the vectors' largest is a few KiB). */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface TlsTarget {
  host: string;
  port: number;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  /** name checked against the server certificate; default host */
  servername?: string;
}

export class KmipConnection {
  readonly #socket: TLSSocket;
  #buffer: Buffer = Buffer.alloc(0);
  #waiter: (() => void) | undefined;
  #closed: Error | undefined;

  private constructor(socket: TLSSocket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#wake();
    });
    socket.on('error', (e) => {
      this.#closed ??= e;
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed ??= new Error('connection closed by the server');
      this.#wake();
    });
  }

  static open(target: TlsTarget, timeoutMs: number): Promise<KmipConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: target.host,
        port: target.port,
        ca: target.ca,
        cert: target.cert,
        key: target.key,
        servername: target.servername ?? (/^[\d.:]+$/.test(target.host) ? undefined : target.host),
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`TLS handshake timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(new KmipConnection(socket));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  /** Sends one request and returns the whole response frame, header included. */
  async exchange(request: Uint8Array, timeoutMs: number): Promise<Buffer> {
    if (this.#closed) throw this.#closed;
    this.#buffer = Buffer.alloc(0);
    this.#socket.write(request);
    const deadline = Date.now() + timeoutMs;
    await this.#until(() => this.#buffer.length >= HEADER, deadline);
    const length = this.#buffer.readUInt32BE(4);
    if (HEADER + length > MAX_RESPONSE_BYTES) throw new Error(`response announces ${length} bytes`);
    await this.#until(() => this.#buffer.length >= HEADER + length, deadline);
    const frame = this.#buffer.subarray(0, HEADER + length);
    this.#buffer = this.#buffer.subarray(HEADER + length);
    return Buffer.from(frame);
  }

  close(): void {
    this.#socket.end();
    this.#socket.destroySoon();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  async #until(ready: () => boolean, deadline: number): Promise<void> {
    while (!ready()) {
      if (this.#closed) throw this.#closed;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for the response');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
