/**
 * Splits a TLS byte stream into whole KMIP request messages. Pure: no sockets,
 * no decoding beyond the 8-byte TTLV header (KMIP 1.0 §9.1.1: 3-byte tag,
 * 1-byte type, 4-byte big-endian length).
 */

import { ItemType } from '../ttlv/types.js';

/** A whole message, header included. */
export type Frame = Buffer;

export const FRAME_HEADER_LENGTH = 8;
/** Request Message (KMIP 1.0 §9.1.3.1, tag 0x420078). */
export const REQUEST_MESSAGE_TAG = 0x420078;

export const FramingErrorCode = {
  BadTag: 'ERR_FRAME_BAD_TAG',
  BadType: 'ERR_FRAME_BAD_TYPE',
  TooLarge: 'ERR_FRAME_TOO_LARGE',
  Misaligned: 'ERR_FRAME_MISALIGNED',
} as const;
export type FramingErrorCode = (typeof FramingErrorCode)[keyof typeof FramingErrorCode];

// Same brand as src/kmip/errors.ts so isKmipServerError() recognises it.
const kBrand = Symbol.for('kmip-server.error');

/** The stream is not a sequence of request messages; the connection must close. */
export class FramingError extends Error {
  readonly [kBrand] = true;
  override name = 'FramingError';
  constructor(
    readonly code: FramingErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface FrameReaderOptions {
  /** largest accepted message, header included */
  maxMessageBytes: number;
}

/**
 * Incremental frame splitter. The header is validated before a byte of the
 * body is buffered, and the body buffer is allocated once at its exact size,
 * which is bounded by `maxMessageBytes`.
 *
 * A returned frame may share memory with a pushed chunk when the chunk held it
 * whole; callers must not reuse chunk buffers (socket reads never are).
 */
export class FrameReader {
  readonly #maxBody: number;
  /**
   * A header split across chunks; allocated on first need, since an idle
   * connection (issue 8: thousands of them) never needs it.
   */
  #header: Buffer | undefined;
  #headerFilled = 0;
  #frame: Buffer | undefined;
  #frameFilled = 0;
  #error: FramingError | undefined;

  constructor(opts: FrameReaderOptions) {
    if (!Number.isInteger(opts.maxMessageBytes) || opts.maxMessageBytes < FRAME_HEADER_LENGTH) {
      throw new RangeError(`maxMessageBytes must be an integer >= ${FRAME_HEADER_LENGTH}`);
    }
    this.#maxBody = opts.maxMessageBytes - FRAME_HEADER_LENGTH;
  }

  /** Bytes of an incomplete message held so far. */
  get pending(): number {
    return this.#frame ? this.#frameFilled : this.#headerFilled;
  }

  /** True when part of a message has arrived but not all of it. */
  get inMessage(): boolean {
    return this.pending > 0;
  }

  /** Feeds bytes; returns the messages they complete. Throws FramingError (and keeps throwing) on a bad header. */
  push(chunk: Buffer): Frame[] {
    if (this.#error) throw this.#error;
    const frames: Frame[] = [];
    let off = 0;
    while (off < chunk.length) {
      let frame = this.#frame;
      if (!frame) {
        if (this.#headerFilled === 0 && chunk.length - off >= FRAME_HEADER_LENGTH) {
          const bodyLength = this.#check(chunk, off);
          const end = off + FRAME_HEADER_LENGTH + bodyLength;
          if (end <= chunk.length) {
            frames.push(chunk.subarray(off, end));
            off = end;
            continue;
          }
          frame = this.#start(chunk.subarray(off, off + FRAME_HEADER_LENGTH), bodyLength);
          off += FRAME_HEADER_LENGTH;
        } else {
          this.#header ??= Buffer.allocUnsafeSlow(FRAME_HEADER_LENGTH);
          const header = this.#header;
          const n = Math.min(FRAME_HEADER_LENGTH - this.#headerFilled, chunk.length - off);
          chunk.copy(header, this.#headerFilled, off, off + n);
          this.#headerFilled += n;
          off += n;
          if (this.#headerFilled < FRAME_HEADER_LENGTH) break;
          const bodyLength = this.#check(header, 0);
          this.#headerFilled = 0;
          frame = this.#start(header, bodyLength);
        }
      }
      const n = Math.min(frame.length - this.#frameFilled, chunk.length - off);
      chunk.copy(frame, this.#frameFilled, off, off + n);
      this.#frameFilled += n;
      off += n;
      if (this.#frameFilled === frame.length) {
        frames.push(frame);
        this.#frame = undefined;
        this.#frameFilled = 0;
      }
    }
    return frames;
  }

  #start(header: Buffer, bodyLength: number): Buffer {
    const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + bodyLength);
    header.copy(frame, 0, 0, FRAME_HEADER_LENGTH);
    this.#frame = frame;
    this.#frameFilled = FRAME_HEADER_LENGTH;
    return frame;
  }

  /** Validates the header at `off` and returns the body length. */
  #check(buf: Buffer, off: number): number {
    const tag = buf.readUIntBE(off, 3);
    const type = buf.readUInt8(off + 3);
    const length = buf.readUInt32BE(off + 4);
    if (tag !== REQUEST_MESSAGE_TAG) {
      this.#fail(FramingErrorCode.BadTag, `expected Request Message tag 0x420078, got 0x${hex(tag, 6)}`);
    }
    if (type !== ItemType.Structure) {
      this.#fail(FramingErrorCode.BadType, `expected Structure type 0x01, got 0x${hex(type, 2)}`);
    }
    if (length > this.#maxBody) {
      this.#fail(FramingErrorCode.TooLarge, `message length ${length} exceeds maximum ${this.#maxBody}`);
    }
    // A structure's length is the sum of padded items (KMIP 1.0 §9.1.2).
    if (length % 8 !== 0) {
      this.#fail(FramingErrorCode.Misaligned, `message length ${length} is not a multiple of 8`);
    }
    return length;
  }

  #fail(code: FramingErrorCode, message: string): never {
    this.#error = new FramingError(code, message);
    this.#frame = undefined;
    throw this.#error;
  }
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}
