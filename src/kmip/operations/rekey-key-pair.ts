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
import { rekeyedAttributes } from '../model/lifecycle.js';
import { overlayAttributes } from '../model/templates.js';
import { KeyPairResponse, RekeyKeyPairRequest } from '../payloads/create.js';
import { LinkType, ObjectType, Operation } from '../spec/index.js';
import { stateName } from './support/common.js';
import { defineOperation, loadObject, type ObjectRule } from './support/define.js';
import { createKeyPairObjects, pairResponse, readPairAttributes } from './support/key-pairs.js';
import { linkedId } from './support/replacement.js';

/** Named by its Private Key (2.1 §6.1.43), so the pipeline's Unique Identifier rule does not apply. */
const PRIVATE_KEY: ObjectRule = {
  types: [ObjectType.PrivateKey],
  typeReason: ['InvalidObjectType', 'IllegalOperation'],
  typeMessage: () => 'Re-key Key Pair replaces key pairs named by their Private Key',
  states: ['PreActive', 'Active', 'Deactivated', 'Compromised'],
  stateMessage: (obj, state) => `object ${obj.id} is ${stateName(state)}`,
  online: true,
};

export const rekeyKeyPair = defineOperation({
  operation: Operation.ReKeyKeyPair,
  since: '1.1',
  mutates: true,
  request: RekeyKeyPairRequest,
  response: KeyPairResponse,
  async handle(req, ctx) {
    const id = req.privateKeyUniqueIdentifier ?? ctx.idPlaceholder;
    if (id === undefined) {
      throw new KmipError(
        'MissingData',
        'Private Key Unique Identifier is required (no ID Placeholder is set)',
      );
    }
    const oldPrivate = await loadObject(ctx, Operation.ReKeyKeyPair, PRIVATE_KEY, id);
    const publicId = linkedId(oldPrivate.attributes, LinkType.PublicKeyLink);
    const oldPublic = publicId === undefined ? undefined : await ctx.services.objects.get(publicId);
    const attrs = await readPairAttributes(req, ctx);
    const now = ctx.services.clock();
    const inherit = (list: readonly ModelAttribute[]) => rekeyedAttributes(list, req.offset, now);
    const pair = await createKeyPairObjects(
      ctx,
      {
        privateAttributes: overlayAttributes(inherit(oldPrivate.attributes), attrs.privateAttributes),
        publicAttributes: overlayAttributes(
          inherit(oldPublic?.attributes ?? oldPrivate.attributes),
          attrs.publicAttributes,
        ),
      },
      { private: oldPrivate, public: oldPublic },
    );
    ctx.idPlaceholder = pair.privateId;
    return pairResponse(pair);
  },
});
