/**
 * Proves that no file under a directory holds key material: the raw bytes of a
 * key, its hex (lower and upper case) or its base64 (standard and URL-safe, at
 * each of the three alignments a key can take inside a longer base64 text).
 * Failure messages name the file, the key's index and the encoding, never the
 * key.
 */

import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export interface NoKeyMaterialOptions {
  /** files to skip (absolute, or relative to dir), e.g. the master key file */
  exclude?: readonly string[];
}

interface Needle {
  readonly key: number;
  readonly encoding: string;
  readonly bytes: Buffer;
}

/**
 * The base64 characters fully determined by the key's bits when `prefix`
 * unknown bytes precede it: characters that mix in neighbouring bytes or
 * padding depend on the surrounding text and are dropped.
 */
function base64Core(key: Uint8Array, prefix: number, alphabet: 'base64' | 'base64url'): string {
  const text = Buffer.concat([Buffer.alloc(prefix, 0), key]).toString(alphabet);
  const first = Math.ceil((8 * prefix) / 6);
  const end = Math.floor((8 * (prefix + key.length)) / 6);
  return text.slice(first, end);
}

export function keyNeedles(keys: readonly Uint8Array[]): Needle[] {
  const needles: Needle[] = [];
  keys.forEach((k, key) => {
    if (k.length < 8) throw new Error(`key ${key} is too short (${k.length} bytes) to search for reliably`);
    const raw = Buffer.from(k);
    const hex = raw.toString('hex');
    needles.push({ key, encoding: 'raw', bytes: raw });
    needles.push({ key, encoding: 'hex', bytes: Buffer.from(hex, 'latin1') });
    needles.push({ key, encoding: 'HEX', bytes: Buffer.from(hex.toUpperCase(), 'latin1') });
    for (const alphabet of ['base64', 'base64url'] as const) {
      for (const prefix of [0, 1, 2]) {
        needles.push({
          key,
          encoding: `${alphabet} (offset ${prefix})`,
          bytes: Buffer.from(base64Core(k, prefix, alphabet), 'latin1'),
        });
      }
    }
  });
  return needles;
}

async function* walk(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}

export async function assertNoKeyMaterial(
  dir: string,
  keys: readonly Uint8Array[],
  opts: NoKeyMaterialOptions = {},
): Promise<void> {
  const root = path.resolve(dir);
  if (!(await lstat(root)).isDirectory()) throw new Error(`${root} is not a directory`);
  const excluded = new Set((opts.exclude ?? []).map((f) => path.resolve(root, f)));
  const needles = keyNeedles(keys);
  const found: string[] = [];
  let files = 0;
  for await (const file of walk(root)) {
    if (excluded.has(file)) continue;
    files++;
    const content = await readFile(file);
    for (const n of needles) {
      if (content.includes(n.bytes))
        found.push(`${path.relative(root, file)}: key #${n.key} as ${n.encoding}`);
    }
  }
  if (found.length > 0) {
    throw new Error(`key material found under ${root} (${files} files searched):\n  ${found.join('\n  ')}`);
  }
}
