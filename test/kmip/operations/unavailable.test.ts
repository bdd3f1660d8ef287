import { expect } from 'chai';
import { Operation, ResultReason, Tag } from '../../../src/kmip/spec/index.js';
import { encodeRequest, execute, firstResult, T, testExecutor } from '../../helpers/requests.js';

describe('object operations without storage', () => {
  it('answer General Failure "storage unavailable" and nothing else', async () => {
    const exec = testExecutor({ maxBatchItems: 4 });
    const req = encodeRequest([{ op: Operation.Get, payload: [T(Tag.UniqueIdentifier, 'x')] }], {
      version: '1.2',
    });
    const item = firstResult(await execute(exec, req, { commonName: 'c', remoteAddress: '::1' }));
    expect(item.reason).to.equal(ResultReason.GeneralFailure);
    expect(item.message).to.equal('storage unavailable');
  });
});
