/**
 * Validate (KMIP 1.0 §4.24, 1.4 §4.24, 2.1 §6.1.55): is a certificate chain
 * valid? The chain is the request's Certificate objects and Unique
 * Identifiers of managed certificates, in the order given, leaf first; an
 * optional Validity Date (default now) is the instant checked. The policy
 * is the server's (the spec leaves it open; crypto/ca.ts validateChain):
 * each certificate valid at that date and issued by the next, the last one
 * self-signed or issued by the server's issuing CA (certify.ts) → Valid; a
 * bad signature, name or date, a malformed certificate, or a managed
 * certificate that was revoked or compromised → Invalid; a chain that ends
 * at an issuer the server does not know, or holds a non-X.509 certificate →
 * Unknown.
 *
 * Errors (spec table): an empty chain → Missing Data; an unknown identifier →
 * Item Not Found (1.x) / Object Not Found (2.x); an identifier of an object
 * that is not a certificate → Invalid Field (1.x) / Invalid Object Type (2.x).
 */
import { validateChain } from '../../crypto/ca.js';
import { KmipError } from '../errors.js';
import { findValue } from '../model/attributes.js';
import { type ChainLink, ValidateRequest, ValidateResponse } from '../payloads/certificates.js';
import { CertificateType, ObjectType, Operation, State, Tag, ValidityIndicator } from '../spec/index.js';
import { childBytes, childEnum, dateFromSeconds } from '../ttlv/build.js';
import { serverCaCertificates } from './support/certificate-issuer.js';
import { notFound, stateOf } from './support/common.js';
import { defineOperation } from './support/define.js';
import type { OperationContext } from './types.js';

const VERDICT = {
  valid: ValidityIndicator.Valid,
  invalid: ValidityIndicator.Invalid,
  unknown: ValidityIndicator.Unknown,
} as const;

interface Chain {
  readonly certificates: Uint8Array[];
  /** something in the chain the server cannot judge (not X.509) */
  unknown: boolean;
  /** a managed certificate known to be revoked or compromised */
  revoked: boolean;
}

async function readChain(links: readonly ChainLink[], ctx: OperationContext): Promise<Chain> {
  const chain: Chain = { certificates: [], unknown: false, revoked: false };
  for (const link of links) {
    if ('certificate' in link) {
      const c = link.certificate;
      const value = childBytes(c, Tag.CertificateValue);
      if (childEnum(c, Tag.CertificateType) !== CertificateType.X_509 || value === undefined) {
        chain.unknown = true;
      } else {
        chain.certificates.push(value);
      }
    } else {
      const id = link.uniqueIdentifier;
      const obj = await ctx.services.objects.get(id);
      if (obj === undefined || obj.tombstoned) throw notFound(ctx, id);
      if (obj.objectType !== ObjectType.Certificate) {
        throw new KmipError('InvalidObjectType', `object ${obj.id} is not a certificate`);
      }
      const state = stateOf(obj);
      if (
        state === State.Compromised ||
        state === State.DestroyedCompromised ||
        findValue(obj.attributes, Tag.RevocationReason) !== undefined
      ) {
        chain.revoked = true;
      }
      const content = obj.sealed === undefined ? undefined : await ctx.services.objects.content(obj);
      const value = childBytes(content, Tag.CertificateValue);
      if (childEnum(content, Tag.CertificateType) !== CertificateType.X_509 || value === undefined) {
        chain.unknown = true;
      } else {
        chain.certificates.push(value);
      }
    }
  }
  return chain;
}

export const validate = defineOperation({
  operation: Operation.Validate,
  since: '1.0',
  mutates: false,
  // The Unique Identifiers are the chain itself: no ID Placeholder is added.
  request: ValidateRequest,
  response: ValidateResponse,
  async handle(req, ctx) {
    if (req.chain === undefined) {
      throw new KmipError('MissingData', 'Validate needs at least one Certificate or Unique Identifier');
    }
    const chain = await readChain(req.chain, ctx);
    const date = req.validityDate;
    const at = date === undefined ? ctx.services.clock() : dateFromSeconds(date);
    let verdict = validateChain(chain.certificates, at, await serverCaCertificates(ctx));
    if (chain.revoked) verdict = 'invalid';
    else if (chain.unknown && verdict === 'valid') verdict = 'unknown';
    return { validityIndicator: VERDICT[verdict] };
  },
});
