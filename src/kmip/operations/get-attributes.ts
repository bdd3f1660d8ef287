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
import { KmipError } from '../errors.js';
import { v1NameOf } from '../messages/attributes.js';
import type { AttributeKey, ModelAttribute } from '../model/attributes.js';
import { findAll, inListingOrder, keyLabel, keysEqual } from '../model/attributes.js';
import { GetAttributesRequest, GetAttributesResponse } from '../payloads/attributes.js';
import { Operation } from '../spec/index.js';
import { isV2 } from './support/common.js';
import { defineObjectOperation } from './support/define.js';
import { servedAttributes } from './support/served-attributes.js';

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

// Attributes of archived and destroyed objects are readable: no object rule.
export const getAttributes = defineObjectOperation({
  operation: Operation.GetAttributes,
  since: '1.0',
  mutates: false,
  request: GetAttributesRequest,
  response: GetAttributesResponse,
  object: {},
  handle(req, ctx, { obj }) {
    const refs = req.attributeReferences ?? [];
    refuseRepeats(refs, isV2(ctx.version));
    const all = servedAttributes(obj);
    let selected: ModelAttribute[];
    if (refs.length === 0) selected = inListingOrder(all);
    else {
      selected = [];
      for (const r of refs) {
        for (const a of findAll(all, r)) if (!selected.includes(a)) selected.push(a);
      }
    }
    return { uniqueIdentifier: obj.id, attributes: selected };
  },
});
