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
import { KmipError } from '../errors.js';
import { readRequestAttributes } from '../messages/attributes.js';
import { findEnum, findInteger } from '../model/attributes.js';
import {
  checkClientAttributes,
  isArchived,
  newObjectAttributes,
  rekeyedAttributes,
} from '../model/lifecycle.js';
import { overlayAttributes, withTemplates } from '../model/templates.js';
import { LinkType, ObjectType, Operation, Tag } from '../spec/index.js';
import { childInterval } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import {
  checkNameUnique,
  isDestroyed,
  isV2,
  loadTarget,
  reason,
  stateName,
  stateOf,
  uidItem,
  wrongState,
} from './common.js';
import { generateSymmetricKey, symmetricKeyContent } from './create.js';
import { replaceBy, setLink } from './replacement.js';
import type { OperationContext, OperationDefinition } from './types.js';

export const rekey: OperationDefinition = {
  operation: Operation.ReKey,
  since: '1.0',
  mutates: true,
  needsObject: true,
  allowedStates: ['PreActive', 'Active', 'Deactivated', 'Compromised'],
  async handle(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
    const old = await loadTarget(payload, ctx);
    if (old.objectType !== ObjectType.SymmetricKey) {
      throw new KmipError(
        reason(ctx, 'InvalidObjectType', 'IllegalOperation'),
        'Re-key replaces Symmetric Keys only; use Re-key Key Pair for key pairs',
      );
    }
    const state = stateOf(old);
    if (isDestroyed(state)) throw wrongState(ctx, `object ${old.id} is ${stateName(state)}`);
    if (isArchived(old.attributes)) {
      throw new KmipError('ObjectArchived', `object ${old.id} is archived; Recover it first`);
    }
    const own = readRequestAttributes(payload, [Tag.TemplateAttribute, Tag.Attributes]);
    checkClientAttributes(own, isV2(ctx.version));
    const client = await withTemplates(ctx.services.objects, payload, [Tag.TemplateAttribute], own);
    await checkNameUnique(ctx, client, undefined);
    const now = ctx.services.clock();
    const inherited = rekeyedAttributes(old.attributes, childInterval(payload, Tag.Offset), now);
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
    return [uidItem(newId)];
  },
};
