import { expect } from 'chai';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  type KmipVersion,
  ObjectType,
  Operation,
  Tag,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import { symmetricKey } from '../../helpers/requests.js';
import { activeNow, attrList } from './fixtures.js';
import { E, type Harness, I, kid, S, text } from './harness.js';

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');
export const U = CryptographicUsageMask;
export const A = CryptographicAlgorithm;
export const V14: KmipVersion = '1.4';
export const V21: KmipVersion = '2.1';

export const Bool = (tag: number, value: boolean): TtlvItem => ({ tag, type: 'Boolean', value });
export const L = (tag: number, value: bigint): TtlvItem => ({ tag, type: 'LongInteger', value });

export function bytesOf(p: TtlvItem | undefined, tag: number): Uint8Array | undefined {
  const c = kid(p, tag);
  return c?.type === 'ByteString' ? c.value : undefined;
}

export function enumOf(p: TtlvItem | undefined, tag: number): number | undefined {
  const c = kid(p, tag);
  return c?.type === 'Enumeration' ? c.value : undefined;
}

// CS-AC-M-4/5/6: an AES-labelled key whose Cryptographic Parameters attribute says HMAC_SHA256.
export const VKEY = '0123456789abcdef0123456789abcdef';
export const VDATA = '01020304050607080910111213141516';
export const VMAC = 'c911e78196d64c30f631bb079ea37b97a95936d4da764d6a171df030c895ecf9';

// RFC 4493 §4 key and example 2.
export const CMAC_KEY = '2b7e151628aed2a6abf7158809cf4f3c';
export const CMAC_MSG = '6bc1bee22e409f96e93d7e117393172a';
export const CMAC_TAG = '070a16b46b4d4144f79bdd9dd04a287c';

export async function registerKey(
  h: Harness,
  version: KmipVersion,
  key: string,
  opts: { mask?: number; algorithm?: number; attrs?: TtlvItem[]; active?: boolean } = {},
): Promise<string> {
  const material = hex(key);
  const p = await h.ok(version, Operation.Register, [
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    attrList(version, [
      I(Tag.CryptographicUsageMask, opts.mask ?? U.MACGenerate | U.MACVerify),
      ...(opts.active === false ? [] : [activeNow()]),
      ...(opts.attrs ?? []),
    ]),
    symmetricKey(material, [], opts.algorithm ?? A.AES),
  ]);
  return text(p, Tag.UniqueIdentifier) ?? '';
}

export const hmacParams = (alg: number): TtlvItem =>
  S(Tag.CryptographicParameters, [E(Tag.CryptographicAlgorithm, alg)]);
export const hashParams = (alg: number): TtlvItem =>
  S(Tag.CryptographicParameters, [E(Tag.HashingAlgorithm, alg)]);

/** A `fails(version, op, payload)` bound to `h`: expects one failed batch item and returns its reason. */
export function failing(h: Harness) {
  return async (version: KmipVersion, op: number, payload: TtlvItem[]): Promise<number | undefined> => {
    const [r] = await h.send(version, [{ op, payload }]);
    expect(r?.status, r?.message).to.equal(1);
    expect(r?.message).to.be.a('string');
    return r?.reason;
  };
}
