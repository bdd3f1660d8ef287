/**
 * Re-key Key Pair (KMIP 1.1 §4.5, 1.4 §4.5, 2.0 §6.1.41, 2.1 §6.1.41): a new
 * key pair of the same algorithm and length replacing an existing one,
 * named by its private key (Private Key Unique Identifier, or the ID
 * Placeholder). Each new key takes the attributes of the key it replaces
 * (lifecycle.ts rekeyedAttributes: dates copied, or moved by the Offset),
 * its Names (removed from the replaced key), then the client's Common /
 * Private Key / Public Key Template-Attribute (1.x) or Attributes (2.x).
 * Links: new private ⇄ new public (Public / Private Key Link, as Create Key
 * Pair), then Replaced Object Link new → old and Replacement Object Link
 * old → new on both the private and the public key (TC_133 reads them in
 * that order). The old keys keep their state. The ID Placeholder becomes
 * the new private key.
 *
 * Errors (spec table): not a Private Key → Illegal Operation (1.x) /
 * Invalid Object Type (2.x); destroyed → Permission Denied (1.x) / Wrong
 * Key Lifecycle State (2.x); archived → Object Archived; those of Create
 * Key Pair for the attributes.
 */
import { KmipError } from '../errors.js';
import type { ModelAttribute } from '../model/attributes.js';
import { isArchived, rekeyedAttributes } from '../model/lifecycle.js';
import type { ManagedObject } from '../model/object.js';
import { overlayAttributes } from '../model/templates.js';
import { LinkType, ObjectType, Operation, Tag } from '../spec/index.js';
import { childInterval, childText } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { isDestroyed, notFound, reason, stateName, stateOf, wrongState } from './common.js';
import { createKeyPairObjects, pairResponse, readPairAttributes } from './create-key-pair.js';
import { linkedId } from './replacement.js';
import type { OperationContext, OperationDefinition } from './types.js';

async function loadPrivateKey(payload: TtlvStructure, ctx: OperationContext): Promise<ManagedObject> {
  const id = childText(payload, Tag.PrivateKeyUniqueIdentifier) ?? ctx.idPlaceholder;
  if (id === undefined) {
    throw new KmipError(
      'MissingData',
      'Private Key Unique Identifier is required (no ID Placeholder is set)',
    );
  }
  const obj = await ctx.services.objects.get(id);
  if (obj === undefined) throw notFound(ctx, id);
  if (obj.objectType !== ObjectType.PrivateKey) {
    throw new KmipError(
      reason(ctx, 'InvalidObjectType', 'IllegalOperation'),
      'Re-key Key Pair replaces key pairs named by their Private Key',
    );
  }
  const state = stateOf(obj);
  if (isDestroyed(state)) throw wrongState(ctx, `object ${obj.id} is ${stateName(state)}`);
  if (isArchived(obj.attributes)) {
    throw new KmipError('ObjectArchived', `object ${obj.id} is archived; Recover it first`);
  }
  return obj;
}

export const rekeyKeyPair: OperationDefinition = {
  operation: Operation.ReKeyKeyPair,
  since: '1.1',
  mutates: true,
  needsObject: false,
  allowedStates: ['PreActive', 'Active', 'Deactivated', 'Compromised'],
  async handle(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
    const oldPrivate = await loadPrivateKey(payload, ctx);
    const publicId = linkedId(oldPrivate.attributes, LinkType.PublicKeyLink);
    const oldPublic = publicId === undefined ? undefined : await ctx.services.objects.get(publicId);
    const req = await readPairAttributes(payload, ctx);
    const offset = childInterval(payload, Tag.Offset);
    const now = ctx.services.clock();
    const inherit = (attrs: readonly ModelAttribute[]) => rekeyedAttributes(attrs, offset, now);
    const pair = await createKeyPairObjects(
      ctx,
      {
        privateAttributes: overlayAttributes(inherit(oldPrivate.attributes), req.privateAttributes),
        publicAttributes: overlayAttributes(
          inherit(oldPublic?.attributes ?? oldPrivate.attributes),
          req.publicAttributes,
        ),
      },
      { private: oldPrivate, public: oldPublic },
    );
    ctx.idPlaceholder = pair.privateId;
    return pairResponse(pair);
  },
};
