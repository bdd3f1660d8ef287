/**
 * Get Attributes (KMIP 1.0 §4.11, 1.4 §4.12, 2.1 §6.1.25): the named
 * attributes (1.x Attribute Name, 2.x Attribute Reference), every instance,
 * in the order named; none named → all. A named attribute that is not set is
 * simply absent: Success, no value (vSphere asks for its x- attributes before
 * setting them, CLIENTS.md 5). Reads metadata only: nothing is unsealed.
 *
 * Errors (spec table): no such object → Item Not Found / Object Not Found;
 * an unknown attribute name → Invalid Field.
 */
import { readAttributeReferences } from '../messages/attributes.js';
import type { ModelAttribute } from '../model/attributes.js';
import { findAll } from '../model/attributes.js';
import { Operation } from '../spec/index.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { loadTarget, responseAttributes, uidItem } from './common.js';
import type { OperationContext, OperationDefinition } from './types.js';

export const getAttributes: OperationDefinition = {
  operation: Operation.GetAttributes,
  since: '1.0',
  mutates: false,
  needsObject: true,
  async handle(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
    const refs = readAttributeReferences(payload);
    const obj = await loadTarget(payload, ctx);
    let selected: ModelAttribute[];
    if (refs.length === 0) selected = [...obj.attributes];
    else {
      selected = [];
      for (const r of refs) {
        for (const a of findAll(obj.attributes, r)) if (!selected.includes(a)) selected.push(a);
      }
    }
    return [uidItem(obj.id), ...responseAttributes(selected, ctx.version)];
  },
};
