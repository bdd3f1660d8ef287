/**
 * The KMIP Credential as a second factor (auth.identities.X.credential /
 * .device): checked after the certificate named the identity.
 */
import { createHash } from 'node:crypto';
import type { IdentityConfig } from '../config/auth.js';
import { KmipError } from '../kmip/errors.js';
import { CredentialType, Tag } from '../kmip/spec/index.js';
import { child, childEnum, children, childStruct, childText } from '../kmip/ttlv/build.js';
import type { TtlvStructure } from '../kmip/ttlv/types.js';
import type { Logger } from '../log.js';
import { verifyPassword } from './password.js';

const CREDENTIAL_CACHE_MS = 5 * 60_000;
const CREDENTIAL_CACHE_MAX = 10_000;

const DEVICE_FIELDS = [
  ['serialNumber', Tag.DeviceSerialNumber],
  ['deviceIdentifier', Tag.DeviceIdentifier],
  ['networkIdentifier', Tag.NetworkIdentifier],
  ['machineIdentifier', Tag.MachineIdentifier],
  ['mediaIdentifier', Tag.MediaIdentifier],
] as const;

export class CredentialCheck {
  /** sha256(identity, username, password) of credentials verified lately: scrypt costs ~50 ms */
  readonly #verified = new Map<string, number>();

  constructor(private readonly log: Logger) {}

  async check(
    identity: string,
    entry: IdentityConfig,
    authentication: TtlvStructure | undefined,
  ): Promise<void> {
    if (entry.credential === undefined && entry.device === undefined) return;
    // KMIP 2.0 §2.1.10 allows several Credentials in one Authentication.
    const credentials = children(authentication, Tag.Credential);
    const ofType = (t: number) => credentials.filter((c) => childEnum(c, Tag.CredentialType) === t);
    if (entry.credential !== undefined) {
      const { username, passwordHash } = entry.credential;
      let ok = false;
      for (const c of ofType(CredentialType.UsernameAndPassword)) {
        const value = child(c, Tag.CredentialValue);
        const user = childText(value, Tag.Username);
        const password = childText(value, Tag.Password);
        if (user !== username || password === undefined) continue;
        if (await this.#passwordOk(identity, user, password, passwordHash)) {
          ok = true;
          break;
        }
      }
      if (!ok) {
        this.log.info('credential refused', { identity });
        throw new KmipError(
          'AuthenticationNotSuccessful',
          'the Username and Password credential is missing or wrong',
        );
      }
    }
    if (entry.device !== undefined) {
      const device = entry.device;
      const ok = ofType(CredentialType.Device).some((c) => {
        const value = childStruct(c, Tag.CredentialValue);
        return DEVICE_FIELDS.every(([field, tag]) => {
          const want = device[field];
          return want === undefined || childText(value, tag) === want;
        });
      });
      if (!ok) {
        this.log.info('device credential refused', { identity });
        throw new KmipError('AuthenticationNotSuccessful', 'the Device credential is missing or wrong');
      }
    }
  }

  async #passwordOk(identity: string, user: string, password: string, hash: string): Promise<boolean> {
    const key = createHash('sha256')
      .update(JSON.stringify([identity, user, password, hash]))
      .digest('hex');
    const now = Date.now();
    const at = this.#verified.get(key);
    if (at !== undefined && now - at < CREDENTIAL_CACHE_MS) return true;
    if (!(await verifyPassword(password, hash))) return false;
    if (this.#verified.size >= CREDENTIAL_CACHE_MAX) this.#verified.clear();
    this.#verified.set(key, now);
    return true;
  }
}
