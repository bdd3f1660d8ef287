/**
 * Hashes and MACs over node:crypto (OpenSSL 3) for the Hash, MAC and MAC
 * Verify operations: HMAC, and CMAC
 * (NIST SP 800-38B), which node:crypto does not expose, built here on the
 * block cipher in CBC mode.
 *
 * Every function is pure apart from the incremental objects it returns;
 * none knows about KMIP messages.
 */
import { createCipheriv, createHash, createHmac, getHashes, type Hash, type Hmac } from 'node:crypto';

let available: ReadonlySet<string> | undefined;

/**
 * `name` when this OpenSSL has that digest, else undefined: some names
 * (md4, whirlpool) need OpenSSL's legacy provider.
 */
export function usableHash(name: string | undefined): string | undefined {
  available ??= new Set(getHashes());
  return name !== undefined && available.has(name) ? name : undefined;
}

/** Block ciphers CMAC is defined on here. */
export type CmacCipher = 'aes' | 'des3';

/** What computes a MAC: HMAC over a digest, or CMAC over a block cipher. */
export type MacAlgorithm =
  | { readonly kind: 'hmac'; readonly hash: string }
  | { readonly kind: 'cmac'; readonly cipher: CmacCipher };

/** An incremental MAC or hash; `digest` may be called once. */
export interface Digester {
  update(data: Uint8Array): void;
  digest(): Buffer;
}

export function createDigester(hash: string): Digester {
  const h: Hash = createHash(hash);
  return {
    update: (data) => {
      h.update(data);
    },
    digest: () => h.digest(),
  };
}

/**
 * An incremental MAC. Throws RangeError for a key the cipher cannot take
 * (CMAC-AES: 16, 24 or 32 bytes; CMAC-TDEA: 16 or 24 bytes).
 */
export function createMac(alg: MacAlgorithm, key: Uint8Array): Digester {
  if (alg.kind === 'hmac') {
    const h: Hmac = createHmac(alg.hash, key);
    return {
      update: (data) => {
        h.update(data);
      },
      digest: () => h.digest(),
    };
  }
  return new Cmac(alg.cipher, key);
}

export function hmac(hash: string, key: Uint8Array, data: Uint8Array): Buffer {
  return createHmac(hash, key).update(data).digest();
}

export function cmac(cipher: CmacCipher, key: Uint8Array, data: Uint8Array): Buffer {
  const m = new Cmac(cipher, key);
  m.update(data);
  return m.digest();
}

function cbcName(cipher: CmacCipher, keyLength: number): string {
  if (cipher === 'aes') {
    if (keyLength === 16 || keyLength === 24 || keyLength === 32) return `aes-${keyLength * 8}-cbc`;
    throw new RangeError('CMAC-AES needs a 128, 192 or 256-bit key');
  }
  if (keyLength === 24) return 'des-ede3-cbc';
  if (keyLength === 16) return 'des-ede-cbc';
  throw new RangeError('CMAC-TDEA needs a 2-key (16-byte) or 3-key (24-byte) key');
}

/** SP 800-38B §6.1: doubling in GF(2^b), Rb = 0x87 for b = 128, 0x1b for b = 64. */
function dbl(block: Buffer): Buffer {
  const out = Buffer.alloc(block.length);
  let carry = 0;
  for (let i = block.length - 1; i >= 0; i--) {
    const b = block[i] ?? 0;
    out[i] = ((b << 1) | carry) & 0xff;
    carry = b >>> 7;
  }
  if (carry === 1) {
    const last = out.length - 1;
    out[last] = (out[last] ?? 0) ^ (block.length === 16 ? 0x87 : 0x1b);
  }
  return out;
}

/**
 * CMAC (NIST SP 800-38B §6.2) as CBC encryption under a zero IV: the CBC
 * chain is the CBC-MAC state, and the last block, XORed with subkey K1 or
 * (padded) K2, is fed through the same chain so its ciphertext is the tag.
 * The last block is held back until `digest` because only then is it known
 * to be the last one.
 */
class Cmac implements Digester {
  readonly #cbc;
  readonly #k1: Buffer;
  readonly #k2: Buffer;
  readonly #bs: number;
  #pending: Buffer = Buffer.alloc(0);
  #done = false;

  constructor(cipher: CmacCipher, key: Uint8Array) {
    const name = cbcName(cipher, key.length);
    this.#bs = cipher === 'aes' ? 16 : 8;
    const zero = Buffer.alloc(this.#bs);
    const sub = createCipheriv(name, key, zero).setAutoPadding(false);
    const l = sub.update(zero);
    sub.final();
    this.#k1 = dbl(l);
    this.#k2 = dbl(this.#k1);
    this.#cbc = createCipheriv(name, key, zero).setAutoPadding(false);
  }

  update(data: Uint8Array): void {
    if (this.#done) throw new Error('CMAC already finished');
    if (data.length === 0) return;
    const all = Buffer.concat([this.#pending, data]);
    // Keep at least one byte (a whole last block at most) back for digest().
    const feed = Math.floor((all.length - 1) / this.#bs) * this.#bs;
    if (feed > 0) this.#cbc.update(all.subarray(0, feed));
    this.#pending = Buffer.from(all.subarray(feed));
  }

  digest(): Buffer {
    if (this.#done) throw new Error('CMAC already finished');
    this.#done = true;
    const last = Buffer.alloc(this.#bs);
    const complete = this.#pending.length === this.#bs;
    this.#pending.copy(last);
    if (!complete) last[this.#pending.length] = 0x80;
    const k = complete ? this.#k1 : this.#k2;
    for (let i = 0; i < this.#bs; i++) last[i] = (last[i] ?? 0) ^ (k[i] ?? 0);
    const tag = this.#cbc.update(last);
    this.#cbc.final();
    return tag;
  }
}
