/**
 * A small strict XML parser for the KMIP XML encoding. KMIP XML needs
 * elements, attributes, comments, CDATA, entity and character references;
 * DTDs are refused.
 */

import { TextEncodingError } from './errors.js';
import { MAX_TEXT_DEPTH } from './text-scalars.js';

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** concatenated non-element text content, trimmed */
  text: string;
  /** 1-based line of the start tag */
  line: number;
  /**
   * Comments and non-blank text nodes just before this element inside its
   * parent (for the root: before it in the document), in order. The vector
   * files put notes such as "# TIME 0" there.
   */
  leading?: string[];
}

const NAME_START = /[A-Za-z_:\u00C0-\uFFFF]/;
const NAME_CHAR = /[A-Za-z0-9_:.\-\u00B7\u00C0-\uFFFF]/;
const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
};

class XmlParser {
  private pos = 0;
  private readonly lineStarts: number[] = [0];

  constructor(private readonly src: string) {
    for (let i = 0; i < src.length; i++) if (src.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  lineAt(offset: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  fail(message: string, offset = this.pos): never {
    throw new TextEncodingError(`malformed XML: ${message} at line ${this.lineAt(offset)}`);
  }

  parseDocument(): XmlElement {
    const src = this.src;
    if (src.charCodeAt(0) === 0xfeff) this.pos = 1;
    const leading: string[] = [];
    let root: XmlElement | undefined;
    for (;;) {
      this.skipSpace();
      if (this.pos >= src.length) break;
      if (src.startsWith('<?', this.pos)) {
        if (root === undefined && leading.length === 0 && src.startsWith('<?xml', this.pos)) {
          this.skipPast('?>', 'XML declaration');
        } else this.skipPast('?>', 'processing instruction');
      } else if (src.startsWith('<!--', this.pos)) {
        const c = this.readComment();
        if (root === undefined && c !== '') leading.push(c);
      } else if (src.startsWith('<!', this.pos)) {
        this.fail('DOCTYPE and other declarations are not supported');
      } else if (src[this.pos] === '<') {
        if (root !== undefined) {
          this.fail(src[this.pos + 1] === '/' ? 'end tag without start tag' : 'second root element');
        }
        root = this.parseElement(1);
        if (leading.length > 0) root.leading = leading.splice(0);
      } else {
        this.fail(root === undefined ? 'text before the root element' : 'text after the root element');
      }
    }
    if (root === undefined) this.fail('no root element');
    return root;
  }

  private skipSpace(): void {
    const src = this.src;
    while (this.pos < src.length) {
      const c = src.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else break;
    }
  }

  private skipPast(end: string, what: string): string {
    const start = this.pos;
    const i = this.src.indexOf(end, this.pos);
    if (i < 0) this.fail(`unterminated ${what}`, start);
    this.pos = i + end.length;
    return this.src.slice(start, i);
  }

  private readComment(): string {
    this.pos += 4;
    const body = this.skipPast('-->', 'comment');
    if (body.includes('--')) this.fail('"--" inside a comment');
    return body.trim();
  }

  private readName(): string {
    const src = this.src;
    const start = this.pos;
    if (!NAME_START.test(src[this.pos] ?? '')) this.fail('expected a name');
    this.pos++;
    while (this.pos < src.length && NAME_CHAR.test(src[this.pos] ?? '')) this.pos++;
    return src.slice(start, this.pos);
  }

  private decodeEntities(raw: string, offset: number): string {
    if (!raw.includes('&')) return raw;
    return raw.replace(/&([^;&\s<]*);?/g, (m, body: string, at: number) => {
      if (!m.endsWith(';')) this.fail('"&" not starting a reference', offset + at);
      const named = PREDEFINED_ENTITIES[body];
      if (named !== undefined) return named;
      const num = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(body);
      if (num !== null) {
        const cp = num[1] !== undefined ? Number.parseInt(num[1], 16) : Number(num[2]);
        if (cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff)) return String.fromCodePoint(cp);
      }
      return this.fail(`invalid reference "&${body};"`, offset + at);
    });
  }

  private parseElement(depth: number): XmlElement {
    const src = this.src;
    if (depth > MAX_TEXT_DEPTH) this.fail(`elements nested deeper than ${MAX_TEXT_DEPTH}`);
    const line = this.lineAt(this.pos);
    this.pos++; // '<'
    const name = this.readName();
    const attrs: Record<string, string> = Object.create(null) as Record<string, string>;
    const el: XmlElement = { name, attrs, children: [], text: '', line };
    for (;;) {
      const before = this.pos;
      this.skipSpace();
      const spaced = this.pos > before;
      if (this.pos >= src.length) this.fail(`unterminated start tag <${name}>`);
      if (src.startsWith('/>', this.pos)) {
        this.pos += 2;
        return el;
      }
      if (src[this.pos] === '>') {
        this.pos++;
        break;
      }
      if (!spaced) this.fail(`expected whitespace before attribute in <${name}>`);
      const attrName = this.readName();
      this.skipSpace();
      if (src[this.pos] !== '=') this.fail(`expected "=" after attribute ${attrName}`);
      this.pos++;
      this.skipSpace();
      const quote = src[this.pos];
      if (quote !== '"' && quote !== "'") this.fail(`attribute ${attrName} value is not quoted`);
      this.pos++;
      const start = this.pos;
      const end = src.indexOf(quote, start);
      if (end < 0) this.fail(`unterminated value of attribute ${attrName}`, start);
      const raw = src.slice(start, end);
      const lt = raw.indexOf('<');
      if (lt >= 0) this.fail(`"<" in value of attribute ${attrName}`, start + lt);
      if (attrName in attrs) this.fail(`duplicate attribute ${attrName}`, start);
      // XML 1.0 §3.3.3: literal white space in attribute values is normalised to spaces.
      attrs[attrName] = this.decodeEntities(raw.replace(/[\t\n\r]/g, ' '), start);
      this.pos = end + 1;
    }
    const text: string[] = [];
    let leading: string[] = [];
    for (;;) {
      if (this.pos >= src.length) this.fail(`missing end tag </${name}>`);
      if (src.startsWith('</', this.pos)) {
        const at = this.pos;
        this.pos += 2;
        const endName = this.readName();
        this.skipSpace();
        if (src[this.pos] !== '>') this.fail(`malformed end tag </${endName}`);
        this.pos++;
        if (endName !== name) {
          this.fail(`end tag </${endName}> does not match <${name}> of line ${line}`, at);
        }
        break;
      }
      if (src.startsWith('<!--', this.pos)) {
        const c = this.readComment();
        if (c !== '') leading.push(c);
      } else if (src.startsWith('<![CDATA[', this.pos)) {
        this.pos += 9;
        const t = this.skipPast(']]>', 'CDATA section');
        text.push(t);
        if (t.trim() !== '') leading.push(t.trim());
      } else if (src.startsWith('<?', this.pos)) {
        this.skipPast('?>', 'processing instruction');
      } else if (src.startsWith('<!', this.pos)) {
        this.fail('declarations are not allowed inside elements');
      } else if (src[this.pos] === '<') {
        const child = this.parseElement(depth + 1);
        if (leading.length > 0) {
          child.leading = leading;
          leading = [];
        }
        el.children.push(child);
      } else {
        const start = this.pos;
        const next = src.indexOf('<', start);
        this.pos = next < 0 ? src.length : next;
        const t = this.decodeEntities(src.slice(start, this.pos), start);
        text.push(t);
        if (t.trim() !== '') leading.push(t.trim());
      }
    }
    el.text = text.join('').trim();
    return el;
  }
}

/** Parses a whole XML document and returns its root element. */
export function parseXml(text: string): XmlElement {
  if (typeof text !== 'string') throw new TextEncodingError('XML input is not a string');
  return new XmlParser(text.replace(/\r\n?/g, '\n')).parseDocument();
}
