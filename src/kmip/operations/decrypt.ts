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
import { CryptographicUsageMask, ObjectType, Operation, Tag } from '../spec/index.js';
import { childBytes, childStruct } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { targetId } from './common.js';
import { type CryptoUsage, loadCryptoObject } from './crypto-common.js';
import {
  asKmipError,
  hsmCipher,
  nonEmpty,
  type PartRequest,
  partRequest,
  planCipher,
  responseItems,
  resumeStream,
  type StreamState,
  streamOwner,
} from './encrypt.js';
import { hsmFailure } from './hsm-resident.js';
import type { OperationContext, OperationDefinition } from './types.js';

export const DECRYPT_USAGE: CryptoUsage = {
  use: 'process',
  mask: CryptographicUsageMask.Decrypt,
  what: 'decrypt',
};

const EMPTY = new Uint8Array(0);

async function continueStream(
  payload: TtlvStructure,
  ctx: OperationContext,
  part: PartRequest & { readonly correlation: Uint8Array },
): Promise<TtlvItem[]> {
  const { state } = await resumeStream(payload, ctx, Operation.Decrypt, DECRYPT_USAGE, part);
  try {
    const data = part.data ?? EMPTY;
    state.bytes += data.length;
    const out = state.cipher.update(data);
    if (!part.final) {
      return responseItems(state.keyId, { data: nonEmpty(out), correlation: part.correlation });
    }
    const last = state.cipher.final(childBytes(payload, Tag.AuthenticatedEncryptionTag));
    const all = out.length === 0 ? last.data : new Uint8Array(Buffer.concat([out, last.data]));
    return responseItems(state.keyId, { data: nonEmpty(all) });
  } catch (e) {
    ctx.services.streams.close(part.correlation);
    throw asKmipError(ctx, e);
  }
}

async function decryptHandler(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
  const part = partRequest(payload);
  if (part.correlation !== undefined && !part.init) {
    return continueStream(payload, ctx, { ...part, correlation: part.correlation });
  }
  const target = await loadCryptoObject(
    ctx,
    targetId(payload),
    DECRYPT_USAGE,
    childStruct(payload, Tag.CryptographicParameters),
  );
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
  try {
    if (plan.kind === 'rsa') {
      if (streaming)
        throw new CipherError('unsupported', 'RSA decryption cannot be used in a multi-part operation');
      const out = rsaDecrypt(plan.key, plan.params, data);
      return responseItems(target.obj.id, { data: out });
    }
    const spec: CipherSpec = {
      ...plan.spec,
      iv: needsIv(plan.spec) ? childBytes(payload, Tag.IVCounterNonce) : undefined,
      aad: childBytes(payload, Tag.AuthenticatedEncryptionAdditionalData),
    };
    if (target.hsm !== undefined) {
      const mech = hsmCipher(ctx, spec, streaming);
      if (mech.mode === 'gcm' && childBytes(payload, Tag.AuthenticatedEncryptionTag) === undefined) {
        throw new KmipError('InvalidField', 'AES-GCM decryption needs the Authenticated Encryption Tag');
      }
      try {
        const out = await target.hsm.service.decrypt(
          target.hsm.label,
          mech,
          data,
          childBytes(payload, Tag.AuthenticatedEncryptionTag),
        );
        return responseItems(target.obj.id, { data: out });
      } catch (e) {
        throw hsmFailure(e);
      }
    }
    if (streaming) {
      const cipher = openPartCipher(spec, 'decrypt');
      const out = cipher.update(data);
      const state: StreamState = { keyId: target.obj.id, cipher, bytes: data.length };
      const correlation = ctx.services.streams.open(Operation.Decrypt, streamOwner(ctx), state);
      return responseItems(target.obj.id, { data: nonEmpty(out), correlation });
    }
    const out = decryptOnce(spec, data, childBytes(payload, Tag.AuthenticatedEncryptionTag));
    return responseItems(target.obj.id, { data: out });
  } catch (e) {
    throw asKmipError(ctx, e);
  }
}

export const decrypt: OperationDefinition = {
  operation: Operation.Decrypt,
  since: '1.2',
  mutates: true,
  needsObject: true,
  allowedStates: ['Active', 'Deactivated', 'Compromised'],
  handle: decryptHandler,
};
