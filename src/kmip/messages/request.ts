import { KmipError } from '../errors.js';
import { Tag } from '../spec/index.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';

export interface ProtocolVersionPair {
  readonly major: number;
  readonly minor: number;
}

/** Request Header (KMIP 1.0 §7.2 Table 162; 1.4 §7.2; 2.0 §8.2). */
export interface RequestHeader {
  readonly protocolVersion: ProtocolVersionPair;
  readonly maximumResponseSize: number | undefined;
  readonly clientCorrelationValue: string | undefined;
  readonly serverCorrelationValue: string | undefined;
  readonly asynchronousIndicator: boolean | undefined;
  readonly attestationCapableIndicator: boolean | undefined;
  readonly authentication: TtlvStructure | undefined;
  readonly batchErrorContinuationOption: number | undefined;
  readonly batchOrderOption: boolean | undefined;
  readonly batchCount: number;
}

export interface RequestBatchItem {
  /** Operation enumeration value; undefined when the item lacks one (the item then fails alone) */
  readonly operation: number | undefined;
  readonly uniqueBatchItemId: Uint8Array | undefined;
  readonly payload: TtlvStructure | undefined;
  /** why this item cannot be executed, if it is malformed */
  readonly problem: string | undefined;
}

export interface RequestMessage {
  readonly header: RequestHeader;
  readonly batchItems: readonly RequestBatchItem[];
}

function first(s: TtlvStructure, tag: number): TtlvItem | undefined {
  for (const c of s.value) if (c.tag === tag) return c;
  return undefined;
}

function invalid(message: string): KmipError {
  return new KmipError('InvalidMessage', message);
}

function optInteger(s: TtlvStructure, tag: number, name: string): number | undefined {
  const it = first(s, tag);
  if (it === undefined) return undefined;
  if (it.type !== 'Integer') throw invalid(`${name} must be an Integer`);
  return it.value;
}

function optEnum(s: TtlvStructure, tag: number, name: string): number | undefined {
  const it = first(s, tag);
  if (it === undefined) return undefined;
  if (it.type !== 'Enumeration') throw invalid(`${name} must be an Enumeration`);
  return it.value;
}

function optBoolean(s: TtlvStructure, tag: number, name: string): boolean | undefined {
  const it = first(s, tag);
  if (it === undefined) return undefined;
  if (it.type !== 'Boolean') throw invalid(`${name} must be a Boolean`);
  return it.value;
}

function optText(s: TtlvStructure, tag: number, name: string): string | undefined {
  const it = first(s, tag);
  if (it === undefined) return undefined;
  if (it.type !== 'TextString') throw invalid(`${name} must be a Text String`);
  return it.value;
}

function optStruct(s: TtlvStructure, tag: number, name: string): TtlvStructure | undefined {
  const it = first(s, tag);
  if (it === undefined) return undefined;
  if (it.type !== 'Structure') throw invalid(`${name} must be a Structure`);
  return it;
}

export function parseProtocolVersion(s: TtlvStructure): ProtocolVersionPair {
  const major = optInteger(s, Tag.ProtocolVersionMajor, 'Protocol Version Major');
  const minor = optInteger(s, Tag.ProtocolVersionMinor, 'Protocol Version Minor');
  if (major === undefined || minor === undefined) throw invalid('Protocol Version needs Major and Minor');
  return { major, minor };
}

/**
 * Reads only the protocol version of a request, so that even a request whose
 * header is otherwise broken can be answered in its own version.
 */
export function peekProtocolVersion(message: TtlvItem): ProtocolVersionPair | undefined {
  try {
    if (message.type !== 'Structure' || message.tag !== Tag.RequestMessage) return undefined;
    const header = optStruct(message, Tag.RequestHeader, 'Request Header');
    const pv = header && optStruct(header, Tag.ProtocolVersion, 'Protocol Version');
    return pv && parseProtocolVersion(pv);
  } catch {
    return undefined;
  }
}

/** Throws KmipError('InvalidMessage') when the message or its header is malformed. */
export function parseRequestMessage(message: TtlvItem): RequestMessage {
  if (message.type !== 'Structure' || message.tag !== Tag.RequestMessage) {
    throw invalid('expected a Request Message structure');
  }
  const h = optStruct(message, Tag.RequestHeader, 'Request Header');
  if (h === undefined) throw invalid('Request Header is missing');
  const pv = optStruct(h, Tag.ProtocolVersion, 'Protocol Version');
  if (pv === undefined) throw invalid('Protocol Version is missing');
  const batchCount = optInteger(h, Tag.BatchCount, 'Batch Count');
  if (batchCount === undefined) throw invalid('Batch Count is missing');
  const header: RequestHeader = {
    protocolVersion: parseProtocolVersion(pv),
    maximumResponseSize: optInteger(h, Tag.MaximumResponseSize, 'Maximum Response Size'),
    clientCorrelationValue: optText(h, Tag.ClientCorrelationValue, 'Client Correlation Value'),
    serverCorrelationValue: optText(h, Tag.ServerCorrelationValue, 'Server Correlation Value'),
    asynchronousIndicator: optBoolean(h, Tag.AsynchronousIndicator, 'Asynchronous Indicator'),
    attestationCapableIndicator: optBoolean(
      h,
      Tag.AttestationCapableIndicator,
      'Attestation Capable Indicator',
    ),
    authentication: optStruct(h, Tag.Authentication, 'Authentication'),
    batchErrorContinuationOption: optEnum(
      h,
      Tag.BatchErrorContinuationOption,
      'Batch Error Continuation Option',
    ),
    batchOrderOption: optBoolean(h, Tag.BatchOrderOption, 'Batch Order Option'),
    batchCount,
  };
  const batchItems: RequestBatchItem[] = [];
  for (const c of message.value) {
    if (c.tag !== Tag.BatchItem) continue;
    batchItems.push(parseBatchItem(c));
  }
  if (batchItems.length === 0) throw invalid('the request has no Batch Item');
  if (batchItems.length !== batchCount) {
    throw invalid(`Batch Count is ${batchCount} but the message holds ${batchItems.length} Batch Items`);
  }
  return { header, batchItems };
}

function parseBatchItem(item: TtlvItem): RequestBatchItem {
  if (item.type !== 'Structure') {
    return {
      operation: undefined,
      uniqueBatchItemId: undefined,
      payload: undefined,
      problem: 'Batch Item must be a Structure',
    };
  }
  let operation: number | undefined;
  let uniqueBatchItemId: Uint8Array | undefined;
  let payload: TtlvStructure | undefined;
  let problem: string | undefined;
  for (const c of item.value) {
    if (c.tag === Tag.Operation) {
      if (c.type === 'Enumeration') operation = c.value;
      else problem ??= 'Operation must be an Enumeration';
    } else if (c.tag === Tag.UniqueBatchItemID) {
      if (c.type === 'ByteString') uniqueBatchItemId = c.value;
      else problem ??= 'Unique Batch Item ID must be a Byte String';
    } else if (c.tag === Tag.RequestPayload) {
      if (c.type === 'Structure') payload = c;
      else problem ??= 'Request Payload must be a Structure';
    }
  }
  if (operation === undefined) problem ??= 'Batch Item has no Operation';
  if (payload === undefined) problem ??= 'Batch Item has no Request Payload';
  return { operation, uniqueBatchItemId, payload, problem };
}
