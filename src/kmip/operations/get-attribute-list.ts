/**
 * Get Attribute List (KMIP 1.0 §4.12, 1.4 §4.13, 2.1 §6.1.26): the names
 * (1.x Attribute Name) or references (2.x Attribute Reference) of the
 * attributes the object has (with the derived ones Get Attributes serves),
 * each once, only those the request's version defines, in the profile
 * vectors' order (model/attributes.ts inListingOrder).
 *
 * Errors (spec table): no such object → Item Not Found / Object Not Found.
 */
import { attributeReferenceToWire } from '../messages/attributes.js';
import { type AttributeKey, inListingOrder, keysEqual } from '../model/attributes.js';
import { Operation } from '../spec/index.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { loadTarget, responseAttributes, uidItem } from './common.js';
import { servedAttributes } from './get-attributes.js';
import type { OperationContext, OperationDefinition } from './types.js';

export const getAttributeList: OperationDefinition = {
  operation: Operation.GetAttributeList,
  since: '1.0',
  mutates: false,
  needsObject: true,
  async handle(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
    const obj = await loadTarget(payload, ctx);
    const keys: AttributeKey[] = [];
    for (const a of inListingOrder(servedAttributes(obj))) {
      if (keys.some((k) => keysEqual(k, a.key))) continue;
      // Listed only when the version can carry the attribute itself.
      const shaped = responseAttributes([a], ctx.version);
      if (shaped.length === 0) continue;
      const first = shaped[0];
      if (first?.type === 'Structure' && first.value.length === 0) continue;
      keys.push(a.key);
    }
    return [uidItem(obj.id), ...keys.map((k) => attributeReferenceToWire(k, ctx.version))];
  },
};
