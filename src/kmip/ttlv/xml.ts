/**
 * KMIP XML encoding (KMIP Profiles v2.1 §5.4.1 "XML Encoding", the format of
 * the OASIS test vectors): element name = tag name, `type` and `value`
 * attributes, unknown tags as `<TTLV tag="0x540001" ...>`.
 *
 * The parser is xml-parser.ts; the value text shared with the JSON encoding
 * (json.ts) is text-values.ts.
 */

import { ATTRIBUTE_NAME_TAG, ATTRIBUTE_VALUE_TAG, type TtlvDictionary } from './dictionary.js';
import { TextEncodingError } from './errors.js';
import { clip, hexTag, isItemTypeName, MAX_TEXT_DEPTH, parseHexTag, tagFromName } from './text-scalars.js';
import { attributeNameOf, formatValueText, parseValueText, type TextDecodeOptions } from './text-values.js';
import type { TtlvItem } from './types.js';
import { parseXml, type XmlElement } from './xml-parser.js';

// the XML reader's whole API from one module, for its users outside ttlv/
export { parseXml, type XmlElement } from './xml-parser.js';

// ---------------------------------------------------------------------------
// XML -> TTLV

function elementWhere(el: XmlElement): string {
  return `<${el.name}> at line ${el.line}`;
}

function elementTag(el: XmlElement, dict: TtlvDictionary): number {
  if (el.name === 'TTLV') {
    const t = el.attrs.tag;
    if (t === undefined)
      throw new TextEncodingError(`${elementWhere(el)}: TTLV element without a tag attribute`);
    return parseHexTag(t, elementWhere(el));
  }
  return tagFromName(el.name, dict, elementWhere(el));
}

function convertElement(
  el: XmlElement,
  dict: TtlvDictionary,
  opts: TextDecodeOptions | undefined,
  attributeName: string | undefined,
  depth: number,
): TtlvItem {
  const where = elementWhere(el);
  if (depth > MAX_TEXT_DEPTH) throw new TextEncodingError(`${where}: nested deeper than ${MAX_TEXT_DEPTH}`);
  const tag = elementTag(el, dict);
  for (const a of Object.keys(el.attrs)) {
    if (a !== 'type' && a !== 'value' && !(a === 'tag' && el.name === 'TTLV')) {
      throw new TextEncodingError(`${where}: unexpected attribute ${a}`);
    }
  }
  const typeName = el.attrs.type ?? 'Structure';
  if (!isItemTypeName(typeName)) throw new TextEncodingError(`${where}: unknown item type "${typeName}"`);
  if (typeName === 'Structure') {
    if (el.attrs.value !== undefined)
      throw new TextEncodingError(`${where}: a Structure has no value attribute`);
    if (el.text !== '') throw new TextEncodingError(`${where}: unexpected text "${clip(el.text)}"`);
    const tags = el.children.map((c) => elementTag(c, dict));
    const nameIndex = tags.indexOf(ATTRIBUTE_NAME_TAG);
    const nameEl = nameIndex >= 0 ? el.children[nameIndex] : undefined;
    const context = nameEl?.attrs.type === 'TextString' ? nameEl.attrs.value : undefined;
    const value = el.children.map((c, i) =>
      convertElement(c, dict, opts, tags[i] === ATTRIBUTE_VALUE_TAG ? context : undefined, depth + 1),
    );
    return { tag, type: 'Structure', value };
  }
  if (el.children.length > 0) throw new TextEncodingError(`${where}: a ${typeName} has no child elements`);
  if (el.text !== '') throw new TextEncodingError(`${where}: unexpected text "${clip(el.text)}"`);
  const text = el.attrs.value;
  if (text === undefined) throw new TextEncodingError(`${where}: missing value attribute`);
  return parseValueText(tag, typeName, text, dict, attributeName, where, opts);
}

/** Converts one parsed element (e.g. a <RequestMessage>) to a TTLV item. */
export function xmlElementToTtlv(el: XmlElement, dict: TtlvDictionary, opts?: TextDecodeOptions): TtlvItem {
  return convertElement(el, dict, opts, undefined, 1);
}

/** Parses a KMIP XML document whose root is one TTLV item. */
export function xmlToTtlv(xml: string, dict: TtlvDictionary, opts?: TextDecodeOptions): TtlvItem {
  return xmlElementToTtlv(parseXml(xml), dict, opts);
}
// ---------------------------------------------------------------------------
// TTLV -> XML

export interface XmlEncodeOptions {
  /** one level of indentation, default two spaces */
  indent?: string;
}

export function escapeXmlAttr(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must be escaped here
  return s.replace(/[&<>"\u0000-\u001F\u007F]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        // Control characters (tab, newlines...) as references, or attribute normalisation would eat them.
        return `&#${c.charCodeAt(0)};`;
    }
  });
}

function writeXml(
  item: TtlvItem,
  dict: TtlvDictionary,
  indent: string,
  prefix: string,
  attributeName: string | undefined,
  out: string[],
): void {
  const name = dict.tagName(item.tag);
  const open = name === undefined ? `TTLV tag="${hexTag(item.tag)}"` : name;
  const close = name ?? 'TTLV';
  if (item.type === 'Structure') {
    if (item.value.length === 0) {
      out.push(`${prefix}<${open}/>`);
      return;
    }
    out.push(`${prefix}<${open}>`);
    const context = attributeNameOf(item.value);
    for (const c of item.value) {
      writeXml(c, dict, indent, prefix + indent, c.tag === ATTRIBUTE_VALUE_TAG ? context : undefined, out);
    }
    out.push(`${prefix}</${close}>`);
    return;
  }
  const text = formatValueText(item, dict, attributeName);
  out.push(`${prefix}<${open} type="${item.type}" value="${escapeXmlAttr(text)}"/>`);
}

/** Writes one item as KMIP XML in the layout of the OASIS vectors (no trailing newline). */
export function ttlvToXml(item: TtlvItem, dict: TtlvDictionary, opts?: XmlEncodeOptions): string {
  const out: string[] = [];
  writeXml(item, dict, opts?.indent ?? '  ', '', undefined, out);
  return out.join('\n');
}
