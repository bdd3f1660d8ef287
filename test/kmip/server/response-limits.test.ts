import { setTimeout as delay } from 'node:timers/promises';
import type tls from 'node:tls';
import { expect } from 'chai';
import type { OperationDefinition } from '../../../src/kmip/operations/index.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../../../src/kmip/server/executor.js';
import { createKmipListener, type KmipListener } from '../../../src/kmip/server/listener.js';
import {
  BatchErrorContinuationOption,
  Operation,
  ResultReason,
  ResultStatus,
  Tag,
} from '../../../src/kmip/spec/index.js';
import { encodeTtlv, ttlvSize } from '../../../src/kmip/ttlv/binary.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import { silentLogger } from '../../../src/log.js';
import { connectClient, EMPTY_REQUEST, listenerOptions } from '../../helpers/listener.js';
import { makeTestPki, type TestPki } from '../../helpers/pki.js';
import {
  encodeRequest,
  I,
  operationsWith,
  type RequestItem,
  type RequestOptions,
  responseItems,
  S,
  TEST_CLIENT,
  testExecutor,
} from '../../helpers/requests.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A 1.4 request (1.`minor` when given). */
function request(items: RequestItem[], { minor, ...o }: RequestOptions & { minor?: number } = {}): Buffer {
  return encodeRequest(items, minor === undefined ? o : { ...o, version: { major: 1, minor } });
}

const rng = (bytes: number) => ({ op: Operation.RNGRetrieve, payload: [I(Tag.DataLength, bytes)] });

const results = responseItems;
const client = TEST_CLIENT;
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
  return testExecutor({
    operations: operationsWith(extra),
    server: { vendorIdentification: 't', productName: 't', productVersion: 't', objectTypes: [] },
    maxBatchItems: 1000,
    ...(maxResponseBytes === undefined ? {} : { maxResponseBytes }),
  });
}

/** Executes one message of `count` RNG Retrieves of 1 MiB each (Continue on error) under `limit`. */
function rngMiBs(count: number, limit: number | undefined) {
  return executor(limit).execute(
    request(
      Array.from({ length: count }, () => rng(MiB)),
      { continuation: BatchErrorContinuationOption.Continue },
    ),
    client,
    signal,
  );
}

/** Two Gets answering 1 MiB each under the server `limit` and the client's Maximum Response Size: the second result. */
async function secondOfTwoMiBGets(limit: number, maximumResponseSize: number) {
  const [, second] = results(
    await executor(limit, [bigAnswer(MiB)]).execute(
      request([{ op: Operation.Get }, { op: Operation.Get }], { maximumResponseSize }),
      client,
      signal,
    ),
  );
  return second;
}

describe('kmip/server/executor: bounded responses', () => {
  it('keeps one message of 1,000 RNG Retrieves of 1 MiB within the server limit', async () => {
    const limit = 4 * MiB;
    const resp = await rngMiBs(1000, limit);
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
    const resp = await rngMiBs(40, undefined);
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
        { maximumResponseSize: 2 * MiB, continuation: BatchErrorContinuationOption.Continue },
      ),
      client,
      signal,
    );
    expect(resp.length).to.be.at.most(2 * MiB + 10 * 200);
    const r = results(resp);
    expect(r.filter((x) => x.status === ResultStatus.Success)).to.have.length(1);
    expect(r[1]?.reason).to.equal(ResultReason.ResponseTooLarge);
    const second = await secondOfTwoMiBGets(8 * MiB, 2 * MiB);
    expect(second?.message).to.match(/Maximum Response Size of 2097152 bytes/);
  });

  it("a client's larger Maximum Response Size does not lift the server's limit", async () => {
    const r = results(
      await executor(2 * MiB).execute(
        request(
          Array.from({ length: 5 }, () => rng(MiB)),
          { maximumResponseSize: 64 * MiB, continuation: BatchErrorContinuationOption.Continue },
        ),
        client,
        signal,
      ),
    );
    expect(r.filter((x) => x.status === ResultStatus.Success)).to.have.length(1);
    expect(r[1]?.reason).to.equal(ResultReason.ResponseTooLarge);
    const second = await secondOfTwoMiBGets(2 * MiB, 64 * MiB);
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
        request([{ op: Operation.Get }], { maximumResponseSize: one.length - 8 }),
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

  /**
   * A listener whose every answer is `answerBytes` long and ready `answerDelayMs`
   * after its message ran (as the executor answers: once its audit record is
   * durable, a little later); a client that reads nothing yet has sent `count` messages.
   */
  async function flood(
    maxPendingResponseBytes: number | undefined,
    answerBytes: number,
    answerDelayMs: number,
    count: number,
  ): Promise<{ socket: tls.TLSSocket; runs: () => number }> {
    let runs = 0;
    listener = createKmipListener(
      listenerOptions(pki, {
        maxConnections: 10,
        ...(maxPendingResponseBytes === undefined ? {} : { maxPendingResponseBytes }),
      }),
      async () => {
        runs++;
        const answer = Buffer.alloc(answerBytes);
        answer.writeUInt32BE((Tag.ResponseMessage << 8) | 1, 0);
        answer.writeUInt32BE(answerBytes - 8, 4);
        return { response: delay(answerDelayMs).then(() => answer), bytes: answerBytes };
      },
      silentLogger,
    );
    const { port } = await listener.listen();
    const socket = await connectClient(port, pki);
    socket.pause(); // reads nothing
    for (let i = 0; i < count; i++) socket.write(EMPTY_REQUEST);
    return { socket, runs: () => runs };
  }

  it('runs no further message while the answers it holds exceed the bound', async () => {
    const { socket, runs } = await flood(2 * MiB, MiB, 5, 200);
    await delay(1500);
    socket.destroy();
    // 2 answers reach the bound; the loopback socket buffers may take one or two more
    expect(runs()).to.be.within(2, 6);
  });

  it('goes on again once the client reads', async () => {
    const count = 30;
    const { socket, runs } = await flood(MiB, MiB, 2, count);
    await delay(500);
    expect(runs()).to.be.below(count);
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.resume();
    const deadline = Date.now() + 10_000;
    while (received < count * MiB && Date.now() < deadline) await delay(20);
    expect(received).to.equal(count * MiB);
    expect(runs()).to.equal(count);
    socket.destroy();
  });
});
