/**
 * Master-key versions in the token. Each is an AES-256 token object under the
 * key label (hsm.keyLabel) whose CKA_ID is `v<N>.<16 hex>`; rotation generates
 * version N+1, and every version stays usable for unwrap.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../log.js';
import { boolAttr, type Handle, LOCKED_TOKEN_KEY, P, type Pkcs11 } from './library.js';

/** How a master-key version wraps: C_WrapKey with AES key wrap with padding, or C_Encrypt with AES-GCM. */
export type WrapMode = 'kwp' | 'gcm';

export interface KeyVersion {
  readonly version: number;
  /** the CKA_ID text: v<N>.<16 hex>, unique even when two nodes create v<N> together */
  readonly idText: string;
  readonly masterKeyId: string;
  readonly handle: Handle;
  readonly mode: WrapMode;
}

const KEY_BYTES = 32;
const ID_TEXT = /^v([1-9][0-9]{0,8})\.([0-9a-f]{16})$/;

/** True when `masterKeyId` names a version under this key label (no HSM call). */
export function ownsMasterKeyId(keyLabel: string, masterKeyId: string): boolean {
  const prefix = `pkcs11:${keyLabel}:`;
  return masterKeyId.startsWith(prefix) && ID_TEXT.test(masterKeyId.slice(prefix.length));
}

function versionOf(idText: string): number | undefined {
  const m = ID_TEXT.exec(idText);
  return m ? Number(m[1]) : undefined;
}

/** Highest version wins; among versions two nodes created together, the smallest id. */
export function newest(keys: readonly KeyVersion[]): KeyVersion | undefined {
  return [...keys].sort((a, b) => b.version - a.version || (a.idText < b.idText ? -1 : 1))[0];
}

export function oldestFirst(keys: readonly KeyVersion[]): KeyVersion[] {
  return [...keys].sort((a, b) => a.version - b.version || (a.idText < b.idText ? -1 : 1));
}

/** The versions the token holds under `keyLabel`: one C_FindObjects round trip. */
export function findKeyVersions(lib: Pkcs11, s: Handle, keyLabel: string, log: Logger): KeyVersion[] {
  lib.C_FindObjectsInit(s, [
    { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
    { type: P.CKA_TOKEN, value: true },
    { type: P.CKA_LABEL, value: keyLabel },
  ]);
  let handles: Handle[];
  try {
    handles = lib.C_FindObjects(s, 1000);
  } finally {
    lib.C_FindObjectsFinal(s);
  }
  const keys: KeyVersion[] = [];
  for (const handle of handles) {
    const [id, wrap, encrypt] = lib.C_GetAttributeValue(s, handle, [
      { type: P.CKA_ID },
      { type: P.CKA_WRAP },
      { type: P.CKA_ENCRYPT },
    ]);
    const idText = Buffer.isBuffer(id?.value) ? id.value.toString('latin1') : '';
    const version = versionOf(idText);
    if (version === undefined) {
      log.warn('ignoring a token object with the master key label but an unknown CKA_ID', { keyLabel });
      continue;
    }
    const mode: WrapMode | undefined = boolAttr(wrap?.value)
      ? 'kwp'
      : boolAttr(encrypt?.value)
        ? 'gcm'
        : undefined;
    if (mode === undefined) continue;
    keys.push({ version, idText, masterKeyId: `pkcs11:${keyLabel}:${idText}`, handle, mode });
  }
  return keys;
}

/** Generates version `version` inside the token, allowed only to wrap/unwrap (kwp) or encrypt/decrypt (gcm). */
export function generateKeyVersion(
  lib: Pkcs11,
  s: Handle,
  keyLabel: string,
  version: number,
  mode: WrapMode,
): KeyVersion {
  const idText = `v${version}.${randomBytes(8).toString('hex')}`;
  const kwp = mode === 'kwp';
  const handle = lib.C_GenerateKey(s, { mechanism: P.CKM_AES_KEY_GEN }, [
    { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
    { type: P.CKA_KEY_TYPE, value: P.CKK_AES },
    { type: P.CKA_VALUE_LEN, value: KEY_BYTES },
    { type: P.CKA_LABEL, value: keyLabel },
    { type: P.CKA_ID, value: Buffer.from(idText, 'latin1') },
    ...LOCKED_TOKEN_KEY,
    { type: P.CKA_WRAP, value: kwp },
    { type: P.CKA_UNWRAP, value: kwp },
    { type: P.CKA_ENCRYPT, value: !kwp },
    { type: P.CKA_DECRYPT, value: !kwp },
    { type: P.CKA_SIGN, value: false },
    { type: P.CKA_VERIFY, value: false },
    { type: P.CKA_DERIVE, value: false },
  ]);
  return { version, idText, masterKeyId: `pkcs11:${keyLabel}:${idText}`, handle, mode };
}
