/**
 * Re-key (KMIP 1.0 §4.4, 1.4 §4.4, 2.1 §6.1.40): a new Symmetric Key of the
 * same algorithm and length replacing an existing one. The replacement takes
 * the existing key's attributes (lifecycle.ts rekeyedAttributes: dates
 * copied, or moved by the Offset), its Names (removed from the existing
 * key), then the client's Template-Attribute / Attributes; the two are linked
 * by Replaced Object Link (new → old) and Replacement Object Link (old →
 * new). The existing key keeps its state. The ID Placeholder becomes the
 * replacement's identifier.
 *
 * Errors (spec table): not a Symmetric Key → Illegal Operation (1.x) /
 * Invalid Object Type (2.x); a destroyed key → Permission Denied (1.x) /
 * Wrong Key Lifecycle State (2.x); an archived key → Object Archived.
 */
import { findEnum, findInteger } from '../model/attributes.js';
import { newObjectAttributes, rekeyedAttributes } from '../model/lifecycle.js';
import { overlayAttributes } from '../model/templates.js';
import { RekeyRequest, RekeyResponse } from '../payloads/create.js';
import { LinkType, ObjectType, Operation, Tag } from '../spec/index.js';
import { checkNameUnique, requestedAttributes, stateName } from './support/common.js';
import { defineObjectOperation } from './support/define.js';
import { replaceBy, setLink } from './support/replacement.js';
import { generateSymmetricKey, symmetricKeyContent } from './support/symmetric-keys.js';

export const rekey = defineObjectOperation({
  operation: Operation.ReKey,
  since: '1.0',
  mutates: true,
  request: RekeyRequest,
  response: RekeyResponse,
  object: {
    types: [ObjectType.SymmetricKey],
    typeReason: ['InvalidObjectType', 'IllegalOperation'],
    typeMessage: () => 'Re-key replaces Symmetric Keys only; use Re-key Key Pair for key pairs',
    states: ['PreActive', 'Active', 'Deactivated', 'Compromised'],
    stateMessage: (obj, state) => `object ${obj.id} is ${stateName(state)}`,
    online: true,
  },
  async handle(req, ctx, { obj: old }) {
    const client = await requestedAttributes(ctx, req);
    await checkNameUnique(ctx, client, undefined);
    const now = ctx.services.clock();
    const inherited = rekeyedAttributes(old.attributes, req.offset, now);
    const algorithm = findEnum(old.attributes, Tag.CryptographicAlgorithm);
    const length = findInteger(old.attributes, Tag.CryptographicLength);
    const key = generateSymmetricKey(algorithm, length);
    const newId = ctx.services.objects.newId();
    try {
      const content = symmetricKeyContent(key, algorithm ?? 0, length ?? 0);
      const attrs = setLink(overlayAttributes(inherited, client), LinkType.ReplacedObjectLink, old.id);
      // One atomic write: a crash or a lost race leaves neither an orphan replacement nor two keys with the name.
      await ctx.services.objects.writeTogether(
        [
          {
            id: newId,
            objectType: ObjectType.SymmetricKey,
            attributes: newObjectAttributes({
              objectType: ObjectType.SymmetricKey,
              attributes: attrs,
              content,
              now,
              generated: true,
            }),
            content,
            owner: ctx.client.commonName,
          },
        ],
        [{ id: old.id, mutate: (obj) => replaceBy(ctx, obj, newId) }],
      );
    } finally {
      key.fill(0);
    }
    ctx.idPlaceholder = newId;
    return { uniqueIdentifier: newId };
  },
});
