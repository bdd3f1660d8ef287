/**
 * A managed object (KMIP 2.1 §2): identifier, object type, attributes and the
 * cryptographic content (Symmetric Key, Secret Data... structure). The
 * content is secret: it exists in memory only when an operation needs it and
 * is stored sealed, never among the attributes.
 */
import type { SealedBlob } from '../../store/types.js';
import type { ModelAttribute } from '../messages/attributes.js';
import { ObjectType, Tag } from '../spec/index.js';
import type { TtlvStructure } from '../ttlv/types.js';

export interface ManagedObject {
  readonly id: string;
  /** store version: 1 when created, +1 on every change */
  readonly version: number;
  /** Object Type enumeration value */
  readonly objectType: number;
  /** client identity (certificate CN) that created it */
  readonly owner: string | undefined;
  readonly attributes: readonly ModelAttribute[];
  /** the sealed content; undefined for objects without any and after Destroy */
  readonly sealed: SealedBlob | undefined;
  readonly tombstoned: boolean;
  /** ms since the epoch */
  readonly createdAt: number;
}

/** The structure tag that carries an object of each type (KMIP 1.0 §2.2, 2.1 §2.2). */
const CONTENT_TAG: ReadonlyMap<number, number> = new Map([
  [ObjectType.Certificate, Tag.Certificate],
  [ObjectType.SymmetricKey, Tag.SymmetricKey],
  [ObjectType.PublicKey, Tag.PublicKey],
  [ObjectType.PrivateKey, Tag.PrivateKey],
  [ObjectType.SplitKey, Tag.SplitKey],
  [ObjectType.Template, Tag.Template],
  [ObjectType.SecretData, Tag.SecretData],
  [ObjectType.OpaqueObject, Tag.OpaqueObject],
  [ObjectType.PGPKey, Tag.PGPKey],
  [ObjectType.CertificateRequest, Tag.CertificateRequest],
]);

export function contentTagOf(objectType: number): number | undefined {
  return CONTENT_TAG.get(objectType);
}

/** Object types whose content is a Key Block (KMIP 1.0 §2.2). */
export const KEY_BLOCK_TYPES: ReadonlySet<number> = new Set([
  ObjectType.SymmetricKey,
  ObjectType.PublicKey,
  ObjectType.PrivateKey,
  ObjectType.SplitKey,
  ObjectType.SecretData,
  ObjectType.PGPKey,
]);

export function keyBlockOf(content: TtlvStructure | undefined): TtlvStructure | undefined {
  if (content === undefined) return undefined;
  const kb = content.value.find((c) => c.tag === Tag.KeyBlock);
  return kb?.type === 'Structure' ? kb : undefined;
}

/** Object types this server stores (Query Objects reports exactly these). */
export const SUPPORTED_OBJECT_TYPES: readonly number[] = [
  ObjectType.Certificate,
  ObjectType.SymmetricKey,
  ObjectType.PublicKey,
  ObjectType.PrivateKey,
  ObjectType.SplitKey,
  ObjectType.SecretData,
  ObjectType.OpaqueObject,
  ObjectType.PGPKey,
];
