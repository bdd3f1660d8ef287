/**
 * Decrypt (KMIP 1.2 §4.30, 1.4 §4.30, 2.1 §6.1.13): the inverse of Encrypt
 * (encrypt.ts, which documents the Cryptographic Parameters, defaults and
 * multi-part handling both share). Decryption uses a Symmetric Key, or an
 * RSA Private Key, whose Cryptographic Usage Mask allows Decrypt, in any
 * state that may process data (Active, Deactivated, Compromised) from its
 * Process Start Date on.
 *
 * The IV/Counter/Nonce the mode needs must be in the request; without it
 * the answer is Invalid Message (CS-BC-M-11/12/13). AEAD modes need the
 * Authenticated Encryption Tag (on the last part of a stream); a wrong
 * tag, IV, AAD or ciphertext is Cryptographic Failure (CS-BC-M-GCM-1), as
 * is a bad PKCS#5 padding. RSA PKCS#1 v1.5 uses implicit rejection
 * (src/crypto/cipher.ts), so a malformed ciphertext yields unrelated bytes
 * rather than an error a padding oracle could use.
 *
 * Other errors as Encrypt: Item / Object Not Found; Permission Denied (1.x)
 * / Wrong Key Lifecycle State (2.x); Permission Denied / Incompatible
 * Cryptographic Usage Mask; Invalid Field for unusable lengths; Feature Not
 * Supported / Unsupported Cryptographic Parameters.
 */
import {
  CipherError,
  type CipherSpec,
  decrypt as decryptOnce,
  needsIv,
  openPartCipher,
  rsaDecrypt,
} from '../../crypto/cipher.js';
import { KmipError } from '../errors.js';
import { DecryptRequest, DecryptResponse } from '../payloads/crypto.js';
import { CryptographicUsageMask, ObjectType, Operation } from '../spec/index.js';
import {
  asKmipError,
  continuesStream,
  EMPTY,
  hsmCipher,
  nonEmpty,
  type PartRequest,
  partRequest,
  planCipher,
  resumeStream,
  type StreamState,
  streamOwner,
} from './support/ciphers.js';
import type { CryptoTarget, CryptoUsage } from './support/crypto-common.js';
import { defineCryptoOperation } from './support/define.js';
import { hsmFailure } from './support/hsm-resident.js';
import type { OperationContext } from './types.js';

export const DECRYPT_USAGE: CryptoUsage = {
  use: 'process',
  mask: CryptographicUsageMask.Decrypt,
  what: 'decrypt',
};

async function continueStream(
  req: DecryptRequest,
  ctx: OperationContext,
  part: PartRequest & { readonly correlation: Uint8Array },
): Promise<DecryptResponse> {
  const { state } = await resumeStream(req, ctx, Operation.Decrypt, DECRYPT_USAGE, part);
  try {
    const data = part.data ?? EMPTY;
    state.bytes += data.length;
    const out = state.cipher.update(data);
    if (!part.final) {
      return { uniqueIdentifier: state.keyId, data: nonEmpty(out), correlationValue: part.correlation };
    }
    const last = state.cipher.final(req.authenticatedEncryptionTag);
    const all = out.length === 0 ? last.data : new Uint8Array(Buffer.concat([out, last.data]));
    return { uniqueIdentifier: state.keyId, data: nonEmpty(all) };
  } catch (e) {
    ctx.services.streams.close(part.correlation);
    throw asKmipError(ctx, e);
  }
}

async function decryptWith(
  req: DecryptRequest,
  ctx: OperationContext,
  target: CryptoTarget,
  part: PartRequest,
): Promise<DecryptResponse> {
  if (target.obj.objectType === ObjectType.PublicKey || target.obj.objectType === ObjectType.Certificate) {
    throw new KmipError(
      'InvalidField',
      `object ${target.obj.id} is a public key; decrypt with its private key`,
    );
  }
  const plan = planCipher(ctx, target);
  const streaming = part.init && !part.final;
  if (part.data === undefined && !streaming) {
    throw new KmipError('InvalidMessage', 'Decrypt needs Data');
  }
  const data = part.data ?? EMPTY;
  const id = target.obj.id;
  try {
    if (plan.kind === 'rsa') {
      if (streaming)
        throw new CipherError('unsupported', 'RSA decryption cannot be used in a multi-part operation');
      const out = rsaDecrypt(plan.key, plan.params, data);
      return { uniqueIdentifier: id, data: out };
    }
    const spec: CipherSpec = {
      ...plan.spec,
      iv: needsIv(plan.spec) ? req.ivCounterNonce : undefined,
      aad: req.authenticatedEncryptionAdditionalData,
    };
    if (target.hsm !== undefined) {
      const mech = hsmCipher(ctx, spec, streaming);
      if (mech.mode === 'gcm' && req.authenticatedEncryptionTag === undefined) {
        throw new KmipError('InvalidField', 'AES-GCM decryption needs the Authenticated Encryption Tag');
      }
      try {
        const out = await target.hsm.service.decrypt(
          target.hsm.label,
          mech,
          data,
          req.authenticatedEncryptionTag,
        );
        return { uniqueIdentifier: id, data: out };
      } catch (e) {
        throw hsmFailure(e);
      }
    }
    if (streaming) {
      const cipher = openPartCipher(spec, 'decrypt');
      const out = cipher.update(data);
      const state: StreamState = { keyId: id, cipher, bytes: data.length };
      const correlation = ctx.services.streams.open(Operation.Decrypt, streamOwner(ctx), state);
      return { uniqueIdentifier: id, data: nonEmpty(out), correlationValue: correlation };
    }
    const out = decryptOnce(spec, data, req.authenticatedEncryptionTag);
    return { uniqueIdentifier: id, data: out };
  } catch (e) {
    throw asKmipError(ctx, e);
  }
}

export const decrypt = defineCryptoOperation({
  operation: Operation.Decrypt,
  since: '1.2',
  mutates: true,
  request: DecryptRequest,
  response: DecryptResponse,
  usage: DECRYPT_USAGE,
  continues: continuesStream,
  handle(req, ctx, target) {
    const part = partRequest(req);
    if (target === undefined) {
      // continuesStream: the request carries a Correlation Value
      return continueStream(req, ctx, { ...part, correlation: part.correlation ?? EMPTY });
    }
    return decryptWith(req, ctx, target, part);
  },
});
