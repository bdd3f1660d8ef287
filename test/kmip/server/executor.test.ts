import { expect } from 'chai';
import { KmipError } from '../../../src/kmip/errors.js';
import type { OperationDefinition } from '../../../src/kmip/operations/index.js';
import { OPERATIONS } from '../../../src/kmip/operations/index.js';
import {
  BatchErrorContinuationOption,
  Operation,
  QueryFunction,
  ResultReason,
  ResultStatus,
  Tag,
  tagExistsIn,
} from '../../../src/kmip/spec/index.js';
import { decodeTtlv, encodeTtlv } from '../../../src/kmip/ttlv/binary.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import {
  E,
  encodeRequest,
  I,
  type RequestItem,
  type RequestOptions,
  S,
  testExecutor,
} from '../../helpers/requests.js';

/** A request in version major.minor (default 1.4). */
function request(
  items: RequestItem[],
  { major = 1, minor = 4, ...o }: RequestOptions & Partial<Pair> = {},
): Buffer {
  return encodeRequest(items, { ...o, version: { major, minor } });
}
interface Pair {
  major: number;
  minor: number;
}

const client = { commonName: 'test', remoteAddress: '127.0.0.1' };
const signal = new AbortController().signal;

function kids(s: TtlvItem, tag: number): TtlvItem[] {
  if (s.type !== 'Structure') return [];
  return s.value.filter((c) => c.tag === tag);
}
function kid(s: TtlvItem, tag: number): TtlvItem {
  const c = kids(s, tag)[0];
  if (c === undefined) throw new Error(`no child 0x${tag.toString(16)}`);
  return c;
}
function version(resp: TtlvItem): string {
  const pv = kid(kid(resp, Tag.ResponseHeader), Tag.ProtocolVersion);
  return `${kid(pv, Tag.ProtocolVersionMajor).value}.${kid(pv, Tag.ProtocolVersionMinor).value}`;
}
function items(resp: TtlvItem): TtlvItem[] {
  return kids(resp, Tag.BatchItem);
}

const failing: OperationDefinition = {
  operation: Operation.Get,
  since: '1.0',
  mutates: false,
  needsObject: true,
  handle() {
    throw new KmipError('ItemNotFound', 'no such object');
  },
};
const crashing: OperationDefinition = {
  operation: Operation.Locate,
  since: '1.0',
  mutates: false,
  needsObject: false,
  handle() {
    throw new Error('secret internal detail');
  },
};

function executor(extra: OperationDefinition[] = []) {
  return testExecutor({
    operations: [...OPERATIONS, ...extra],
    server: {
      vendorIdentification: 'kmip-server',
      productName: 'kmip-server',
      productVersion: 't',
      objectTypes: [],
    },
    now: () => new Date('2026-01-02T03:04:05Z'),
  });
}

async function run(frame: Uint8Array, extra: OperationDefinition[] = []): Promise<TtlvItem> {
  return decodeTtlv(await executor(extra).execute(frame, client, signal));
}

describe('batch executor', () => {
  it('answers every version 1.0-2.1 in its own version, with header fields in spec order', async () => {
    for (const [major, minor] of [
      [1, 0],
      [1, 1],
      [1, 2],
      [1, 3],
      [1, 4],
      [2, 0],
      [2, 1],
    ] as const) {
      const resp = await run(request([{ op: Operation.DiscoverVersions }], { major, minor }));
      expect(version(resp)).to.equal(`${major}.${minor}`);
      const header = kid(resp, Tag.ResponseHeader);
      expect(header.type === 'Structure' && header.value.map((c) => c.tag)).to.deep.equal([
        Tag.ProtocolVersion,
        Tag.TimeStamp,
        Tag.BatchCount,
      ]);
      expect(kid(header, Tag.TimeStamp).value).to.equal(BigInt(Date.parse('2026-01-02T03:04:05Z') / 1000));
    }
  });

  it('Discover Versions offers 2.1 … 1.0 newest first and honours the client list', async () => {
    const all = await run(request([{ op: Operation.DiscoverVersions }], { major: 1, minor: 1 }));
    const listed = kids(kid(items(all)[0] as TtlvItem, Tag.ResponsePayload), Tag.ProtocolVersion).map(
      (pv) => `${kid(pv, Tag.ProtocolVersionMajor).value}.${kid(pv, Tag.ProtocolVersionMinor).value}`,
    );
    expect(listed).to.deep.equal(['2.1', '2.0', '1.4', '1.3', '1.2', '1.1', '1.0']);
    const pv = (a: number, b: number) =>
      S(Tag.ProtocolVersion, [I(Tag.ProtocolVersionMajor, a), I(Tag.ProtocolVersionMinor, b)]);
    const some = await run(
      request([{ op: Operation.DiscoverVersions, payload: [pv(1, 0), pv(1, 2), pv(3, 0)] }]),
    );
    const got = kids(kid(items(some)[0] as TtlvItem, Tag.ResponsePayload), Tag.ProtocolVersion);
    expect(got.map((p) => kid(p, Tag.ProtocolVersionMinor).value)).to.deep.equal([2, 0]);
    const none = await run(request([{ op: Operation.DiscoverVersions, payload: [pv(3, 0)] }]));
    expect(kids(kid(items(none)[0] as TtlvItem, Tag.ResponsePayload), Tag.ProtocolVersion)).to.have.length(0);
  });

  it('Query reports the registered operations and never a tag the request version lacks', async () => {
    const q = [
      E(Tag.QueryFunction, QueryFunction.QueryOperations),
      E(Tag.QueryFunction, QueryFunction.QueryObjects),
      E(Tag.QueryFunction, QueryFunction.QueryServerInformation),
      E(Tag.QueryFunction, QueryFunction.QueryCapabilities),
    ];
    for (const [major, minor, v] of [
      [1, 0, '1.0'],
      [1, 4, '1.4'],
      [2, 1, '2.1'],
    ] as const) {
      const resp = await run(request([{ op: Operation.Query, payload: q }], { major, minor }));
      const payload = kid(items(resp)[0] as TtlvItem, Tag.ResponsePayload);
      const ops = kids(payload, Tag.Operation).map((o) => o.value);
      expect(ops).to.include(Operation.Query);
      // 1.0 has no enumeration value for Discover Versions, so it is not listed there.
      if (v === '1.0') expect(ops).not.to.include(Operation.DiscoverVersions);
      else expect(ops).to.include(Operation.DiscoverVersions);
      expect(kid(payload, Tag.VendorIdentification).value).to.equal('kmip-server');
      const walk = (it: TtlvItem): void => {
        expect(tagExistsIn(it.tag, v), `tag 0x${it.tag.toString(16)} in ${v}`).to.equal(true);
        if (it.type === 'Structure') it.value.forEach(walk);
      };
      walk(resp);
    }
  });

  it('echoes Unique Batch Item IDs of any length', async () => {
    for (const len of [1, 8, 16, 200]) {
      const id = Buffer.alloc(len, 0xab);
      const resp = await run(request([{ op: Operation.DiscoverVersions, id }]));
      expect(
        Buffer.from(kid(items(resp)[0] as TtlvItem, Tag.UniqueBatchItemID).value as Uint8Array),
      ).to.deep.equal(id);
    }
  });

  it('fails only the batch item of an unknown operation, with reason and message', async () => {
    const resp = await run(
      request([{ op: 0x7777 }, { op: Operation.DiscoverVersions }], {
        continuation: BatchErrorContinuationOption.Continue,
      }),
    );
    const [bad, good] = items(resp);
    expect(kid(bad as TtlvItem, Tag.ResultStatus).value).to.equal(ResultStatus.OperationFailed);
    expect(kid(bad as TtlvItem, Tag.ResultReason).value).to.equal(ResultReason.OperationNotSupported);
    expect(kid(bad as TtlvItem, Tag.ResultMessage).value)
      .to.be.a('string')
      .and.not.equal('');
    expect(kid(good as TtlvItem, Tag.ResultStatus).value).to.equal(ResultStatus.Success);
  });

  it('Stop (the default) stops after the first failure; Continue goes on', async () => {
    const two = [{ op: Operation.Get }, { op: Operation.DiscoverVersions }];
    const stop = await run(request(two), [failing]);
    expect(items(stop)).to.have.length(1);
    expect(kid(kid(stop, Tag.ResponseHeader), Tag.BatchCount).value).to.equal(1);
    expect(kid(items(stop)[0] as TtlvItem, Tag.ResultReason).value).to.equal(ResultReason.ItemNotFound);
    const cont = await run(request(two, { continuation: BatchErrorContinuationOption.Continue }), [failing]);
    expect(items(cont)).to.have.length(2);
  });

  it('maps unexpected errors to General Failure without leaking their text', async () => {
    const resp = await run(request([{ op: Operation.Locate }]), [crashing]);
    const it = items(resp)[0] as TtlvItem;
    expect(kid(it, Tag.ResultReason).value).to.equal(ResultReason.GeneralFailure);
    expect(String(kid(it, Tag.ResultMessage).value)).not.to.include('secret');
  });

  it('answers Response Too Large when the Maximum Response Size is exceeded', async () => {
    const q = [
      E(Tag.QueryFunction, QueryFunction.QueryOperations),
      E(Tag.QueryFunction, QueryFunction.QueryServerInformation),
    ];
    const big = await run(request([{ op: Operation.Query, payload: q }]));
    const size = encodeTtlv(big).length;
    const small = await executor().execute(
      request([{ op: Operation.Query, payload: q }], { maximumResponseSize: size - 8 }),
      client,
      signal,
    );
    const resp = decodeTtlv(small);
    expect(kid(items(resp)[0] as TtlvItem, Tag.ResultReason).value).to.equal(ResultReason.ResponseTooLarge);
    const fits = decodeTtlv(
      await executor().execute(
        request([{ op: Operation.Query, payload: q }], { maximumResponseSize: size }),
        client,
        signal,
      ),
    );
    expect(kid(items(fits)[0] as TtlvItem, Tag.ResultStatus).value).to.equal(ResultStatus.Success);
  });

  it('answers Invalid Message for an undecodable message inside a valid frame, in its version', async () => {
    const good = request([{ op: Operation.DiscoverVersions }], { major: 1, minor: 2 });
    const bad = Buffer.from(good);
    bad[bad.length - 1] = 0x01; // non-zero padding after the last enumeration value
    const resp = await run(bad);
    expect(version(resp)).to.equal('1.2');
    expect(kid(items(resp)[0] as TtlvItem, Tag.ResultReason).value).to.equal(ResultReason.InvalidMessage);
  });

  it('answers Invalid Message when Batch Count disagrees with the items', async () => {
    const resp = await run(request([{ op: Operation.DiscoverVersions }], { batchCount: 2 }));
    expect(kid(items(resp)[0] as TtlvItem, Tag.ResultReason).value).to.equal(ResultReason.InvalidMessage);
  });

  it('answers an unsupported protocol version in the nearest version it speaks', async () => {
    const r15 = await run(request([{ op: Operation.Query }], { major: 1, minor: 5 }));
    expect(version(r15)).to.equal('1.4');
    expect(kid(items(r15)[0] as TtlvItem, Tag.ResultReason).value).to.equal(ResultReason.InvalidMessage);
    const r30 = await run(request([{ op: Operation.Query }], { major: 3, minor: 0 }));
    expect(version(r30)).to.equal('2.1');
    expect(kid(items(r30)[0] as TtlvItem, Tag.ResultReason).value).to.equal(
      ResultReason.UnsupportedProtocolVersion,
    );
  });
});
