/**
 * Sign (KMIP 1.2 §4.31, 1.4 §4.32, 2.1 §6.1.51): signs Data, or Digested
 * Data the client already hashed, with a Private Key whose Cryptographic
 * Usage Mask has Sign; returns Signature Data. Multi-part (1.3+): Init
 * Indicator opens a stream answered with a Correlation Value, later parts
 * carry it back, Final Indicator returns the signature (TC-STREAM-SIGN-1).
 *
 * The scheme comes from the request's Cryptographic Parameters, else the
 * key's Cryptographic Parameters attribute: Digital Signature Algorithm, or
 * Hashing Algorithm + Padding Method (PKCS1 v1.5 by default, PSS with Salt
 * Length = hash length by default and MGF1 over Mask Generator Hashing
 * Algorithm); SHA-256 by default (SHA-384 / SHA-512 on P-384 / P-521).
 * RSA PKCS#1 v1.5 over Digested Data prefixes DigestInfo only when the
 * Hashing Algorithm is known; otherwise the bytes are signed as given
 * (TC-RSA-SIGN-DIGESTEDDATA-1).
 *
 * Errors (spec table): not Active or past Protect Stop Date → Wrong Key
 * Lifecycle State (2.x) / Permission Denied (1.x) (CS-AC-M-8); no Sign in
 * the mask → Incompatible Cryptographic Usage Mask / Permission Denied; not
 * a Private Key → Invalid Object Type / Invalid Field; parameters that
 * contradict the key → Bad Cryptographic Parameters / Invalid Field;
 * unsupported ones → Unsupported Cryptographic Parameters / Feature Not
 * Supported; unknown Correlation Value → Invalid Correlation Value /
 * Invalid Field.
 */
import type { KeyObject } from 'node:crypto';
import {
  createMessageSigner,
  type MessageSigner,
  signatureKind,
  signData,
  signDigest,
} from '../../crypto/signature.js';
import { KmipError } from '../errors.js';
import { SignRequest, SignResponse } from '../payloads/crypto.js';
import { CryptographicUsageMask, ObjectType, Operation } from '../spec/index.js';
import {
  asymmetricKeyOf,
  type CryptoTarget,
  type CryptoUsage,
  loadCryptoObject,
} from './support/crypto-common.js';
import { type CountUsage, defineCryptoOperation } from './support/define.js';
import { linkedPublicKey, signInHsm } from './support/hsm-resident.js';
import {
  checkStreamTarget,
  continuesSigning,
  correlationReason,
  resolveScheme,
  type StreamPart,
  signedInput,
  streamOwner,
  streamPart,
  unsupported,
} from './support/signing.js';
import type { OperationContext } from './types.js';

class SignStream {
  bytes = 0;
  constructor(
    readonly id: string,
    readonly signer: MessageSigner,
  ) {}
}

const SIGN_USAGE: CryptoUsage = { use: 'protect', mask: CryptographicUsageMask.Sign, what: 'sign' };

function checkPrivateKey(_ctx: OperationContext, target: CryptoTarget): void {
  if (target.obj.objectType !== ObjectType.PrivateKey) {
    throw new KmipError(
      'InvalidObjectType',
      `object ${target.obj.id} is not a Private Key; only a Private Key signs`,
    );
  }
}

function privateKeyOf(ctx: OperationContext, target: CryptoTarget): KeyObject {
  checkPrivateKey(ctx, target);
  return asymmetricKeyOf(target);
}

async function continueSign(
  req: SignRequest,
  ctx: OperationContext,
  cv: Uint8Array,
  final: boolean,
  count: CountUsage,
): Promise<SignResponse> {
  const streams = ctx.services.streams;
  const state = streams.resume(Operation.Sign, streamOwner(ctx), cv, final, correlationReason(ctx));
  if (!(state instanceof SignStream)) throw new KmipError(correlationReason(ctx), 'not a Sign stream');
  try {
    checkStreamTarget(req, state.id);
    const { data, digested } = signedInput(req);
    if (digested !== undefined) {
      throw new KmipError('InvalidField', 'Digested Data cannot be given in parts; send Data');
    }
    // The key must still allow signing (it may have been revoked since the stream began).
    const target = await loadCryptoObject(ctx, state.id, SIGN_USAGE, undefined);
    if (data !== undefined) {
      state.signer.update(data);
      state.bytes += data.length;
    }
    if (!final) return { uniqueIdentifier: state.id, correlationValue: cv };
    const signature = state.signer.sign();
    count(target.obj, state.bytes);
    return { uniqueIdentifier: state.id, signatureData: signature };
  } catch (e: unknown) {
    streams.close(cv);
    throw e;
  }
}

async function signWith(
  req: SignRequest,
  ctx: OperationContext,
  target: CryptoTarget,
  part: StreamPart,
  count: CountUsage,
): Promise<SignResponse> {
  const { data, digested } = signedInput(req);
  const fromRequest = req.cryptographicParameters !== undefined;
  const id = target.obj.id;
  if (target.hsm !== undefined) {
    // A private key inside the HSM: the scheme is resolved on its public key, the token signs.
    checkPrivateKey(ctx, target);
    const pub = await linkedPublicKey(ctx, target.obj);
    const scheme = resolveScheme(ctx, pub, target.params, fromRequest);
    const kind = signatureKind(pub);
    if (part.init && !part.final) throw unsupported(ctx, 'a key inside the HSM signs in one part only');
    if (kind !== 'rsa' && kind !== 'ec')
      throw unsupported(ctx, 'a key inside the HSM signs with RSA or ECDSA');
    let signature: Uint8Array;
    if (digested !== undefined)
      signature = await signInHsm(ctx, target.hsm, kind, scheme.digest, { digested });
    else if (data !== undefined) signature = await signInHsm(ctx, target.hsm, kind, scheme.message, { data });
    else throw new KmipError('InvalidField', 'Sign needs Data or Digested Data');
    count(target.obj, (data ?? digested)?.length ?? 0);
    return { uniqueIdentifier: id, signatureData: signature };
  }
  const key = privateKeyOf(ctx, target);
  const scheme = resolveScheme(ctx, key, target.params, fromRequest);
  if (part.init && !part.final) {
    if (digested !== undefined) {
      throw new KmipError('InvalidField', 'Digested Data cannot be given in parts; send Data');
    }
    const stream = new SignStream(id, createMessageSigner(key, scheme.message));
    if (data !== undefined) {
      stream.signer.update(data);
      stream.bytes += data.length;
    }
    const cv = ctx.services.streams.open(Operation.Sign, streamOwner(ctx), stream);
    return { uniqueIdentifier: id, correlationValue: cv };
  }
  let signature: Uint8Array;
  if (digested !== undefined) signature = signDigest(key, scheme.digest, digested);
  else if (data !== undefined) signature = signData(key, scheme.message, data);
  else throw new KmipError('InvalidField', 'Sign needs Data or Digested Data');
  count(target.obj, (data ?? digested)?.length ?? 0);
  return { uniqueIdentifier: id, signatureData: signature };
}

export const sign = defineCryptoOperation({
  operation: Operation.Sign,
  since: '1.2',
  mutates: false,
  request: SignRequest,
  response: SignResponse,
  usage: SIGN_USAGE,
  continues: continuesSigning,
  handle(req, ctx, target, count) {
    const part = streamPart(req);
    if (target === undefined) {
      // continuesSigning: the request carries a Correlation Value
      return continueSign(req, ctx, part.correlation ?? new Uint8Array(0), part.final, count);
    }
    return signWith(req, ctx, target, part, count);
  },
});
