/** AES-256-GCM sealing of one object version's secret under a KEK, bound to (id, version) by the AAD. */

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const KEK_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const AAD_LABEL = Buffer.from('kmip-server sealed object/1\0', 'utf8');

const kBrand = Symbol.for('kmip-server.error');

export class SealingError extends Error {
  readonly code = 'ERR_SEALING' as const;
  readonly [kBrand] = true;
  override name = 'SealingError';
}

/** Length-prefixed UTF-8 id and 8-byte big-endian version: no two (id, version) pairs share an encoding. */
export function sealingAad(objectId: string, version: number): Buffer {
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new SealingError(`invalid object version ${String(version)}`);
  }
  const id = Buffer.from(objectId, 'utf8');
  const aad = Buffer.alloc(AAD_LABEL.length + 4 + id.length + 8);
  let off = AAD_LABEL.copy(aad, 0);
  off = aad.writeUInt32BE(id.length, off);
  off += id.copy(aad, off);
  aad.writeBigUInt64BE(BigInt(version), off);
  return aad;
}

/** Throws unless the blob has the shape sealed data has; checked before any KEK is looked up. */
export function checkSealedShape(
  objectId: string,
  blob: { nonce: Uint8Array; ciphertext: Uint8Array },
): void {
  if (blob.nonce.length !== NONCE_BYTES || blob.ciphertext.length < TAG_BYTES) {
    throw new SealingError(`sealed data of object ${objectId} is malformed`);
  }
}

export function encrypt(
  key: Buffer,
  aad: Buffer,
  plaintext: Uint8Array,
): { nonce: Uint8Array; ciphertext: Uint8Array } {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { nonce: new Uint8Array(nonce), ciphertext: new Uint8Array(ciphertext) };
}

/** The plaintext; undefined when authentication fails. */
export function decrypt(
  key: Buffer,
  aad: Buffer,
  blob: { nonce: Uint8Array; ciphertext: Uint8Array },
): Uint8Array | undefined {
  const body = blob.ciphertext.subarray(0, blob.ciphertext.length - TAG_BYTES);
  const tag = blob.ciphertext.subarray(blob.ciphertext.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, blob.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const out = Buffer.concat([decipher.update(body), decipher.final()]);
    const result = new Uint8Array(out);
    out.fill(0);
    return result;
  } catch {
    return undefined;
  }
}
