import { randomBytes } from 'node:crypto';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import {
  type HsmKeyService,
  HsmUnavailableError,
  MasterKeyError,
  type MasterKeyProvider,
  type MasterKeyVersionInfo,
  type ProviderHealth,
} from '../types.js';
import {
  boolAttr,
  ckrOf,
  describe,
  type Handle,
  initialize,
  isConnectionLoss,
  loadLibrary,
  P,
  type Pkcs11,
  slotNumber,
  trimLabel,
} from './library.js';
import { resolvePin } from './pin.js';
import { ResidentKeys, type SessionRunner } from './resident.js';

export { resolvePin } from './pin.js';

/** How a master-key version wraps: C_WrapKey with AES key wrap with padding, or C_Encrypt with AES-GCM. */
export type WrapMode = 'kwp' | 'gcm';

export interface Pkcs11ProviderOptions {
  /** path of the PKCS#11 library (hsm.module) */
  module: string;
  /** token by label (hsm.tokenLabel) ... */
  tokenLabel?: string | undefined;
  /** ... or by slot id (hsm.slot); both given: the slot must hold that token */
  slot?: number | undefined;
  /** where the user PIN is: env:NAME or file:PATH (hsm.pin) */
  pin: string;
  /** CKA_LABEL of every master-key version (hsm.keyLabel); default kmip-master */
  keyLabel?: string | undefined;
  /** sessions opened at most (hsm.sessions); default 4 */
  sessions?: number | undefined;
  /** unwrapped KEKs keep serving this long after the HSM is lost (hsm.gracePeriodSeconds); default 300 s */
  graceMs?: number | undefined;
  /** probe interval, which also drives reconnection (hsm.healthCheckSeconds); default 5 s */
  healthCheckMs?: number | undefined;
  /** least delay between two reconnection attempts made by requests; default 1 s */
  retryMs?: number | undefined;
  /** generate the first master key when the token has none; default true */
  create?: boolean | undefined;
  /** how new versions wrap; 'auto' (default) picks kwp when the token offers CKM_AES_KEY_WRAP_PAD */
  mechanism?: 'auto' | WrapMode | undefined;
  log?: Logger | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

interface KeyVersion {
  readonly version: number;
  /** the CKA_ID text: v<N>.<16 hex>, unique even when two nodes create v<N> together */
  readonly idText: string;
  readonly masterKeyId: string;
  readonly handle: Handle;
  readonly mode: WrapMode;
}

interface Waiter {
  resolve(s: Handle): void;
  reject(e: Error): void;
}

interface Connection {
  readonly slot: Handle;
  readonly idle: Handle[];
  readonly waiters: Waiter[];
  open: number;
  keys: KeyVersion[];
}

const KEY_BYTES = 32;
const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
const ID_TEXT = /^v([1-9][0-9]{0,8})\.([0-9a-f]{16})$/;
const SESSION_FLAGS = P.CKF_SERIAL_SESSION | P.CKF_RW_SESSION;
// CKM_AES_KEY_WRAP_PAD (v2.40 §2.14.3) is RFC 5649 in SoftHSM2 and most HSMs;
// CKM_AES_KEY_WRAP_KWP is its PKCS#11 3.0 name.
const CKM_AES_KEY_WRAP_KWP = 0x210b;

// On globalThis: the provider is loaded with a dynamic import, and a loader
// (tsx) may give that import its own copy of this module.
const CALLS = Symbol.for('kmip-server.pkcs11-calls');
const counter = globalThis as unknown as Record<symbol, number | undefined>;

/** HSM round trips made by every pkcs11 provider of this process (BENCHMARKS.md: calls per 1,000 Get). */
export function pkcs11CallCount(): number {
  return counter[CALLS] ?? 0;
}

function versionOf(idText: string): number | undefined {
  const m = ID_TEXT.exec(idText);
  return m ? Number(m[1]) : undefined;
}

/** Highest version wins; among versions two nodes created together, the smallest id. */
function newest(keys: readonly KeyVersion[]): KeyVersion | undefined {
  return [...keys].sort((a, b) => b.version - a.version || (a.idText < b.idText ? -1 : 1))[0];
}

/**
 * The master key in an HSM through PKCS#11 v2.40 (SoftHSM2, Luna, nShield,
 * CloudHSM, YubiHSM 2). Each master-key version is an AES-256 token object,
 * generated inside the token, sensitive and never extractable, allowed only to
 * wrap/unwrap (or, where the token lacks AES key wrap with padding, only to
 * encrypt/decrypt with AES-GCM). KEKs go in and out of the HSM; the master key
 * never comes out.
 *
 * Requests borrow a session from a small pool. A failure that means the HSM is
 * gone marks it unavailable: requests then fail with HsmUnavailableError (no
 * fallback), a timer probes and reconnects, and health() tells the Sealer how
 * long its cached KEKs may keep serving.
 */
class Pkcs11MasterKeyProvider implements MasterKeyProvider, SessionRunner {
  readonly kind = 'pkcs11' as const;
  readonly #lib: Pkcs11;
  readonly #pin: string;
  readonly #keyLabel: string;
  readonly #opts: Pkcs11ProviderOptions;
  readonly #log: Logger;
  readonly #maxSessions: number;
  readonly #graceMs: number;
  readonly #retryMs: number;
  #conn: Connection | undefined;
  #current = '';
  #unavailableSince: number | undefined;
  #lastAttempt = 0;
  #lastError = '';
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  /** bumped on every (re)connection: object handles of an older one are stale */
  #generation = 0;
  #resident: ResidentKeys | undefined;
  /** HSM round trips made (wrap, unwrap, generate, find); for BENCHMARKS.md */
  calls = 0;

  constructor(lib: Pkcs11, pin: string, opts: Pkcs11ProviderOptions) {
    this.#lib = lib;
    this.#pin = pin;
    this.#opts = opts;
    this.#keyLabel = opts.keyLabel ?? 'kmip-master';
    this.#log = opts.log ?? silentLogger;
    this.#maxSessions = opts.sessions ?? 4;
    this.#graceMs = opts.graceMs ?? 300_000;
    this.#retryMs = opts.retryMs ?? 1000;
  }

  get currentKeyId(): string {
    return this.#current;
  }

  get keyLabel(): string {
    return this.#keyLabel;
  }

  get generation(): number {
    return this.#generation;
  }

  get tokenLabel(): string {
    return this.#opts.tokenLabel ?? `slot ${String(this.#opts.slot)}`;
  }

  get residentKeys(): HsmKeyService {
    this.#resident ??= new ResidentKeys(this);
    return this.#resident;
  }

  /** Runs fn on a pooled session, with the loss and reconnection handling of master-key calls. */
  run<T>(what: string, fn: (lib: Pkcs11, s: Handle) => Promise<T> | T): Promise<T> {
    this.#checkOpen();
    return this.#call(what, async (s) => fn(this.#lib, s));
  }

  count(): void {
    this.#count();
  }

  /** First connection: errors are configuration errors and stop the start. */
  start(): void {
    try {
      this.#conn = this.#connect();
    } catch (e: unknown) {
      this.#closeSessions(this.#conn);
      this.#conn = undefined;
      if (e instanceof MasterKeyError) throw new MasterKeyError(e.message);
      throw new MasterKeyError(`cannot open the HSM through ${this.#opts.module}: ${describe(e)}`);
    }
    const every = this.#opts.healthCheckMs ?? 5000;
    this.#timer = setInterval(() => this.#healthCheck(), every);
    this.#timer.unref();
  }

  owns(masterKeyId: string): boolean {
    const prefix = `pkcs11:${this.#keyLabel}:`;
    return masterKeyId.startsWith(prefix) && ID_TEXT.test(masterKeyId.slice(prefix.length));
  }

  health(): ProviderHealth {
    return {
      available: this.#conn !== undefined && this.#unavailableSince === undefined,
      unavailableSince: this.#unavailableSince,
      graceMs: this.#graceMs,
    };
  }

  async wrap(kek: Uint8Array): Promise<{ masterKeyId: string; wrapped: Uint8Array }> {
    this.#checkOpen();
    if (kek.length === 0) throw new MasterKeyError('cannot wrap an empty key');
    const attempt = () =>
      this.#call('wrap', async (s, conn) => {
        const key = conn.keys.find((k) => k.masterKeyId === this.#current) ?? newest(conn.keys);
        if (key === undefined) throw new MasterKeyError('the token holds no master key');
        const wrapped =
          key.mode === 'kwp' ? await this.#kwpWrap(s, key, kek) : await this.#gcmWrap(s, key, kek);
        return { masterKeyId: key.masterKeyId, wrapped: new Uint8Array(wrapped) };
      });
    // Nodes starting together each generate a v1 (connect()); SoftHSM2 can
    // refuse (CKR_GENERAL_ERROR) while another session is still writing the
    // token: look the keys up again and retry a few times before giving up.
    for (let tries = 1; ; tries++) {
      try {
        return await attempt();
      } catch (e: unknown) {
        const refused = e instanceof MasterKeyError && e.message.startsWith('the HSM refused');
        if (!refused || tries >= 4) throw e;
        await new Promise((resolve) => setTimeout(resolve, 25 * tries));
        await this.#call('list', async (s, conn) => {
          this.#reloadKeys(s, conn);
        }).catch(() => undefined);
      }
    }
  }

  async unwrap(masterKeyId: string, wrapped: Uint8Array): Promise<Uint8Array> {
    this.#checkOpen();
    if (!this.owns(masterKeyId)) {
      throw new MasterKeyError(
        `"${masterKeyId}" is not a master key id of this HSM (label ${this.#keyLabel}); a software master key needs "kmip-server hsm migrate"`,
      );
    }
    return this.#call('unwrap', async (s, conn) => {
      let key = conn.keys.find((k) => k.masterKeyId === masterKeyId);
      if (key === undefined) {
        // Another node may have rotated: its new version is in the token.
        this.#reloadKeys(s, conn);
        key = conn.keys.find((k) => k.masterKeyId === masterKeyId);
      }
      if (key === undefined) {
        throw new MasterKeyError(`master key ${masterKeyId} is not in the token (wrong token or key label?)`);
      }
      const min = key.mode === 'kwp' ? 16 : GCM_IV_BYTES + GCM_TAG_BYTES + 1;
      if (wrapped.length < min || (key.mode === 'kwp' && wrapped.length % 8 !== 0)) {
        throw new MasterKeyError(`cannot unwrap a key under ${masterKeyId}: malformed wrapped key`);
      }
      return key.mode === 'kwp' ? this.#kwpUnwrap(s, key, wrapped) : this.#gcmUnwrap(s, key, wrapped);
    });
  }

  async versions(): Promise<MasterKeyVersionInfo[]> {
    this.#checkOpen();
    return this.#call('list', async (s, conn) => {
      this.#reloadKeys(s, conn);
      return [...conn.keys]
        .sort((a, b) => a.version - b.version || (a.idText < b.idText ? -1 : 1))
        .map((k) => ({
          masterKeyId: k.masterKeyId,
          version: k.version,
          current: k.masterKeyId === this.#current,
        }));
    });
  }

  async rotate(): Promise<string> {
    this.#checkOpen();
    return this.#call('rotate', async (s, conn) => {
      this.#reloadKeys(s, conn);
      const top = conn.keys.reduce((n, k) => Math.max(n, k.version), 0);
      const created = this.#generate(s, conn, top + 1);
      this.#current = created.masterKeyId;
      this.#log.info('generated a new master-key version in the HSM', { masterKeyId: created.masterKeyId });
      return created.masterKeyId;
    });
  }

  async refresh(): Promise<void> {
    this.#checkOpen();
    await this.#call('list', async (s, conn) => {
      this.#reloadKeys(s, conn);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    const conn = this.#conn;
    this.#conn = undefined;
    this.#closeSessions(conn);
  }

  // --- connection and session pool ---

  #connect(): Connection {
    const lib = this.#lib;
    initialize(lib);
    const slot = this.#findSlot();
    const first = lib.C_OpenSession(slot, SESSION_FLAGS);
    this.#generation++;
    const conn: Connection = { slot, idle: [first], waiters: [], open: 1, keys: [] };
    this.#conn = conn;
    try {
      lib.C_Login(first, P.CKU_USER, this.#pin);
    } catch (e: unknown) {
      const code = ckrOf(e);
      if (code === P.CKR_PIN_INCORRECT || code === P.CKR_PIN_LOCKED || code === P.CKR_PIN_EXPIRED) {
        throw new MasterKeyError(`HSM login refused: ${describe(e)} (check hsm.pin)`);
      }
      if (code !== P.CKR_USER_ALREADY_LOGGED_IN) throw e;
    }
    this.#reloadKeys(first, conn);
    if (conn.keys.length === 0) {
      if (this.#opts.create === false) {
        throw new MasterKeyError(`the token holds no master key labelled ${this.#keyLabel}`);
      }
      const created = this.#generate(first, conn, 1);
      this.#log.info('generated the master key in the HSM', { masterKeyId: created.masterKeyId });
      // Nodes starting together may each have made a v1: every one stays usable; newest() picks one.
      this.#reloadKeys(first, conn);
    }
    return conn;
  }

  #findSlot(): Handle {
    const lib = this.#lib;
    const want = this.#opts.tokenLabel;
    for (const slot of lib.C_GetSlotList(true)) {
      if (this.#opts.slot !== undefined && slotNumber(slot) !== this.#opts.slot) continue;
      const info = lib.C_GetTokenInfo(slot);
      if ((info.flags & P.CKF_TOKEN_INITIALIZED) === 0) continue;
      if (want !== undefined && trimLabel(info.label) !== want) continue;
      return slot;
    }
    const which = [
      want === undefined ? '' : `label "${want}"`,
      this.#opts.slot === undefined ? '' : `slot ${this.#opts.slot}`,
    ]
      .filter((x) => x !== '')
      .join(' in ');
    throw new HsmUnavailableError(`no initialized token with ${which} in ${this.#opts.module}`);
  }

  #reloadKeys(s: Handle, conn: Connection): void {
    const lib = this.#lib;
    this.#count();
    lib.C_FindObjectsInit(s, [
      { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
      { type: P.CKA_TOKEN, value: true },
      { type: P.CKA_LABEL, value: this.#keyLabel },
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
        this.#log.warn('ignoring a token object with the master key label but an unknown CKA_ID', {
          keyLabel: this.#keyLabel,
        });
        continue;
      }
      const mode: WrapMode | undefined = boolAttr(wrap?.value)
        ? 'kwp'
        : boolAttr(encrypt?.value)
          ? 'gcm'
          : undefined;
      if (mode === undefined) continue;
      keys.push({ version, idText, masterKeyId: `pkcs11:${this.#keyLabel}:${idText}`, handle, mode });
    }
    conn.keys = keys;
    const top = newest(keys);
    const current = keys.find((k) => k.masterKeyId === this.#current);
    if (top !== undefined && (current === undefined || top.version > current.version))
      this.#current = top.masterKeyId;
  }

  #modeForNewKey(slot: Handle): WrapMode {
    const wanted = this.#opts.mechanism ?? 'auto';
    if (wanted !== 'auto') return wanted;
    const mechanisms = this.#lib.C_GetMechanismList(slot);
    return mechanisms.includes(P.CKM_AES_KEY_WRAP_PAD) || mechanisms.includes(CKM_AES_KEY_WRAP_KWP)
      ? 'kwp'
      : 'gcm';
  }

  #generate(s: Handle, conn: Connection, version: number): KeyVersion {
    const mode = this.#modeForNewKey(conn.slot);
    const idText = `v${version}.${randomBytes(8).toString('hex')}`;
    const kwp = mode === 'kwp';
    this.#count();
    const handle = this.#lib.C_GenerateKey(s, { mechanism: P.CKM_AES_KEY_GEN }, [
      { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
      { type: P.CKA_KEY_TYPE, value: P.CKK_AES },
      { type: P.CKA_VALUE_LEN, value: KEY_BYTES },
      { type: P.CKA_LABEL, value: this.#keyLabel },
      { type: P.CKA_ID, value: Buffer.from(idText, 'latin1') },
      { type: P.CKA_TOKEN, value: true },
      { type: P.CKA_PRIVATE, value: true },
      { type: P.CKA_SENSITIVE, value: true },
      { type: P.CKA_EXTRACTABLE, value: false },
      { type: P.CKA_MODIFIABLE, value: false },
      { type: P.CKA_WRAP, value: kwp },
      { type: P.CKA_UNWRAP, value: kwp },
      { type: P.CKA_ENCRYPT, value: !kwp },
      { type: P.CKA_DECRYPT, value: !kwp },
      { type: P.CKA_SIGN, value: false },
      { type: P.CKA_VERIFY, value: false },
      { type: P.CKA_DERIVE, value: false },
    ]);
    const key: KeyVersion = {
      version,
      idText,
      masterKeyId: `pkcs11:${this.#keyLabel}:${idText}`,
      handle,
      mode,
    };
    conn.keys = [...conn.keys, key];
    return key;
  }

  /** The connection, reconnecting when the last attempt is old enough; HsmUnavailableError otherwise. */
  #connection(): Connection {
    if (this.#conn !== undefined) return this.#conn;
    const now = Date.now();
    if (now - this.#lastAttempt < this.#retryMs) throw this.#unavailable();
    this.#lastAttempt = now;
    try {
      const conn = this.#connect();
      const since = this.#unavailableSince;
      this.#unavailableSince = undefined;
      this.#log.warn('HSM reachable again', {
        module: this.#opts.module,
        downMs: since === undefined ? 0 : now - since,
        masterKeyId: this.#current,
      });
      return conn;
    } catch (e: unknown) {
      this.#closeSessions(this.#conn);
      this.#conn = undefined;
      this.#lastError = describe(e);
      this.#unavailableSince ??= now;
      throw this.#unavailable();
    }
  }

  #unavailable(): HsmUnavailableError {
    const since =
      this.#unavailableSince === undefined ? '' : ` since ${new Date(this.#unavailableSince).toISOString()}`;
    return new HsmUnavailableError(`HSM unavailable${since}: ${this.#lastError || 'not connected'}`);
  }

  async #acquire(conn: Connection): Promise<Handle> {
    const s = conn.idle.pop();
    if (s !== undefined) return s;
    if (conn.open < this.#maxSessions) {
      conn.open++;
      try {
        return this.#lib.C_OpenSession(conn.slot, SESSION_FLAGS);
      } catch (e: unknown) {
        conn.open--;
        throw e;
      }
    }
    return new Promise<Handle>((resolve, reject) => conn.waiters.push({ resolve, reject }));
  }

  #release(conn: Connection, s: Handle): void {
    if (this.#conn !== conn || this.#closed) {
      this.#closeSession(s);
      return;
    }
    const w = conn.waiters.shift();
    if (w) w.resolve(s);
    else conn.idle.push(s);
  }

  /** True when the session still answers: tells "the HSM refused this" from "the HSM is gone". */
  #probe(s: Handle): boolean {
    try {
      this.#lib.C_GetSessionInfo(s);
      return true;
    } catch {
      return false;
    }
  }

  #lost(conn: Connection, e: unknown): void {
    if (this.#conn !== conn) return;
    this.#conn = undefined;
    this.#lastError = describe(e);
    this.#unavailableSince ??= Date.now();
    this.#lastAttempt = 0;
    this.#log.error('HSM connection lost; requests needing the HSM fail until it is back', {
      module: this.#opts.module,
      error: this.#lastError,
    });
    this.#closeSessions(conn);
  }

  #closeSessions(conn: Connection | undefined): void {
    if (conn === undefined) return;
    for (const s of conn.idle.splice(0)) this.#closeSession(s);
    for (const w of conn.waiters.splice(0)) w.reject(this.#unavailable());
  }

  #closeSession(s: Handle): void {
    try {
      this.#lib.C_CloseSession(s);
    } catch {
      // already gone with the HSM
    }
  }

  /**
   * Runs fn on a pooled session. A loss of the HSM gets one immediate
   * reconnection and retry (an HSM restart is then invisible to clients);
   * anything else the token refuses becomes a MasterKeyError.
   */
  async #call<T>(what: string, fn: (s: Handle, conn: Connection) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const conn = this.#connection();
      let s: Handle | undefined;
      try {
        s = await this.#acquire(conn);
        return await fn(s, conn);
      } catch (e: unknown) {
        if (e instanceof MasterKeyError) throw e;
        const lost = isConnectionLoss(e) || s === undefined || !this.#probe(s);
        if (!lost) throw this.#refused(what, e);
        if (s !== undefined) this.#closeSession(s);
        s = undefined;
        this.#lost(conn, e);
        if (attempt >= 2 || this.#closed) throw this.#unavailable();
      } finally {
        if (s !== undefined) this.#release(conn, s);
      }
    }
  }

  #refused(what: string, e: unknown): MasterKeyError {
    if (what === 'unwrap')
      return new MasterKeyError(`cannot unwrap a key: integrity check failed (${describe(e)})`);
    return new MasterKeyError(`the HSM refused to ${what}: ${describe(e)}`);
  }

  #healthCheck(): void {
    if (this.#closed) return;
    const conn = this.#conn;
    if (conn === undefined) {
      try {
        this.#connection();
      } catch {
        // still unavailable; logged when it was lost
      }
      return;
    }
    const s = conn.idle.pop();
    if (s === undefined) return; // every session busy: the HSM answers
    let ok = false;
    try {
      this.#lib.C_GetSessionInfo(s);
      this.#lib.C_GetTokenInfo(conn.slot);
      ok = true;
    } catch (e: unknown) {
      this.#closeSession(s);
      this.#lost(conn, e);
    }
    if (ok) this.#release(conn, s);
  }

  // --- mechanisms ---

  async #kwpWrap(s: Handle, key: KeyVersion, kek: Uint8Array): Promise<Buffer> {
    const lib = this.#lib;
    const value = Buffer.from(kek);
    let obj: Handle | undefined;
    try {
      // A session object holding the KEK, so that the token wraps it (KEKs are in server memory anyway).
      obj = lib.C_CreateObject(s, [
        { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
        { type: P.CKA_KEY_TYPE, value: P.CKK_GENERIC_SECRET },
        { type: P.CKA_TOKEN, value: false },
        { type: P.CKA_PRIVATE, value: true },
        { type: P.CKA_SENSITIVE, value: false },
        { type: P.CKA_EXTRACTABLE, value: true },
        { type: P.CKA_VALUE, value },
      ]);
      this.#count();
      return await lib.C_WrapKeyAsync(
        s,
        { mechanism: P.CKM_AES_KEY_WRAP_PAD },
        key.handle,
        obj,
        Buffer.alloc(kek.length + 16),
      );
    } finally {
      value.fill(0);
      if (obj !== undefined) this.#destroy(s, obj);
    }
  }

  async #kwpUnwrap(s: Handle, key: KeyVersion, wrapped: Uint8Array): Promise<Uint8Array> {
    const lib = this.#lib;
    this.#count();
    const obj = await lib.C_UnwrapKeyAsync(
      s,
      { mechanism: P.CKM_AES_KEY_WRAP_PAD },
      key.handle,
      Buffer.from(wrapped),
      [
        { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
        { type: P.CKA_KEY_TYPE, value: P.CKK_GENERIC_SECRET },
        { type: P.CKA_TOKEN, value: false },
        { type: P.CKA_PRIVATE, value: true },
        { type: P.CKA_SENSITIVE, value: false },
        { type: P.CKA_EXTRACTABLE, value: true },
      ],
    );
    try {
      const [attr] = lib.C_GetAttributeValue(s, obj, [{ type: P.CKA_VALUE }]);
      const v = attr?.value;
      if (!Buffer.isBuffer(v)) throw new MasterKeyError('the HSM returned no key value');
      const out = new Uint8Array(v);
      v.fill(0);
      return out;
    } finally {
      this.#destroy(s, obj);
    }
  }

  #destroy(s: Handle, obj: Handle): void {
    try {
      this.#lib.C_DestroyObject(s, obj);
    } catch {
      // a session object dies with its session anyway
    }
  }

  #gcmMechanism(key: KeyVersion, iv: Buffer) {
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

  async #gcmWrap(s: Handle, key: KeyVersion, kek: Uint8Array): Promise<Buffer> {
    const iv = randomBytes(GCM_IV_BYTES);
    const value = Buffer.from(kek);
    try {
      this.#lib.C_EncryptInit(s, this.#gcmMechanism(key, iv), key.handle);
      this.#count();
      const ct = await this.#lib.C_EncryptAsync(s, value, Buffer.alloc(kek.length + GCM_TAG_BYTES + 16));
      return Buffer.concat([iv, ct]);
    } finally {
      value.fill(0);
    }
  }

  async #gcmUnwrap(s: Handle, key: KeyVersion, wrapped: Uint8Array): Promise<Uint8Array> {
    const iv = Buffer.from(wrapped.subarray(0, GCM_IV_BYTES));
    const body = Buffer.from(wrapped.subarray(GCM_IV_BYTES));
    this.#lib.C_DecryptInit(s, this.#gcmMechanism(key, iv), key.handle);
    this.#count();
    const out = await this.#lib.C_DecryptAsync(s, body, Buffer.alloc(body.length));
    const result = new Uint8Array(out);
    out.fill(0);
    return result;
  }

  #count(): void {
    this.calls++;
    counter[CALLS] = (counter[CALLS] ?? 0) + 1;
  }

  #checkOpen(): void {
    if (this.#closed) throw new MasterKeyError('the pkcs11 master key provider is closed');
  }
}

export type Pkcs11Provider = MasterKeyProvider & {
  readonly kind: 'pkcs11';
  readonly keyLabel: string;
  /** HSM round trips so far */
  readonly calls: number;
};

/**
 * Opens the token, logs in, and generates the master key on first start.
 * Fails (MasterKeyError) when the module, the token, the PIN or the key is
 * wrong or the HSM cannot be reached: a server does not start without its
 * root of trust.
 */
export async function openPkcs11Provider(opts: Pkcs11ProviderOptions): Promise<Pkcs11Provider> {
  if (opts.module === '') throw new MasterKeyError('hsm.module must name the PKCS#11 library');
  if (opts.tokenLabel === undefined && opts.slot === undefined) {
    throw new MasterKeyError('set hsm.tokenLabel or hsm.slot to choose the token');
  }
  const pin = await resolvePin(opts.pin, opts.env);
  let lib: Pkcs11;
  try {
    lib = loadLibrary(opts.module);
  } catch (e: unknown) {
    throw new MasterKeyError(`cannot load the PKCS#11 module ${opts.module}: ${describe(e)}`);
  }
  const provider = new Pkcs11MasterKeyProvider(lib, pin, opts);
  provider.start();
  (opts.log ?? silentLogger).info('pkcs11 master-key provider ready', {
    module: opts.module,
    token: opts.tokenLabel ?? `slot ${String(opts.slot)}`,
    masterKeyId: provider.currentKeyId,
  });
  return provider;
}
