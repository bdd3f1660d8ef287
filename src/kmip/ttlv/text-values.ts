/**
 * Primitive values as text, shared by the XML and JSON encodings: test-vector
 * placeholders, the value text of each item type, the AttributeName context
 * that names the enumeration of a 1.x AttributeValue.
 */

import { ATTRIBUTE_NAME_TAG, type TtlvDictionary } from './dictionary.js';
import { TextEncodingError } from './errors.js';
import {
  formatDateTime,
  formatDateTimeExtended,
  parseDateTimeExtendedText,
  parseDateTimeText,
} from './text-datetime.js';
import {
  bytesToHex,
  formatEnum,
  formatMask,
  hexToBytes,
  INT64_MAX,
  INT64_MIN,
  parseBigIntegerText,
  parseBooleanText,
  parseEnumText,
  parseIntegerTokens,
  parseIntervalText,
  parseLongIntegerText,
  signExtendBigInteger,
} from './text-scalars.js';
import type { ItemTypeName, TtlvItem } from './types.js';

export type PlaceholderHook = (
  name: string,
  type: ItemTypeName,
  tag: number,
) => TtlvItem['value'] | undefined;

export interface TextDecodeOptions {
  /**
   * Resolves test-vector placeholders such as "$NOW", "$NOW-3600" or
   * "$UNIQUE_IDENTIFIER_0" (the whole value text is passed as `name`).
   * Without a hook a placeholder is an error.
   */
  placeholder?: PlaceholderHook;
}

/** The test-vector placeholder syntax ("$NAME", "$NOW+3600"). */
export const PLACEHOLDER_PATTERN = /^\$[A-Z][A-Z0-9_]*(?:[+-][0-9]+)?$/;

/** Builds an item from a placeholder hook's value, checking it fits the type. */
export function itemFromValue(tag: number, type: ItemTypeName, value: unknown, where: string): TtlvItem {
  const bad = (): never => {
    throw new TextEncodingError(`${where}: placeholder value does not fit type ${type}`);
  };
  switch (type) {
    case 'Integer':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff)
        bad();
      return { tag, type, value: value as number };
    case 'Enumeration':
    case 'Interval':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) bad();
      return { tag, type, value: value as number };
    case 'LongInteger':
    case 'DateTime':
    case 'DateTimeExtended':
      if (typeof value !== 'bigint' || value < INT64_MIN || value > INT64_MAX) bad();
      return { tag, type, value: value as bigint };
    case 'BigInteger':
      if (!(value instanceof Uint8Array)) bad();
      return { tag, type, value: signExtendBigInteger(value as Uint8Array) };
    case 'ByteString':
      if (!(value instanceof Uint8Array)) bad();
      return { tag, type, value: value as Uint8Array };
    case 'Boolean':
      if (typeof value !== 'boolean') bad();
      return { tag, type, value: value as boolean };
    case 'TextString':
      if (typeof value !== 'string') bad();
      return { tag, type, value: value as string };
    case 'Structure':
      return bad();
  }
}

/**
 * Parses the text form of a primitive value (XML `value` attribute; JSON
 * strings reuse it with `maskSeparator` "|").
 */
export function parseValueText(
  tag: number,
  type: Exclude<ItemTypeName, 'Structure'>,
  text: string,
  dict: TtlvDictionary,
  attributeName: string | undefined,
  where: string,
  opts: TextDecodeOptions | undefined,
  maskSeparator: RegExp = /\s+/,
): TtlvItem {
  if (text.startsWith('$') && PLACEHOLDER_PATTERN.test(text)) {
    const hook = opts?.placeholder;
    const v = hook?.(text, type, tag);
    if (v === undefined) throw new TextEncodingError(`${where}: unresolved placeholder ${text}`);
    return itemFromValue(tag, type, v, where);
  }
  switch (type) {
    case 'Integer': {
      const mask = dict.maskFor(tag, attributeName);
      const tokens = text
        .split(maskSeparator)
        .map((t) => t.trim())
        .filter((t) => t !== '');
      return { tag, type, value: parseIntegerTokens(tokens, mask, where) };
    }
    case 'LongInteger':
      return { tag, type, value: parseLongIntegerText(text, where) };
    case 'BigInteger':
      return { tag, type, value: parseBigIntegerText(text, where) };
    case 'Enumeration':
      return { tag, type, value: parseEnumText(text, dict.enumFor(tag, attributeName), where) };
    case 'Boolean':
      return { tag, type, value: parseBooleanText(text, where) };
    case 'TextString':
      return { tag, type, value: text };
    case 'ByteString':
      return { tag, type, value: hexToBytes(text, where) };
    case 'DateTime':
      return { tag, type, value: parseDateTimeText(text, where) };
    case 'Interval':
      return { tag, type, value: parseIntervalText(text, where) };
    case 'DateTimeExtended':
      return { tag, type, value: parseDateTimeExtendedText(text, where) };
  }
}

/** The text of the sibling AttributeName, the context of a 1.x AttributeValue. */
export function attributeNameOf(siblings: readonly TtlvItem[]): string | undefined {
  for (const s of siblings) if (s.tag === ATTRIBUTE_NAME_TAG && s.type === 'TextString') return s.value;
  return undefined;
}

/** The text form of a primitive value as the XML encoding writes it. */
export function formatValueText(
  item: Exclude<TtlvItem, { type: 'Structure' }>,
  dict: TtlvDictionary,
  attributeName: string | undefined,
  maskSeparator = ' ',
): string {
  switch (item.type) {
    case 'Integer': {
      const mask = dict.maskFor(item.tag, attributeName);
      return mask === undefined ? String(item.value) : formatMask(item.value, mask, maskSeparator);
    }
    case 'LongInteger':
      return item.value.toString();
    case 'BigInteger':
      return bytesToHex(item.value);
    case 'Enumeration':
      return formatEnum(item.value, dict.enumFor(item.tag, attributeName));
    case 'Boolean':
      return item.value ? 'true' : 'false';
    case 'TextString':
      return item.value;
    case 'ByteString':
      return bytesToHex(item.value);
    case 'DateTime':
      return formatDateTime(item.value);
    case 'Interval':
      return String(item.value);
    case 'DateTimeExtended':
      return formatDateTimeExtended(item.value);
  }
}
