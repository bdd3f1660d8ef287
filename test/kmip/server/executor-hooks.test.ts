/**
 * The executor's access and audit hooks: resolvePrincipal, guards,
 * scopeServices and onItem (src/kmip/server/executor.ts).
 */
import { expect } from 'chai';
import { KmipError } from '../../../src/kmip/errors.js';
import { OPERATIONS } from '../../../src/kmip/operations/index.js';
import {
  createBatchExecutor,
  type ExecutorOptions,
  type ItemEvent,
} from '../../../src/kmip/server/executor.js';
import { Operation, QueryFunction, ResultReason, ResultStatus, Tag } from '../../../src/kmip/spec/index.js';
import { decodeTtlv, encodeTtlv } from '../../../src/kmip/ttlv/binary.js';
import type { TtlvItem, TtlvStructure } from '../../../src/kmip/ttlv/types.js';
import { silentLogger } from '../../../src/log.js';

const S = (tag: number, value: TtlvItem[]): TtlvStructure => ({ tag, type: 'Structure', value });
const I = (tag: number, value: number): TtlvItem => ({ tag, type: 'Integer', value });
const E = (tag: number, value: number): TtlvItem => ({ tag, type: 'Enumeration', value });

function query(items: number, correlation?: string): Buffer {
  const header: TtlvItem[] = [
    S(Tag.ProtocolVersion, [I(Tag.ProtocolVersionMajor, 1), I(Tag.ProtocolVersionMinor, 4)]),
  ];
  if (correlation !== undefined)
    header.push({ tag: Tag.ClientCorrelationValue, type: 'TextString', value: correlation });
  header.push(I(Tag.BatchCount, items));
  const item = S(Tag.BatchItem, [
    E(Tag.Operation, Operation.Query),
    S(Tag.RequestPayload, [E(Tag.QueryFunction, QueryFunction.QueryOperations)]),
  ]);
  return encodeTtlv(S(Tag.RequestMessage, [S(Tag.RequestHeader, header), ...Array(items).fill(item)]));
}

function results(resp: Buffer): { status: number | undefined; reason: number | undefined }[] {
  const m = decodeTtlv(resp);
  if (m.type !== 'Structure') return [];
  return m.value
    .filter((c) => c.tag === Tag.BatchItem && c.type === 'Structure')
    .map((b) => {
      const kids = (b as TtlvStructure).value;
      const st = kids.find((c) => c.tag === Tag.ResultStatus);
      const rr = kids.find((c) => c.tag === Tag.ResultReason);
      return {
        status: st?.type === 'Enumeration' ? st.value : undefined,
        reason: rr?.type === 'Enumeration' ? rr.value : undefined,
      };
    });
}

function executor(extra: Partial<ExecutorOptions>) {
  return createBatchExecutor({
    operations: OPERATIONS,
    server: { vendorIdentification: 't', productName: 't', productVersion: '0', objectTypes: [] },
    log: silentLogger,
    maxDepth: 64,
    maxBatchItems: 16,
    ...extra,
  });
}

const client = { commonName: 'alice', remoteAddress: '127.0.0.1', certificateFingerprint: 'AA:BB' };
const signal = new AbortController().signal;

describe('kmip/server executor hooks', () => {
  it('onItem sees every item with the principal, purpose, status and position', async () => {
    const events: ItemEvent[] = [];
    const ex = executor({ onItem: (e) => void events.push(e) });
    await ex.execute(query(2, 'backup-nightly'), client, signal);
    expect(events).to.have.length(2);
    expect(events.map((e) => e.index)).to.deep.equal([0, 1]);
    const [first] = events;
    expect(first?.operation).to.equal(Operation.Query);
    expect(first?.resultStatus).to.equal(ResultStatus.Success);
    expect(first?.clientCorrelationValue).to.equal('backup-nightly');
    expect(first?.principal).to.deep.equal({ identity: 'alice', tenant: 'default', roles: [], groups: [] });
    expect(first?.client.certificateFingerprint).to.equal('AA:BB');
  });

  it('a guard that throws fails only its item, with its reason; the operation does not run', async () => {
    const seen: number[] = [];
    let calls = 0;
    const ex = executor({
      guards: [
        (c) => {
          seen.push(c.operation);
          if (calls++ === 0) throw new KmipError('PermissionDenied', 'not for you');
        },
      ],
    });
    const r = results(await ex.execute(query(2), client, signal));
    // Default continuation is Stop: the first failure ends the batch.
    expect(r).to.deep.equal([
      { status: ResultStatus.OperationFailed, reason: ResultReason.PermissionDenied },
    ]);
    expect(seen).to.deep.equal([Operation.Query]);
  });

  it('resolvePrincipal failing fails every item with its reason; the principal reaches guards', async () => {
    const refused = executor({
      resolvePrincipal: () => {
        throw new KmipError('AuthenticationNotSuccessful', 'unknown client');
      },
    });
    const r = results(await refused.execute(query(2), client, signal));
    expect(r.map((x) => x.reason)).to.deep.equal([
      ResultReason.AuthenticationNotSuccessful,
      ResultReason.AuthenticationNotSuccessful,
    ]);
    const principals: string[] = [];
    const ok = executor({
      resolvePrincipal: (c) => ({
        identity: `id:${c.commonName}`,
        tenant: 'blue',
        roles: ['crypto-user'],
        groups: [],
      }),
      guards: [(c) => void principals.push(`${c.ctx.principal.identity}@${c.ctx.principal.tenant}`)],
    });
    expect(results(await ok.execute(query(1), client, signal))[0]?.status).to.equal(ResultStatus.Success);
    expect(principals).to.deep.equal(['id:alice@blue']);
  });

  it('stage() resolves once the items ran; the answer waits for the last record to be durable', async () => {
    const pending: (() => void)[] = [];
    const recorded: number[] = [];
    const ex = executor({
      onItem: (e) =>
        new Promise<void>((resolve) => {
          recorded.push(e.index);
          pending.push(resolve);
        }),
    });
    const staged = ex.stage(query(2), client, signal);
    // the first item's record is awaited before the second item runs
    await new Promise((r) => setImmediate(r));
    expect(recorded).to.deep.equal([0]);
    pending.shift()?.();
    const s = await staged;
    expect(Buffer.isBuffer(s), 'a deferred answer').to.equal(false);
    if (Buffer.isBuffer(s)) return;
    expect(recorded).to.deep.equal([0, 1]);
    let answered = false;
    void s.response.then(() => {
      answered = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(answered, 'not answered before the record is durable').to.equal(false);
    pending.shift()?.();
    expect(results(await s.response).map((x) => x.status)).to.deep.equal([
      ResultStatus.Success,
      ResultStatus.Success,
    ]);
  });

  it('a deferred record that cannot be written fails its item (audit.failClosed)', async () => {
    const ex = executor({ onItem: () => Promise.reject(new Error('disk full')) });
    const s = await ex.stage(query(1), client, signal);
    const resp = Buffer.isBuffer(s) ? s : await s.response;
    expect(results(resp)).to.deep.equal([
      { status: ResultStatus.OperationFailed, reason: ResultReason.GeneralFailure },
    ]);
  });
});
