/**
 * One connection to the token: its slot, a small pool of logged-in sessions
 * (requests borrow one and wait when all are busy) and the master-key versions
 * read through it. A reconnection makes a new pool; handles of an old one are
 * stale.
 */
import { HsmUnavailableError, MasterKeyError } from '../types.js';
import type { KeyVersion } from './key-versions.js';
import { ckrOf, describe, type Handle, P, type Pkcs11, slotNumber, trimLabel } from './library.js';

const SESSION_FLAGS = P.CKF_SERIAL_SESSION | P.CKF_RW_SESSION;

interface Waiter {
  resolve(s: Handle): void;
  reject(e: Error): void;
}

export interface TokenChoice {
  /** the PKCS#11 library, for messages */
  readonly module: string;
  readonly tokenLabel?: string | undefined;
  readonly slot?: number | undefined;
}

/** The slot holding the chosen initialized token; HsmUnavailableError when there is none. */
export function findSlot(lib: Pkcs11, want: TokenChoice): Handle {
  for (const slot of lib.C_GetSlotList(true)) {
    if (want.slot !== undefined && slotNumber(slot) !== want.slot) continue;
    const info = lib.C_GetTokenInfo(slot);
    if ((info.flags & P.CKF_TOKEN_INITIALIZED) === 0) continue;
    if (want.tokenLabel !== undefined && trimLabel(info.label) !== want.tokenLabel) continue;
    return slot;
  }
  const which = [
    want.tokenLabel === undefined ? '' : `label "${want.tokenLabel}"`,
    want.slot === undefined ? '' : `slot ${want.slot}`,
  ]
    .filter((x) => x !== '')
    .join(' in ');
  throw new HsmUnavailableError(`no initialized token with ${which} in ${want.module}`);
}

/** Logs the user in (once per token: every session of the application shares the login). */
export function login(lib: Pkcs11, s: Handle, pin: string): void {
  try {
    lib.C_Login(s, P.CKU_USER, pin);
  } catch (e: unknown) {
    const code = ckrOf(e);
    if (code === P.CKR_PIN_INCORRECT || code === P.CKR_PIN_LOCKED || code === P.CKR_PIN_EXPIRED) {
      throw new MasterKeyError(`HSM login refused: ${describe(e)} (check hsm.pin)`);
    }
    if (code !== P.CKR_USER_ALREADY_LOGGED_IN) throw e;
  }
}

export class SessionPool {
  readonly #lib: Pkcs11;
  readonly #max: number;
  readonly #idle: Handle[];
  readonly #waiters: Waiter[] = [];
  #open = 1;
  keys: KeyVersion[] = [];

  /** Opens the pool's first session on `slot`; `max` sessions at most. */
  constructor(
    lib: Pkcs11,
    readonly slot: Handle,
    max: number,
  ) {
    this.#lib = lib;
    this.#max = max;
    this.#idle = [lib.C_OpenSession(slot, SESSION_FLAGS)];
  }

  /** The first session, for the login and the first key lookup; it stays in the pool. */
  get first(): Handle {
    const s = this.#idle[0];
    if (s === undefined) throw new MasterKeyError('the HSM session pool is empty');
    return s;
  }

  async acquire(): Promise<Handle> {
    const s = this.#idle.pop();
    if (s !== undefined) return s;
    if (this.#open < this.#max) {
      this.#open++;
      try {
        return this.#lib.C_OpenSession(this.slot, SESSION_FLAGS);
      } catch (e: unknown) {
        this.#open--;
        throw e;
      }
    }
    return new Promise<Handle>((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Back to a waiting request or the pool while the pool is `inService`; closed otherwise. */
  release(s: Handle, inService: boolean): void {
    if (!inService) {
      this.closeSession(s);
      return;
    }
    const w = this.#waiters.shift();
    if (w) w.resolve(s);
    else this.#idle.push(s);
  }

  /** True when the session still answers: tells "the HSM refused this" from "the HSM is gone". */
  probe(s: Handle): boolean {
    try {
      this.#lib.C_GetSessionInfo(s);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The health probe: asks the token through an idle session. Undefined when
   * it answers (or every session is busy, which says as much); the error otherwise.
   */
  check(): unknown {
    const s = this.#idle.pop();
    if (s === undefined) return undefined;
    try {
      this.#lib.C_GetSessionInfo(s);
      this.#lib.C_GetTokenInfo(this.slot);
    } catch (e: unknown) {
      this.closeSession(s);
      return e ?? new Error('the HSM health probe failed');
    }
    this.release(s, true);
    return undefined;
  }

  /** Closes the idle sessions and fails the waiting requests with `reason()`. */
  close(reason: () => Error): void {
    for (const s of this.#idle.splice(0)) this.closeSession(s);
    for (const w of this.#waiters.splice(0)) w.reject(reason());
  }

  closeSession(s: Handle): void {
    try {
      this.#lib.C_CloseSession(s);
    } catch {
      // already gone with the HSM
    }
  }
}
