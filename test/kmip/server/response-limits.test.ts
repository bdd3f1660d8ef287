/**
 * Bounded responses (limits.maxResponseBytes): the batch executor keeps a
 * message's answer within the smaller of the server's limit and the client's
 * Maximum Response Size, runs nothing more once the budget is spent, and the
 * listener stops running a connection's messages while the answers it holds
 * unwritten exceed the bound.
 */
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import tls from 'node:tls';
import { expect } from 'chai';
import type { OperationDefinition } from '../../../src/kmip/operations/index.js';
import { OPERATIONS } from '../../../src/kmip/operations/index.js';
import { createBatchExecutor, DEFAULT_MAX_RESPONSE_BYTES } from '../../../src/kmip/server/executor.js';
import { createKmipListener, type KmipListener } from '../../../src/kmip/server/listener.js';
import {
  BatchErrorContinuationOption,
  Operation,
  ResultReason,
  ResultStatus,
  Tag,
} from '../../../src/kmip/spec/index.js';
import { decodeTtlv, encodeTtlv, ttlvSize } from '../../../src/kmip/ttlv/binary.js';
import type { TtlvItem, TtlvStructure } from '../../../src/kmip/ttlv/types.js';
import { silentLogger } from '../../../src/log.js';
import { makeTestPki, type TestPki } from '../../helpers/pki.js';

const S = (tag: number, value: TtlvItem[]): TtlvStructure => ({ tag, type: 'Structure', value });
const I = (tag: number, value: number): TtlvItem => ({ tag, type: 'Integer', value });
const E = (tag: number, value: number): TtlvItem => ({ tag, type: 'Enumeration', value });

const KiB = 1024;
const MiB = 1024 * KiB;

interface ReqOpts {
  minor?: number;
  maxResponseSize?: number;
  continuation?: number;
}

function request(items: { op: number; payload?: TtlvItem[] }[], o: ReqOpts = {}): Buffer {
  const header: TtlvItem[] = [
    S(Tag.ProtocolVersion, [I(Tag.ProtocolVersionMajor, 1), I(Tag.ProtocolVersionMinor, o.minor ?? 4)]),
  ];
  if (o.maxResponseSize !== undefined) header.push(I(Tag.MaximumResponseSize, o.maxResponseSize));
  if (o.continuation !== undefined) header.push(E(Tag.BatchErrorContinuationOption, o.continuation));
  header.push(I(Tag.BatchCount, items.length));
  return encodeTtlv(
    S(Tag.RequestMessage, [
      S(Tag.RequestHeader, header),
      ...items.map((it) =>
        S(Tag.BatchItem, [E(Tag.Operation, it.op), S(Tag.RequestPayload, it.payload ?? [])]),
      ),
    ]),
  );
}

const rng = (bytes: number) => ({ op: Operation.RNGRetrieve, payload: [I(Tag.DataLength, bytes)] });

interface Result {
  status: number;
  reason: number | undefined;
  message: string | undefined;
  payload: TtlvStructure | undefined;
}

function results(resp: Buffer): Result[] {
  const msg = decodeTtlv(resp);
  if (msg.type !== 'Structure') throw new Error('not a structure');
  return msg.value
    .filter((c): c is TtlvStructure => c.tag === Tag.BatchItem && c.type === 'Structure')
    .map((bi) => {
      const f = (tag: number) => bi.value.find((c) => c.tag === tag);
      const p = f(Tag.ResponsePayload);
      return {
        status: Number(f(Tag.ResultStatus)?.value),
        reason: f(Tag.ResultReason)?.value as number | undefined,
        message: f(Tag.ResultMessage)?.value as string | undefined,
        payload: p?.type === 'Structure' ? p : undefined,
      };
    });
}

const client = { commonName: 'test', remoteAddress: '127.0.0.1' };
const signal = new AbortController().signal;

/** An operation (under Get's number) answering `bytes` bytes, counting its runs. */
function bigAnswer(bytes: number): OperationDefinition & { runs: number } {
  const op = {
    runs: 0,
    operation: Operation.Get,
    since: '1.0' as const,
    mutates: false,
    needsObject: false,
    handle(): TtlvItem[] {
      op.runs++;
      return [{ tag: Tag.KeyMaterial, type: 'ByteString', value: new Uint8Array(bytes) }];
    },
  };
  return op;
}

function executor(maxResponseBytes: number | undefined, extra: OperationDefinition[] = []) {
  return createBatchExecutor({
    operations: [...OPERATIONS.filter((o) => !extra.some((x) => x.operation === o.operation)), ...extra],
    server: { vendorIdentification: 't', productName: 't', productVersion: 't', objectTypes: [] },
    log: silentLogger,
    maxDepth: 64,
    maxBatchItems: 1000,
    ...(maxResponseBytes === undefined ? {} : { maxResponseBytes }),
  });
}

describe('kmip/server/executor: bounded responses', () => {
  it('keeps one message of 1,000 RNG Retrieves of 1 MiB within the server limit', async () => {
    const limit = 4 * MiB;
    const resp = await executor(limit).execute(
      request(
        Array.from({ length: 1000 }, () => rng(MiB)),
        {
          continuation: BatchErrorContinuationOption.Continue,
        },
      ),
      client,
      signal,
    );
    expect(resp.length).to.be.at.most(limit + 1000 * 200);
    const r = results(resp);
    expect(r).to.have.length(1000);
    const ok = r.filter((x) => x.status === ResultStatus.Success);
    expect(ok).to.have.length(3);
    expect(r.slice(0, 3).every((x) => x.status === ResultStatus.Success)).to.equal(true);
    for (const x of r.slice(3)) {
      expect(x.status).to.equal(ResultStatus.OperationFailed);
      expect(x.reason).to.equal(ResultReason.ResponseTooLarge);
      // refused by RNG Retrieve itself, before a random byte is made
      expect(x.message).to.match(/^Data Length 1048576 does not fit/);
    }
  });

  it('the default limit is 16 MiB', async () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).to.equal(16 * MiB);
    const resp = await executor(undefined).execute(
      request(
        Array.from({ length: 40 }, () => rng(MiB)),
        {
          continuation: BatchErrorContinuationOption.Continue,
        },
      ),
      client,
      signal,
    );
    expect(resp.length).to.be.at.most(16 * MiB + 40 * 200);
    expect(results(resp).filter((x) => x.status === ResultStatus.Success)).to.have.length(15);
  });

  it('stops running items once an answer was dropped for its size (Continue)', async () => {
    const op = bigAnswer(100 * KiB);
    const resp = await executor(MiB, [op]).execute(
      request(
        Array.from({ length: 200 }, () => ({ op: Operation.Get })),
        { continuation: BatchErrorContinuationOption.Continue },
      ),
      client,
      signal,
    );
    const r = results(resp);
    expect(r).to.have.length(200);
    expect(r.filter((x) => x.status === ResultStatus.Success)).to.have.length(10);
    // the 11th ran and was dropped; none after it ran
    expect(op.runs).to.equal(11);
    expect(r[10]?.message).to.match(/would exceed/);
    expect(r[11]?.message).to.match(/^not run/);
    expect(resp.length).to.be.at.most(MiB + 200 * 200);
  });

  it('stops the batch at the first answer too large under the default Stop option', async () => {
    const op = bigAnswer(300 * KiB);
    const r = results(
      await executor(MiB, [op]).execute(
        request(Array.from({ length: 10 }, () => ({ op: Operation.Get }))),
        client,
        signal,
      ),
    );
    expect(r.map((x) => x.status)).to.deep.equal([0, 0, 0, ResultStatus.OperationFailed]);
    expect(r[3]?.reason).to.equal(ResultReason.ResponseTooLarge);
    expect(op.runs).to.equal(4);
  });

  it("a client's smaller Maximum Response Size wins over the server's limit", async () => {
    const resp = await executor(8 * MiB).execute(
      request(
        Array.from({ length: 10 }, () => rng(MiB)),
        { maxResponseSize: 2 * MiB, continuation: BatchErrorContinuationOption.Continue },
      ),
      client,
      signal,
    );
    expect(resp.length).to.be.at.most(2 * MiB + 10 * 200);
    const r = results(resp);
    expect(r.filter((x) => x.status === ResultStatus.Success)).to.have.length(1);
    expect(r[1]?.reason).to.equal(ResultReason.ResponseTooLarge);
    const op = bigAnswer(MiB);
    const [, second] = results(
      await executor(8 * MiB, [op]).execute(
        request([{ op: Operation.Get }, { op: Operation.Get }], { maxResponseSize: 2 * MiB }),
        client,
        signal,
      ),
    );
    expect(second?.message).to.match(/Maximum Response Size of 2097152 bytes/);
  });

  it("a client's larger Maximum Response Size does not lift the server's limit", async () => {
    const r = results(
      await executor(2 * MiB).execute(
        request(
          Array.from({ length: 5 }, () => rng(MiB)),
          { maxResponseSize: 64 * MiB, continuation: BatchErrorContinuationOption.Continue },
        ),
        client,
        signal,
      ),
    );
    expect(r.filter((x) => x.status === ResultStatus.Success)).to.have.length(1);
    expect(r[1]?.reason).to.equal(ResultReason.ResponseTooLarge);
    const op = bigAnswer(MiB);
    const [, second] = results(
      await executor(2 * MiB, [op]).execute(
        request([{ op: Operation.Get }, { op: Operation.Get }], { maxResponseSize: 64 * MiB }),
        client,
        signal,
      ),
    );
    expect(second?.message).to.match(/server's response size limit of 2097152 bytes/);
  });

  it('RNG Retrieve refuses a length the response has no room for, before making it', async () => {
    const r = results(
      await executor(MiB).execute(request([rng(512 * KiB), rng(600 * KiB), rng(1024)]), client, signal),
    );
    expect(r[0]?.status).to.equal(ResultStatus.Success);
    expect(r[1]?.reason).to.equal(ResultReason.ResponseTooLarge);
    expect(r[1]?.message).to.match(/Data Length 614400 does not fit/);
    expect(r).to.have.length(2);
  });

  it('answers Response Too Large in KMIP 1.0 too (the reason exists since 1.0)', async () => {
    const op = bigAnswer(200 * KiB);
    const r = results(
      await executor(256 * KiB, [op]).execute(
        request([{ op: Operation.Get }, { op: Operation.Get }], { minor: 0 }),
        client,
        signal,
      ),
    );
    expect(r[0]?.status).to.equal(ResultStatus.Success);
    expect(r[1]?.reason).to.equal(ResultReason.ResponseTooLarge);
  });

  it('an answer that fits exactly is kept', async () => {
    const op = bigAnswer(1000);
    const one = await executor(undefined, [op]).execute(request([{ op: Operation.Get }]), client, signal);
    const fits = results(
      await executor(one.length, [op]).execute(request([{ op: Operation.Get }]), client, signal),
    );
    expect(fits[0]?.status).to.equal(ResultStatus.Success);
    const short = results(
      await executor(undefined, [op]).execute(
        request([{ op: Operation.Get }], { maxResponseSize: one.length - 8 }),
        client,
        signal,
      ),
    );
    expect(short[0]?.reason).to.equal(ResultReason.ResponseTooLarge);
  });
});

describe('kmip/ttlv/binary: ttlvSize', () => {
  it('equals the encoded length, padding and nesting included', () => {
    const item = S(Tag.RequestMessage, [
      { tag: Tag.UniqueIdentifier, type: 'TextString', value: 'é-ünïcödé' },
      { tag: Tag.Data, type: 'ByteString', value: new Uint8Array(13) },
      { tag: Tag.Modulus, type: 'BigInteger', value: new Uint8Array(16) },
      I(Tag.DataLength, 7),
      { tag: Tag.ActivationDate, type: 'DateTime', value: 1n },
      { tag: Tag.Sensitive, type: 'Boolean', value: true },
      S(Tag.Attributes, [S(Tag.Name, [])]),
    ]);
    expect(ttlvSize(item)).to.equal(encodeTtlv(item).length);
  });
});

describe('kmip/server/listener: a client that does not read its answers', function () {
  this.timeout(20_000);
  let pki: TestPki;
  let listener: KmipListener | undefined;

  before(async () => {
    pki = await makeTestPki();
  });

  afterEach(async () => {
    await listener?.close({ drainTimeoutMs: 200 });
    listener = undefined;
  });

  /** Pipelines `count` messages, reads nothing, and returns how many the server ran meanwhile. */
  async function pipeline(maxPendingResponseBytes: number | undefined, answerBytes: number, count: number) {
    let runs = 0;
    listener = createKmipListener(
      {
        host: '127.0.0.1',
        port: 0,
        cert: pki.serverCert,
        key: pki.serverKey,
        ca: pki.ca,
        ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256',
        minVersion: 'TLSv1.2',
        sessionTimeoutSeconds: 300,
        maxMessageBytes: 64 * 1024,
        maxConnections: 10,
        idleTimeoutMs: 10_000,
        readTimeoutMs: 10_000,
        ...(maxPendingResponseBytes === undefined ? {} : { maxPendingResponseBytes }),
      },
      async () => {
        runs++;
        // As the executor answers: ready once its audit record is durable, a little later.
        const answer = Buffer.alloc(answerBytes);
        answer.writeUInt32BE((Tag.ResponseMessage << 8) | 1, 0);
        answer.writeUInt32BE(answerBytes - 8, 4);
        return { response: delay(5).then(() => answer), bytes: answerBytes };
      },
      silentLogger,
    );
    const { port } = await listener.listen();
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ca: pki.ca,
      cert: pki.clientCert,
      key: pki.clientKey,
      servername: 'localhost',
    });
    await once(socket, 'secureConnect');
    socket.pause(); // never reads
    const message = Buffer.from([0x42, 0x00, 0x78, 0x01, 0, 0, 0, 0]);
    for (let i = 0; i < count; i++) socket.write(message);
    await delay(1500);
    socket.destroy();
    return runs;
  }

  it('runs no further message while the answers it holds exceed the bound', async () => {
    const runs = await pipeline(2 * MiB, MiB, 200);
    // 2 answers reach the bound; the loopback socket buffers may take one or two more
    expect(runs).to.be.within(2, 6);
  });

  it('goes on again once the client reads', async () => {
    let runs = 0;
    listener = createKmipListener(
      {
        host: '127.0.0.1',
        port: 0,
        cert: pki.serverCert,
        key: pki.serverKey,
        ca: pki.ca,
        ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256',
        minVersion: 'TLSv1.2',
        sessionTimeoutSeconds: 300,
        maxMessageBytes: 64 * 1024,
        maxConnections: 10,
        idleTimeoutMs: 10_000,
        readTimeoutMs: 10_000,
        maxPendingResponseBytes: MiB,
      },
      async () => {
        runs++;
        const answer = Buffer.alloc(MiB);
        answer.writeUInt32BE((Tag.ResponseMessage << 8) | 1, 0);
        answer.writeUInt32BE(MiB - 8, 4);
        return { response: delay(2).then(() => answer), bytes: MiB };
      },
      silentLogger,
    );
    const { port } = await listener.listen();
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ca: pki.ca,
      cert: pki.clientCert,
      key: pki.clientKey,
      servername: 'localhost',
    });
    await once(socket, 'secureConnect');
    socket.pause();
    const count = 30;
    const message = Buffer.from([0x42, 0x00, 0x78, 0x01, 0, 0, 0, 0]);
    for (let i = 0; i < count; i++) socket.write(message);
    await delay(500);
    expect(runs).to.be.below(count);
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.resume();
    const deadline = Date.now() + 10_000;
    while (received < count * MiB && Date.now() < deadline) await delay(20);
    expect(received).to.equal(count * MiB);
    expect(runs).to.equal(count);
    socket.destroy();
  });
});
