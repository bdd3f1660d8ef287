import { expect } from 'chai';
import fc from 'fast-check';
import { isKmipServerError } from '../../../src/kmip/errors.js';
import {
  FRAME_HEADER_LENGTH,
  FrameReader,
  FramingError,
  FramingErrorCode,
  REQUEST_MESSAGE_TAG,
} from '../../../src/kmip/server/framing.js';

/** A request-message-shaped frame: valid header, `body` bytes (padded to 8) as the body. */
function frame(body: Uint8Array, tag = REQUEST_MESSAGE_TAG, type = 0x01, length?: number): Buffer {
  const padded = Buffer.alloc(Math.ceil(body.length / 8) * 8);
  padded.set(body);
  const header = Buffer.alloc(FRAME_HEADER_LENGTH);
  header.writeUIntBE(tag, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt32BE(length ?? padded.length, 4);
  return Buffer.concat([header, padded]);
}

function pushAll(reader: FrameReader, chunks: Buffer[]): Buffer[] {
  return chunks.flatMap((c) => reader.push(c));
}

function expectFramingError(fn: () => unknown, code: FramingErrorCode): FramingError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(FramingError);
    expect(isKmipServerError(e)).to.equal(true);
    expect((e as FramingError).code).to.equal(code);
    return e as FramingError;
  }
  expect.fail('expected a FramingError');
}

/** A Request Message header with no body that claims `length` bytes. */
function emptyClaiming(length: number): Buffer {
  return frame(Buffer.alloc(0), REQUEST_MESSAGE_TAG, 0x01, length);
}

describe('kmip/server/framing FrameReader', () => {
  const body = Buffer.from('0123456789abcdefghijklmnopqrstuv'); // 32 bytes

  it('returns a whole frame pushed in one chunk', () => {
    const r = new FrameReader({ maxMessageBytes: 1024 });
    const f = frame(body);
    const out = r.push(f);
    expect(out).to.have.length(1);
    expect(out[0]?.equals(f)).to.equal(true);
    expect(r.pending).to.equal(0);
    expect(r.inMessage).to.equal(false);
  });

  it('reassembles a frame split at every byte boundary', () => {
    const f = frame(body);
    for (let cut = 1; cut < f.length; cut++) {
      const r = new FrameReader({ maxMessageBytes: 1024 });
      expect(r.push(f.subarray(0, cut))).to.deep.equal([]);
      expect(r.pending).to.equal(cut);
      expect(r.inMessage).to.equal(true);
      const out = r.push(f.subarray(cut));
      expect(out).to.have.length(1, `cut at ${cut}`);
      expect(out[0]?.equals(f)).to.equal(true);
      expect(r.inMessage).to.equal(false);
    }
  });

  it('reassembles a frame fed one byte at a time', () => {
    const f = frame(body);
    const r = new FrameReader({ maxMessageBytes: 1024 });
    const out: Buffer[] = [];
    for (let i = 0; i < f.length; i++) out.push(...r.push(f.subarray(i, i + 1)));
    expect(out).to.have.length(1);
    expect(out[0]?.equals(f)).to.equal(true);
  });

  it('returns several frames from one chunk, and a trailing partial one later', () => {
    const frames = [frame(body), frame(Buffer.alloc(0)), frame(Buffer.from('x')), frame(body)];
    const all = Buffer.concat(frames);
    const r = new FrameReader({ maxMessageBytes: 1024 });
    const first = r.push(all.subarray(0, all.length - 5));
    expect(first.map((b) => b.toString('hex'))).to.deep.equal(
      frames.slice(0, 3).map((b) => b.toString('hex')),
    );
    const rest = r.push(all.subarray(all.length - 5));
    expect(rest).to.have.length(1);
    expect(rest[0]?.equals(frames[3] as Buffer)).to.equal(true);
  });

  it('accepts a zero-length body split inside the header', () => {
    const f = frame(Buffer.alloc(0));
    const r = new FrameReader({ maxMessageBytes: 64 });
    expect(r.push(f.subarray(0, 3))).to.deep.equal([]);
    const out = r.push(f.subarray(3));
    expect(out).to.have.length(1);
    expect(out[0]?.equals(f)).to.equal(true);
  });

  it('keeps consecutive messages apart when each header is split across chunks', () => {
    const f1 = frame(body);
    const f2 = frame(Buffer.from('second message body'));
    const r = new FrameReader({ maxMessageBytes: 1024 });
    const out = pushAll(r, [
      f1.subarray(0, 5),
      f1.subarray(5),
      f2.subarray(0, 2),
      f2.subarray(2, 7),
      f2.subarray(7),
    ]);
    expect(out.map((b) => b.toString('hex'))).to.deep.equal([f1.toString('hex'), f2.toString('hex')]);
    expect(r.inMessage).to.equal(false);
  });

  it('accepts a message exactly at the maximum size', () => {
    const f = frame(Buffer.alloc(56));
    const r = new FrameReader({ maxMessageBytes: 64 });
    expect(r.push(f)).to.have.length(1);
  });

  it('rejects a wrong tag (a response message) after the header', () => {
    const r = new FrameReader({ maxMessageBytes: 1024 });
    const f = frame(body, 0x42007b);
    expect(r.push(f.subarray(0, 7))).to.deep.equal([]);
    expectFramingError(() => r.push(f.subarray(7, 8)), FramingErrorCode.BadTag);
    // the reader stays failed
    expectFramingError(() => r.push(frame(body)), FramingErrorCode.BadTag);
  });

  it('rejects a wrong item type', () => {
    const r = new FrameReader({ maxMessageBytes: 1024 });
    expectFramingError(() => r.push(frame(body, REQUEST_MESSAGE_TAG, 0x07)), FramingErrorCode.BadType);
  });

  it('rejects an over-maximum length claim after 8 bytes without buffering the body', () => {
    const r = new FrameReader({ maxMessageBytes: 1024 });
    const header = emptyClaiming(0xffffffff);
    const err = expectFramingError(() => r.push(header), FramingErrorCode.TooLarge);
    expect(err.message).to.not.match(/[0-9a-f]{16}/); // no raw bytes in the message
    const r2 = new FrameReader({ maxMessageBytes: 64 });
    expectFramingError(() => r2.push(emptyClaiming(64)), FramingErrorCode.TooLarge);
  });

  it('rejects the over-maximum claim even when the header arrives byte by byte', () => {
    const r = new FrameReader({ maxMessageBytes: 1024 });
    const header = emptyClaiming(0x7ffffff8);
    for (let i = 0; i < 7; i++) expect(r.push(header.subarray(i, i + 1))).to.deep.equal([]);
    expectFramingError(() => r.push(header.subarray(7, 8)), FramingErrorCode.TooLarge);
  });

  it('rejects a length that is not a multiple of 8', () => {
    const r = new FrameReader({ maxMessageBytes: 1024 });
    expectFramingError(() => r.push(emptyClaiming(12)), FramingErrorCode.Misaligned);
  });

  it('fails on the second frame of a chunk, after the first was good', () => {
    const r = new FrameReader({ maxMessageBytes: 1024 });
    expectFramingError(
      () => r.push(Buffer.concat([frame(body), frame(body, 0x420079)])),
      FramingErrorCode.BadTag,
    );
  });

  it('refuses a maximum smaller than a header', () => {
    expect(() => new FrameReader({ maxMessageBytes: 4 })).to.throw(RangeError);
  });

  it('property: any chunking of valid frames yields the same frames', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 80 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 50 }),
        (bodies, sizes) => {
          const frames = bodies.map((b) => frame(b));
          const all = Buffer.concat(frames);
          const chunks: Buffer[] = [];
          let off = 0;
          let i = 0;
          while (off < all.length) {
            const size = sizes[i++ % sizes.length] ?? 1;
            chunks.push(Buffer.from(all.subarray(off, off + size)));
            off += size;
          }
          const r = new FrameReader({ maxMessageBytes: 1024 });
          const out = pushAll(r, chunks);
          expect(out.map((b) => b.toString('hex'))).to.deep.equal(frames.map((b) => b.toString('hex')));
          expect(r.pending).to.equal(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
