/**
 * audit.failClosed: a batch item whose audit record cannot be written fails
 * (General Failure) instead of being answered; without it the failure is
 * logged and the client gets its answer.
 */
import { expect } from 'chai';
import { AuditUnavailableError } from '../../src/audit/index.js';
import type { ItemEvent } from '../../src/kmip/server/executor.js';
import { Operation, ResultReason, ResultStatus } from '../../src/kmip/spec/index.js';
import type { ObjectStore } from '../../src/store/types.js';
import { type AuditEnv, CLIENT, openAuditEnv } from './env.js';

function breakAuditWrites(store: ObjectStore): void {
  const broken = async () => {
    throw new Error('disk full');
  };
  Object.assign(store, { atomic: broken, appendAudit: broken });
}

function event(): ItemEvent {
  return {
    at: new Date(),
    client: CLIENT,
    principal: { identity: 'tester', tenant: 'default', roles: [], groups: [] },
    version: '1.4',
    operation: Operation.Query,
    clientCorrelationValue: undefined,
    objectIds: [],
    resultStatus: ResultStatus.Success,
    resultReason: undefined,
    index: 0,
  };
}

describe('audit: fail-closed', function () {
  this.timeout(30_000);
  let env: AuditEnv | undefined;

  afterEach(async () => {
    await env?.close().catch(() => undefined);
    env = undefined;
  });

  it('rejects onItem with AuditUnavailableError when the record cannot be written', async () => {
    env = await openAuditEnv({ failClosed: true });
    breakAuditWrites(env.store);
    const e: unknown = await env.audit.onItem(event()).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).to.be.instanceOf(AuditUnavailableError);
    expect(String(e)).to.contain('audit trail unavailable');
  });

  it('logs and resolves when not fail-closed', async () => {
    env = await openAuditEnv();
    breakAuditWrites(env.store);
    await env.audit.onItem(event());
  });

  // Needs the executor to fail an item whose onItem rejects (see docs/audit.md, "Fail-closed").
  it('answers General Failure instead of the result over the executor', async () => {
    env = await openAuditEnv({ failClosed: true });
    breakAuditWrites(env.store);
    const [r] = await env.send('1.4', [{ op: Operation.Query, payload: [] }]);
    expect(r?.status).to.equal(ResultStatus.OperationFailed);
    expect(r?.reason).to.equal(ResultReason.GeneralFailure);
  });
});
