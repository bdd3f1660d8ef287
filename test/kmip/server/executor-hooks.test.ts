/**
 * The executor's access and audit hooks: resolvePrincipal, guards,
 * scopeServices and onItem (src/kmip/server/executor.ts).
 */
import { expect } from 'chai';
import { KmipError } from '../../../src/kmip/errors.js';
import type { ItemEvent } from '../../../src/kmip/server/executor.js';
import { Operation, QueryFunction, ResultReason, ResultStatus, Tag } from '../../../src/kmip/spec/index.js';
import { E, encodeRequest, responseItems, testExecutor } from '../../helpers/requests.js';

/** Query Operations `items` times in one 1.4 message. */
function query(items: number, correlation?: string): Buffer {
  const item = { op: Operation.Query, payload: [E(Tag.QueryFunction, QueryFunction.QueryOperations)] };
  return encodeRequest(Array(items).fill(item), correlation === undefined ? {} : { correlation });
}

function results(resp: Buffer): { status: number | undefined; reason: number | undefined }[] {
  return responseItems(resp).map(({ status, reason }) => ({ status, reason }));
}

const executor = testExecutor;

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
