/**
 * KMIP JSON encoding (KMIP Profiles v2.1 §5.5.1 "JSON Encoding"):
 * `{"tag": "RequestMessage", "value": [...]}`, `type` omitted for a Structure,
 * unknown tags as "0x540001". Numbers that a JSON double cannot hold exactly
 * (LongInteger, BigInteger beyond ±2^52) are written as "0x" hex strings.
 */

import { ATTRIBUTE_NAME_TAG, ATTRIBUTE_VALUE_TAG, type TtlvDictionary } from './dictionary.js';
import { TextEncodingError } from './errors.js';
import {
  bigIntegerToBigint,
  bigintToBigInteger,
  bytesToHex,
  hexTag,
  isItemTypeName,
  MAX_TEXT_DEPTH,
  tagFromName,
} from './text-scalars.js';
import {
  attributeNameOf,
  formatValueText,
  itemFromValue,
  parseValueText,
  type TextDecodeOptions,
} from './text-values.js';
import type { ItemTypeName, TtlvItem } from './types.js';

export type { TextDecodeOptions } from './text-values.js';

/** One item of the JSON encoding. */
export interface JsonTtlv {
  tag: string;
  type?: Exclude<ItemTypeName, 'Structure'>;
  value: JsonTtlv[] | string | number | boolean;
}

const JSON_SAFE = 2n ** 52n;

function toJson(item: TtlvItem, dict: TtlvDictionary, attributeName: string | undefined): JsonTtlv {
  const tag = dict.tagName(item.tag) ?? hexTag(item.tag);
  switch (item.type) {
    case 'Structure': {
      const context = attributeNameOf(item.value);
      return {
        tag,
        value: item.value.map((c) => toJson(c, dict, c.tag === ATTRIBUTE_VALUE_TAG ? context : undefined)),
      };
    }
    case 'Integer': {
      const mask = dict.maskFor(item.tag, attributeName);
      if (mask === undefined) return { tag, type: item.type, value: item.value };
      return { tag, type: item.type, value: formatValueText(item, dict, attributeName, '|') };
    }
    case 'Interval':
      return { tag, type: item.type, value: item.value };
    case 'LongInteger': {
      const v = item.value;
      if (v > -JSON_SAFE && v < JSON_SAFE) return { tag, type: item.type, value: Number(v) };
      return {
        tag,
        type: item.type,
        value: `0x${BigInt.asUintN(64, v).toString(16).toUpperCase().padStart(16, '0')}`,
      };
    }
    case 'BigInteger': {
      // A number only when it re-encodes to the same 8 bytes.
      const n = bigIntegerToBigint(item.value);
      if (item.value.length === 8 && n > -JSON_SAFE && n < JSON_SAFE) {
        return { tag, type: item.type, value: Number(n) };
      }
      return { tag, type: item.type, value: `0x${bytesToHex(item.value)}` };
    }
    case 'Boolean':
      return { tag, type: item.type, value: item.value };
    case 'TextString':
      return { tag, type: item.type, value: item.value };
    default:
      return { tag, type: item.type, value: formatValueText(item, dict, attributeName) };
  }
}

/** TTLV -> a JSON-able value of the KMIP JSON encoding. */
export function ttlvToJson(item: TtlvItem, dict: TtlvDictionary): JsonTtlv {
  return toJson(item, dict, undefined);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fromJson(
  node: unknown,
  dict: TtlvDictionary,
  opts: TextDecodeOptions | undefined,
  attributeName: string | undefined,
  path: string,
  depth: number,
): TtlvItem {
  if (depth > MAX_TEXT_DEPTH) throw new TextEncodingError(`${path}: nested deeper than ${MAX_TEXT_DEPTH}`);
  if (!isRecord(node)) throw new TextEncodingError(`${path}: an item must be a JSON object`);
  for (const k of Object.keys(node)) {
    if (k !== 'tag' && k !== 'type' && k !== 'value')
      throw new TextEncodingError(`${path}: unexpected key "${k}"`);
  }
  const tagText = node.tag;
  if (typeof tagText !== 'string') throw new TextEncodingError(`${path}: "tag" must be a string`);
  const where = `${path}/${tagText}`;
  const tag = tagFromName(tagText, dict, where);
  const typeName = node.type ?? 'Structure';
  if (typeof typeName !== 'string' || !isItemTypeName(typeName)) {
    throw new TextEncodingError(`${where}: unknown item type ${JSON.stringify(typeName)}`);
  }
  const value = node.value;
  if (typeName === 'Structure') {
    if (value !== undefined && !Array.isArray(value)) {
      throw new TextEncodingError(`${where}: a Structure value must be an array`);
    }
    const items: unknown[] = value ?? [];
    const tags = items.map((c) =>
      isRecord(c) && typeof c.tag === 'string' ? dict.tagByName(c.tag) : undefined,
    );
    const nameNode = items[tags.indexOf(ATTRIBUTE_NAME_TAG)];
    const context =
      isRecord(nameNode) && nameNode.type === 'TextString' && typeof nameNode.value === 'string'
        ? nameNode.value
        : undefined;
    return {
      tag,
      type: 'Structure',
      value: items.map((c, i) =>
        fromJson(
          c,
          dict,
          opts,
          tags[i] === ATTRIBUTE_VALUE_TAG ? context : undefined,
          `${where}[${i}]`,
          depth + 1,
        ),
      ),
    };
  }
  if (typeof value === 'string') {
    if (typeName === 'BigInteger' && /^[+-]?[0-9]+$/.test(value)) {
      return { tag, type: typeName, value: bigintToBigInteger(BigInt(value)) };
    }
    return parseValueText(tag, typeName, value, dict, attributeName, where, opts, /\|/);
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new TextEncodingError(
        `${where}: ${value} is not an exact integer (write large values as "0x" hex)`,
      );
    }
    switch (typeName) {
      case 'Integer':
      case 'Enumeration':
      case 'Interval':
        return itemFromNumber(tag, typeName, value, where);
      case 'LongInteger':
      case 'DateTime':
      case 'DateTimeExtended':
        return itemFromNumber(tag, typeName, BigInt(value), where);
      case 'BigInteger':
        return { tag, type: typeName, value: bigintToBigInteger(BigInt(value)) };
      default:
        break;
    }
  }
  if (typeof value === 'boolean' && typeName === 'Boolean') return { tag, type: typeName, value };
  throw new TextEncodingError(
    `${where}: ${JSON.stringify(value) ?? 'missing value'} is not a ${typeName} value`,
  );
}

function itemFromNumber(tag: number, type: ItemTypeName, value: number | bigint, where: string): TtlvItem {
  try {
    return itemFromValue(tag, type, value, where);
  } catch {
    throw new TextEncodingError(`${where}: ${value} is out of range for a ${type}`);
  }
}

/** A JSON value of the KMIP JSON encoding -> TTLV. */
export function jsonToTtlv(value: unknown, dict: TtlvDictionary, opts?: TextDecodeOptions): TtlvItem {
  return fromJson(value, dict, opts, undefined, '$', 1);
}

export function ttlvToJsonText(item: TtlvItem, dict: TtlvDictionary, space: string | number = 2): string {
  return JSON.stringify(ttlvToJson(item, dict), null, space);
}

export function jsonTextToTtlv(text: string, dict: TtlvDictionary, opts?: TextDecodeOptions): TtlvItem {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new TextEncodingError(`malformed JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return jsonToTtlv(value, dict, opts);
}
