/**
 * KMIP request messages for the load generator, encoded once as templates.
 * Per request only a fixed-width text (a Name or a Unique Identifier) is
 * patched into a copy of the template, so the client costs a Buffer copy,
 * not a TTLV encode, and leaves the cores to the server.
 */

import {
  BlockCipherMode,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  compareVersions,
  DigitalSignatureAlgorithm,
  KeyFormatType,
  type KmipVersion,
  NameType,
  ObjectType,
  Operation,
  RecommendedCurve,
  Tag,
  versionPair,
} from '../../src/kmip/spec/index.js';
import { encodeTtlv } from '../../src/kmip/ttlv/binary.js';
import type { TtlvItem } from '../../src/kmip/ttlv/types.js';

const S = (tag: number, value: TtlvItem[]): TtlvItem => ({ tag, type: 'Structure', value });
const text = (tag: number, value: string): TtlvItem => ({ tag, type: 'TextString', value });
const int = (tag: number, value: number): TtlvItem => ({ tag, type: 'Integer', value });
const enumeration = (tag: number, value: number): TtlvItem => ({ tag, type: 'Enumeration', value });

/** Width of every name the generator sends: `bench-RRRRRRRR-kNNNNNNNNN` (run tag, kind, counter). */
export const NAME_WIDTH = 25;
/** Server-assigned identifiers are UUIDs (src/kmip/model/service.ts). */
export const UID_WIDTH = 36;

const isV2 = (v: KmipVersion): boolean => compareVersions(v, '2.0') >= 0;

export function requestMessage(version: KmipVersion, operation: number, payload: TtlvItem[]): Buffer {
  const pv = versionPair(version);
  return encodeTtlv(
    S(Tag.RequestMessage, [
      S(Tag.RequestHeader, [
        S(Tag.ProtocolVersion, [
          int(Tag.ProtocolVersionMajor, pv.major),
          int(Tag.ProtocolVersionMinor, pv.minor),
        ]),
        int(Tag.BatchCount, 1),
      ]),
      S(Tag.BatchItem, [enumeration(Tag.Operation, operation), S(Tag.RequestPayload, payload)]),
    ]),
  );
}

function nameValue(name: string): TtlvItem {
  return S(Tag.Name, [
    text(Tag.NameValue, name),
    enumeration(Tag.NameType, NameType.UninterpretedTextString),
  ]);
}

type Entry = [string, TtlvItem];

/** 1.x: Template-Attribute (or `tag1x`) of Attribute Name/Value pairs; 2.x: Attributes (`tag2x`, KMIP 2.0 §2.1.1). */
function attributeList(
  version: KmipVersion,
  entries: readonly Entry[],
  tag1x: number = Tag.TemplateAttribute,
  tag2x: number = Tag.Attributes,
): TtlvItem {
  if (isV2(version))
    return S(
      tag2x,
      entries.map(([, v]) => v),
    );
  return S(
    tag1x,
    entries.map(([n, v]) =>
      S(Tag.Attribute, [text(Tag.AttributeName, n), { ...v, tag: Tag.AttributeValue }]),
    ),
  );
}

function aesEntries(name: string | undefined): Entry[] {
  const entries: Entry[] = [
    ['Cryptographic Algorithm', enumeration(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES)],
    ['Cryptographic Length', int(Tag.CryptographicLength, 256)],
    [
      'Cryptographic Usage Mask',
      int(Tag.CryptographicUsageMask, CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt),
    ],
  ];
  if (name !== undefined) entries.push(['Name', nameValue(name)]);
  return entries;
}

function attributes(version: KmipVersion, name: string | undefined): TtlvItem {
  return attributeList(version, aesEntries(name));
}

/** Active from a minute ago, so the crypto operations may use it at once. */
function activeNow(): Entry {
  const at = BigInt(Math.floor(Date.now() / 1000) - 60);
  return ['Activation Date', { tag: Tag.ActivationDate, type: 'DateTime', value: at }];
}

export function createAesMessage(version: KmipVersion, name: string): Buffer {
  return requestMessage(version, Operation.Create, [
    enumeration(Tag.ObjectType, ObjectType.SymmetricKey),
    attributes(version, name),
  ]);
}

export function registerAesMessage(version: KmipVersion, name: string, key: Uint8Array): Buffer {
  const keyBlock = S(Tag.KeyBlock, [
    enumeration(Tag.KeyFormatType, KeyFormatType.Raw),
    S(Tag.KeyValue, [{ tag: Tag.KeyMaterial, type: 'ByteString', value: key }]),
    enumeration(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
    int(Tag.CryptographicLength, key.length * 8),
  ]);
  return requestMessage(version, Operation.Register, [
    enumeration(Tag.ObjectType, ObjectType.SymmetricKey),
    attributes(version, name),
    S(Tag.SymmetricKey, [keyBlock]),
  ]);
}

/** An AES-256 key for Encrypt/Decrypt, Active at once. */
export function createActiveAesMessage(version: KmipVersion, name: string): Buffer {
  return requestMessage(version, Operation.Create, [
    enumeration(Tag.ObjectType, ObjectType.SymmetricKey),
    attributeList(version, [...aesEntries(name), activeNow()]),
  ]);
}

/** An EC P-256 key pair whose private key signs, Active at once. */
export function createEcKeyPairMessage(version: KmipVersion, name: string): Buffer {
  const common: Entry[] = [
    ['Cryptographic Algorithm', enumeration(Tag.CryptographicAlgorithm, CryptographicAlgorithm.EC)],
    ['Cryptographic Length', int(Tag.CryptographicLength, 256)],
    [
      'Cryptographic Domain Parameters',
      S(Tag.CryptographicDomainParameters, [enumeration(Tag.RecommendedCurve, RecommendedCurve.P_256)]),
    ],
    activeNow(),
  ];
  const priv: Entry[] = [
    ['Cryptographic Usage Mask', int(Tag.CryptographicUsageMask, CryptographicUsageMask.Sign)],
    ['Name', nameValue(name)],
  ];
  const pub: Entry[] = [
    ['Cryptographic Usage Mask', int(Tag.CryptographicUsageMask, CryptographicUsageMask.Verify)],
  ];
  return requestMessage(version, Operation.CreateKeyPair, [
    attributeList(version, common, Tag.CommonTemplateAttribute, Tag.CommonAttributes),
    attributeList(version, priv, Tag.PrivateKeyTemplateAttribute, Tag.PrivateKeyAttributes),
    attributeList(version, pub, Tag.PublicKeyTemplateAttribute, Tag.PublicKeyAttributes),
  ]);
}

/** AES-GCM Encrypt of `data` with a server-chosen IV (Random IV, KMIP 1.2 §2.1.5). */
export function encryptGcmMessage(version: KmipVersion, uid: string, data: Uint8Array): Buffer {
  return requestMessage(version, Operation.Encrypt, [
    text(Tag.UniqueIdentifier, uid),
    S(Tag.CryptographicParameters, [
      enumeration(Tag.BlockCipherMode, BlockCipherMode.GCM),
      int(Tag.TagLength, 16),
      { tag: Tag.RandomIV, type: 'Boolean', value: true },
    ]),
    { tag: Tag.Data, type: 'ByteString', value: data },
  ]);
}

/** ECDSA with SHA-256 over `data`. */
export function signEcdsaMessage(version: KmipVersion, uid: string, data: Uint8Array): Buffer {
  return requestMessage(version, Operation.Sign, [
    text(Tag.UniqueIdentifier, uid),
    S(Tag.CryptographicParameters, [
      enumeration(Tag.DigitalSignatureAlgorithm, DigitalSignatureAlgorithm.ECDSAWithSHA256),
    ]),
    { tag: Tag.Data, type: 'ByteString', value: data },
  ]);
}

export function getMessage(version: KmipVersion, uid: string): Buffer {
  return requestMessage(version, Operation.Get, [text(Tag.UniqueIdentifier, uid)]);
}

/** Get Attributes "State", as MongoDB and Percona poll it (CLIENTS.md). */
export function getStateMessage(version: KmipVersion, uid: string): Buffer {
  const ref = isV2(version)
    ? enumeration(Tag.AttributeReference, Tag.State)
    : text(Tag.AttributeName, 'State');
  return requestMessage(version, Operation.GetAttributes, [text(Tag.UniqueIdentifier, uid), ref]);
}

/** Locate by Name, as pg_tde and Ceph do (they expect exactly one id back). */
export function locateByNameMessage(version: KmipVersion, name: string): Buffer {
  const filter = isV2(version)
    ? S(Tag.Attributes, [nameValue(name)])
    : S(Tag.Attribute, [text(Tag.AttributeName, 'Name'), { ...nameValue(name), tag: Tag.AttributeValue }]);
  return requestMessage(version, Operation.Locate, [filter]);
}

/**
 * A message with one fixed-width ASCII field: `with(value)` returns a fresh
 * copy with `value` written over the placeholder (TTLV lengths do not change).
 */
export class PatchTemplate {
  readonly #template: Buffer;
  readonly #offset: number;
  readonly width: number;

  constructor(build: (placeholder: string) => Buffer, width: number) {
    const placeholder = '~'.repeat(width);
    this.#template = build(placeholder);
    const needle = Buffer.from(placeholder, 'latin1');
    this.#offset = this.#template.indexOf(needle);
    if (this.#offset < 0 || this.#template.indexOf(needle, this.#offset + 1) >= 0) {
      throw new Error('the placeholder must occur exactly once in the template');
    }
    this.width = width;
  }

  with(value: string): Buffer {
    if (value.length !== this.width) throw new Error(`value must be ${this.width} characters: ${value}`);
    const out = Buffer.allocUnsafe(this.#template.length);
    this.#template.copy(out);
    // Names and UUIDs are ASCII, so one character is one byte.
    out.write(value, this.#offset, 'latin1');
    return out;
  }
}

/** Fixed-width names: `bench-<run>-<kind><9 digits>`; `run` is 8 hex characters. */
export function benchName(run: string, kind: 'c' | 'p' | 'r', n: number): string {
  return `bench-${run}-${kind}${String(n).padStart(9, '0')}`;
}
