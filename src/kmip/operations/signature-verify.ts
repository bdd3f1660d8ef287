/**
 * Signature Verify (KMIP 1.2 §4.32, 1.4 §4.33, 2.1 §6.1.52): checks
 * Signature Data over Data or Digested Data with a Public Key (or the key
 * of a Certificate) whose Cryptographic Usage Mask has Verify; answers a
 * Validity Indicator. A signature that does not verify, malformed ones
 * included, is Success with Invalid, not an error (CS-AC-M-2). Multi-part
 * (1.3+): as Sign, the Signature Data may come with any part and the last
 * one given counts (TC-STREAM-SIGNVFY-1 sends it with the first part).
 *
 * The scheme is resolved as for Sign (sign.ts), except that parameters
 * naming another kind of key than the one given only contribute their
 * digest (CS-AC-M-3-ECC-13).
 *
 * Errors (spec table): not Active, Deactivated or Compromised, or before
 * its Process Start Date → Wrong Key Lifecycle State (2.x) / Permission
 * Denied (1.x) (CS-AC-M-8); no Verify in the mask → Incompatible
 * Cryptographic Usage Mask / Permission Denied; not a Public Key,
 * Certificate or Private Key → Invalid Object Type / Invalid Field; no
 * Signature Data → Invalid Field; unknown Correlation Value → Invalid
 * Correlation Value / Invalid Field.
 */
import type { KeyObject } from 'node:crypto';
import {
  createMessageVerifier,
  type MessageVerifier,
  verifyData,
  verifyDigest,
} from '../../crypto/signature.js';
import { KmipError } from '../errors.js';
import { SignatureVerifyRequest, SignatureVerifyResponse } from '../payloads/crypto.js';
import { CryptographicUsageMask, ObjectType, Operation, ValidityIndicator } from '../spec/index.js';
import {
  asymmetricKeyOf,
  type CryptoTarget,
  type CryptoUsage,
  loadCryptoObject,
} from './support/crypto-common.js';
import { defineCryptoOperation } from './support/define.js';
import { linkedPublicKey } from './support/hsm-resident.js';
import {
  checkStreamTarget,
  continuesSigning,
  correlationReason,
  resolveScheme,
  type StreamPart,
  signedInput,
  streamOwner,
  streamPart,
} from './support/signing.js';
import type { OperationContext } from './types.js';

const VERIFY_USAGE: CryptoUsage = { use: 'process', mask: CryptographicUsageMask.Verify, what: 'verify' };

const VERIFYING_TYPES: ReadonlySet<number> = new Set([
  ObjectType.PublicKey,
  ObjectType.Certificate,
  ObjectType.PrivateKey,
]);

class VerifyStream {
  bytes = 0;
  signature: Uint8Array | undefined;
  constructor(
    readonly id: string,
    readonly verifier: MessageVerifier,
  ) {}
}

function verifyingKeyOf(_ctx: OperationContext, target: CryptoTarget): KeyObject {
  if (!VERIFYING_TYPES.has(target.obj.objectType)) {
    throw new KmipError('InvalidObjectType', `object ${target.obj.id} is not a Public Key or Certificate`);
  }
  return asymmetricKeyOf(target);
}

function validity(id: string, valid: boolean): SignatureVerifyResponse {
  return {
    uniqueIdentifier: id,
    validityIndicator: valid ? ValidityIndicator.Valid : ValidityIndicator.Invalid,
  };
}

function noSignature(): KmipError {
  return new KmipError('InvalidField', 'Signature Verify needs Signature Data');
}

async function continueVerify(
  req: SignatureVerifyRequest,
  ctx: OperationContext,
  cv: Uint8Array,
  final: boolean,
): Promise<SignatureVerifyResponse> {
  const streams = ctx.services.streams;
  const state = streams.resume(
    Operation.SignatureVerify,
    streamOwner(ctx),
    cv,
    final,
    correlationReason(ctx),
  );
  if (!(state instanceof VerifyStream))
    throw new KmipError(correlationReason(ctx), 'not a Signature Verify stream');
  try {
    checkStreamTarget(req, state.id);
    const { data, digested } = signedInput(req);
    if (digested !== undefined) {
      throw new KmipError('InvalidField', 'Digested Data cannot be given in parts; send Data');
    }
    // Re-checks the key: a key revoked mid-stream stops the stream.
    await loadCryptoObject(ctx, state.id, VERIFY_USAGE, undefined);
    state.signature = req.signatureData ?? state.signature;
    if (data !== undefined) {
      state.verifier.update(data);
      state.bytes += data.length;
    }
    if (!final) return { uniqueIdentifier: state.id, correlationValue: cv };
    if (state.signature === undefined) throw noSignature();
    const valid = state.verifier.verify(state.signature);
    return validity(state.id, valid);
  } catch (e: unknown) {
    streams.close(cv);
    throw e;
  }
}

async function verifyWith(
  req: SignatureVerifyRequest,
  ctx: OperationContext,
  target: CryptoTarget,
  part: StreamPart,
): Promise<SignatureVerifyResponse> {
  const { data, digested } = signedInput(req);
  const signature = req.signatureData;
  // A private key inside the HSM verifies with its public key (verification needs no secret).
  const key = target.hsm === undefined ? verifyingKeyOf(ctx, target) : await linkedPublicKey(ctx, target.obj);
  const scheme = resolveScheme(ctx, key, target.params, false);
  const id = target.obj.id;
  if (part.init && !part.final) {
    if (digested !== undefined) {
      throw new KmipError('InvalidField', 'Digested Data cannot be given in parts; send Data');
    }
    const stream = new VerifyStream(id, createMessageVerifier(key, scheme.message));
    stream.signature = signature;
    if (data !== undefined) {
      stream.verifier.update(data);
      stream.bytes += data.length;
    }
    const cv = ctx.services.streams.open(Operation.SignatureVerify, streamOwner(ctx), stream);
    return { uniqueIdentifier: id, correlationValue: cv };
  }
  if (signature === undefined) throw noSignature();
  let valid: boolean;
  if (digested !== undefined) valid = verifyDigest(key, scheme.digest, digested, signature);
  else if (data !== undefined) valid = verifyData(key, scheme.message, data, signature);
  else throw new KmipError('InvalidField', 'Signature Verify needs Data or Digested Data');
  return validity(id, valid);
}

export const signatureVerify = defineCryptoOperation({
  operation: Operation.SignatureVerify,
  since: '1.2',
  mutates: false,
  request: SignatureVerifyRequest,
  response: SignatureVerifyResponse,
  usage: VERIFY_USAGE,
  continues: continuesSigning,
  handle(req, ctx, target) {
    const part = streamPart(req);
    if (target === undefined) {
      // continuesSigning: the request carries a Correlation Value
      return continueVerify(req, ctx, part.correlation ?? new Uint8Array(0), part.final);
    }
    return verifyWith(req, ctx, target, part);
  },
});
