/**
 * What Certify, Re-certify and Validate share: reading a certification
 * request, resolving the issuer (only a server-owned CA is trusted), issuing,
 * storing and linking certificates (operations/certify.ts documents the
 * behaviour and errors).
 */

import { type KeyObject, X509Certificate } from 'node:crypto';
import {
  CertificateRequestError,
  type CertificationRequestInfo,
  type IssuerKey,
  issueCertificate,
  nameFromComponents,
  nameFromText,
  parseCertificationRequest,
  samePublicKey,
  selfSignedCaCertificate,
} from '../../../crypto/ca.js';
import { generateRsaKeyPair } from '../../../crypto/keygen.js';
import type { KeyUsageBit } from '../../../pki/x509.js';
import { KmipError } from '../../errors.js';
import {
  findEnum,
  findInteger,
  findValue,
  type ModelAttribute,
  setStandard,
  standardKey,
} from '../../model/attributes.js';
import { asymmetricContent } from '../../model/key-formats.js';
import { checkClientAttributes, newObjectAttributes } from '../../model/lifecycle.js';
import type { ManagedObject } from '../../model/object.js';
import type { Mutation, ObjectService } from '../../model/service.js';
import { withTemplates } from '../../model/templates.js';
import { certificateAttributes, keyUsageFromMask, signatureOidOf } from '../../model/x509-attributes.js';
import type { CertificateRequestFields } from '../../payloads/certificates.js';
import {
  CertificateRequestType,
  CertificateType,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  KeyFormatType,
  LinkType,
  NameType,
  ObjectType,
  Tag,
} from '../../spec/index.js';
import {
  boolean,
  byteString,
  childBytes,
  childEnum,
  childText,
  dateTime,
  enumeration,
  integer,
  structure,
  textString,
} from '../../ttlv/build.js';
import type { TtlvStructure } from '../../ttlv/types.js';
import type { OperationContext } from '../types.js';
import {
  checkNameUnique,
  isDestroyed,
  isV2,
  notFound,
  reason,
  stateName,
  stateOf,
  wrongState,
} from './common.js';
import { asymmetricKeyOf, loadCryptoObject } from './crypto-common.js';
import { withLink } from './key-pairs.js';
import { linkedId } from './replacement.js';

/** Owner of the server's issuing CA objects: not a certificate CN the development PKI issues. */
export const SERVER_CA_OWNER = 'kmip-server:issuing-ca';
export const SERVER_CA_NAME = 'kmip-server issuing CA';
export const SERVER_CA_KEY_NAME = 'kmip-server issuing CA key';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Validity of a certificate without a Deactivation Date. */
export const DEFAULT_VALIDITY_MS = 365 * DAY_MS;
const CA_VALIDITY_MS = 10 * 365 * DAY_MS;
/** Backdating of a certificate without an Activation Date. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

const CERTIFICATE_TYPE_NAME = 'Certificate';

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
export function invalidCsr(ctx: OperationContext, message: string): KmipError {
  return new KmipError(reason(ctx, 'InvalidCSR', 'InvalidField'), message);
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

/** A signing CA: its certificate and private key, and the managed key (for Usage Limits). */
export interface ResolvedIssuer {
  readonly key: IssuerKey;
  readonly keyObject: ManagedObject;
  /** the issuer's certificate object */
  readonly certificateId: string;
}

const CERT_SIGN = {
  use: 'protect',
  mask: CryptographicUsageMask.CertificateSign,
  what: 'sign certificates',
} as const;

/** The issuer named by a Certificate Link, or the server's issuing CA. */
export async function resolveIssuer(
  ctx: OperationContext,
  issuerCertificateId: string | undefined,
): Promise<ResolvedIssuer> {
  if (issuerCertificateId === undefined) return serverIssuer(ctx);
  const cert = await ctx.services.objects.get(issuerCertificateId);
  if (cert === undefined || cert.tombstoned) throw notFound(ctx, issuerCertificateId);
  if (cert.objectType !== ObjectType.Certificate) {
    throw new KmipError(
      'InvalidField',
      `the Certificate Link names ${issuerCertificateId}, which is not a certificate`,
    );
  }
  const state = stateOf(cert);
  if (isDestroyed(state)) throw wrongState(ctx, `issuer certificate ${cert.id} is ${stateName(state)}`);
  const der = await certificateValue(ctx, cert);
  let keyId = linkedId(cert.attributes, LinkType.PrivateKeyLink);
  const publicId = linkedId(cert.attributes, LinkType.PublicKeyLink);
  if (keyId === undefined && publicId !== undefined) {
    const pub = await ctx.services.objects.get(publicId);
    if (pub !== undefined) keyId = linkedId(pub.attributes, LinkType.PrivateKeyLink);
  }
  if (keyId === undefined) {
    throw new KmipError(
      'InvalidField',
      `issuer certificate ${cert.id} has no linked private key on this server`,
    );
  }
  const target = await loadCryptoObject(ctx, keyId, CERT_SIGN, undefined);
  const privateKey = asymmetricKeyOf(target);
  if (privateKey.type !== 'private' || !samePublicKey(privateKey, new X509Certificate(der).publicKey)) {
    throw new KmipError(
      'InvalidField',
      `private key ${keyId} does not belong to issuer certificate ${cert.id}`,
    );
  }
  return { key: { certificate: der, privateKey }, keyObject: target.obj, certificateId: cert.id };
}

const caLocks = new WeakMap<ObjectService, Promise<unknown>>();

/** The server's issuing CA, created (once per process at a time) when there is none usable. */
async function serverIssuer(ctx: OperationContext): Promise<ResolvedIssuer> {
  const objects = ctx.services.objects;
  const previous = caLocks.get(objects) ?? Promise.resolve();
  const run = previous.then(
    () => findOrCreateServerCa(ctx),
    () => findOrCreateServerCa(ctx),
  );
  caLocks.set(
    objects,
    run.catch(() => undefined),
  );
  return run;
}

/** Certificates of the server's issuing CAs that are Active (trust anchors for Validate). */
export async function serverCaCertificates(ctx: OperationContext): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const id of await locateServerCa(ctx)) {
    const cert = await ctx.services.objects.get(id);
    if (cert !== undefined && !cert.tombstoned && cert.owner === SERVER_CA_OWNER) {
      try {
        out.push(await certificateValue(ctx, cert));
      } catch {
        // a damaged CA object is simply not an anchor
      }
    }
  }
  return out;
}

function locateServerCa(ctx: OperationContext): Promise<string[]> {
  return ctx.services.objects.locate(
    { objectType: CERTIFICATE_TYPE_NAME, owner: SERVER_CA_OWNER, name: SERVER_CA_NAME, state: 'Active' },
    { limit: 16 },
  );
}

async function findOrCreateServerCa(ctx: OperationContext): Promise<ResolvedIssuer> {
  const now = ctx.services.clock();
  for (const id of await locateServerCa(ctx)) {
    const cert = await ctx.services.objects.get(id);
    const keyId = cert === undefined ? undefined : linkedId(cert.attributes, LinkType.PrivateKeyLink);
    // Only what the server made: no client can own under SERVER_CA_OWNER (src/auth/identity.ts
    // refuses such names), and the Link may not lead to a client's key.
    if (cert === undefined || cert.tombstoned || keyId === undefined || cert.owner !== SERVER_CA_OWNER)
      continue;
    try {
      const der = await certificateValue(ctx, cert);
      const x509 = new X509Certificate(der);
      const notAfter = new Date(x509.validTo);
      // Roll over to a new CA rather than issue certificates that outlive their issuer.
      if (notAfter.getTime() - now.getTime() < DEFAULT_VALIDITY_MS) continue;
      const target = await loadCryptoObject(ctx, keyId, CERT_SIGN, undefined);
      const privateKey = asymmetricKeyOf(target);
      if (target.obj.owner !== SERVER_CA_OWNER || privateKey.type !== 'private') continue;
      if (!samePublicKey(privateKey, x509.publicKey)) continue;
      return {
        key: { certificate: der, privateKey },
        keyObject: target.obj,
        certificateId: cert.id,
      };
    } catch (e: unknown) {
      if (!(e instanceof KmipError)) throw e;
      // destroyed, deactivated or damaged: look further, or make a new CA
    }
  }
  return createServerCa(ctx, now);
}

function nameAttribute(name: string): ModelAttribute {
  return {
    key: standardKey(Tag.Name),
    index: 0,
    value: structure(Tag.Name, [
      textString(Tag.NameValue, name),
      enumeration(Tag.NameType, NameType.UninterpretedTextString),
    ]),
  };
}

async function createServerCa(ctx: OperationContext, now: Date): Promise<ResolvedIssuer> {
  const objects = ctx.services.objects;
  const pair = await generateRsaKeyPair(2048);
  const keyContent = asymmetricContent(
    pair.privateKey,
    KeyFormatType.PKCS_1,
    CryptographicAlgorithm.RSA,
    2048,
  );
  let keyAttrs: ModelAttribute[] = [nameAttribute(SERVER_CA_KEY_NAME)];
  keyAttrs = setStandard(
    keyAttrs,
    integer(
      Tag.CryptographicUsageMask,
      CryptographicUsageMask.CertificateSign | CryptographicUsageMask.CRLSign,
    ),
  );
  keyAttrs = setStandard(keyAttrs, dateTime(Tag.ActivationDate, now));
  keyAttrs = setStandard(keyAttrs, boolean(Tag.Sensitive, true));
  keyAttrs = setStandard(keyAttrs, boolean(Tag.Extractable, false));
  const keyObj = await objects.create({
    objectType: ObjectType.PrivateKey,
    attributes: setStandard(
      newObjectAttributes({
        objectType: ObjectType.PrivateKey,
        attributes: keyAttrs,
        content: keyContent,
        now,
        algorithm: CryptographicAlgorithm.RSA,
        length: 2048,
        generated: true,
      }),
      enumeration(Tag.KeyFormatType, KeyFormatType.PKCS_1),
    ),
    content: keyContent,
    owner: SERVER_CA_OWNER,
  });
  const der = selfSignedCaCertificate({
    subject: nameFromComponents([{ oid: '2.5.4.3', value: SERVER_CA_NAME }]),
    privateKey: pair.privateKey,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + CA_VALIDITY_MS),
  });
  let certAttrs: ModelAttribute[] = [nameAttribute(SERVER_CA_NAME)];
  certAttrs = setStandard(
    certAttrs,
    integer(
      Tag.CryptographicUsageMask,
      CryptographicUsageMask.Verify | CryptographicUsageMask.CertificateSign | CryptographicUsageMask.CRLSign,
    ),
  );
  certAttrs = setStandard(certAttrs, dateTime(Tag.ActivationDate, now));
  certAttrs = withLink(certAttrs, LinkType.PrivateKeyLink, keyObj.id);
  const cert = await storeCertificate(ctx, der, certAttrs, SERVER_CA_OWNER, (certId) => [
    {
      id: keyObj.id,
      mutate: (cur) => ({ attributes: withLink(cur.attributes, LinkType.CertificateLink, certId) }),
    },
  ]);
  return {
    key: { certificate: der, privateKey: pair.privateKey },
    keyObject: keyObj,
    certificateId: cert.id,
  };
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

/** Issues an end-entity certificate signed by `issuer` (crypto/ca.ts; an unusable algorithm is Invalid Field). */
export function issue(
  subject: Uint8Array,
  publicKey: KeyObject,
  issuer: ResolvedIssuer,
  validity: Validity,
  extras: {
    readonly signatureAlgorithm: number | undefined;
    readonly keyUsage: readonly KeyUsageBit[];
    readonly subjectAltName: Uint8Array | undefined;
  },
): Uint8Array {
  return issueCertificate({
    subject,
    publicKey,
    issuer: issuer.key,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    signatureOid: signatureOidOf(extras.signatureAlgorithm),
    keyUsage: extras.keyUsage,
    subjectAltName: extras.subjectAltName,
  });
}
