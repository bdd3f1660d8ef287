/**
 * Reading what Certify and Re-certify are asked for: the attributes of the
 * new certificate (subject, signature algorithm) and the certification
 * request itself (operations/certify.ts documents the behaviour and errors).
 */

import {
  CertificateRequestError,
  type CertificationRequestInfo,
  nameFromComponents,
  nameFromText,
  parseCertificationRequest,
} from '../../../crypto/ca.js';
import { KmipError } from '../../errors.js';
import { findEnum, findValue, type ModelAttribute } from '../../model/attributes.js';
import { checkClientAttributes } from '../../model/lifecycle.js';
import { withTemplates } from '../../model/templates.js';
import type { CertificateRequestFields } from '../../payloads/certificates.js';
import { CertificateRequestType, ObjectType, Tag } from '../../spec/index.js';
import { childBytes, childEnum, childText } from '../../ttlv/build.js';
import type { OperationContext } from '../types.js';
import { contentOf } from './certificates.js';
import { checkNameUnique, isV2, notFound } from './common.js';

/** KMIP 2.x Certificate Subject component attributes (2.1 §4.6) and their OIDs, in DER order. */
const SUBJECT_COMPONENTS: ReadonlyArray<readonly [number, string]> = [
  [Tag.CertificateSubjectDC, '0.9.2342.19200300.100.1.25'],
  [Tag.CertificateSubjectC, '2.5.4.6'],
  [Tag.CertificateSubjectST, '2.5.4.8'],
  [Tag.CertificateSubjectL, '2.5.4.7'],
  [Tag.CertificateSubjectO, '2.5.4.10'],
  [Tag.CertificateSubjectOU, '2.5.4.11'],
  [Tag.CertificateSubjectTitle, '2.5.4.12'],
  [Tag.CertificateSubjectSerialNumber, '2.5.4.5'],
  [Tag.CertificateSubjectDNQualifier, '2.5.4.46'],
  [Tag.CertificateSubjectUID, '0.9.2342.19200300.100.1.1'],
  [Tag.CertificateSubjectCN, '2.5.4.3'],
  [Tag.CertificateSubjectEmail, '1.2.840.113549.1.9.1'],
];
/** Attributes that shape the certificate rather than being stored as given (the certificate's own replace them). */
const SHAPING_TAGS: ReadonlySet<number> = new Set([
  Tag.X_509CertificateSubject,
  Tag.CertificateSubject,
  Tag.DigitalSignatureAlgorithm,
  Tag.CertificateType,
  ...SUBJECT_COMPONENTS.map(([tag]) => tag),
]);

/** The request's attributes for the new certificate, and what they say about its content. */
export interface CertificateRequestAttributes {
  /** checked client attributes (templates applied), shaping ones removed */
  readonly attributes: ModelAttribute[];
  /** DER subject Name from the attributes, if they give one */
  readonly subject: Uint8Array | undefined;
  readonly signatureAlgorithm: number | undefined;
}

export async function readCertificateAttributes(
  req: { readonly attributes?: readonly ModelAttribute[]; readonly templates?: readonly string[] },
  ctx: OperationContext,
): Promise<CertificateRequestAttributes> {
  const all = await withTemplates(ctx.services.objects, req.templates ?? [], req.attributes ?? []);
  const shaping = all.filter((a) => a.key.kind === 'standard' && SHAPING_TAGS.has(a.key.tag));
  const attributes = all.filter((a) => !shaping.includes(a));
  checkClientAttributes(attributes, isV2(ctx.version));
  await checkNameUnique(ctx, attributes, undefined);
  return {
    attributes,
    subject: subjectFromAttributes(shaping),
    signatureAlgorithm: findEnum(shaping, Tag.DigitalSignatureAlgorithm),
  };
}

function subjectFromAttributes(attrs: readonly ModelAttribute[]): Uint8Array | undefined {
  const x509 = findValue(attrs, Tag.X_509CertificateSubject);
  const der = childBytes(x509, Tag.SubjectDistinguishedName);
  if (der !== undefined && der.length > 0) return der;
  const dn = childText(findValue(attrs, Tag.CertificateSubject), Tag.CertificateSubjectDistinguishedName);
  if (dn !== undefined && dn.trim() !== '') {
    const name = nameFromText(dn);
    if (name === undefined) throw new KmipError('InvalidField', `"${dn}" is not a distinguished name`);
    return name;
  }
  const components = SUBJECT_COMPONENTS.flatMap(([tag, oid]) => {
    const v = findValue(attrs, tag);
    return v?.type === 'TextString' ? [{ oid, value: v.value }] : [];
  });
  return components.length > 0 ? nameFromComponents(components) : undefined;
}

/** Invalid CSR (2.x) / Invalid Field (1.x) for a request that cannot be used. */
export function invalidCsr(_ctx: OperationContext, message: string): KmipError {
  return new KmipError('InvalidCSR', message);
}

/**
 * The request's certificate request, verified, if it has one: 1.x
 * Certificate Request, 2.x Certificate Request Value, or a managed
 * Certificate Request object (2.x Certificate Request Unique Identifier).
 */
export async function readCertificationRequest(
  req: CertificateRequestFields,
  ctx: OperationContext,
): Promise<CertificationRequestInfo | undefined> {
  let type = req.certificateRequestType;
  let value = req.certificateRequest ?? req.certificateRequestValue;
  const requestId = req.certificateRequestUniqueIdentifier;
  if (value === undefined && requestId !== undefined) {
    const obj = await ctx.services.objects.get(requestId);
    if (obj === undefined || obj.tombstoned) throw notFound(ctx, requestId);
    const content = obj.objectType === ObjectType.CertificateRequest ? await contentOf(ctx, obj) : undefined;
    value = childBytes(content, Tag.CertificateRequestValue);
    type = childEnum(content, Tag.CertificateRequestType) ?? type;
    if (value === undefined) throw invalidCsr(ctx, `object ${requestId} is not a certificate request`);
  }
  if (value === undefined) return undefined;
  if (type === CertificateRequestType.CRMF || type === CertificateRequestType.PGP) {
    throw new KmipError('FeatureNotSupported', 'only PKCS#10 certificate requests (DER or PEM) are accepted');
  }
  const pem =
    type === CertificateRequestType.PEM || Buffer.from(value.subarray(0, 10)).toString() === '-----BEGIN';
  try {
    return parseCertificationRequest(value, pem);
  } catch (e: unknown) {
    if (e instanceof CertificateRequestError) throw invalidCsr(ctx, e.message);
    throw e;
  }
}
