/**
 * What the batch executor reads from a request before and after running an
 * item: the protocol version of a message too broken to parse, the ID
 * Placeholder an item inherits, and what the audit trail records of an
 * executed item.
 */
import type { Logger } from '../../log.js';
import { StoreUnavailableError } from '../../store/types.js';
import type { ItemEvent } from '../hooks.js';
import type { ProtocolVersionPair, RequestBatchItem } from '../messages/index.js';
import type { OperationContext, OperationServices } from '../operations/index.js';
import { StreamRegistry } from '../operations/support/streams.js';
import { ResultStatus, Tag } from '../spec/index.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';

/** Services of an executor built without a store (codec-level tests): every object access fails cleanly. */
export function unavailableServices(now: () => Date): OperationServices {
  return {
    get objects(): never {
      throw new StoreUnavailableError('no object store is configured');
    },
    clock: now,
    streams: new StreamRegistry({ now: () => now().getTime() }),
  };
}

/** Unique Identifier-like text items directly in a payload (not nested key material). */
const ID_TAGS: ReadonlySet<number> = new Set([
  Tag.UniqueIdentifier,
  Tag.PrivateKeyUniqueIdentifier,
  Tag.PublicKeyUniqueIdentifier,
]);

/** Adds them in order; a Set, because a Locate answers up to limits.locateMaxItems of them. */
export function idsIn(payload: TtlvItem | undefined, out: Set<string>): void {
  if (payload?.type !== 'Structure') return;
  for (const c of payload.value) {
    if (c.type === 'TextString' && ID_TAGS.has(c.tag)) out.add(c.value);
  }
}

/**
 * The ID Placeholder (KMIP 1.0 §3.1 note, 2.0 §6.1): an item that acts on an
 * object but omits Unique Identifier — or, in 2.x, gives the placeholder
 * enumeration instead of a text identifier — gets the identifier set by an
 * earlier item of the batch (Create, Register, Locate...).
 */
export function withIdPlaceholder(payload: TtlvStructure, placeholder: string | undefined): TtlvStructure {
  const i = payload.value.findIndex((c) => c.tag === Tag.UniqueIdentifier);
  const uid = payload.value[i];
  if (uid?.type === 'TextString' || placeholder === undefined) return payload;
  const item: TtlvItem = { tag: Tag.UniqueIdentifier, type: 'TextString', value: placeholder };
  if (i < 0) return { ...payload, value: [item, ...payload.value] };
  return { ...payload, value: payload.value.map((c, j) => (j === i ? item : c)) };
}

/**
 * Reads the protocol version at its fixed place in a well-formed request
 * (Request Message > Request Header > Protocol Version > Major, Minor), so
 * that a message too broken to decode is still answered in its own version.
 */
export function sniffProtocolVersion(frame: Uint8Array): ProtocolVersionPair | undefined {
  if (frame.length < 56) return undefined;
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const tagAt = (o: number) => v.getUint32(o) >>> 8;
  if (tagAt(8) !== Tag.RequestHeader || tagAt(16) !== Tag.ProtocolVersion) return undefined;
  if (tagAt(24) !== Tag.ProtocolVersionMajor || tagAt(40) !== Tag.ProtocolVersionMinor) return undefined;
  return { major: v.getInt32(32), minor: v.getInt32(48) };
}

/** What the audit trail records of one executed item: who, what, on which objects, with which result. */
export function itemEvent(
  at: Date,
  b: RequestBatchItem,
  item: TtlvStructure,
  ctx: OperationContext,
  clientCorrelationValue: string | undefined,
  index: number,
): ItemEvent {
  const ids = new Set<string>();
  idsIn(b.payload, ids);
  idsIn(
    item.value.find((c) => c.tag === Tag.ResponsePayload),
    ids,
  );
  const status = item.value.find((c) => c.tag === Tag.ResultStatus);
  const reasonItem = item.value.find((c) => c.tag === Tag.ResultReason);
  return {
    at,
    client: ctx.client,
    principal: ctx.principal,
    version: ctx.version,
    operation: b.operation,
    clientCorrelationValue,
    objectIds: [...ids],
    resultStatus: status?.type === 'Enumeration' ? status.value : ResultStatus.OperationFailed,
    resultReason: reasonItem?.type === 'Enumeration' ? reasonItem.value : undefined,
    index,
  };
}

/** Hands the event to the audit hook; false when recording failed (the answer then says so). */
export async function report(
  onItem: (event: ItemEvent) => void | Promise<void>,
  event: ItemEvent,
  log: Logger,
): Promise<boolean> {
  try {
    await onItem(event);
    return true;
  } catch (e: unknown) {
    log.error('recording a batch item failed', { error: e instanceof Error ? e.message : String(e) });
    return false;
  }
}
