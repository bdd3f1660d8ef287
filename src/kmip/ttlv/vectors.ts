/**
 * Readers for the KMIP test-vector files: the OASIS profile/test-case XML
 * files (a <KMIP> or <KmipTestCase> root holding RequestMessage /
 * ResponseMessage pairs) and the KMIP 1.0 Use Cases as hex TTLV
 * (kmip4j UseCases.xml).
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TextEncodingError } from './errors.js';
import { parseXml, type XmlElement } from './xml-parser.js';

export interface VectorStep {
  request: XmlElement;
  response?: XmlElement;
  /** comments and text notes ("# TIME 0", "# [Client-A]") just before the request */
  notes?: string[];
}

export interface VectorFile {
  root: XmlElement;
  steps: VectorStep[];
  /** comments and text notes before the root and before the first message */
  comments: string[];
}

const VECTOR_ROOTS = new Set(['KMIP', 'KmipTestCase']);

/** Pairs the messages of a parsed vector document, in order. */
export function vectorStepsOf(root: XmlElement, where = 'vector file'): VectorFile {
  if (!VECTOR_ROOTS.has(root.name)) {
    throw new TextEncodingError(
      `${where}: root element is <${root.name}>, expected <KMIP> or <KmipTestCase>`,
    );
  }
  const steps: VectorStep[] = [];
  const comments = [...(root.leading ?? [])];
  for (const el of root.children) {
    if (el.name === 'RequestMessage') {
      const step: VectorStep = { request: el };
      if (el.leading !== undefined) {
        step.notes = el.leading;
        if (steps.length === 0) comments.push(...el.leading);
      }
      steps.push(step);
    } else if (el.name === 'ResponseMessage') {
      const last = steps[steps.length - 1];
      if (last === undefined || last.response !== undefined) {
        throw new TextEncodingError(`${where}: <ResponseMessage> at line ${el.line} answers no request`);
      }
      last.response = el;
    } else {
      throw new TextEncodingError(`${where}: unexpected <${el.name}> at line ${el.line}`);
    }
  }
  return { root, steps, comments };
}

export function readVectorFile(path: string): VectorFile {
  const text = readFileSync(path, 'utf8');
  try {
    return vectorStepsOf(parseXml(text), path);
  } catch (e) {
    if (e instanceof TextEncodingError && !e.message.startsWith(path)) {
      throw new TextEncodingError(`${path}: ${e.message}`);
    }
    throw e;
  }
}

/** Every *.xml file under `root`, recursively, sorted by path. */
export function listVectorFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile() && entry.name.endsWith('.xml')) out.push(p);
    }
  };
  walk(root);
  return out.sort();
}

export interface UseCase {
  /** the usecase id attribute ("03110") */
  id: string;
  /** "Use Case 3.1.1 (0) - Create" */
  name: string;
  request: Buffer;
  response: Buffer;
}

function childText(el: XmlElement, name: string, where: string): string {
  const c = el.children.find((x) => x.name === name);
  if (c === undefined) throw new TextEncodingError(`${where}: <${name}> missing`);
  return c.text;
}

function hexBuffer(text: string, where: string): Buffer {
  const hex = text.replace(/\s+/g, '');
  if (!/^(?:[0-9A-Fa-f]{2})+$/.test(hex)) throw new TextEncodingError(`${where}: not a hex string`);
  return Buffer.from(hex, 'hex');
}

/** The KMIP 1.0 Use Cases file of kmip4j (gui/src/main/resources/xml/UseCases.xml). */
export function readUseCases(path: string): UseCase[] {
  const root = parseXml(readFileSync(path, 'utf8'));
  if (root.name !== 'usecases')
    throw new TextEncodingError(`${path}: root is <${root.name}>, expected <usecases>`);
  return root.children
    .filter((c) => c.name === 'usecase')
    .map((uc) => {
      const id = uc.attrs.id ?? '';
      const where = `${path}: usecase ${id} (line ${uc.line})`;
      return {
        id,
        name: childText(uc, 'name', where).replace(/\s+/g, ' '),
        request: hexBuffer(childText(uc, 'ttlvrequest', where), `${where} <ttlvrequest>`),
        response: hexBuffer(childText(uc, 'ttlvresponse', where), `${where} <ttlvresponse>`),
      };
    });
}
