import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import {
  type HsmKeyService,
  MasterKeyError,
  type MasterKeyProvider,
  type MasterKeyVersionInfo,
  type ProviderHealth,
} from '../types.js';
import { Availability } from './health.js';
import {
  findKeyVersions,
  generateKeyVersion,
  type KeyVersion,
  newest,
  oldestFirst,
  ownsMasterKeyId,
} from './key-versions.js';
import {
  countCall,
  describe,
  type Handle,
  initialize,
  isConnectionLoss,
  loadLibrary,
  type Pkcs11,
} from './library.js';
import { checkWrappedLength, type KekOp, modeForNewKey, unwrapKek, wrapKek } from './mechanisms.js';
import type { Pkcs11ProviderOptions } from './options.js';
import { resolvePin } from './pin.js';
import { ResidentKeys, type SessionRunner } from './resident.js';
import { findSlot, login, SessionPool } from './session-pool.js';

export type { WrapMode } from './key-versions.js';
export { pkcs11CallCount } from './library.js';
export type { Pkcs11ProviderOptions } from './options.js';
export { resolvePin } from './pin.js';

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
  readonly #availability: Availability;
  #conn: SessionPool | undefined;
  #current = '';
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
    this.#availability = new Availability(opts.graceMs ?? 300_000, opts.retryMs ?? 1000);
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
      this.#dropConnection();
      if (e instanceof MasterKeyError) throw new MasterKeyError(e.message);
      throw new MasterKeyError(`cannot open the HSM through ${this.#opts.module}: ${describe(e)}`);
    }
    const every = this.#opts.healthCheckMs ?? 5000;
    this.#timer = setInterval(() => this.#healthCheck(), every);
    this.#timer.unref();
  }

  owns(masterKeyId: string): boolean {
    return ownsMasterKeyId(this.#keyLabel, masterKeyId);
  }

  health(): ProviderHealth {
    return this.#availability.health(this.#conn !== undefined);
  }

  async wrap(kek: Uint8Array): Promise<{ masterKeyId: string; wrapped: Uint8Array }> {
    this.#checkOpen();
    if (kek.length === 0) throw new MasterKeyError('cannot wrap an empty key');
    const attempt = () =>
      this.#call('wrap', async (s, conn) => {
        const key = conn.keys.find((k) => k.masterKeyId === this.#current) ?? newest(conn.keys);
        if (key === undefined) throw new MasterKeyError('the token holds no master key');
        const wrapped = await wrapKek(this.#kekOp(s, key), kek);
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
      checkWrappedLength(key, wrapped);
      return unwrapKek(this.#kekOp(s, key), wrapped);
    });
  }

  async versions(): Promise<MasterKeyVersionInfo[]> {
    this.#checkOpen();
    return this.#call('list', async (s, conn) => {
      this.#reloadKeys(s, conn);
      return oldestFirst(conn.keys).map((k) => ({
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
    this.#dropConnection();
  }

  // --- connection ---

  #connect(): SessionPool {
    const lib = this.#lib;
    initialize(lib);
    const conn = new SessionPool(lib, findSlot(lib, this.#opts), this.#maxSessions);
    this.#generation++;
    // Kept before the login: a failed start or reconnection closes its session.
    this.#conn = conn;
    const first = conn.first;
    login(lib, first, this.#pin);
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

  /** Reads the versions in the token and adopts the newest as current when it is newer. */
  #reloadKeys(s: Handle, conn: SessionPool): void {
    this.#count();
    const keys = findKeyVersions(this.#lib, s, this.#keyLabel, this.#log);
    conn.keys = keys;
    const top = newest(keys);
    const current = keys.find((k) => k.masterKeyId === this.#current);
    if (top !== undefined && (current === undefined || top.version > current.version))
      this.#current = top.masterKeyId;
  }

  #generate(s: Handle, conn: SessionPool, version: number): KeyVersion {
    const mode = modeForNewKey(this.#lib, conn.slot, this.#opts.mechanism);
    this.#count();
    const key = generateKeyVersion(this.#lib, s, this.#keyLabel, version, mode);
    conn.keys = [...conn.keys, key];
    return key;
  }

  /** The connection, reconnecting when the last attempt is old enough; HsmUnavailableError otherwise. */
  #connection(): SessionPool {
    if (this.#conn !== undefined) return this.#conn;
    const now = Date.now();
    if (!this.#availability.mayReconnect(now)) throw this.#availability.error();
    try {
      const conn = this.#connect();
      this.#log.warn('HSM reachable again', {
        module: this.#opts.module,
        downMs: this.#availability.reconnected(now),
        masterKeyId: this.#current,
      });
      return conn;
    } catch (e: unknown) {
      this.#dropConnection();
      this.#availability.reconnectFailed(e, now);
      throw this.#availability.error();
    }
  }

  /** Closes the current pool's idle sessions and fails its waiting requests. */
  #dropConnection(): void {
    const conn = this.#conn;
    this.#conn = undefined;
    conn?.close(() => this.#availability.error());
  }

  #lost(conn: SessionPool, e: unknown): void {
    if (this.#conn !== conn) return;
    this.#conn = undefined;
    this.#availability.lost(e);
    this.#log.error('HSM connection lost; requests needing the HSM fail until it is back', {
      module: this.#opts.module,
      error: this.#availability.lastError,
    });
    conn.close(() => this.#availability.error());
  }

  /**
   * Runs fn on a pooled session. A loss of the HSM gets one immediate
   * reconnection and retry (an HSM restart is then invisible to clients);
   * anything else the token refuses becomes a MasterKeyError.
   */
  async #call<T>(what: string, fn: (s: Handle, conn: SessionPool) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const conn = this.#connection();
      let s: Handle | undefined;
      try {
        s = await conn.acquire();
        return await fn(s, conn);
      } catch (e: unknown) {
        if (e instanceof MasterKeyError) throw e;
        const lost = isConnectionLoss(e) || s === undefined || !conn.probe(s);
        if (!lost) throw this.#refused(what, e);
        if (s !== undefined) conn.closeSession(s);
        s = undefined;
        this.#lost(conn, e);
        if (attempt >= 2 || this.#closed) throw this.#availability.error();
      } finally {
        if (s !== undefined) conn.release(s, this.#conn === conn && !this.#closed);
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
    const failure = conn.check();
    if (failure !== undefined) this.#lost(conn, failure);
  }

  #kekOp(s: Handle, key: KeyVersion): KekOp {
    return { lib: this.#lib, s, key, count: () => this.#count() };
  }

  #count(): void {
    this.calls++;
    countCall();
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
