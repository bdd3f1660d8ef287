import pkcs11js from 'pkcs11js';

export type Pkcs11 = pkcs11js.PKCS11;
export type Handle = Buffer;
export const P = pkcs11js;

/**
 * One loaded library per module path for the whole process. C_Initialize and
 * C_Finalize are process-wide in PKCS#11 (v2.40 §5.4): several providers over
 * one module share it, and none finalizes it, which would end the sessions of
 * the others.
 */
const libraries = new Map<string, Pkcs11>();

export function loadLibrary(modulePath: string): Pkcs11 {
  let lib = libraries.get(modulePath);
  if (lib === undefined) {
    lib = new P.PKCS11();
    lib.load(modulePath);
    libraries.set(modulePath, lib);
  }
  return lib;
}

// On globalThis: the provider is loaded with a dynamic import, and a loader
// (tsx) may give that import its own copy of this module.
const CALLS = Symbol.for('kmip-server.pkcs11-calls');
const counter = globalThis as unknown as Record<symbol, number | undefined>;

/** HSM round trips made by every pkcs11 provider of this process (BENCHMARKS.md: calls per 1,000 Get). */
export function pkcs11CallCount(): number {
  return counter[CALLS] ?? 0;
}

export function countCall(): void {
  counter[CALLS] = (counter[CALLS] ?? 0) + 1;
}

/** Initializes the library unless it already is (another provider, or a reconnection). */
export function initialize(lib: Pkcs11): void {
  try {
    lib.C_Initialize();
  } catch (e: unknown) {
    if (ckrOf(e) !== P.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw e;
  }
}

/** The CKR_ return value of a pkcs11js error, or undefined for anything else. */
export function ckrOf(e: unknown): number | undefined {
  if (!(e instanceof Error)) return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' && code !== 0 ? code : undefined;
}

/** The error's CKR_ name for logs and messages: it never carries data. */
export function describe(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0] ?? e.name;
  return String(e);
}

/**
 * Return values meaning the HSM, the token, the session or the login is gone
 * (v2.40 §5.1.x), as opposed to a refusal of this one request.
 */
const LOST = new Set<number>([
  P.CKR_CRYPTOKI_NOT_INITIALIZED,
  P.CKR_DEVICE_ERROR,
  P.CKR_DEVICE_MEMORY,
  P.CKR_DEVICE_REMOVED,
  P.CKR_SESSION_CLOSED,
  P.CKR_SESSION_HANDLE_INVALID,
  P.CKR_SLOT_ID_INVALID,
  P.CKR_TOKEN_NOT_PRESENT,
  P.CKR_TOKEN_NOT_RECOGNIZED,
  P.CKR_USER_NOT_LOGGED_IN,
]);

export function isConnectionLoss(e: unknown): boolean {
  const code = ckrOf(e);
  return code !== undefined && LOST.has(code);
}

/** Token labels are 32 bytes padded with blanks (some modules pad with NULs). */
export function trimLabel(label: string): string {
  return label.replace(/[\s\0]+$/, '');
}

/** CK_SLOT_ID as a number: a CK_ULONG, 8 bytes on LP64 platforms, 4 on Windows. */
export function slotNumber(h: Handle): number {
  return h.length >= 8 ? Number(h.readBigUInt64LE(0)) : h.readUInt32LE(0);
}

/** A key that stays in the token: a token object, sensitive, never extractable, never modified. */
export const LOCKED_TOKEN_KEY = [
  { type: P.CKA_TOKEN, value: true },
  { type: P.CKA_PRIVATE, value: true },
  { type: P.CKA_SENSITIVE, value: true },
  { type: P.CKA_EXTRACTABLE, value: false },
  { type: P.CKA_MODIFIABLE, value: false },
];

export function boolAttr(v: unknown): boolean {
  return Buffer.isBuffer(v) ? v.length > 0 && v[0] !== 0 : v === true;
}
