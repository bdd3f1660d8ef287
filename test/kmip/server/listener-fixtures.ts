import { setTimeout as delay } from 'node:timers/promises';
import tls from 'node:tls';
import { expect } from 'chai';
import {
  createKmipListener,
  type KmipListener,
  type ListenerOptions,
  type MessageHandler,
} from '../../../src/kmip/server/listener.js';
import type { Logger } from '../../../src/log.js';
import {
  clientTlsOptions,
  echo,
  echoHandler,
  listenerOptions,
  requestFrame as request,
  useListeners,
} from '../../helpers/listener.js';
import { makeTestPki, type TestPki } from '../../helpers/pki.js';

export function seqOf(frame: Buffer): number {
  return frame.readUInt32BE(8);
}

export interface LogEntry {
  level: 'error' | 'warn' | 'info' | 'debug';
  message: string;
  meta: Record<string, unknown> | undefined;
}

export function recordingLogger(): Logger & {
  entries: LogEntry[];
  atLeast(level: 'warn' | 'info'): LogEntry[];
} {
  const entries: LogEntry[] = [];
  const add = (level: LogEntry['level']) => (message: string, meta?: Record<string, unknown>) => {
    entries.push({ level, message, meta });
  };
  return {
    entries,
    error: add('error'),
    warn: add('warn'),
    info: add('info'),
    debug: add('debug'),
    atLeast(level) {
      const levels = level === 'warn' ? ['error', 'warn'] : ['error', 'warn', 'info'];
      return entries.filter((e) => levels.includes(e.level));
    },
  };
}

/** Reads Response Message frames from the client side of a connection. */
export class TestClient {
  readonly responses: Buffer[] = [];
  error: (Error & { code?: string }) | undefined;
  /** the last session the server handed out (TLS 1.2: during the handshake; 1.3: after it) */
  session: Buffer | undefined;
  readonly closed: Promise<void>;
  #buffered = Buffer.alloc(0);
  #waiters: (() => void)[] = [];

  constructor(readonly socket: tls.TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      while (this.#buffered.length >= 8) {
        const total = 8 + this.#buffered.readUInt32BE(4);
        if (this.#buffered.length < total) break;
        this.responses.push(this.#buffered.subarray(0, total));
        this.#buffered = this.#buffered.subarray(total);
      }
      this.#wake();
    });
    socket.on('error', (err) => {
      this.error ??= err;
    });
    socket.on('session', (session: Buffer) => {
      this.session = session;
    });
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    void this.closed.then(() => this.#wake());
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when `n` responses have arrived; rejects if the connection closes first. */
  async waitFor(n: number, timeoutMs = 5000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.responses.length < n) {
      if (this.socket.destroyed)
        throw new Error(`connection closed after ${this.responses.length} responses`);
      if (Date.now() > deadline) throw new Error(`timed out after ${this.responses.length} responses`);
      await Promise.race([new Promise<void>((r) => this.#waiters.push(r)), delay(50)]);
    }
    return this.responses.slice(0, n);
  }
}

export let pki: TestPki;

export function connect(port: number, extra: tls.ConnectionOptions = {}): Promise<TestClient> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(clientTlsOptions(port, pki, extra));
    const client = new TestClient(socket);
    socket.once('secureConnect', () => resolve(client));
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before secureConnect')));
  });
}

/** Connects and expects the server to refuse: resolves with the client-side error code (or 'closed'). */
export async function expectRefused(port: number, extra: tls.ConnectionOptions): Promise<string> {
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    ca: pki.ca,
    servername: 'localhost',
    ...extra,
  });
  const client = new TestClient(socket);
  socket.on('secureConnect', () => {
    // TLS 1.3: the client finishes first, the server's verdict comes after
    socket.write(request(1));
  });
  await client.closed;
  expect(client.responses, 'no response on a refused connection').to.have.length(0);
  return client.error?.code ?? 'closed';
}

export async function connectFails(port: number): Promise<boolean> {
  try {
    const client = await connect(port);
    client.socket.destroy();
    return false;
  } catch {
    return true;
  }
}

/** Listeners started through `start()` are closed after each test; `pki` is made once per suite. */
export function useListenerSuite() {
  const started = useListeners();

  before(async () => {
    pki = await makeTestPki();
  });

  function options(overrides: Partial<ListenerOptions> = {}): ListenerOptions {
    return listenerOptions(pki, {
      ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305',
      ...overrides,
    });
  }

  async function start(
    overrides: Partial<ListenerOptions> = {},
    handler: MessageHandler = echoHandler,
    log: Logger = recordingLogger(),
  ): Promise<{ listener: KmipListener; port: number; host: string }> {
    const listener = createKmipListener(options(overrides), handler, log);
    started.push(listener);
    const { host, port } = await listener.listen();
    return { listener, port, host };
  }

  return { options, start };
}

/** An echo handler that pauses `pause()` ms per message and records how many messages it ran at once. */
export function concurrencyProbe(pause: () => number): { handler: MessageHandler; maxActive(): number } {
  let active = 0;
  let max = 0;
  return {
    handler: async (m) => {
      active++;
      max = Math.max(max, active);
      await delay(pause());
      active--;
      return echo(m);
    },
    maxActive: () => max,
  };
}
