/**
 * Fuzzing the live server over mutual TLS with mutated OASIS vector requests:
 * zero crashes (the server runs in this process: an uncaught error would end
 * the run), zero hangs (every request is answered, or its connection closed,
 * within a timeout), bounded memory (RSS before/after). Bounded in count and
 * in time so that it runs in CI as part of npm test.
 */

import tls from 'node:tls';
import { expect } from 'chai';
import fc from 'fast-check';
import { KmipConnection, type TlsTarget } from '../../conformance-tests/lib/client.js';
import { decodeTtlv } from '../../src/kmip/ttlv/binary.js';
import { adminTarget, startTestServer, type TestServer } from '../helpers/server.js';
import { loadRequestCorpus, mutate, mutationArb, reframe } from './corpus.js';

const RUNS = Number(process.env.KMIP_FUZZ_RUNS ?? 1500);
const BUDGET_MS = Number(process.env.KMIP_FUZZ_BUDGET_MS ?? 25_000);
const ANSWER_TIMEOUT_MS = 10_000;
const READ_TIMEOUT_MS = 500;
/** an empty mutation is an idle connection */
const IDLE_TIMEOUT_MS = 1000;
const WHOLE_LANES = 4;
const BROKEN_LANES = 32;
/** Result Reason (0x42007E) Enumeration Invalid Message (4) */
const INVALID_MESSAGE = Buffer.from([0x42, 0x00, 0x7e, 0x05, 0, 0, 0, 4, 0, 0, 0, 4]);
const MAX_MESSAGE_BYTES = 64 * 1024;
const REQUEST_TAG = 0x420078;
const RESPONSE_TAG = 0x42007b;

/** Would the listener accept this as a whole frame (KMIP 1.0 §9.1.1 header, our size cap)? */
function isWholeFrame(b: Buffer): boolean {
  return (
    b.length >= 8 &&
    b.readUIntBE(0, 3) === REQUEST_TAG &&
    b.readUInt8(3) === 0x01 &&
    b.readUInt32BE(4) === b.length - 8 &&
    (b.length - 8) % 8 === 0 &&
    b.length <= MAX_MESSAGE_BYTES
  );
}

/** Sends bytes on a fresh connection: 'answered', 'closed', or 'hang' when neither happens in time. */
function sendRaw(
  target: TlsTarget,
  bytes: Buffer,
  timeoutMs: number,
): Promise<'answered' | 'closed' | 'hang'> {
  return new Promise((resolve) => {
    const socket = tls.connect({ ...target, servername: undefined }, () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('hang');
    }, timeoutMs);
    socket.on('error', () => {});
    socket.on('data', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('answered');
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
  });
}

describe('fuzz: live server over mTLS with mutated OASIS vector requests', function () {
  this.timeout(BUDGET_MS + 60_000);
  let server: TestServer;
  let target: TlsTarget;
  let corpus: Buffer[];

  before(async () => {
    corpus = loadRequestCorpus();
    server = await startTestServer({
      overrides: {
        limits: {
          readTimeoutMs: READ_TIMEOUT_MS,
          idleTimeoutMs: IDLE_TIMEOUT_MS,
          maxMessageBytes: MAX_MESSAGE_BYTES,
          handshakeTimeoutMs: 2000,
        },
      },
    });
    target = await adminTarget(server);
  });
  after(async () => server?.close());

  it('answers or closes on every mutation, within a timeout, with bounded memory', async function () {
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const samples = fc.sample(mutationArb(corpus.length), { numRuns: RUNS, seed: 0x4b4d4950 });
    const stats = { sent: 0, answered: 0, invalidMessage: 0, badFrameClosed: 0, badFrameAnswered: 0 };
    const problems: string[] = [];
    const cases = samples.map(({ base, mutations }, i) => {
      const mutated = mutate(corpus, base, mutations);
      // Half of them get a consistent outer length, so they reach the decoder and the executor.
      return {
        i,
        kinds: mutations.map((m) => m.kind).join('+'),
        bytes: i % 2 === 0 ? reframe(mutated) : mutated,
      };
    });
    const whole = cases.filter((c) => isWholeFrame(c.bytes));
    const broken = cases.filter((c) => !isWholeFrame(c.bytes));
    const t0 = Date.now();
    const inBudget = () => Date.now() - t0 < BUDGET_MS;

    // Whole frames: several long-lived connections, one request at a time each.
    const wholeWorker = async (lane: number) => {
      let conn = await KmipConnection.open(target, 5000);
      for (let k = lane; k < whole.length && inBudget(); k += WHOLE_LANES) {
        const c = whole[k];
        if (c === undefined) continue;
        stats.sent++;
        try {
          const response = await conn.exchange(c.bytes, ANSWER_TIMEOUT_MS);
          if (response.readUIntBE(0, 3) !== RESPONSE_TAG)
            problems.push(`#${c.i}: answer is not a Response Message`);
          decodeTtlv(response);
          stats.answered++;
          if (response.includes(INVALID_MESSAGE)) stats.invalidMessage++;
        } catch (e) {
          problems.push(`#${c.i} whole frame (${c.kinds}): ${String(e)}`);
          conn.close();
          conn = await KmipConnection.open(target, 5000);
        }
      }
      conn.close();
    };
    // Broken frames: a fresh connection each, many at once (most wait for the read timeout).
    let next = 0;
    const brokenWorker = async () => {
      while (next < broken.length && inBudget()) {
        const c = broken[next++];
        if (c === undefined) continue;
        stats.sent++;
        const outcome = await sendRaw(target, c.bytes, IDLE_TIMEOUT_MS + 5000);
        if (outcome === 'hang')
          problems.push(
            `#${c.i} broken frame (${c.kinds}, ${c.bytes.length} bytes: ${c.bytes.subarray(0, 16).toString('hex')}): neither answered nor closed`,
          );
        else if (outcome === 'closed') stats.badFrameClosed++;
        else stats.badFrameAnswered++;
      }
    };
    await Promise.all([
      ...Array.from({ length: WHOLE_LANES }, (_, lane) => wholeWorker(lane)),
      ...Array.from({ length: BROKEN_LANES }, brokenWorker),
    ]);
    const elapsed = Date.now() - t0;
    // still serving
    const check = await KmipConnection.open(target, 5000);
    const probe = corpus.find((c) =>
      c.includes(Buffer.from([0x42, 0x00, 0x5c, 0x05, 0, 0, 0, 4, 0, 0, 0, 0x1e])),
    );
    if (probe) expect((await check.exchange(probe, 5000)).readUIntBE(0, 3)).to.equal(RESPONSE_TAG);
    check.close();
    global.gc?.();
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    const summary = `${stats.sent} sent in ${elapsed} ms: ${stats.answered} answered (${stats.invalidMessage} Invalid Message), ${stats.badFrameClosed} broken frames closed, ${stats.badFrameAnswered} answered; RSS ${rssGrowth >= 0 ? '+' : ''}${Math.round(rssGrowth / 1048576)} MiB`;
    if (this.test) this.test.title += ` [${summary}]`;
    expect(problems, problems.slice(0, 10).join('\n')).to.deep.equal([]);
    expect(stats.sent).to.be.above(RUNS / 4);
    expect(rssGrowth).to.be.below(256 * 1024 * 1024);
  });
});
