/**
 * What the cryptographic operations (Encrypt, Decrypt, Sign, Signature
 * Verify, MAC, MAC Verify, Derive Key, Certify) share: loading the key with
 * the lifecycle, usage-mask and Usage Limits rules, the Cryptographic
 * Parameters in force, and the key material as node:crypto wants it.
 *
 * Lifecycle (KMIP 1.4 §3.22 table, 2.1 §4.57): protecting (encrypt, sign,
 * MAC, wrap, derive, certify) needs an Active key before its Protect Stop
 * Date; processing (decrypt, verify, MAC verify) needs an Active,
 * Deactivated or Compromised key on or after its Process Start Date. A
 * failure is Wrong Key Lifecycle State (2.x) / Permission Denied (1.x), as
 * CS-BC-M-14 and CS-AC-M-8 expect.
 */
import { type KeyObject, X509Certificate } from 'node:crypto';
import type { HsmKeyService } from '../../../hsm/types.js';
import { KmipError } from '../../errors.js';
import { findDate, findEnum, findInteger, findValue, setStandard } from '../../model/attributes.js';
import { keyFromBlock } from '../../model/key-formats.js';
import { isArchived } from '../../model/lifecycle.js';
import { keyBlockOf, type ManagedObject } from '../../model/object.js';
import { ObjectType, State, Tag, UsageLimitsUnit } from '../../spec/index.js';
import { child, childBytes, longInteger, structure } from '../../ttlv/build.js';
import type { TtlvStructure } from '../../ttlv/types.js';
import type { OperationContext } from '../types.js';
import { isDestroyed, notFound, stateName, stateOf, wrongState } from './common.js';
import { hsmLabel, hsmOf, isResident } from './hsm-keys.js';
import { usageRemaining } from './usage.js';

/** Applying protection (encrypt, sign, MAC) or processing protected data (decrypt, verify). */
export type CryptoUse = 'protect' | 'process';

export interface CryptoUsage {
  readonly use: CryptoUse;
  /** Cryptographic Usage Mask bit(s); any one of them allows the use */
  readonly mask: number;
  /** for messages: "encrypt", "sign"… */
  readonly what: string;
}

/** A key loaded for one cryptographic use. */
export interface CryptoTarget {
  readonly obj: ManagedObject;
  readonly content: TtlvStructure;
  /** the request's Cryptographic Parameters, else the object's Cryptographic Parameters attribute */
  readonly params: TtlvStructure | undefined;
  /** Cryptographic Algorithm attribute of the object */
  readonly algorithm: number | undefined;
  readonly length: number | undefined;
  /**
   * Set for a key kept inside the HSM (hsm-resident.ts): the operation runs
   * there, and `content` is an empty structure with no key material.
   */
  readonly hsm?: { readonly service: HsmKeyService; readonly label: string };
}

/** Checks the object's state and dates allow `use` now. */
export function checkUsableState(
  ctx: OperationContext,
  obj: ManagedObject,
  use: CryptoUse,
  what: string,
): void {
  const state = stateOf(obj);
  const now = BigInt(Math.floor(ctx.services.clock().getTime() / 1000));
  if (use === 'protect') {
    if (state !== State.Active) {
      throw wrongState(ctx, `object ${obj.id} is ${stateName(state)}; only an Active key may ${what}`);
    }
    const stop = findDate(obj.attributes, Tag.ProtectStopDate);
    if (stop !== undefined && now >= stop) {
      throw wrongState(ctx, `object ${obj.id} is past its Protect Stop Date; it may no longer ${what}`);
    }
    return;
  }
  if (state !== State.Active && state !== State.Deactivated && state !== State.Compromised) {
    throw wrongState(ctx, `object ${obj.id} is ${stateName(state)}; it cannot ${what}`);
  }
  const start = findDate(obj.attributes, Tag.ProcessStartDate);
  if (start !== undefined && now < start) {
    throw wrongState(ctx, `object ${obj.id} is before its Process Start Date; it cannot ${what} yet`);
  }
}

export function checkUsageMask(_ctx: OperationContext, obj: ManagedObject, usage: CryptoUsage): void {
  const mask = findInteger(obj.attributes, Tag.CryptographicUsageMask) ?? 0;
  if ((mask & usage.mask) === 0) {
    throw new KmipError(
      'IncompatibleCryptographicUsageMask',
      `object ${obj.id} does not have the Cryptographic Usage Mask to ${usage.what}`,
    );
  }
}

/**
 * The object `id` names, unsealed, after every rule for `usage`, with the
 * Cryptographic Parameters in force (`requestParams`, else the object's
 * attribute). Usage Limits are not consumed here: call consumeUsage once
 * the operation has succeeded. The cryptographic operations get it from
 * their pipeline (define.ts defineCryptoOperation).
 */
export async function loadCryptoObject(
  ctx: OperationContext,
  id: string,
  usage: CryptoUsage,
  requestParams: TtlvStructure | undefined,
): Promise<CryptoTarget> {
  const obj = await ctx.services.objects.get(id);
  if (obj === undefined || obj.tombstoned) throw notFound(ctx, id);
  if (isArchived(obj.attributes)) {
    throw new KmipError('ObjectArchived', `object ${id} is archived; Recover it first`);
  }
  const resident = isResident(obj);
  if (isDestroyed(stateOf(obj)) || (obj.sealed === undefined && !resident)) {
    throw new KmipError('ObjectDestroyed', `object ${id} has no key material`);
  }
  checkUsableState(ctx, obj, usage.use, usage.what);
  checkUsageMask(ctx, obj, usage);
  // Usage Limits count protection only (KMIP 1.4 §3.21): decrypting and verifying stay possible.
  const remaining = usage.use === 'protect' ? usageRemaining(obj.attributes) : undefined;
  if (remaining !== undefined && remaining <= 0n) {
    throw new KmipError(
      // CS-BC-M-7 expects Permission Denied in every version (2.x's Usage Limit Exceeded is unused).
      'PermissionDenied',
      `object ${id} has used up its Usage Limits`,
    );
  }
  const own = findValue(obj.attributes, Tag.CryptographicParameters);
  const params = requestParams ?? (own?.type === 'Structure' ? own : undefined);
  const algorithm = findEnum(obj.attributes, Tag.CryptographicAlgorithm);
  const length = findInteger(obj.attributes, Tag.CryptographicLength);
  if (resident) {
    const tag = obj.objectType === ObjectType.PrivateKey ? Tag.PrivateKey : Tag.SymmetricKey;
    const hsm = { service: hsmOf(ctx), label: hsmLabel(obj.id) };
    return { obj, content: structure(tag, []), params, algorithm, length, hsm };
  }
  const content = await ctx.services.objects.content(obj);
  if (content === undefined) {
    throw new KmipError('ObjectDestroyed', `object ${id} has no key material`);
  }
  return { obj, content, params, algorithm, length };
}

/**
 * Counts one use (or `bytes` for a Byte unit) against the object's Usage
 * Limits (KMIP 1.4 §3.21); objects without Usage Limits are not written.
 * Only protecting operations (encrypt, sign, MAC, derive) count.
 */
export async function consumeUsage(ctx: OperationContext, obj: ManagedObject, bytes = 0): Promise<void> {
  if (findValue(obj.attributes, Tag.UsageLimits) === undefined) return;
  await ctx.services.objects.update(obj.id, (cur) => {
    const limits = findValue(cur.attributes, Tag.UsageLimits);
    const remaining = usageRemaining(cur.attributes);
    if (limits?.type !== 'Structure' || remaining === undefined) return undefined;
    const unit = limits.value.find((c) => c.tag === Tag.UsageLimitsUnit);
    const cost = unit?.type === 'Enumeration' && unit.value === UsageLimitsUnit.Byte ? BigInt(bytes) : 1n;
    if (cost > remaining) {
      throw new KmipError('PermissionDenied', `object ${cur.id} has only ${remaining} uses left`);
    }
    const left = longInteger(Tag.UsageLimitsCount, remaining - cost);
    const items = limits.value.some((c) => c.tag === Tag.UsageLimitsCount)
      ? limits.value.map((c) => (c.tag === Tag.UsageLimitsCount ? left : c))
      : [
          ...limits.value.filter((c) => c.tag === Tag.UsageLimitsTotal),
          left,
          ...limits.value.filter((c) => c.tag !== Tag.UsageLimitsTotal),
        ];
    return { attributes: setStandard(cur.attributes, structure(Tag.UsageLimits, items)) };
  });
}

/** The bytes of a Symmetric Key or Secret Data (Raw, Opaque or Transparent Symmetric Key format). */
export function secretBytes(target: Pick<CryptoTarget, 'obj' | 'content'>): Uint8Array {
  const kv = child(keyBlockOf(target.content), Tag.KeyValue);
  if (kv?.type === 'Structure') {
    const km = child(kv, Tag.KeyMaterial);
    if (km?.type === 'ByteString') return km.value;
    if (km?.type === 'Structure') {
      const key = childBytes(km, Tag.Key);
      if (key !== undefined) return key;
    }
  }
  throw new KmipError(
    'InvalidField',
    `object ${target.obj.id} has no usable key material (wrapped, or not a symmetric key)`,
  );
}

/**
 * Parsed asymmetric keys, by object id and version: OpenSSL's decoders take
 * about a millisecond per private key, more than the signature itself
 * (ECDSA P-256). Bounded in count and idle time; a changed object (new
 * version) is parsed again, and a Destroyed or revoked one never gets past
 * loadCryptoObject's checks to be looked up.
 */
const KEY_CACHE_MAX = 1024;
const KEY_CACHE_IDLE_MS = 5 * 60_000;
const keyCache = new Map<string, { readonly key: KeyObject; used: number }>();

/** The node:crypto key of a Public Key, Private Key or Certificate object. */
export function asymmetricKeyOf(target: Pick<CryptoTarget, 'obj' | 'content'>): KeyObject {
  const { obj } = target;
  const cacheKey = `${obj.id}\u0000${obj.version}`;
  const now = Date.now();
  const hit = keyCache.get(cacheKey);
  if (hit !== undefined && now - hit.used < KEY_CACHE_IDLE_MS) {
    keyCache.delete(cacheKey);
    hit.used = now;
    keyCache.set(cacheKey, hit);
    return hit.key;
  }
  const key = parseAsymmetricKey(target);
  keyCache.delete(cacheKey);
  keyCache.set(cacheKey, { key, used: now });
  for (const [k, v] of keyCache) {
    if (keyCache.size <= KEY_CACHE_MAX && now - v.used < KEY_CACHE_IDLE_MS) break;
    keyCache.delete(k);
  }
  return key;
}

function parseAsymmetricKey(target: Pick<CryptoTarget, 'obj' | 'content'>): KeyObject {
  const { obj, content } = target;
  if (obj.objectType === ObjectType.Certificate) {
    const value = childBytes(content, Tag.CertificateValue);
    if (value === undefined) throw new KmipError('InvalidField', `certificate ${obj.id} has no value`);
    try {
      return new X509Certificate(value).publicKey;
    } catch {
      throw new KmipError('InvalidField', `certificate ${obj.id} cannot be read`);
    }
  }
  const block = keyBlockOf(content);
  if (
    block === undefined ||
    (obj.objectType !== ObjectType.PublicKey && obj.objectType !== ObjectType.PrivateKey)
  ) {
    throw new KmipError('InvalidField', `object ${obj.id} is not an asymmetric key`);
  }
  return keyFromBlock(obj.objectType, block);
}
