/** Where a vector file comes from, which protocol version and which profile it exercises. */

import path from 'node:path';
import type { XmlElement } from '../../src/kmip/ttlv/xml.js';

export const Source = {
  OasisProfiles: 'oasis-profiles',
  OasisTestCases: 'oasis-testcases',
  Ovh: 'ovh',
  /** kmip4j UseCases.xml: hex TTLV, not the XML vector format; tested elsewhere */
  Kmip4j: 'kmip4j',
  Other: 'other',
} as const;
export type Source = (typeof Source)[keyof typeof Source];

/** Report columns: the KMIP versions, then "other" (3.0 drafts, no parsable request). */
export const VERSION_COLUMNS = ['1.0', '1.1', '1.2', '1.3', '1.4', '2.0', '2.1', 'other'] as const;
export type VersionColumn = (typeof VERSION_COLUMNS)[number];

export function classifySource(relPath: string): Source {
  const p = relPath.split(path.sep).join('/');
  if (p.startsWith('kmip4j/')) return Source.Kmip4j;
  if (p.startsWith('ovh-kmip-go/')) return Source.Ovh;
  if (p.startsWith('oasis-kmip-cosmian-mirror/')) {
    return /\/website\/(kmip-)?testcases\//.test(p) ? Source.OasisTestCases : Source.OasisProfiles;
  }
  return Source.Other;
}

/**
 * The profile of a vector file from its name: the part before "-M-" / "-O-"
 * (mandatory / optional), else before the first number. "CS_BC_M_14_12_..."
 * and "CS-BC-M-14-12" are both CS-BC; "SUITEB_128-M-1-14" is SUITEB_128;
 * "TC_101_11_..." is TC; "TC-Q-CAP-1-14" is TC-Q-CAP.
 */
export function profileOf(fileName: string): string {
  const base = path.basename(fileName).replace(/\.xml$/i, '');
  const mo = /^(.+?)[-_][MO][-_]/.exec(base);
  let prefix = mo?.[1] ?? /^(.+?)[-_]\d/.exec(base)?.[1] ?? base;
  if (/^CS_/.test(prefix)) prefix = prefix.replace(/_/g, '-');
  if (/^TC_/.test(prefix)) prefix = prefix.replace(/_/g, '-');
  return prefix;
}

/** "1.4" from the first request's Protocol Version; "other" for 3.0 and unparsable files. */
export function versionOf(request: XmlElement | undefined): VersionColumn {
  const header = request?.children.find((c) => c.name === 'RequestHeader');
  const pv = header?.children.find((c) => c.name === 'ProtocolVersion');
  const major = pv?.children.find((c) => c.name === 'ProtocolVersionMajor')?.attrs.value;
  const minor = pv?.children.find((c) => c.name === 'ProtocolVersionMinor')?.attrs.value;
  const v = `${major}.${minor}`;
  return (VERSION_COLUMNS as readonly string[]).includes(v) ? (v as VersionColumn) : 'other';
}
