/**
 * Create Key Pair (KMIP 1.0 §4.2, 1.4 §4.2, 2.1 §6.1.6): the server generates
 * an RSA (1024–4096 bits) or EC (P-256/384/521, secp256k1) key pair and stores
 * a Private Key and a Public Key linked to each other (Public Key Link on the
 * private key, Private Key Link on the public one). Attributes: 1.x Common /
 * Private Key / Public Key Template-Attribute, 2.x Common / Private Key /
 * Public Key Attributes; a key's own list overrides the common one. The ID
 * Placeholder becomes the private key (1.4 §4.2).
 *
 * Stored formats: PKCS#1 for RSA (what the AKLC vectors' Digest names),
 * PKCS#8 private and X.509 public for EC; Get converts on request.
 *
 * Errors (spec table): algorithm not RSA/EC or unsupported length/curve →
 * Invalid Field; a server-managed attribute supplied → Invalid Field (1.x) /
 * Attribute Read Only (2.x); Template names → Feature Not Supported.
 */
import { CreateKeyPairRequest, KeyPairResponse } from '../payloads/create.js';
import { Operation } from '../spec/index.js';
import { defineOperation } from './support/define.js';
import { createResidentKeyPair, residentRequested } from './support/hsm-resident.js';
import { createKeyPairObjects, pairResponse, readPairAttributes } from './support/key-pairs.js';

export const createKeyPair = defineOperation({
  operation: Operation.CreateKeyPair,
  since: '1.0',
  mutates: true,
  request: CreateKeyPairRequest,
  response: KeyPairResponse,
  async handle(req, ctx) {
    const attrs = await readPairAttributes(req, ctx);
    const pair = residentRequested(attrs.privateAttributes)
      ? await createResidentKeyPair(ctx, attrs)
      : await createKeyPairObjects(ctx, attrs);
    ctx.idPlaceholder = pair.privateId;
    return pairResponse(pair);
  },
});
