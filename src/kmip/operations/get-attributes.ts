/**
 * Get Attributes (KMIP 1.0 §4.11, 1.4 §4.12, 2.1 §6.1.25): the named
 * attributes (1.x Attribute Name, 2.x Attribute Reference), every instance,
 * in the order named; none named → all, in the profile vectors' order
 * (model/attributes.ts inListingOrder). A named attribute that is not set is
 * simply absent: Success, no value (vSphere asks for its x- attributes before
 * setting them, CLIENTS.md 5). Reads metadata only: nothing is unsealed.
 *
 * Errors (spec table): no such object → Item Not Found / Object Not Found;
 * an unknown attribute name → Invalid Field; the same attribute named twice
 * → Invalid Message ("The same attribute name SHALL NOT be present more than
 * once in a request", 1.1 §4.11; TC-171-11/12 expect Invalid Message).
 */
import { createHash } from 'node:crypto';
import { KmipError } from '../errors.js';
import { readAttributeReferences, v1NameOf } from '../messages/attributes.js';
import type { AttributeKey, ModelAttribute } from '../model/attributes.js';
import { findAll, findValue, inListingOrder, keyLabel, keysEqual, standardKey } from '../model/attributes.js';
import type { ManagedObject } from '../model/object.js';
import { ObjectType, Operation, Tag } from '../spec/index.js';
import { byteString, interval } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { isV2, loadTarget, responseAttributes, uidItem } from './common.js';
import { leaseTimeOf } from './obtain-lease.js';
import type { OperationContext, OperationDefinition } from './types.js';

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

function refuseRepeats(refs: readonly AttributeKey[], v2: boolean): void {
  refs.forEach((r, i) => {
    if (refs.findIndex((o) => keysEqual(o, r)) !== i) {
      const what = v2
        ? `Attribute Reference specified more than once: ${keyLabel(r)}`
        : `Attribute Name specified more than once: ${v1NameOf(r)}`;
      throw new KmipError('InvalidMessage', what);
    }
  });
}

export const getAttributes: OperationDefinition = {
  operation: Operation.GetAttributes,
  since: '1.0',
  mutates: false,
  needsObject: true,
  async handle(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
    const refs = readAttributeReferences(payload);
    refuseRepeats(refs, isV2(ctx.version));
    const obj = await loadTarget(payload, ctx);
    const all = servedAttributes(obj);
    let selected: ModelAttribute[];
    if (refs.length === 0) selected = inListingOrder(all);
    else {
      selected = [];
      for (const r of refs) {
        for (const a of findAll(all, r)) if (!selected.includes(a)) selected.push(a);
      }
    }
    return [uidItem(obj.id), ...responseAttributes(selected, ctx.version)];
  },
};
