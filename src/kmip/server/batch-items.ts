/**
 * What the batch executor reads from a request before and after running an
 * item: the protocol version of a message too broken to parse, the ID
 * Placeholder an item inherits, and the object identifiers an item names
 * (for the audit trail).
 */
import { StoreUnavailableError } from '../../store/types.js';
import type { ProtocolVersionPair } from '../messages/index.js';
import type { OperationServices } from '../operations/index.js';
import { StreamRegistry } from '../operations/support/streams.js';
import { Tag } from '../spec/index.js';
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
