/**
 * Encrypt (KMIP 1.2 §4.29, 1.4 §4.29, 2.1 §6.1.18): encrypts Data with a
 * Symmetric Key (AES, Triple DES, ChaCha20, ChaCha20-Poly1305) or a Public
 * Key / Certificate (RSA OAEP, PKCS#1 v1.5) the object's Cryptographic
 * Usage Mask allows to Encrypt. What Decrypt shares (reading Cryptographic
 * Parameters into a cipher, the multi-part (1.3+) stream handling) is in
 * support/ciphers.ts; the payloads are in payloads/crypto.ts.
 *
 * Cryptographic Parameters: the request's, else the key's Cryptographic
 * Parameters attribute. With neither (MongoDB Enterprise sends only Unique
 * Identifier and Data), the server's default is AES-CBC with PKCS#5
 * padding and a random 16-byte IV returned as IV/Counter/Nonce; Decrypt
 * given Data and that IV reverses it. When parameters name a block cipher
 * mode but no Padding Method, there is no padding (CS-BC-M-1: ECB,
 * 16 bytes in, 16 out). A mode that needs an IV gets a random one when the
 * request has none (Random IV, or absent), and the response returns it.
 * Triple DES is refused unless the crypto.allowTripleDes option is on.
 *
 * Multi-part: Init Indicator starts a stream (answered with a Correlation
 * Value), later parts carry the Correlation Value, the last one Final
 * Indicator. Output is returned as the cipher produces it; a part that
 * produces nothing has no Data. Usage Limits are counted once, at the end.
 *
 * Errors (spec table and the CS-BC vectors): no such object → Item / Object
 * Not Found; not Active or past Protect Stop Date → Permission Denied (1.x)
 * / Wrong Key Lifecycle State (2.x); mask without Encrypt → Permission
 * Denied / Incompatible Cryptographic Usage Mask; unusable lengths (key,
 * IV, data without padding) → Invalid Field; a tag length GCM/CCM/Poly1305
 * do not allow → General Failure (CS-BC-M-GCM-1); unsupported algorithm or
 * mode → Feature Not Supported / Unsupported Cryptographic Parameters;
 * unknown Correlation Value → Invalid Field / Invalid Correlation Value.
 */
import {
  CipherError,
  type CipherSpec,
  encrypt as encryptOnce,
  needsIv,
  openPartCipher,
  randomIv,
  rsaEncrypt,
} from '../../crypto/cipher.js';
import { KmipError } from '../errors.js';
import { EncryptRequest, EncryptResponse } from '../payloads/crypto.js';
import { CryptographicUsageMask, Operation } from '../spec/index.js';
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
import { type CountUsage, defineCryptoOperation } from './support/define.js';
import { hsmFailure } from './support/hsm-resident.js';
import type { OperationContext } from './types.js';

export const ENCRYPT_USAGE: CryptoUsage = {
  use: 'protect',
  mask: CryptographicUsageMask.Encrypt,
  what: 'encrypt',
};

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return new Uint8Array(Buffer.concat([a, b]));
}

async function continueStream(
  req: EncryptRequest,
  ctx: OperationContext,
  part: PartRequest & { readonly correlation: Uint8Array },
  count: CountUsage,
): Promise<EncryptResponse> {
  const { state, target } = await resumeStream(req, ctx, Operation.Encrypt, ENCRYPT_USAGE, part);
  try {
    const data = part.data ?? EMPTY;
    state.bytes += data.length;
    const out = state.cipher.update(data);
    if (!part.final) {
      return { uniqueIdentifier: state.keyId, data: nonEmpty(out), correlationValue: part.correlation };
    }
    const last = state.cipher.final();
    count(target.obj, state.bytes);
    return {
      uniqueIdentifier: state.keyId,
      data: nonEmpty(concat(out, last.data)),
      authenticatedEncryptionTag: last.tag,
    };
  } catch (e) {
    ctx.services.streams.close(part.correlation);
    throw asKmipError(ctx, e);
  }
}

async function encryptWith(
  req: EncryptRequest,
  ctx: OperationContext,
  target: CryptoTarget,
  part: PartRequest,
  count: CountUsage,
): Promise<EncryptResponse> {
  const plan = planCipher(ctx, target);
  const streaming = part.init && !part.final;
  if (part.data === undefined && !streaming) {
    throw new KmipError('InvalidMessage', 'Encrypt needs Data');
  }
  const data = part.data ?? EMPTY;
  const id = target.obj.id;
  try {
    if (plan.kind === 'rsa') {
      if (streaming)
        throw new CipherError('unsupported', 'RSA encryption cannot be used in a multi-part operation');
      const out = rsaEncrypt(plan.key, plan.params, data);
      count(target.obj, data.length);
      return { uniqueIdentifier: id, data: out };
    }
    const given = req.ivCounterNonce;
    const generated =
      given === undefined && needsIv(plan.spec) ? randomIv(plan.spec, plan.ivLength) : undefined;
    const spec: CipherSpec = {
      ...plan.spec,
      iv: needsIv(plan.spec) ? (given ?? generated) : undefined,
      aad: req.authenticatedEncryptionAdditionalData,
    };
    if (target.hsm !== undefined) {
      const mech = hsmCipher(ctx, spec, streaming);
      let out: { data: Uint8Array; tag?: Uint8Array };
      try {
        out = await target.hsm.service.encrypt(target.hsm.label, mech, data);
      } catch (e) {
        throw hsmFailure(e);
      }
      count(target.obj, data.length);
      return {
        uniqueIdentifier: id,
        data: out.data,
        ivCounterNonce: generated,
        authenticatedEncryptionTag: out.tag,
      };
    }
    if (streaming) {
      const cipher = openPartCipher(spec, 'encrypt');
      const out = cipher.update(data);
      const state: StreamState = { keyId: id, cipher, bytes: data.length };
      const correlation = ctx.services.streams.open(Operation.Encrypt, streamOwner(ctx), state);
      return {
        uniqueIdentifier: id,
        data: nonEmpty(out),
        ivCounterNonce: generated,
        correlationValue: correlation,
      };
    }
    const out = encryptOnce(spec, data);
    count(target.obj, data.length);
    return {
      uniqueIdentifier: id,
      data: out.data,
      ivCounterNonce: generated,
      authenticatedEncryptionTag: out.tag,
    };
  } catch (e) {
    throw asKmipError(ctx, e);
  }
}

export const encrypt = defineCryptoOperation({
  operation: Operation.Encrypt,
  since: '1.2',
  mutates: true,
  request: EncryptRequest,
  response: EncryptResponse,
  usage: ENCRYPT_USAGE,
  continues: continuesStream,
  handle(req, ctx, target, count) {
    const part = partRequest(req);
    if (target === undefined) {
      // continuesStream: the request carries a Correlation Value
      return continueStream(req, ctx, { ...part, correlation: part.correlation ?? EMPTY }, count);
    }
    return encryptWith(req, ctx, target, part, count);
  },
});
