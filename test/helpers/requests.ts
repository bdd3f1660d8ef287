/**
 * One way for tests to build KMIP Request Messages and read Response
 * Messages: the header with exact control (version, Maximum Response Size,
 * Client Correlation Value, Credential, Batch Error Continuation Option, any
 * other field, a Batch Count that lies), batch items with or without a
 * Unique Batch Item ID, and each answered batch item's result.
 *
 * Also: TTLV shorthands (S, I, E, T, B, D) and a batch executor with the
 * test defaults, for suites that drive the executor without a listener.
 */

import type { KeyObject } from 'node:crypto';
import type { OperationDefinition } from '../../src/kmip/operations/index.js';
import { OPERATIONS } from '../../src/kmip/operations/index.js';
import {
  type BatchExecutor,
  createBatchExecutor,
  type ExecutorOptions,
} from '../../src/kmip/server/executor.js';
import {
  CryptographicAlgorithm,
  KeyFormatType,
  type KmipVersion,
  Tag,
  versionPair,
} from '../../src/kmip/spec/index.js';
import { decodeTtlv, encodeTtlv } from '../../src/kmip/ttlv/binary.js';
import type { TtlvItem, TtlvStructure } from '../../src/kmip/ttlv/types.js';
import { silentLogger } from '../../src/log.js';

export const S = (tag: number, value: readonly TtlvItem[]): TtlvStructure => ({
  tag,
  type: 'Structure',
  value,
});
export const I = (tag: number, value: number): TtlvItem => ({ tag, type: 'Integer', value });
export const E = (tag: number, value: number): TtlvItem => ({ tag, type: 'Enumeration', value });
export const T = (tag: number, value: string): TtlvItem => ({ tag, type: 'TextString', value });
export const B = (tag: number, value: Uint8Array): TtlvItem => ({ tag, type: 'ByteString', value });
export const D = (tag: number, seconds: number): TtlvItem => ({
  tag,
  type: 'DateTime',
  value: BigInt(seconds),
});

/** A Symmetric Key object: `bytes` as a Raw key (AES unless `algorithm`), with more Key Block fields after the length. */
export function symmetricKey(
  bytes: Uint8Array,
  extra: readonly TtlvItem[] = [],
  algorithm: number = CryptographicAlgorithm.AES,
): TtlvStructure {
  return S(Tag.SymmetricKey, [
    S(Tag.KeyBlock, [
      E(Tag.KeyFormatType, KeyFormatType.Raw),
      S(Tag.KeyValue, [B(Tag.KeyMaterial, bytes)]),
      E(Tag.CryptographicAlgorithm, algorithm),
      I(Tag.CryptographicLength, bytes.length * 8),
      ...extra,
    ]),
  ]);
}

/** A Private Key or Public Key object (`tag`) of the RSA-2048 `key`, exported as `format` DER. */
export function rsaKey(tag: number, key: KeyObject, format: 'pkcs1' | 'spki' | 'pkcs8'): TtlvStructure {
  const keyFormat = { pkcs1: KeyFormatType.PKCS_1, spki: KeyFormatType.X_509, pkcs8: KeyFormatType.PKCS_8 }[
    format
  ];
  return S(tag, [
    S(Tag.KeyBlock, [
      E(Tag.KeyFormatType, keyFormat),
      S(Tag.KeyValue, [B(Tag.KeyMaterial, key.export({ format: 'der', type: format }))]),
      E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.RSA),
      I(Tag.CryptographicLength, 2048),
    ]),
  ]);
}

/** A KMIP version, or any major/minor pair (for versions the server does not know). */
export type VersionSpec = KmipVersion | { readonly major: number; readonly minor: number };

export interface RequestItem {
  readonly op: number;
  /** the Request Payload's children; none when absent */
  readonly payload?: readonly TtlvItem[];
  /** Unique Batch Item ID; a string is sent as its UTF-8 bytes */
  readonly id?: Uint8Array | string;
}

export interface RequestOptions {
  /** default 1.4 */
  readonly version?: VersionSpec;
  readonly maximumResponseSize?: number;
  /** Client Correlation Value (1.4) */
  readonly correlation?: string;
  /** a Username and Password Credential in the header's Authentication */
  readonly credential?: { readonly username: string; readonly password: string };
  /** Batch Error Continuation Option */
  readonly continuation?: number;
  /** more header fields, sent in this order after those above and before Batch Count */
  readonly header?: readonly TtlvItem[];
  /** the Batch Count to send, when it is not the number of items */
  readonly batchCount?: number;
}

export function idBytes(id: Uint8Array | string): Uint8Array {
  return typeof id === 'string' ? new TextEncoder().encode(id) : id;
}

/** The Request Header, fields in the order of KMIP 1.0 §7.2 (Protocol Version first, Batch Count last). */
export function requestHeader(itemCount: number, o: RequestOptions = {}): TtlvStructure {
  const pv = typeof o.version === 'object' ? o.version : versionPair(o.version ?? '1.4');
  const header: TtlvItem[] = [
    S(Tag.ProtocolVersion, [I(Tag.ProtocolVersionMajor, pv.major), I(Tag.ProtocolVersionMinor, pv.minor)]),
  ];
  if (o.maximumResponseSize !== undefined) header.push(I(Tag.MaximumResponseSize, o.maximumResponseSize));
  if (o.correlation !== undefined) header.push(T(Tag.ClientCorrelationValue, o.correlation));
  if (o.credential) {
    header.push(
      S(Tag.Authentication, [
        S(Tag.Credential, [
          E(Tag.CredentialType, 1 /* Username and Password */),
          S(Tag.CredentialValue, [
            T(Tag.Username, o.credential.username),
            T(Tag.Password, o.credential.password),
          ]),
        ]),
      ]),
    );
  }
  if (o.continuation !== undefined) header.push(E(Tag.BatchErrorContinuationOption, o.continuation));
  header.push(...(o.header ?? []), I(Tag.BatchCount, o.batchCount ?? itemCount));
  return S(Tag.RequestHeader, header);
}

export function batchItem(item: RequestItem): TtlvStructure {
  return S(Tag.BatchItem, [
    E(Tag.Operation, item.op),
    ...(item.id === undefined ? [] : [B(Tag.UniqueBatchItemID, idBytes(item.id))]),
    S(Tag.RequestPayload, item.payload ?? []),
  ]);
}

/** A whole Request Message. */
export function requestMessage(items: readonly RequestItem[], o: RequestOptions = {}): TtlvStructure {
  return S(Tag.RequestMessage, [requestHeader(items.length, o), ...items.map(batchItem)]);
}

/** A whole Request Message, encoded in binary TTLV. */
export function encodeRequest(items: readonly RequestItem[], o: RequestOptions = {}): Buffer {
  return encodeTtlv(requestMessage(items, o));
}

export interface ResponseItem {
  readonly operation: number | undefined;
  readonly id: Uint8Array | undefined;
  /** the Result Status; -1 when there is none */
  readonly status: number;
  readonly reason: number | undefined;
  readonly message: string | undefined;
  readonly payload: TtlvStructure | undefined;
  readonly item: TtlvStructure;
}

/** Each Batch Item of a Response Message (encoded or decoded), in order. */
export function responseItems(response: Uint8Array | TtlvItem): ResponseItem[] {
  const msg = response instanceof Uint8Array ? decodeTtlv(response) : response;
  if (msg.type !== 'Structure') throw new Error('the response is not a structure');
  return msg.value
    .filter((c): c is TtlvStructure => c.tag === Tag.BatchItem && c.type === 'Structure')
    .map((item) => {
      const f = (tag: number) => item.value.find((c) => c.tag === tag);
      const [op, st, rr, rm, id, p] = [
        f(Tag.Operation),
        f(Tag.ResultStatus),
        f(Tag.ResultReason),
        f(Tag.ResultMessage),
        f(Tag.UniqueBatchItemID),
        f(Tag.ResponsePayload),
      ];
      return {
        operation: op?.type === 'Enumeration' ? op.value : undefined,
        id: id?.type === 'ByteString' ? id.value : undefined,
        status: st?.type === 'Enumeration' ? st.value : -1,
        reason: rr?.type === 'Enumeration' ? rr.value : undefined,
        message: rm?.type === 'TextString' ? rm.value : undefined,
        payload: p?.type === 'Structure' ? p : undefined,
        item,
      };
    });
}

/** The only (first) Batch Item of a response; throws when there is none. */
export function firstResult(response: Uint8Array | TtlvItem): ResponseItem {
  const [r] = responseItems(response);
  if (r === undefined) throw new Error('no batch item in the response');
  return r;
}

/** The operations with `replace` put in place of those with the same number, and any new ones added. */
export function operationsWith(replace: readonly OperationDefinition[]): OperationDefinition[] {
  return [...OPERATIONS.filter((o) => !replace.some((x) => x.operation === o.operation)), ...replace];
}

/** A batch executor with the test defaults (all operations, silent log, depth 64, 16 items), overridable. */
export function testExecutor(extra: Partial<ExecutorOptions> = {}): BatchExecutor {
  return createBatchExecutor({
    operations: OPERATIONS,
    server: { vendorIdentification: 't', productName: 't', productVersion: '0', objectTypes: [] },
    log: silentLogger,
    maxDepth: 64,
    maxBatchItems: 16,
    ...extra,
  });
}

export const TEST_CLIENT = { commonName: 'test', remoteAddress: '127.0.0.1' } as const;

/** Runs one encoded request through an executor as TEST_CLIENT (or `client`) and decodes the answer. */
export async function execute(
  executor: BatchExecutor,
  request: Uint8Array,
  client: { commonName: string; remoteAddress: string } = TEST_CLIENT,
): Promise<TtlvItem> {
  return decodeTtlv(await executor.execute(request, client, new AbortController().signal));
}
