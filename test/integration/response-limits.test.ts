/**
 * Bounded responses against a real server process (`kmip-server start`, one
 * worker) on loopback, its memory read from /proc: one message of many RNG
 * Retrieves or many Gets of a large Secret Data is answered within
 * limits.maxResponseBytes (Response Too Large for the rest), a client's
 * smaller Maximum Response Size still wins, and a client that pipelines
 * requests without reading the answers does not grow the server. Each
 * measure is the server's peak RSS (VmHWM, reset before it through
 * /proc/PID/clear_refs) over its RSS before the request; an unbounded server
 * answers the first message with a gigabyte.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import tls from 'node:tls';
import { expect } from 'chai';
import { KmipConnection, type TlsTarget } from '../../conformance-tests/lib/client.js';
import {
  BatchErrorContinuationOption,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  SecretDataType,
  Tag,
} from '../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../src/kmip/ttlv/types.js';
import { E, encodeRequest, I, responseItems, S } from '../helpers/requests.js';
import { adminTarget } from '../helpers/server.js';
import { type ServerProcess, spawnServer } from '../helpers/server-process.js';

const MiB = 1024 * 1024;
/** limits.maxResponseBytes of the server under test */
const LIMIT = 8 * MiB;
/** growth of the server's peak RSS a bounded server stays under; an unbounded one passes it many times */
const MAX_GROWTH = 96 * MiB;

const request = encodeRequest;
const CONTINUE = { continuation: BatchErrorContinuationOption.Continue } as const;

const rng = (bytes: number) => ({ op: Operation.RNGRetrieve, payload: [I(Tag.DataLength, bytes)] });

const results = responseItems;

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** Runs `fn` and returns how far the process's peak RSS rose above its RSS before it. */
async function peakGrowth(pid: number, fn: () => Promise<void>): Promise<number> {
  // "5" resets the peak RSS to the current RSS (Linux 4.0+).
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  const before = statusKb(pid, 'VmRSS');
  await fn();
  return statusKb(pid, 'VmHWM') - before;
}

describe('bounded responses against a server process (integration)', function () {
  this.timeout(120_000);
  let dataDir: string;
  let server: ServerProcess;
  let target: TlsTarget;
  let pid: number;
  const open: KmipConnection[] = [];

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-response-limits-'));
    server = await spawnServer(dataDir, {
      server: { workers: 1 },
      limits: { maxResponseBytes: LIMIT },
      log: { level: 'warn' },
    });
    pid = server.child.pid as number;
    target = await adminTarget(server);
    // warm up: code paths loaded and compiled before anything is measured
    const c = await connect();
    await c.exchange(request([rng(MiB), rng(16)]), 30_000);
  });

  after(async () => {
    for (const c of open) c.close();
    server?.kill('SIGKILL');
    await server?.exited;
    await rm(dataDir, { recursive: true, force: true });
  });

  async function connect(): Promise<KmipConnection> {
    const c = await KmipConnection.open(target, 10_000);
    open.push(c);
    return c;
  }

  it('one message of 1,000 RNG Retrieves of 1 MiB: answered within the limit, RSS bounded', async () => {
    const c = await connect();
    let frame: Buffer = Buffer.alloc(0);
    const growth = await peakGrowth(pid, async () => {
      frame = await c.exchange(
        request(
          Array.from({ length: 1000 }, () => rng(MiB)),
          CONTINUE,
        ),
        60_000,
      );
    });
    expect(frame.length).to.be.at.most(LIMIT + 1000 * 200);
    const r = results(frame);
    expect(r).to.have.length(1000);
    expect(r.filter((x) => x.status === ResultStatus.Success)).to.have.length(7);
    expect(r.slice(7).every((x) => x.reason === ResultReason.ResponseTooLarge)).to.equal(true);
    expect(growth, `peak RSS grew by ${(growth / MiB).toFixed(1)} MiB`).to.be.below(MAX_GROWTH);
  });

  it('one message of 1,000 Gets of a 900 KB Secret Data: answered within the limit, RSS bounded', async () => {
    const c = await connect();
    const secret = Buffer.alloc(900_000, 7);
    const [registered] = results(
      await c.exchange(
        request([
          {
            op: Operation.Register,
            payload: [
              E(Tag.ObjectType, ObjectType.SecretData),
              S(Tag.TemplateAttribute, [
                S(Tag.Attribute, [
                  { tag: Tag.AttributeName, type: 'TextString', value: 'Cryptographic Usage Mask' },
                  I(Tag.AttributeValue, 0),
                ]),
              ]),
              S(Tag.SecretData, [
                E(Tag.SecretDataType, SecretDataType.Password),
                S(Tag.KeyBlock, [
                  E(Tag.KeyFormatType, 2 /* Opaque */),
                  S(Tag.KeyValue, [{ tag: Tag.KeyMaterial, type: 'ByteString', value: secret }]),
                ]),
              ]),
            ],
          },
        ]),
        30_000,
      ),
    );
    expect(registered?.status).to.equal(ResultStatus.Success);
    const uid = registered?.payload?.value.find((v) => v.tag === Tag.UniqueIdentifier)?.value as string;
    const get = {
      op: Operation.Get,
      payload: [{ tag: Tag.UniqueIdentifier, type: 'TextString', value: uid }],
    };
    let frame: Buffer = Buffer.alloc(0);
    const growth = await peakGrowth(pid, async () => {
      frame = await c.exchange(
        request(
          Array.from({ length: 1000 }, () => get as { op: number; payload: TtlvItem[] }),
          CONTINUE,
        ),
        60_000,
      );
    });
    expect(frame.length).to.be.at.most(LIMIT + 1000 * 200);
    const r = results(frame);
    expect(r).to.have.length(1000);
    const ok = r.filter((x) => x.status === ResultStatus.Success).length;
    expect(ok).to.be.within(8, 9);
    expect(r.slice(ok).every((x) => x.reason === ResultReason.ResponseTooLarge)).to.equal(true);
    expect(growth, `peak RSS grew by ${(growth / MiB).toFixed(1)} MiB`).to.be.below(MAX_GROWTH);
  });

  it("a client's Maximum Response Size below the server's limit still wins", async () => {
    const c = await connect();
    const frame = await c.exchange(
      request(
        Array.from({ length: 20 }, () => rng(MiB)),
        { maximumResponseSize: 2 * MiB, ...CONTINUE },
      ),
      30_000,
    );
    expect(frame.length).to.be.at.most(2 * MiB + 20 * 200);
    const r = results(frame);
    expect(r.filter((x) => x.status === ResultStatus.Success)).to.have.length(1);
    expect(r[1]?.reason).to.equal(ResultReason.ResponseTooLarge);
  });

  it('a client pipelining requests without reading the answers does not grow the server', async () => {
    // 200 messages of 60 RNG Retrieves of 1 MiB: 12 GB of answers asked for, 1.6 GB within the limit.
    const message = request(
      Array.from({ length: 60 }, () => rng(MiB)),
      CONTINUE,
    );
    const other = await connect();
    let socket: tls.TLSSocket | undefined;
    let slowest = 0;
    const growth = await peakGrowth(pid, async () => {
      socket = tls.connect({ ...target, servername: undefined });
      socket.on('error', () => {});
      await new Promise<void>((resolve) => socket?.once('secureConnect', () => resolve()));
      socket.pause(); // never reads
      for (let i = 0; i < 200; i++) socket.write(message);
      // meanwhile another client is served promptly
      const until = Date.now() + 3000;
      while (Date.now() < until) {
        const t = Date.now();
        const [r] = results(await other.exchange(request([rng(16)]), 10_000));
        expect(r?.status).to.equal(ResultStatus.Success);
        slowest = Math.max(slowest, Date.now() - t);
        await delay(100);
      }
    });
    socket?.destroy();
    expect(growth, `peak RSS grew by ${(growth / MiB).toFixed(1)} MiB`).to.be.below(MAX_GROWTH);
    expect(slowest).to.be.below(1000);
  });
});
