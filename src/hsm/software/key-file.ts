import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { processAlive } from '../../util/process.js';
import { MasterKeyError } from '../types.js';

/**
 * The software master key file. It IS key material: the one documented
 * exception to "no key bytes in the data directory". Text, self-describing,
 * versioned so that rotation appends a line:
 *
 *   # ...DEVELOPMENT-ONLY warning...
 *   format kmip-server-software-master-key/1
 *   v1 <base64 of 32 bytes>
 *   v2 <base64 of 32 bytes>
 */

export const KEY_FILE_FORMAT = 'format kmip-server-software-master-key/1';

export const KEY_FILE_HEADER = [
  '# kmip-server DEVELOPMENT-ONLY master key. Do NOT use it in production.',
  '# It wraps every key-encryption key of this server: whoever reads this file and',
  '# the database reads every stored key. Production needs an HSM (hsm.provider: pkcs11).',
  '# Keep this file mode 0600, never commit it, and back it up apart from the database:',
  '# without it the stored keys cannot be recovered.',
];

const KEY_BYTES = 32;
const VERSION_LINE = /^v([1-9][0-9]{0,8}) ([A-Za-z0-9+/]{43}=)$/;

export interface MasterKeyVersion {
  readonly version: number;
  /** hex prefix of SHA-256(key): tells a wrong key file apart, reveals nothing of the key */
  readonly fingerprint: string;
  readonly key: Buffer;
}

export function fingerprintOf(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** The master key id a provider reports: names the version, and the fingerprint detects a wrong file. */
export function keyIdOf(v: MasterKeyVersion): string {
  return `software:${v.fingerprint}:v${v.version}`;
}

/** Zeroes every key of the list. */
export function wipe(versions: readonly MasterKeyVersion[]): void {
  for (const v of versions) v.key.fill(0);
}

/** Line numbers only in errors: a malformed line may still hold key bytes. */
export function parseKeyFile(text: string, file: string): MasterKeyVersion[] {
  const versions: MasterKeyVersion[] = [];
  let sawFormat = false;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line === KEY_FILE_FORMAT) {
      sawFormat = true;
      continue;
    }
    const m = VERSION_LINE.exec(line);
    const decoded = m ? Buffer.from(m[2] ?? '', 'base64') : undefined;
    if (!m || !decoded || decoded.length !== KEY_BYTES) {
      decoded?.fill(0);
      wipe(versions);
      throw new MasterKeyError(`master key file ${file}: line ${i + 1} is malformed`);
    }
    const version = Number(m[1]);
    if (versions.some((v) => v.version === version)) {
      decoded.fill(0);
      wipe(versions);
      throw new MasterKeyError(`master key file ${file}: version v${version} appears twice`);
    }
    const key = Buffer.alloc(KEY_BYTES);
    decoded.copy(key);
    decoded.fill(0);
    versions.push({ version, fingerprint: fingerprintOf(key), key });
  }
  if (!sawFormat || versions.length === 0) {
    wipe(versions);
    throw new MasterKeyError(
      `master key file ${file} is not a kmip-server software master key file (no "${KEY_FILE_FORMAT}" line or no key)`,
    );
  }
  return versions.sort((a, b) => a.version - b.version);
}

function renderKeyFile(versions: readonly MasterKeyVersion[]): Buffer {
  const lines = [...KEY_FILE_HEADER, KEY_FILE_FORMAT];
  for (const v of versions) lines.push(`v${v.version} ${v.key.toString('base64')}`);
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

function errno(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err ? String(err.code) : undefined;
}

/**
 * Reads the key file through one descriptor (no check-then-open race) and
 * refuses a file that group or others may read or write.
 */
export async function readKeyFile(file: string): Promise<MasterKeyVersion[] | undefined> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err: unknown) {
    if (errno(err) === 'ENOENT') return undefined;
    throw new MasterKeyError(`cannot open master key file ${file} (${errno(err) ?? 'error'})`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new MasterKeyError(`master key file ${file} is not a regular file`);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      throw new MasterKeyError(
        `master key file ${file} has mode ${mode}: group or others can access it; run "chmod 600 ${file}"`,
      );
    }
    const raw = await fh.readFile();
    try {
      return parseKeyFile(raw.toString('utf8'), file);
    } finally {
      raw.fill(0);
    }
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // some platforms cannot fsync a directory; the file itself was synced
  }
}

/**
 * Temporary copies hold every master-key version, so a crash between write
 * and rename must not leave one behind. Their names carry host and pid so the
 * next open can tell a dead writer's leftover from a live writer's file.
 */
const TEMP_SUFFIX = '.tmp';
const tempName = (file: string) =>
  `${file}.${hostname().replace(/[^A-Za-z0-9-]/g, '_')}.${process.pid}.${randomUUID()}${TEMP_SUFFIX}`;
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** files of earlier releases (no host or pid): removed once clearly abandoned */
const LEGACY_AGE_MS = 10 * 60_000;

/** Removes temporary key files left by writers on this host that no longer run; returns how many. */
export async function removeStaleTemps(file: string): Promise<number> {
  const dir = path.dirname(file);
  const base = path.basename(file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const current = new RegExp(`^${base}\\.([A-Za-z0-9_-]+)\\.(\\d+)\\.${UUID}\\.tmp$`);
  const legacy = new RegExp(`^${base}\\.${UUID}\\.tmp$`);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  const host = hostname().replace(/[^A-Za-z0-9-]/g, '_');
  let removed = 0;
  for (const name of names) {
    const full = path.join(dir, name);
    const m = current.exec(name);
    let stale = false;
    if (m !== null) stale = m[1] === host && !processAlive(Number(m[2]));
    else if (legacy.test(name)) {
      const st = await stat(full).catch(() => undefined);
      stale = st !== undefined && Date.now() - st.mtimeMs > LEGACY_AGE_MS;
    }
    if (
      stale &&
      (await unlink(full)
        .then(() => true)
        .catch(() => false))
    )
      removed++;
  }
  return removed;
}

async function writeTemp(file: string, versions: readonly MasterKeyVersion[]): Promise<string> {
  const tmp = tempName(file);
  const content = renderKeyFile(versions);
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(content);
      await fh.sync();
    } catch (err: unknown) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    } finally {
      await fh.close();
    }
  } finally {
    content.fill(0);
  }
  return tmp;
}

/**
 * Creates the key file with one fresh version, unless it appears meanwhile:
 * nodes sharing a configuration directory may start together, and link() of
 * a complete temporary file makes exactly one of them win. The others read
 * the winner's file.
 */
export async function createKeyFile(file: string): Promise<boolean> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  const versions = [{ version: 1, fingerprint: fingerprintOf(key), key }];
  let tmp: string;
  try {
    tmp = await writeTemp(file, versions);
  } finally {
    key.fill(0);
  }
  try {
    await link(tmp, file);
  } catch (err: unknown) {
    if (errno(err) === 'EEXIST') return false;
    throw new MasterKeyError(`cannot create master key file ${file} (${errno(err) ?? 'error'})`);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  await syncDir(dir);
  return true;
}

/**
 * Appends a new version (atomically: whole file rewritten and renamed) and
 * returns its master key id. Providers already open keep wrapping under the version
 * they loaded until reopened, and load the file again when asked to unwrap
 * under a version they do not know.
 */
export async function appendKeyVersion(file: string): Promise<string> {
  const versions = await readKeyFile(file);
  if (!versions) throw new MasterKeyError(`master key file ${file} does not exist`);
  const key = randomBytes(KEY_BYTES);
  const last = versions[versions.length - 1];
  const version = (last?.version ?? 0) + 1;
  const added = { version, fingerprint: fingerprintOf(key), key };
  versions.push(added);
  try {
    const tmp = await writeTemp(file, versions);
    try {
      await rename(tmp, file);
    } catch (err: unknown) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    await syncDir(path.dirname(file));
    return keyIdOf(added);
  } finally {
    wipe(versions);
  }
}
