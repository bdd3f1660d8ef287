/**
 * Get (KMIP 1.0 §4.10, 1.4 §4.11, 2.1 §6.1.24): returns the object's content.
 * Works in every state that still has key material (Pre-Active and
 * Deactivated included: pg_tde and Barbican never Activate, CLIENTS.md 8).
 * The first Get clears Fresh (1.1 §3.34).
 *
 * Key Format Type: the stored format; a different one for the trivial
 * Raw ⇄ Transparent Symmetric Key conversion and, for Public and Private
 * Keys, between PKCS#1, PKCS#8, X.509, EC Private Key and the Transparent
 * RSA/EC/DSA/DH formats (src/crypto/formats.ts), and a Private Key as
 * PKCS_12 with its certificate chain (operations/pkcs12.ts); otherwise Key
 * Format Type Not Supported. Key Compression Type on symmetric keys is ignored (CLIENTS.md 7).
 * Key wrapping (operations/wrapping.ts): a Key Wrapping Specification
 * returns the key wrapped; a key registered wrapped is returned as
 * registered unless Key Wrap Type is Not Wrapped or a new wrapping is
 * asked for, which unwrap it first (1.4 §4.11, TC-WRAP-2/3).
 *
 * Errors (spec table): no such object → Item Not Found (1.x) / Object Not
 * Found (2.x); destroyed (no content) → Item Not Found / Object Destroyed;
 * archived → Object Archived; Sensitive object (1.4+) → Sensitive.
 */
import { findValue } from '../model/attributes.js';
import { GetRequest, GetResponse } from '../payloads/objects.js';
import { Operation, Tag } from '../spec/index.js';
import { retrieveContent } from './support/content.js';
import { defineObjectOperation } from './support/define.js';

// No declared states: every state that still has key material answers, and a
// Destroyed object answers Object Destroyed (2.x) / Item Not Found (1.x), the
// reason the spec gives for it, not Wrong Key Lifecycle State (content.ts).
export const get = defineObjectOperation({
  operation: Operation.Get,
  since: '1.0',
  mutates: true,
  request: GetRequest,
  response: GetResponse,
  object: { online: true },
  async handle(req, ctx, { obj }) {
    const content = await retrieveContent(ctx, obj, req);
    const fresh = findValue(obj.attributes, Tag.Fresh);
    if (fresh?.type === 'Boolean' && fresh.value) ctx.services.objects.clearFreshLater(obj.id);
    return { objectType: obj.objectType, uniqueIdentifier: obj.id, object: content };
  },
});
