/**
 * Placeholders of the OASIS test vectors (`$NOW`, `$NOW-3600`,
 * `$UNIQUE_IDENTIFIER_3`, `$DATA_0`, `$IV_COUNTER_NONCE`...). Expected
 * responses are turned into TTLV with a unique sentinel value in place of each
 * placeholder, so that the comparison can recognise it again; the table maps
 * sentinels back to placeholder text.
 */

import type { ItemTypeName, TtlvItem } from '../../src/kmip/ttlv/types.js';

const PLACEHOLDER = /^\$([A-Z][A-Z0-9_]*?)(?:([+-])(\d+))?$/;

export interface ParsedPlaceholder {
  /** the whole text, "$NOW-3600" */
  text: string;
  /** "NOW", "UNIQUE_IDENTIFIER_3" */
  name: string;
  /** seconds added to $NOW; 0 for every other placeholder */
  offsetSeconds: number;
}

export function parsePlaceholder(text: string): ParsedPlaceholder | undefined {
  const m = PLACEHOLDER.exec(text.trim());
  if (!m) return undefined;
  const name = m[1] ?? '';
  if (m[2] !== undefined && name !== 'NOW') return undefined;
  const offset = m[3] === undefined ? 0 : Number(m[3]) * (m[2] === '-' ? -1 : 1);
  return { text: `$${name}${m[2] ?? ''}${m[3] ?? ''}`, name, offsetSeconds: offset };
}

export function isNowPlaceholder(p: ParsedPlaceholder): boolean {
  return p.name === 'NOW';
}

/** `$UNIQUE_IDENTIFIER_n` and its spellings: identifiers the server chooses. */
export function isUidPlaceholder(p: ParsedPlaceholder): boolean {
  return /^UNIQUE_IDENTIFIER(_|$)/.test(p.name) && !p.name.includes('RANDOM');
}

/** Placeholders a client invents (an identifier that must not exist on the server). */
export function isClientRandomPlaceholder(p: ParsedPlaceholder): boolean {
  return /_RANDOM(_|$)/.test(p.name);
}

/** Value held by a TtlvItem of type T. */
export type ItemValue = TtlvItem['value'];

// Sentinels are values no vector holds: dates in March 1970, byte strings
// starting with two NULs and a marker. They survive the XML round trip.
const DATE_BASE = 7_777_000n;
const INT_BASE = -(2 ** 31);
const BYTES_MARK = '\u0000\u0000kmip-conformance-placeholder:';

export function valueKey(type: ItemTypeName, value: ItemValue): string {
  if (value instanceof Uint8Array) return `${type}:${Buffer.from(value).toString('hex')}`;
  return `${type}:${String(value)}`;
}

export class SentinelTable {
  readonly #byKey = new Map<string, ParsedPlaceholder>();
  #counter = 0;

  /** A unique value of `type` standing for `text`; undefined when `text` is no placeholder. */
  sentinel(text: string, type: ItemTypeName): ItemValue | undefined {
    const p = parsePlaceholder(text);
    if (!p) return undefined;
    const n = this.#counter++;
    let value: ItemValue;
    switch (type) {
      case 'TextString':
        value = p.text;
        break;
      case 'ByteString':
      case 'BigInteger': {
        const bytes = Buffer.from(`${BYTES_MARK}${n}`, 'utf8');
        const len = type === 'BigInteger' ? Math.ceil(bytes.length / 8) * 8 : bytes.length;
        const out = new Uint8Array(len);
        out.set(bytes, len - bytes.length);
        value = out;
        break;
      }
      case 'DateTime':
      case 'DateTimeExtended':
      case 'LongInteger':
        value = DATE_BASE + BigInt(n);
        break;
      case 'Integer':
      case 'Enumeration':
      case 'Interval':
        value = type === 'Integer' ? INT_BASE + n : 0xfff00000 + n;
        break;
      case 'Boolean':
        return undefined;
      case 'Structure':
        return undefined;
    }
    this.#byKey.set(valueKey(type, value), p);
    return value;
  }

  /** The placeholder an item of an expected message stands for, if any. */
  identify(item: TtlvItem): ParsedPlaceholder | undefined {
    if (item.type === 'Structure') return undefined;
    if (item.type === 'TextString') return parsePlaceholder(item.value);
    return this.#byKey.get(valueKey(item.type, item.value));
  }
}
