/**
 * How a KEK goes in and out under a master-key version: AES key wrap with
 * padding (C_WrapKey/C_UnwrapKey) where the token offers it, else AES-GCM
 * (C_Encrypt/C_Decrypt) bound to the master key id.
 */
import { randomBytes } from 'node:crypto';
import { MasterKeyError } from '../types.js';
import type { KeyVersion, WrapMode } from './key-versions.js';
import { type Handle, P, type Pkcs11 } from './library.js';

const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
// CKM_AES_KEY_WRAP_PAD (v2.40 §2.14.3) is RFC 5649 in SoftHSM2 and most HSMs;
// CKM_AES_KEY_WRAP_KWP is its PKCS#11 3.0 name.
const CKM_AES_KEY_WRAP_KWP = 0x210b;

/** A KEK as a session object: the token wraps it, or unwraps into it (KEKs are in server memory anyway). */
/** One KEK operation: on session `s`, under master-key version `key`. */
export interface KekOp {
  readonly lib: Pkcs11;
  readonly s: Handle;
  readonly key: KeyVersion;
  /** called once per HSM round trip */
  readonly count: () => void;
}

const SESSION_KEK = [
  { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
  { type: P.CKA_KEY_TYPE, value: P.CKK_GENERIC_SECRET },
  { type: P.CKA_TOKEN, value: false },
  { type: P.CKA_PRIVATE, value: true },
  { type: P.CKA_SENSITIVE, value: false },
  { type: P.CKA_EXTRACTABLE, value: true },
];

/** The mode of a new version: the configured one, or kwp when the token offers AES key wrap with padding. */
export function modeForNewKey(lib: Pkcs11, slot: Handle, wanted: 'auto' | WrapMode | undefined): WrapMode {
  if (wanted !== undefined && wanted !== 'auto') return wanted;
  const mechanisms = lib.C_GetMechanismList(slot);
  return mechanisms.includes(P.CKM_AES_KEY_WRAP_PAD) || mechanisms.includes(CKM_AES_KEY_WRAP_KWP)
    ? 'kwp'
    : 'gcm';
}

export async function wrapKek(op: KekOp, kek: Uint8Array): Promise<Buffer> {
  return op.key.mode === 'kwp' ? kwpWrap(op, kek) : gcmWrap(op, kek);
}

/** MasterKeyError when `wrapped` cannot be a KEK wrapped under `key` (checked before any HSM call). */
export function checkWrappedLength(key: KeyVersion, wrapped: Uint8Array): void {
  const min = key.mode === 'kwp' ? 16 : GCM_IV_BYTES + GCM_TAG_BYTES + 1;
  if (wrapped.length < min || (key.mode === 'kwp' && wrapped.length % 8 !== 0)) {
    throw new MasterKeyError(`cannot unwrap a key under ${key.masterKeyId}: malformed wrapped key`);
  }
}

export async function unwrapKek(op: KekOp, wrapped: Uint8Array): Promise<Uint8Array> {
  return op.key.mode === 'kwp' ? kwpUnwrap(op, wrapped) : gcmUnwrap(op, wrapped);
}

async function kwpWrap(op: KekOp, kek: Uint8Array): Promise<Buffer> {
  const { lib, s, key, count } = op;
  const value = Buffer.from(kek);
  let obj: Handle | undefined;
  try {
    obj = lib.C_CreateObject(s, [...SESSION_KEK, { type: P.CKA_VALUE, value }]);
    count();
    return await lib.C_WrapKeyAsync(
      s,
      { mechanism: P.CKM_AES_KEY_WRAP_PAD },
      key.handle,
      obj,
      Buffer.alloc(kek.length + 16),
    );
  } finally {
    value.fill(0);
    if (obj !== undefined) destroyObject(lib, s, obj);
  }
}

async function kwpUnwrap(op: KekOp, wrapped: Uint8Array): Promise<Uint8Array> {
  const { lib, s, key, count } = op;
  count();
  const obj = await lib.C_UnwrapKeyAsync(
    s,
    { mechanism: P.CKM_AES_KEY_WRAP_PAD },
    key.handle,
    Buffer.from(wrapped),
    SESSION_KEK,
  );
  try {
    const [attr] = lib.C_GetAttributeValue(s, obj, [{ type: P.CKA_VALUE }]);
    const v = attr?.value;
    if (!Buffer.isBuffer(v)) throw new MasterKeyError('the HSM returned no key value');
    const out = new Uint8Array(v);
    v.fill(0);
    return out;
  } finally {
    destroyObject(lib, s, obj);
  }
}

function destroyObject(lib: Pkcs11, s: Handle, obj: Handle): void {
  try {
    lib.C_DestroyObject(s, obj);
  } catch {
    // a session object dies with its session anyway
  }
}

function gcmMechanism(key: KeyVersion, iv: Buffer) {
  return {
    mechanism: P.CKM_AES_GCM,
    parameter: {
      type: P.CK_PARAMS_GCM,
      iv,
      ivBits: GCM_IV_BYTES * 8,
      tagBits: GCM_TAG_BYTES * 8,
      aad: Buffer.from(`kmip-server KEK/1\0${key.masterKeyId}`, 'utf8'),
    },
  };
}

async function gcmWrap(op: KekOp, kek: Uint8Array): Promise<Buffer> {
  const { lib, s, key, count } = op;
  const iv = randomBytes(GCM_IV_BYTES);
  const value = Buffer.from(kek);
  try {
    lib.C_EncryptInit(s, gcmMechanism(key, iv), key.handle);
    count();
    const ct = await lib.C_EncryptAsync(s, value, Buffer.alloc(kek.length + GCM_TAG_BYTES + 16));
    return Buffer.concat([iv, ct]);
  } finally {
    value.fill(0);
  }
}

async function gcmUnwrap(op: KekOp, wrapped: Uint8Array): Promise<Uint8Array> {
  const { lib, s, key, count } = op;
  const iv = Buffer.from(wrapped.subarray(0, GCM_IV_BYTES));
  const body = Buffer.from(wrapped.subarray(GCM_IV_BYTES));
  lib.C_DecryptInit(s, gcmMechanism(key, iv), key.handle);
  count();
  const out = await lib.C_DecryptAsync(s, body, Buffer.alloc(body.length));
  const result = new Uint8Array(out);
  out.fill(0);
  return result;
}
