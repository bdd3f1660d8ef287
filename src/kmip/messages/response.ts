import { Tag } from '../spec/index.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import type { ProtocolVersionPair } from './request.js';

export interface ResponseHeaderFields {
  readonly protocolVersion: ProtocolVersionPair;
  readonly timeStamp: Date;
  readonly clientCorrelationValue?: string | undefined;
  readonly serverCorrelationValue?: string | undefined;
}

export interface ResponseBatchItem {
  readonly operation: number | undefined;
  readonly uniqueBatchItemId: Uint8Array | undefined;
  /** Result Status enumeration value */
  readonly resultStatus: number;
  readonly resultReason?: number | undefined;
  readonly resultMessage?: string | undefined;
  readonly payload?: readonly TtlvItem[] | undefined;
}

export function protocolVersionItem(v: ProtocolVersionPair): TtlvStructure {
  return {
    tag: Tag.ProtocolVersion,
    type: 'Structure',
    value: [
      { tag: Tag.ProtocolVersionMajor, type: 'Integer', value: v.major },
      { tag: Tag.ProtocolVersionMinor, type: 'Integer', value: v.minor },
    ],
  };
}

/**
 * Response Header fields in the order the spec lists them (KMIP 1.4 §7.2
 * Table 282; 2.0 §8.2): Protocol Version, Time Stamp, Nonce, Attestation Type,
 * Client Correlation Value, Server Correlation Value, Batch Count. Clients
 * such as vSphere reject a header whose fields are out of order.
 */
export function buildResponseHeader(h: ResponseHeaderFields, batchCount: number): TtlvStructure {
  const fields: TtlvItem[] = [
    protocolVersionItem(h.protocolVersion),
    { tag: Tag.TimeStamp, type: 'DateTime', value: BigInt(Math.floor(h.timeStamp.getTime() / 1000)) },
  ];
  // Correlation values exist from KMIP 1.4 on; the caller passes them only then.
  if (h.clientCorrelationValue !== undefined) {
    fields.push({ tag: Tag.ClientCorrelationValue, type: 'TextString', value: h.clientCorrelationValue });
  }
  if (h.serverCorrelationValue !== undefined) {
    fields.push({ tag: Tag.ServerCorrelationValue, type: 'TextString', value: h.serverCorrelationValue });
  }
  fields.push({ tag: Tag.BatchCount, type: 'Integer', value: batchCount });
  return { tag: Tag.ResponseHeader, type: 'Structure', value: fields };
}

/** Batch Item fields in spec order (KMIP 1.4 §7.2 Table 283; 2.0 §8.2). */
export function buildResponseBatchItem(b: ResponseBatchItem): TtlvStructure {
  const fields: TtlvItem[] = [];
  if (b.operation !== undefined) fields.push({ tag: Tag.Operation, type: 'Enumeration', value: b.operation });
  if (b.uniqueBatchItemId !== undefined) {
    fields.push({ tag: Tag.UniqueBatchItemID, type: 'ByteString', value: b.uniqueBatchItemId });
  }
  fields.push({ tag: Tag.ResultStatus, type: 'Enumeration', value: b.resultStatus });
  if (b.resultReason !== undefined)
    fields.push({ tag: Tag.ResultReason, type: 'Enumeration', value: b.resultReason });
  if (b.resultMessage !== undefined)
    fields.push({ tag: Tag.ResultMessage, type: 'TextString', value: b.resultMessage });
  if (b.payload !== undefined) fields.push({ tag: Tag.ResponsePayload, type: 'Structure', value: b.payload });
  return { tag: Tag.BatchItem, type: 'Structure', value: fields };
}

export function buildResponseMessage(header: TtlvStructure, items: readonly TtlvStructure[]): TtlvStructure {
  return { tag: Tag.ResponseMessage, type: 'Structure', value: [header, ...items] };
}
