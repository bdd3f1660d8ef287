/**
 * Two tenants for the no-existence-oracle tests (existence-oracle.test.ts,
 * tenant-isolation.property.test.ts): each with keys in every lifecycle
 * state, a key pair and an HMAC key, and, for every operation that names an
 * object, a request template to send once with another tenant's object and
 * once with an identifier no object has.
 */
import { randomUUID } from 'node:crypto';
import type { Role } from '../../src/config/auth.js';
import {
  AdjustmentType,
  BlockCipherMode,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  DerivationMethod,
  HashingAlgorithm,
  NameType,
  ObjectType,
  Operation,
  RecommendedCurve,
  RevocationReasonCode,
  SplitKeyMethod,
  Tag,
} from '../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../src/kmip/ttlv/types.js';
import { type AccessServer, B, E, I, type IdentitySpec, S, T, textOf } from './harness.js';

const U = CryptographicUsageMask;

const id = (tenant: string, roles: Role[]): IdentitySpec => ({ tenant, roles });

/** Who acts in the tests: payments owns the objects probed; hr probes them. */
export const IDENTITIES: Record<string, IdentitySpec> = {
  alice: id('payments', ['crypto-user']),
  carol: id('payments', ['key-administrator']),
  bob: id('hr', ['crypto-user']),
  hradmin: id('hr', ['key-administrator']),
  hrboth: id('hr', ['crypto-user', 'key-administrator']),
  officer1: id('ops', ['security-officer']),
  officer2: id('ops', ['security-officer']),
};

/** The probing identities of tenant hr. */
export const PROBERS = ['bob', 'hradmin', 'hrboth'] as const;

/** Identities of a set-up server without dual control (the same store). */
export const SEEDERS: Record<string, IdentitySpec> = {
  payseed: id('payments', ['crypto-user', 'key-administrator']),
  hrseed: id('hr', ['crypto-user', 'key-administrator']),
};

export interface TenantObjects {
  /** every object of the tenant, by role in the fixture */
  readonly ids: Readonly<Record<string, string>>;
  readonly all: readonly string[];
  /** Names given to them (Locate must not find another tenant's) */
  readonly names: readonly string[];
  /** their key material as Get returns it to the owner (no other tenant may ever read it) */
  readonly materials: readonly Uint8Array[];
}

const name = (n: string): TtlvItem =>
  S(Tag.Name, [T(Tag.NameValue, n), E(Tag.NameType, NameType.UninterpretedTextString)]);

function uidOf(payload: TtlvItem | undefined, tag: number = Tag.UniqueIdentifier): string {
  const v = textOf(payload, tag);
  if (v === undefined) throw new Error('no identifier in the response');
  return v;
}

function bytesIn(item: TtlvItem, out: Uint8Array[]): void {
  if (item.type === 'ByteString') out.push(item.value);
  else if (item.type === 'Structure') for (const c of item.value) bytesIn(c, out);
}

/** Keys of `prefix` in every lifecycle state, an HMAC key and an EC key pair, made by `who`. */
export async function seedTenant(server: AccessServer, who: string, prefix: string): Promise<TenantObjects> {
  const v = '2.1' as const;
  const names: string[] = [];
  const aes = async (label: string, mask = U.Encrypt | U.Decrypt | U.WrapKey | U.UnwrapKey | U.DeriveKey) => {
    names.push(`${prefix}-${label}`);
    const r = await server.ok(who, v, Operation.Create, [
      E(Tag.ObjectType, ObjectType.SymmetricKey),
      S(Tag.Attributes, [
        E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        I(Tag.CryptographicLength, 256),
        I(Tag.CryptographicUsageMask, mask),
        name(`${prefix}-${label}`),
        T(Tag.ObjectGroup, `${prefix}-group`),
      ]),
    ]);
    return uidOf(r);
  };
  const uid = (x: string) => [T(Tag.UniqueIdentifier, x)];
  const revoke = (x: string, code: number) => [
    T(Tag.UniqueIdentifier, x),
    S(Tag.RevocationReason, [E(Tag.RevocationReasonCode, code)]),
  ];
  const ids: Record<string, string> = {};
  ids.preActive = await aes('pre-active');
  ids.active = await aes('active');
  await server.ok(who, v, Operation.Activate, uid(ids.active));
  ids.deactivated = await aes('deactivated');
  await server.ok(who, v, Operation.Activate, uid(ids.deactivated));
  await server.ok(
    who,
    v,
    Operation.Revoke,
    revoke(ids.deactivated, RevocationReasonCode.CessationOfOperation),
  );
  ids.compromised = await aes('compromised');
  await server.ok(who, v, Operation.Revoke, revoke(ids.compromised, RevocationReasonCode.KeyCompromise));
  ids.destroyed = await aes('destroyed');
  await server.ok(who, v, Operation.Destroy, uid(ids.destroyed));
  ids.archived = await aes('archived');
  await server.ok(who, v, Operation.Archive, uid(ids.archived));
  ids.hmac = await aes('hmac', U.MACGenerate | U.MACVerify);
  await server.ok(who, v, Operation.Activate, uid(ids.hmac));
  names.push(`${prefix}-ec-priv`, `${prefix}-ec-pub`);
  const pair = await server.ok(who, v, Operation.CreateKeyPair, [
    S(Tag.CommonAttributes, [
      E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.EC),
      S(Tag.CryptographicDomainParameters, [E(Tag.RecommendedCurve, RecommendedCurve.P_256)]),
      T(Tag.ObjectGroup, `${prefix}-group`),
    ]),
    S(Tag.PrivateKeyAttributes, [name(`${prefix}-ec-priv`), I(Tag.CryptographicUsageMask, U.Sign)]),
    S(Tag.PublicKeyAttributes, [name(`${prefix}-ec-pub`), I(Tag.CryptographicUsageMask, U.Verify)]),
  ]);
  ids.ecPrivate = uidOf(pair, Tag.PrivateKeyUniqueIdentifier);
  ids.ecPublic = uidOf(pair, Tag.PublicKeyUniqueIdentifier);
  await server.ok(who, v, Operation.Activate, uid(ids.ecPrivate));
  await server.ok(who, v, Operation.Activate, uid(ids.ecPublic));
  const materials: Uint8Array[] = [];
  for (const x of [ids.preActive, ids.active, ids.hmac, ids.ecPrivate]) {
    const got: Uint8Array[] = [];
    bytesIn(await server.ok(who, v, Operation.Get, uid(x)), got);
    materials.push(...got.filter((b) => b.length >= 16));
  }
  return { ids, all: Object.values(ids), names, materials };
}

/** A request naming one object (its Unique Identifier first unless the operation says otherwise). */
export interface OpTemplate {
  readonly name: string;
  readonly op: number;
  build(id: string, v2: boolean): TtlvItem[];
}

const uidItem = (x: string) => T(Tag.UniqueIdentifier, x);
/** a 2.x Attribute Reference to a standard attribute */
const reference = (name: string) =>
  S(Tag.AttributeReference, [T(Tag.VendorIdentification, ''), T(Tag.AttributeName, name)]);
const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);
/** a text attribute as 1.x (Attribute) or 2.x (the attribute itself inside `wrapper`) carries it */
const attr = (v2: boolean, wrapper: number, value: string, index?: number): TtlvItem =>
  v2
    ? S(wrapper, [T(Tag.ObjectGroup, value)])
    : S(Tag.Attribute, [
        T(Tag.AttributeName, 'Object Group'),
        ...(index === undefined ? [] : [I(Tag.AttributeIndex, index)]),
        T(Tag.AttributeValue, value),
      ]);

/** A Derive Key (HASH, SHA-256) of the objects `ids` into a 128-bit AES key. */
function deriveByHash(...ids: string[]): TtlvItem[] {
  return [
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    ...ids.map(uidItem),
    E(Tag.DerivationMethod, DerivationMethod.HASH),
    S(Tag.DerivationParameters, [
      S(Tag.CryptographicParameters, [E(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256)]),
    ]),
    S(Tag.Attributes, [
      E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
      I(Tag.CryptographicLength, 128),
    ]),
  ];
}

export const TEMPLATES: readonly OpTemplate[] = [
  { name: 'Get', op: Operation.Get, build: (x) => [uidItem(x)] },
  {
    name: 'GetAttributes',
    op: Operation.GetAttributes,
    build: (x, v2) => [uidItem(x), v2 ? reference('State') : T(Tag.AttributeName, 'State')],
  },
  { name: 'GetAttributeList', op: Operation.GetAttributeList, build: (x) => [uidItem(x)] },
  {
    name: 'AddAttribute',
    op: Operation.AddAttribute,
    build: (x, v2) => [uidItem(x), attr(v2, Tag.NewAttribute, 'added')],
  },
  {
    name: 'ModifyAttribute',
    op: Operation.ModifyAttribute,
    build: (x, v2) =>
      v2
        ? [uidItem(x), attr(true, Tag.CurrentAttribute, 'old'), attr(true, Tag.NewAttribute, 'new')]
        : [uidItem(x), attr(false, 0, 'new', 0)],
  },
  {
    name: 'DeleteAttribute',
    op: Operation.DeleteAttribute,
    build: (x, v2) => [
      uidItem(x),
      v2 ? attr(true, Tag.CurrentAttribute, 'old') : T(Tag.AttributeName, 'Object Group'),
    ],
  },
  {
    name: 'SetAttribute',
    op: Operation.SetAttribute,
    build: (x) => [uidItem(x), S(Tag.NewAttribute, [T(Tag.ContactInformation, 'set')])],
  },
  {
    name: 'AdjustAttribute',
    op: Operation.AdjustAttribute,
    build: (x) => [
      uidItem(x),
      reference('Usage Limits'),
      E(Tag.AdjustmentType, AdjustmentType.Increment),
      { tag: Tag.AdjustmentValue, type: 'LongInteger', value: 1n },
    ],
  },
  { name: 'Activate', op: Operation.Activate, build: (x) => [uidItem(x)] },
  {
    name: 'Revoke',
    op: Operation.Revoke,
    build: (x) => [
      uidItem(x),
      S(Tag.RevocationReason, [E(Tag.RevocationReasonCode, RevocationReasonCode.CessationOfOperation)]),
    ],
  },
  {
    name: 'Revoke (compromise)',
    op: Operation.Revoke,
    build: (x) => [
      uidItem(x),
      S(Tag.RevocationReason, [E(Tag.RevocationReasonCode, RevocationReasonCode.KeyCompromise)]),
    ],
  },
  { name: 'Destroy', op: Operation.Destroy, build: (x) => [uidItem(x)] },
  { name: 'Archive', op: Operation.Archive, build: (x) => [uidItem(x)] },
  { name: 'Recover', op: Operation.Recover, build: (x) => [uidItem(x)] },
  {
    name: 'Encrypt',
    op: Operation.Encrypt,
    build: (x) => [
      uidItem(x),
      S(Tag.CryptographicParameters, [E(Tag.BlockCipherMode, BlockCipherMode.GCM)]),
      B(Tag.Data, bytes(16)),
    ],
  },
  {
    name: 'Decrypt',
    op: Operation.Decrypt,
    build: (x) => [
      uidItem(x),
      S(Tag.CryptographicParameters, [E(Tag.BlockCipherMode, BlockCipherMode.CBC)]),
      B(Tag.Data, bytes(32)),
      B(Tag.IVCounterNonce, bytes(16)),
    ],
  },
  { name: 'Sign', op: Operation.Sign, build: (x) => [uidItem(x), B(Tag.Data, bytes(32))] },
  {
    name: 'SignatureVerify',
    op: Operation.SignatureVerify,
    build: (x) => [uidItem(x), B(Tag.Data, bytes(32)), B(Tag.SignatureData, bytes(64))],
  },
  {
    name: 'MAC',
    op: Operation.MAC,
    build: (x) => [
      uidItem(x),
      S(Tag.CryptographicParameters, [E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.HMAC_SHA256)]),
      B(Tag.Data, bytes(32)),
    ],
  },
  {
    name: 'MACVerify',
    op: Operation.MACVerify,
    build: (x) => [uidItem(x), B(Tag.Data, bytes(32)), B(Tag.MACData, bytes(32))],
  },
  { name: 'ReKey', op: Operation.ReKey, build: (x) => [uidItem(x)] },
  { name: 'ReKeyKeyPair', op: Operation.ReKeyKeyPair, build: (x) => [T(Tag.PrivateKeyUniqueIdentifier, x)] },
  { name: 'Export', op: Operation.Export, build: (x) => [uidItem(x)] },
  {
    name: 'Check',
    op: Operation.Check,
    build: (x) => [uidItem(x), { tag: Tag.UsageLimitsCount, type: 'LongInteger', value: 1n }],
  },
  { name: 'ObtainLease', op: Operation.ObtainLease, build: (x) => [uidItem(x)] },
  {
    name: 'GetUsageAllocation',
    op: Operation.GetUsageAllocation,
    build: (x) => [uidItem(x), { tag: Tag.UsageLimitsCount, type: 'LongInteger', value: 1n }],
  },
  { name: 'Certify', op: Operation.Certify, build: (x) => [uidItem(x)] },
  { name: 'ReCertify', op: Operation.ReCertify, build: (x) => [uidItem(x)] },
  { name: 'Validate', op: Operation.Validate, build: (x) => [uidItem(x)] },
  {
    name: 'DeriveKey',
    op: Operation.DeriveKey,
    build: (x) => deriveByHash(x),
  },
  {
    name: 'CreateSplitKey',
    op: Operation.CreateSplitKey,
    build: (x) => [
      E(Tag.ObjectType, ObjectType.SplitKey),
      uidItem(x),
      I(Tag.SplitKeyParts, 3),
      I(Tag.SplitKeyThreshold, 2),
      E(Tag.SplitKeyMethod, SplitKeyMethod.XOR),
    ],
  },
  {
    name: 'JoinSplitKey',
    op: Operation.JoinSplitKey,
    build: (x) => [E(Tag.ObjectType, ObjectType.SymmetricKey), uidItem(x), uidItem(x)],
  },
];

/** Requests that name one of the caller's own objects first and the probed one second. */
export interface SecondaryTemplate {
  readonly name: string;
  readonly op: number;
  /** `own` is one of the caller tenant's fixture ids (by TenantObjects.ids key) */
  readonly own: string;
  build(own: string, probed: string): TtlvItem[];
}

export const SECONDARY_TEMPLATES: readonly SecondaryTemplate[] = [
  {
    name: 'Get wrapped with the probed key',
    op: Operation.Get,
    own: 'active',
    build: (own, x) => [
      uidItem(own),
      S(Tag.KeyWrappingSpecification, [
        E(Tag.WrappingMethod, 1),
        S(Tag.EncryptionKeyInformation, [uidItem(x)]),
      ]),
    ],
  },
  {
    name: 'Derive Key from an own key and the probed one',
    op: Operation.DeriveKey,
    own: 'active',
    build: (own, x) => deriveByHash(own, x),
  },
  {
    name: 'Join Split Key of an own key and the probed one',
    op: Operation.JoinSplitKey,
    own: 'active',
    build: (own, x) => [E(Tag.ObjectType, ObjectType.SymmetricKey), uidItem(own), uidItem(x)],
  },
  {
    name: 'Validate an own key and the probed one',
    op: Operation.Validate,
    own: 'ecPublic',
    build: (own, x) => [uidItem(own), uidItem(x)],
  },
];

/**
 * The message with the identifier `id` replaced, and a dual-control request
 * id (random, one per distinct request) too: what the answers are compared by.
 */
export function neutral(message: string | undefined, id: string): string | undefined {
  const m = id === '' ? message : message?.split(id).join('<ID>');
  return m?.replace(/pending approval id [0-9a-f]+/, 'pending approval id <N>');
}

/** A fresh identifier no object has, shaped like the server's. */
export function missingId(): string {
  return randomUUID();
}
