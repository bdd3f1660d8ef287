import type { Readable } from 'node:stream';
import {
  BackupFormatError,
  type Counts,
  EXPORT_FORMAT,
  EXPORT_VERSION,
  type Json,
  MAC_ALG,
  MAX_LINE_BYTES,
  UNAUTHENTICATED_VERSION,
} from './backup-format.js';
import type { AuditRecord, KekRecord, ObjectRecord } from './types.js';
export const fail = (lineNo: number, what: string): never => {
  throw new BackupFormatError(`line ${lineNo}: ${what}`);
};

export function str(j: Json, key: string, lineNo: number): string {
  const v = j[key];
  return typeof v === 'string' ? v : fail(lineNo, `${key} is not a string`);
}

export function optStr(j: Json, key: string, lineNo: number): string | undefined {
  const v = j[key];
  if (v === null || v === undefined) return undefined;
  return typeof v === 'string' ? v : fail(lineNo, `${key} is not a string or null`);
}

export function num(j: Json, key: string, lineNo: number): number {
  const v = j[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : fail(lineNo, `${key} is not a number`);
}

export function int(j: Json, key: string, lineNo: number, min = 0): number {
  const v = j[key];
  return Number.isSafeInteger(v) && (v as number) >= min
    ? (v as number)
    : fail(lineNo, `${key} is not an integer >= ${min}`);
}

export function bool(j: Json, key: string, lineNo: number): boolean {
  const v = j[key];
  return typeof v === 'boolean' ? v : fail(lineNo, `${key} is not true or false`);
}

export function obj(v: unknown, what: string, lineNo: number): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Json)
    : fail(lineNo, `${what} is not an object`);
}

export function strings(v: unknown, what: string, lineNo: number): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
    fail(lineNo, `${what} is not a list of strings`);
  return v as string[];
}

export const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function bytes(v: unknown, what: string, lineNo: number): Uint8Array {
  if (typeof v !== 'string' || v.length % 4 !== 0 || !BASE64.test(v))
    return fail(lineNo, `${what} is not base64`);
  return new Uint8Array(Buffer.from(v, 'base64'));
}

export function counts(v: unknown, what: string, lineNo: number): Counts {
  const c = obj(v, what, lineNo);
  return {
    keks: int(c, 'keks', lineNo),
    objects: int(c, 'objects', lineNo),
    audit: int(c, 'audit', lineNo),
  };
}

export function toObject(j: Json, lineNo: number): ObjectRecord {
  const sealed = j.sealed === null ? undefined : obj(j.sealed, 'sealed', lineNo);
  const dates = obj(j.dates, 'dates', lineNo);
  for (const [k, v] of Object.entries(dates))
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(lineNo, `dates.${k} is not a number`);
  const custom = obj(j.custom, 'custom', lineNo);
  for (const [k, v] of Object.entries(custom)) strings(v, `custom.${k}`, lineNo);
  const length = j.length === null ? undefined : int(j, 'length', lineNo);
  return {
    id: str(j, 'id', lineNo),
    version: int(j, 'version', lineNo, 1),
    objectType: str(j, 'objectType', lineNo),
    state: str(j, 'state', lineNo),
    owner: optStr(j, 'owner', lineNo),
    names: strings(j.names, 'names', lineNo),
    objectGroups: strings(j.objectGroups, 'objectGroups', lineNo),
    algorithm: optStr(j, 'algorithm', lineNo),
    length,
    dates: dates as Record<string, number>,
    custom: custom as Record<string, string[]>,
    attributes: bytes(j.attributes, 'attributes', lineNo),
    sealed:
      sealed === undefined
        ? undefined
        : {
            kekId: str(sealed, 'kekId', lineNo),
            nonce: bytes(sealed.nonce, 'sealed.nonce', lineNo),
            ciphertext: bytes(sealed.ciphertext, 'sealed.ciphertext', lineNo),
          },
    createdAt: num(j, 'createdAt', lineNo),
    updatedAt: num(j, 'updatedAt', lineNo),
    tombstoned: bool(j, 'tombstoned', lineNo),
  };
}

export function toKek(j: Json, lineNo: number): KekRecord {
  return {
    id: str(j, 'id', lineNo),
    masterKeyId: str(j, 'masterKeyId', lineNo),
    wrapped: bytes(j.wrapped, 'wrapped', lineNo),
    createdAt: num(j, 'createdAt', lineNo),
    active: bool(j, 'active', lineNo),
  };
}

export function toAudit(j: Json, lineNo: number): AuditRecord {
  const detail = obj(j.detail, 'detail', lineNo);
  for (const [k, v] of Object.entries(detail))
    if (typeof v !== 'string') fail(lineNo, `detail.${k} is not a string`);
  return {
    at: num(j, 'at', lineNo),
    actor: optStr(j, 'actor', lineNo),
    operation: str(j, 'operation', lineNo),
    objectId: optStr(j, 'objectId', lineNo),
    outcome: str(j, 'outcome', lineNo),
    detail: detail as Record<string, string>,
  };
}

export type Entry =
  | { readonly type: 'object'; readonly record: ObjectRecord }
  | { readonly type: 'kek'; readonly record: KekRecord }
  | { readonly type: 'audit'; readonly record: AuditRecord }
  | { readonly type: 'end'; readonly counts: Counts; readonly mac: Uint8Array | undefined };

export function parseJson(bytes: Buffer, lineNo: number): Json {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    return fail(lineNo, 'not JSON');
  }
  return obj(v, 'the record', lineNo);
}

export function parseEntry(j: Json, lineNo: number, version: number): Entry {
  switch (j.type) {
    case 'object':
      return { type: 'object', record: toObject(j, lineNo) };
    case 'kek':
      return { type: 'kek', record: toKek(j, lineNo) };
    case 'audit':
      return { type: 'audit', record: toAudit(j, lineNo) };
    case 'end':
      return {
        type: 'end',
        counts: counts(j.counts, 'counts', lineNo),
        mac: version === UNAUTHENTICATED_VERSION ? undefined : bytes(j.mac, 'mac', lineNo),
      };
    case 'header':
      return fail(lineNo, 'a second header');
    default:
      return fail(lineNo, 'unknown record type');
  }
}

export interface Header {
  readonly version: number;
  readonly counts: Counts;
  readonly auth: { readonly masterKeyId: string; readonly wrappedKey: Uint8Array } | undefined;
}

export function parseHeader(j: Json, allowUnauthenticated: boolean): Header {
  if (j.type !== 'header' || j.format !== EXPORT_FORMAT)
    throw new BackupFormatError('not a kmip-server store export');
  if (j.version === UNAUTHENTICATED_VERSION) {
    if (!allowUnauthenticated)
      throw new BackupFormatError(
        'this is a version 1 export, which is not authenticated (anyone could have altered it): ' +
          'refused; restore it with --allow-unauthenticated only if you trust the file',
      );
    return { version: UNAUTHENTICATED_VERSION, counts: counts(j.counts, 'counts', 1), auth: undefined };
  }
  if (j.version !== EXPORT_VERSION)
    throw new BackupFormatError(`unsupported export format version ${String(j.version)}`);
  const auth = obj(j.auth, 'auth', 1);
  if (auth.alg !== MAC_ALG) throw new BackupFormatError(`unsupported authentication ${String(auth.alg)}`);
  return {
    version: EXPORT_VERSION,
    counts: counts(j.counts, 'counts', 1),
    auth: {
      masterKeyId: str(auth, 'masterKeyId', 1),
      wrappedKey: bytes(auth.wrappedKey, 'auth.wrappedKey', 1),
    },
  };
}

export interface Line {
  readonly bytes: Buffer;
  /** followed by a newline; only the last line of a file may lack it */
  readonly terminated: boolean;
}

/** Lines split on '\n' only, as exact bytes; every chunk read is also handed to `onChunk`. */
export async function* readLines(input: Readable, onChunk: (b: Buffer) => void): AsyncGenerator<Line> {
  let carry: Buffer[] = [];
  let carried = 0;
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    onChunk(buf);
    let start = 0;
    for (let nl = buf.indexOf(0x0a, start); nl !== -1; nl = buf.indexOf(0x0a, start)) {
      const piece = buf.subarray(start, nl);
      start = nl + 1;
      if (carried === 0) {
        yield { bytes: piece, terminated: true };
      } else {
        const bytes = Buffer.concat([...carry, piece], carried + piece.length);
        carry = [];
        carried = 0;
        yield { bytes, terminated: true };
      }
    }
    if (start < buf.length) {
      const rest = buf.subarray(start);
      carry.push(rest);
      carried += rest.length;
      if (carried > MAX_LINE_BYTES)
        throw new BackupFormatError(`a line is longer than ${MAX_LINE_BYTES} bytes`);
    }
  }
  if (carried > 0) yield { bytes: Buffer.concat(carry, carried), terminated: false };
}

export const NEWLINE = Buffer.from('\n');
