import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import { MasterKeyError, type MasterKeyProvider, type MasterKeyVersionInfo } from '../types.js';
import {
  appendKeyVersion,
  createKeyFile,
  keyIdOf,
  type MasterKeyVersion,
  readKeyFile,
  removeStaleTemps,
  wipe,
} from './key-file.js';

export { appendKeyVersion as rotateSoftwareMasterKey, KEY_FILE_HEADER } from './key-file.js';

export interface SoftwareProviderOptions {
  log?: Logger;
  /** create the key file when it does not exist; default true */
  create?: boolean;
}

// RFC 5649 section 3: the alternative initial value of AES key wrap with padding.
const KWP_IV = Buffer.from('A65959A6', 'hex');
const KEY_ID = /^software:([0-9a-f]{16}):v([1-9][0-9]*)$/;

/**
 * The development master-key provider: a 256-bit key in a mode-0600 file,
 * wrapping KEKs with AES-256 key wrap with padding (RFC 5649). The key lives
 * in process memory, so this provider is for development only; production
 * uses pkcs11.
 */
class SoftwareProvider implements MasterKeyProvider {
  readonly kind = 'software' as const;
  #versions: MasterKeyVersion[];
  #current: MasterKeyVersion;
  #closed = false;

  constructor(
    readonly keyFile: string,
    versions: MasterKeyVersion[],
    current: MasterKeyVersion,
  ) {
    this.#versions = versions;
    this.#current = current;
  }

  get currentKeyId(): string {
    return keyIdOf(this.#current);
  }

  async wrap(kek: Uint8Array): Promise<{ masterKeyId: string; wrapped: Uint8Array }> {
    this.#checkOpen();
    if (kek.length === 0) throw new MasterKeyError('cannot wrap an empty key');
    const cipher = createCipheriv('id-aes256-wrap-pad', this.#current.key, KWP_IV);
    const wrapped = Buffer.concat([cipher.update(kek), cipher.final()]);
    return { masterKeyId: keyIdOf(this.#current), wrapped: new Uint8Array(wrapped) };
  }

  async unwrap(masterKeyId: string, wrapped: Uint8Array): Promise<Uint8Array> {
    this.#checkOpen();
    const m = KEY_ID.exec(masterKeyId);
    if (!m) throw new MasterKeyError(`"${masterKeyId}" is not a software master key id`);
    const version = Number(m[2]);
    let v = this.#versions.find((x) => x.version === version);
    // Another node may have rotated: its new version is in the shared file.
    if (!v) {
      await this.#reload();
      v = this.#versions.find((x) => x.version === version);
    }
    if (!v) {
      throw new MasterKeyError(
        `master key ${masterKeyId} is not in ${this.keyFile} (wrong master key file?)`,
      );
    }
    if (v.fingerprint !== m[1]) {
      throw new MasterKeyError(
        `master key ${masterKeyId} does not match ${keyIdOf(v)} in ${this.keyFile} (wrong master key file?)`,
      );
    }
    // RFC 5649 output is at least two 64-bit blocks; OpenSSL accepts empty input silently.
    if (wrapped.length < 16 || wrapped.length % 8 !== 0) {
      throw new MasterKeyError(`cannot unwrap a key under ${masterKeyId}: malformed wrapped key`);
    }
    try {
      const decipher = createDecipheriv('id-aes256-wrap-pad', v.key, KWP_IV);
      const out = Buffer.concat([decipher.update(wrapped), decipher.final()]);
      const result = new Uint8Array(out);
      out.fill(0);
      return result;
    } catch {
      throw new MasterKeyError(`cannot unwrap a key under ${masterKeyId}: integrity check failed`);
    }
  }

  owns(masterKeyId: string): boolean {
    const m = KEY_ID.exec(masterKeyId);
    return m !== null && this.#versions.some((v) => v.fingerprint === m[1]);
  }

  async versions(): Promise<MasterKeyVersionInfo[]> {
    this.#checkOpen();
    await this.#reload();
    return [...this.#versions]
      .sort((a, b) => a.version - b.version)
      .map((v) => ({ masterKeyId: keyIdOf(v), version: v.version, current: v === this.#current }));
  }

  /** Appends a version to the key file and wraps under it from now on. */
  async rotate(): Promise<string> {
    this.#checkOpen();
    const id = await appendKeyVersion(this.keyFile);
    await this.#reload();
    const added = this.#versions.find((v) => keyIdOf(v) === id);
    if (added === undefined) throw new MasterKeyError(`master key ${id} vanished from ${this.keyFile}`);
    this.#current = added;
    return id;
  }

  async close(): Promise<void> {
    this.#closed = true;
    wipe(this.#versions);
    this.#versions = [];
  }

  async #reload(): Promise<void> {
    const fresh = await readKeyFile(this.keyFile).catch(() => undefined);
    if (!fresh || this.#closed) {
      if (fresh) wipe(fresh);
      return;
    }
    const known = new Set(this.#versions.map((v) => v.version));
    for (const v of fresh) {
      if (known.has(v.version)) v.key.fill(0);
      else this.#versions.push(v);
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new MasterKeyError('the software master key provider is closed');
  }
}

export async function openSoftwareProvider(
  keyFile: string,
  opts: SoftwareProviderOptions = {},
): Promise<MasterKeyProvider> {
  const log = opts.log ?? silentLogger;
  const leftovers = await removeStaleTemps(keyFile);
  if (leftovers > 0) log.warn('removed temporary master key files left by a crash', { count: leftovers });
  let versions = await readKeyFile(keyFile);
  if (!versions) {
    if (opts.create === false) throw new MasterKeyError(`master key file ${keyFile} does not exist`);
    const created = await createKeyFile(keyFile);
    if (created) log.warn('created a new development master key file', { keyFile });
    versions = await readKeyFile(keyFile);
    if (!versions) throw new MasterKeyError(`master key file ${keyFile} vanished after creation`);
  }
  const current = versions[versions.length - 1];
  if (!current) throw new MasterKeyError(`master key file ${keyFile} holds no key`);
  const provider = new SoftwareProvider(keyFile, versions, current);
  log.warn(
    'the software master-key provider is for development only: the master key is in a file and in process memory; use hsm.provider pkcs11 in production',
    { keyFile, masterKeyId: provider.currentKeyId },
  );
  return provider;
}
