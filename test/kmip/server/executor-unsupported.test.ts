/**
 * Operations the server does not accept from clients get Operation Not
 * Supported with a reason a person can act on (issue 4: Poll, Cancel,
 * Notify, Put).
 */
import { expect } from 'chai';
import { Operation, ResultReason, ResultStatus } from '../../../src/kmip/spec/index.js';
import { encodeRequest, execute, firstResult, testExecutor } from '../../helpers/requests.js';

const executor = testExecutor();

async function answer(op: number): Promise<{ status: unknown; reason: unknown; message: unknown }> {
  const { status, reason, message } = firstResult(await execute(executor, encodeRequest([{ op }])));
  return { status, reason, message };
}

describe('kmip/server executor: operations clients cannot use', () => {
  for (const [op, pattern] of [
    [Operation.Poll, /never answers Operation Pending, so there is nothing to poll/],
    [Operation.Cancel, /nothing to cancel/],
    [Operation.Notify, /server-to-client operation/],
    [Operation.Put, /server-to-client operation/],
  ] as const) {
    it(`answers ${Object.entries(Operation).find(([, v]) => v === op)?.[0]} with Operation Not Supported and why`, async () => {
      const r = await answer(op);
      expect(r.status).to.equal(ResultStatus.OperationFailed);
      expect(r.reason).to.equal(ResultReason.OperationNotSupported);
      expect(r.message).to.match(pattern);
    });
  }
});
