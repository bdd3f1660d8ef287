/**
 * Get Attribute List (KMIP 1.0 §4.12, 1.4 §4.13, 2.1 §6.1.26): the names
 * (1.x Attribute Name) or references (2.x Attribute Reference) of the
 * attributes the object has (with the derived ones Get Attributes serves),
 * each once, only those the request's version defines, in the profile
 * vectors' order (model/attributes.ts inListingOrder).
 *
 * Errors (spec table): no such object → Item Not Found / Object Not Found.
 */
import { type AttributeKey, inListingOrder, keysEqual } from '../model/attributes.js';
import { GetAttributeListRequest, GetAttributeListResponse } from '../payloads/attributes.js';
import { Operation } from '../spec/index.js';
import { defineObjectOperation } from './support/define.js';
import { carriedIn, servedAttributes } from './support/served-attributes.js';

export const getAttributeList = defineObjectOperation({
  operation: Operation.GetAttributeList,
  since: '1.0',
  mutates: false,
  request: GetAttributeListRequest,
  response: GetAttributeListResponse,
  object: {},
  handle(_req, ctx, { obj }) {
    const keys: AttributeKey[] = [];
    for (const a of inListingOrder(servedAttributes(obj))) {
      if (keys.some((k) => keysEqual(k, a.key))) continue;
      // Listed only when the version can carry the attribute itself.
      if (carriedIn(a, ctx.version)) keys.push(a.key);
    }
    return { uniqueIdentifier: obj.id, attributeReferences: keys };
  },
});
