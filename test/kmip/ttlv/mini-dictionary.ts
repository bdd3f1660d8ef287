/**
 * A small hand-made TtlvDictionary for the XML/JSON codec unit tests, so they
 * do not depend on the generated spec tables. Tag numbers are the real KMIP
 * ones (KMIP 2.1 §11.56) where a real tag exists.
 */
import type { TtlvDictionary, ValueNames } from '../../../src/kmip/ttlv/dictionary.js';

function names(entries: Record<string, number>): ValueNames {
  const byName = new Map(Object.entries(entries));
  const byValue = new Map(Object.entries(entries).map(([n, v]) => [v, n]));
  return { byName, byValue };
}

export const MINI_TAGS: Readonly<Record<string, number>> = {
  ActivationDate: 0x420001,
  Attribute: 0x420008,
  AttributeName: 0x42000a,
  AttributeValue: 0x42000b,
  BatchCount: 0x42000d,
  BatchItem: 0x42000f,
  CryptographicAlgorithm: 0x420028,
  CryptographicLength: 0x42002a,
  CryptographicUsageMask: 0x42002c,
  KeyMaterial: 0x420043,
  LeaseTime: 0x420049,
  Modulus: 0x420052,
  ObjectType: 0x420057,
  Operation: 0x42005c,
  ProtocolVersion: 0x420069,
  ProtocolVersionMajor: 0x42006a,
  ProtocolVersionMinor: 0x42006b,
  RequestHeader: 0x420077,
  RequestMessage: 0x420078,
  RequestPayload: 0x420079,
  Sensitive: 0x420120,
  TimeStamp: 0x420092,
  UniqueIdentifier: 0x420094,
  UsageLimitsTotal: 0x42009a,
  Timestamp: 0x420151,
  Data: 0x4200c2,
};

const TAG_NAMES = new Map(Object.entries(MINI_TAGS).map(([n, t]) => [t, n]));

export const OPERATION = names({ Create: 0x01, Register: 0x03, Query: 0x18 });
export const ALGORITHM = names({ DES: 0x01, AES: 0x03, RSA: 0x04 });
export const OBJECT_TYPE = names({ Certificate: 0x01, SymmetricKey: 0x02 });
export const USAGE_MASK = names({
  Sign: 0x01,
  Verify: 0x02,
  Encrypt: 0x04,
  Decrypt: 0x08,
  WrapKey: 0x10,
  UnwrapKey: 0x20,
});

const ENUM_BY_TAG = new Map<number, ValueNames>([
  [MINI_TAGS.Operation ?? 0, OPERATION],
  [MINI_TAGS.CryptographicAlgorithm ?? 0, ALGORITHM],
  [MINI_TAGS.ObjectType ?? 0, OBJECT_TYPE],
]);
const ENUM_BY_ATTRIBUTE = new Map<string, ValueNames>([
  ['Cryptographic Algorithm', ALGORITHM],
  ['Object Type', OBJECT_TYPE],
]);

export const miniDictionary: TtlvDictionary = {
  tagName: (tag) => TAG_NAMES.get(tag),
  tagByName: (name) => (Object.hasOwn(MINI_TAGS, name) ? MINI_TAGS[name] : undefined),
  enumFor(tag, attributeName) {
    if (tag === MINI_TAGS.AttributeValue) {
      return attributeName === undefined ? undefined : ENUM_BY_ATTRIBUTE.get(attributeName);
    }
    return ENUM_BY_TAG.get(tag);
  },
  maskFor(tag, attributeName) {
    if (tag === MINI_TAGS.AttributeValue) {
      return attributeName === 'Cryptographic Usage Mask' ? USAGE_MASK : undefined;
    }
    return tag === MINI_TAGS.CryptographicUsageMask ? USAGE_MASK : undefined;
  },
};

/** Tag number of a mini-dictionary name (throws on a typo). */
export function T(name: string): number {
  const t = MINI_TAGS[name];
  if (t === undefined) throw new Error(`no mini tag ${name}`);
  return t;
}
