/**
 * TTLV item model (KMIP 1.0 §9.1.1). Pure data: the codec knows tags and
 * item types, never what they mean.
 */

export const ItemType = {
  Structure: 0x01,
  Integer: 0x02,
  LongInteger: 0x03,
  BigInteger: 0x04,
  Enumeration: 0x05,
  Boolean: 0x06,
  TextString: 0x07,
  ByteString: 0x08,
  DateTime: 0x09,
  Interval: 0x0a,
  DateTimeExtended: 0x0b,
} as const;
export type ItemTypeName = keyof typeof ItemType;
export type ItemTypeCode = (typeof ItemType)[ItemTypeName];

export const ITEM_TYPE_NAMES: ReadonlyMap<number, ItemTypeName> = new Map(
  (Object.entries(ItemType) as [ItemTypeName, ItemTypeCode][]).map(([n, c]) => [c, n]),
);

/**
 * One TTLV item. Value representations are chosen so that decode → encode is
 * byte-exact:
 *  - Integer, Enumeration, Interval: number (Integer signed 32-bit, the others unsigned 32-bit)
 *  - LongInteger: bigint (signed 64-bit)
 *  - BigInteger: Uint8Array, the raw big-endian two's complement bytes (length a multiple of 8)
 *  - DateTime: bigint seconds since the epoch (signed 64-bit)
 *  - DateTimeExtended: bigint microseconds since the epoch (signed 64-bit, KMIP 2.0 §9.1.1.4)
 */
export type TtlvItem =
  | { readonly tag: number; readonly type: 'Structure'; readonly value: readonly TtlvItem[] }
  | { readonly tag: number; readonly type: 'Integer'; readonly value: number }
  | { readonly tag: number; readonly type: 'LongInteger'; readonly value: bigint }
  | { readonly tag: number; readonly type: 'BigInteger'; readonly value: Uint8Array }
  | { readonly tag: number; readonly type: 'Enumeration'; readonly value: number }
  | { readonly tag: number; readonly type: 'Boolean'; readonly value: boolean }
  | { readonly tag: number; readonly type: 'TextString'; readonly value: string }
  | { readonly tag: number; readonly type: 'ByteString'; readonly value: Uint8Array }
  | { readonly tag: number; readonly type: 'DateTime'; readonly value: bigint }
  | { readonly tag: number; readonly type: 'Interval'; readonly value: number }
  | { readonly tag: number; readonly type: 'DateTimeExtended'; readonly value: bigint };

export type TtlvOf<T extends ItemTypeName> = Extract<TtlvItem, { type: T }>;
export type TtlvStructure = TtlvOf<'Structure'>;
