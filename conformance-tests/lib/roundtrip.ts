/**
 * Round trip of every message of a vector file: XML → TTLV → binary → TTLV →
 * XML, compared with the original canonically (same elements in the same
 * order with the same item types, and values that decode to the same TTLV;
 * "Decrypt   Encrypt" and "Decrypt Encrypt" are one mask). Placeholders are
 * replaced by unique sentinel values and recognised again on the way back.
 */

import { decodeTtlv, encodeTtlv } from '../../src/kmip/ttlv/binary.js';
import type { TtlvDictionary } from '../../src/kmip/ttlv/dictionary.js';
import type { TtlvItem } from '../../src/kmip/ttlv/types.js';
import { parseXml, ttlvToXml, type XmlElement, xmlElementToTtlv } from '../../src/kmip/ttlv/xml.js';
import { deepEqual } from './compare.js';
import { SentinelTable } from './placeholders.js';

export interface RoundTripResult {
  ok: boolean;
  messages: number;
  /** first failure: message index and reason */
  error?: string;
}

export function roundTripMessages(messages: readonly XmlElement[], dict: TtlvDictionary): RoundTripResult {
  for (const [i, el] of messages.entries()) {
    const error = roundTripMessage(el, dict);
    if (error !== undefined)
      return {
        ok: false,
        messages: messages.length,
        error: `message ${i + 1} (<${el.name}> line ${el.line}): ${error}`,
      };
  }
  return { ok: true, messages: messages.length };
}

/** undefined when the message survives the round trip, else the first difference. */
export function roundTripMessage(el: XmlElement, dict: TtlvDictionary): string | undefined {
  const sentinels = new SentinelTable();
  const opts = { placeholder: (text: string, type: TtlvItem['type']) => sentinels.sentinel(text, type) };
  let t1: TtlvItem;
  try {
    t1 = xmlElementToTtlv(el, dict, opts);
  } catch (e) {
    return `XML → TTLV: ${errorText(e)}`;
  }
  let bytes: Buffer;
  let t2: TtlvItem;
  try {
    bytes = encodeTtlv(t1);
    t2 = decodeTtlv(bytes);
  } catch (e) {
    return `binary: ${errorText(e)}`;
  }
  if (!deepEqual(t1, t2))
    return `binary: decoded TTLV differs from the encoded one at ${firstTtlvDiff(t1, t2, dict)}`;
  let x2: XmlElement;
  let t3: TtlvItem;
  try {
    x2 = parseXml(ttlvToXml(t2, dict));
    t3 = xmlElementToTtlv(x2, dict, opts);
  } catch (e) {
    return `TTLV → XML: ${errorText(e)}`;
  }
  const structural = firstXmlDiff(el, x2, el.name);
  if (structural !== undefined) return `XML differs: ${structural}`;
  if (!deepEqual(t1, t3)) return `XML value differs at ${firstTtlvDiff(t1, t3, dict)}`;
  if (!encodeTtlv(t3).equals(bytes)) return 'binary re-encoding differs';
  return undefined;
}

function firstXmlDiff(a: XmlElement, b: XmlElement, path: string): string | undefined {
  if (a.name !== b.name) return `${path}: <${a.name}> became <${b.name}>`;
  const ta = a.attrs.type ?? 'Structure';
  const tb = b.attrs.type ?? 'Structure';
  if (ta !== tb) return `${path}: type ${ta} became ${tb}`;
  if (a.children.length !== b.children.length) {
    return `${path}: ${a.children.length} children became ${b.children.length}`;
  }
  for (const [i, c] of a.children.entries()) {
    const d = firstXmlDiff(c, b.children[i] as XmlElement, `${path}/${c.name}`);
    if (d !== undefined) return d;
  }
  return undefined;
}

function firstTtlvDiff(a: TtlvItem, b: TtlvItem, dict: TtlvDictionary, path = ''): string {
  const here = `${path}/${dict.tagName(a.tag) ?? a.tag.toString(16)}`;
  if (a.type === 'Structure' && b.type === 'Structure' && a.tag === b.tag) {
    for (const [i, c] of a.value.entries()) {
      const d = b.value[i];
      if (d === undefined) return `${here} (missing item ${i})`;
      if (!deepEqual(c, d)) return firstTtlvDiff(c, d, dict, here);
    }
    return `${here} (${a.value.length} vs ${b.value.length} items)`;
  }
  return here;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
