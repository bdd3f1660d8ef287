/**
 * Operations the server does not accept from clients get Operation Not
 * Supported with a reason a person can act on (issue 4: Poll, Cancel,
 * Notify, Put).
 */
import { expect } from 'chai';
import { OPERATIONS } from '../../../src/kmip/operations/index.js';
import { createBatchExecutor } from '../../../src/kmip/server/executor.js';
import { Operation, ResultReason, ResultStatus, Tag } from '../../../src/kmip/spec/index.js';
import { decodeTtlv, encodeTtlv } from '../../../src/kmip/ttlv/binary.js';
import type { TtlvItem, TtlvStructure } from '../../../src/kmip/ttlv/types.js';
import { silentLogger } from '../../../src/log.js';

const S = (tag: number, value: TtlvItem[]): TtlvStructure => ({ tag, type: 'Structure', value });
const I = (tag: number, value: number): TtlvItem => ({ tag, type: 'Integer', value });
const E = (tag: number, value: number): TtlvItem => ({ tag, type: 'Enumeration', value });

const executor = createBatchExecutor({
  operations: OPERATIONS,
  server: { vendorIdentification: 't', productName: 't', productVersion: '0', objectTypes: [] },
  log: silentLogger,
  maxDepth: 64,
  maxBatchItems: 16,
});

async function answer(op: number): Promise<{ status: unknown; reason: unknown; message: unknown }> {
  const req = S(Tag.RequestMessage, [
    S(Tag.RequestHeader, [
      S(Tag.ProtocolVersion, [I(Tag.ProtocolVersionMajor, 1), I(Tag.ProtocolVersionMinor, 4)]),
      I(Tag.BatchCount, 1),
    ]),
    S(Tag.BatchItem, [E(Tag.Operation, op), S(Tag.RequestPayload, [])]),
  ]);
  const resp = decodeTtlv(
    await executor.execute(
      encodeTtlv(req),
      { commonName: 'c', remoteAddress: '127.0.0.1' },
      new AbortController().signal,
    ),
  );
  const item = resp.type === 'Structure' ? resp.value.find((c) => c.tag === Tag.BatchItem) : undefined;
  const kids = item?.type === 'Structure' ? item.value : [];
  const value = (tag: number) => kids.find((c) => c.tag === tag)?.value;
  return {
    status: value(Tag.ResultStatus),
    reason: value(Tag.ResultReason),
    message: value(Tag.ResultMessage),
  };
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
