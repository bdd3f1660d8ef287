import { setTimeout as sleep } from 'node:timers/promises';
import type tls from 'node:tls';
import type { Logger } from '../../log.js';
import { FrameReader, FramingError } from './framing.js';
import type { ConnectionInfo, DeferredAnswer, ListenerOptions, MessageHandler } from './listener-types.js';
import { errorCode, QUIET_ERROR_CODES } from './socket-errors.js';

/** Pipelined messages held per connection before reading pauses. */
const MAX_QUEUED_MESSAGES = 16;
/** Messages run whose answers are still pending, per connection, before the next waits. */
const MAX_UNANSWERED = 16;
/** ListenerOptions.maxPendingResponseBytes when not given: limits.maxResponseBytes' default. */
export const DEFAULT_MAX_PENDING_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Grace for the peer to answer our close_notify before the socket is destroyed. */
const END_GRACE_MS = 2_000;

/** One authenticated TLS connection. */
export class Connection {
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
