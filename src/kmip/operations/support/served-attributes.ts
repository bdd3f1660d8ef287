/** The attribute list Get Attributes, Get Attribute List and Export serve (server-computed ones included). */
import { createHash } from 'node:crypto';
import { attributeToWire, shapeForVersion } from '../../messages/attributes.js';
import type { ModelAttribute } from '../../model/attributes.js';
import { findValue, standardKey } from '../../model/attributes.js';
import type { ManagedObject } from '../../model/object.js';
import { type KmipVersion, ObjectType, Tag } from '../../spec/index.js';
import { byteString, interval } from '../../ttlv/build.js';
import { uidItem } from './common.js';
import { leaseTimeOf } from './lease.js';

/** Lease Time applies to the cryptographic objects only (KMIP 1.4 §3.15 "All Cryptographic Objects"). */
const NO_LEASE: ReadonlySet<number> = new Set([ObjectType.OpaqueObject, ObjectType.Template]);

/**
 * The object's attributes plus those the server derives rather than stores:
 * Lease Time (the lease Obtain Lease would grant, 1.4 §3.15) and Short
 * Unique Identifier (2.1 §4.51: SHA-256 of the Unique Identifier, 32 bytes;
 * versions before 2.0 cut it). Unique Identifier carries the object's id.
 */
export function servedAttributes(obj: ManagedObject): ModelAttribute[] {
  const attrs = obj.attributes.map((a) =>
    a.key.kind === 'standard' && a.key.tag === Tag.UniqueIdentifier ? { ...a, value: uidItem(obj.id) } : a,
  );
  if (findValue(attrs, Tag.LeaseTime) === undefined && !NO_LEASE.has(obj.objectType)) {
    attrs.push({
      key: standardKey(Tag.LeaseTime),
      index: 0,
      value: interval(Tag.LeaseTime, leaseTimeOf(attrs)),
    });
  }
  if (findValue(attrs, Tag.ShortUniqueIdentifier) === undefined) {
    const digest = new Uint8Array(createHash('sha256').update(obj.id, 'utf8').digest());
    attrs.push({
      key: standardKey(Tag.ShortUniqueIdentifier),
      index: 0,
      value: byteString(Tag.ShortUniqueIdentifier, digest),
    });
  }
  return attrs;
}

/** Whether a response of `version` can carry the attribute (Get Attribute List lists only those). */
export function carriedIn(attr: ModelAttribute, version: KmipVersion): boolean {
  const shaped = shapeForVersion(attr, version);
  return shaped !== undefined && attributeToWire(shaped, version) !== undefined;
}
