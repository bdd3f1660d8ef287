import { expect } from 'chai';
import { OPERATIONS } from '../../../src/kmip/operations/index.js';
import { createBatchExecutor } from '../../../src/kmip/server/executor.js';
import { Operation, ResultReason, Tag } from '../../../src/kmip/spec/index.js';
import { decodeTtlv, encodeTtlv } from '../../../src/kmip/ttlv/binary.js';
import { silentLogger } from '../../../src/log.js';
import { E, I, kid, S, T, text } from './harness.js';

describe('object operations without storage', () => {
  it('answer General Failure "storage unavailable" and nothing else', async () => {
    const exec = createBatchExecutor({
      operations: OPERATIONS,
      server: { vendorIdentification: 't', productName: 't', productVersion: '0', objectTypes: [] },
      log: silentLogger,
      maxDepth: 64,
      maxBatchItems: 4,
    });
    const req = S(Tag.RequestMessage, [
      S(Tag.RequestHeader, [
        S(Tag.ProtocolVersion, [I(Tag.ProtocolVersionMajor, 1), I(Tag.ProtocolVersionMinor, 2)]),
        I(Tag.BatchCount, 1),
      ]),
      S(Tag.BatchItem, [
        E(Tag.Operation, Operation.Get),
        S(Tag.RequestPayload, [T(Tag.UniqueIdentifier, 'x')]),
      ]),
    ]);
    const resp = decodeTtlv(
      await exec.execute(
        encodeTtlv(req),
        { commonName: 'c', remoteAddress: '::1' },
        new AbortController().signal,
      ),
    );
    const item = kid(resp, Tag.BatchItem);
    expect(kid(item, Tag.ResultReason)?.value).to.equal(ResultReason.GeneralFailure);
    expect(text(item, Tag.ResultMessage)).to.equal('storage unavailable');
  });
});
