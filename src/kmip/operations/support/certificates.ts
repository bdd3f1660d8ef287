/**
 * What Certify, Re-certify and Validate share: storing and linking
 * certificates, and the server CA's names (operations/certify.ts documents
 * the behaviour and errors). Reading the request is in certificate-requests.ts,
 * the issuer and issuing in certificate-issuer.ts.
 */

import type { KeyUsageBit } from '../../../pki/x509.js';
import { KmipError } from '../../errors.js';
import { findInteger, type ModelAttribute, setStandard } from '../../model/attributes.js';
import { newObjectAttributes } from '../../model/lifecycle.js';
import type { ManagedObject } from '../../model/object.js';
import type { Mutation } from '../../model/service.js';
import { certificateAttributes, keyUsageFromMask } from '../../model/x509-attributes.js';
import { CertificateType, CryptographicUsageMask, ObjectType, Tag } from '../../spec/index.js';
import {
  byteString,
  childBytes,
  childEnum,
  childText,
  enumeration,
  structure,
  textString,
} from '../../ttlv/build.js';
import type { TtlvStructure } from '../../ttlv/types.js';
import type { OperationContext } from '../types.js';
import { withLink } from './key-pairs.js';

/** Owner of the server's issuing CA objects: not a certificate CN the development PKI issues. */
export const SERVER_CA_OWNER = 'kmip-server:issuing-ca';
export const SERVER_CA_NAME = 'kmip-server issuing CA';
export const SERVER_CA_KEY_NAME = 'kmip-server issuing CA key';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Validity of a certificate without a Deactivation Date. */
export const DEFAULT_VALIDITY_MS = 365 * DAY_MS;
/** Backdating of a certificate without an Activation Date. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

export async function contentOf(
  ctx: OperationContext,
  obj: ManagedObject,
): Promise<TtlvStructure | undefined> {
  return obj.sealed === undefined ? undefined : ctx.services.objects.content(obj);
}

/** The DER value of a managed X.509 Certificate object. */
export async function certificateValue(ctx: OperationContext, obj: ManagedObject): Promise<Uint8Array> {
  const content = await contentOf(ctx, obj);
  const der = childBytes(content, Tag.CertificateValue);
  if (der === undefined || childEnum(content, Tag.CertificateType) !== CertificateType.X_509) {
    throw new KmipError('InvalidField', `object ${obj.id} is not an X.509 certificate`);
  }
  return der;
}

/** The Certificate object structure of a DER X.509 certificate. */
export function certificateContent(der: Uint8Array): TtlvStructure {
  return structure(Tag.Certificate, [
    enumeration(Tag.CertificateType, CertificateType.X_509),
    byteString(Tag.CertificateValue, der),
  ]);
}

/**
 * Stores a certificate the server issued, with `attrs` (client's, links)
 * and the attributes derived from it replacing any of the same name. The
 * changes `links` names for other objects (the subject key's Certificate
 * Link, a re-certified certificate's Replacement Object Link) are written in
 * the same atomic write: a crash leaves both or neither.
 */
export async function storeCertificate(
  ctx: OperationContext,
  der: Uint8Array,
  attrs: readonly ModelAttribute[],
  owner: string | undefined,
  links: (certId: string) => readonly { readonly id: string; readonly mutate: Mutation }[] = () => [],
): Promise<ManagedObject> {
  const derived = certificateAttributes(der);
  let all = [...attrs];
  for (const item of derived?.attributes ?? []) all = setStandard(all, item);
  const content = certificateContent(der);
  const id = ctx.services.objects.newId();
  const { created } = await ctx.services.objects.writeTogether(
    [
      {
        id,
        objectType: ObjectType.Certificate,
        attributes: newObjectAttributes({
          objectType: ObjectType.Certificate,
          attributes: all,
          content,
          now: ctx.services.clock(),
          algorithm: derived?.algorithm,
          length: derived?.length,
          generated: true,
        }),
        content,
        owner,
      },
    ],
    links(id),
  );
  const cert = created[0];
  if (cert === undefined) throw new Error('the certificate was not stored');
  return cert;
}

export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** X.509 key usage for the Cryptographic Usage Mask of an end-entity certificate (no CA bits). */
export function endEntityKeyUsage(attrs: readonly ModelAttribute[]): KeyUsageBit[] {
  const mask = findInteger(attrs, Tag.CryptographicUsageMask);
  const endEntity =
    mask === undefined
      ? undefined
      : mask & ~(CryptographicUsageMask.CertificateSign | CryptographicUsageMask.CRLSign);
  return keyUsageFromMask(endEntity);
}

/** Adds a Link, or repoints the one of `type` that points to `from` (Re-certify's Certificate Link). */
export function relink(
  attrs: readonly ModelAttribute[],
  type: number,
  from: string | undefined,
  to: string,
): ModelAttribute[] {
  let replaced = false;
  const out = attrs.map((a) => {
    const v = a.value;
    if (
      !replaced &&
      from !== undefined &&
      v.tag === Tag.Link &&
      v.type === 'Structure' &&
      childEnum(v, Tag.LinkType) === type &&
      childText(v, Tag.LinkedObjectIdentifier) === from
    ) {
      replaced = true;
      return {
        ...a,
        value: structure(Tag.Link, [
          enumeration(Tag.LinkType, type),
          textString(Tag.LinkedObjectIdentifier, to),
        ]),
      };
    }
    return a;
  });
  return replaced ? out : withLink(attrs, type, to);
}
