/**
 * The issuer of the certificates Certify and Re-certify make: a CA named by
 * a Certificate Link, or the server's own issuing CA (only a server-owned CA
 * is trusted), created when there is none usable; and issuing with it.
 */

import { type KeyObject, X509Certificate } from 'node:crypto';
import {
  type IssuerKey,
  issueCertificate,
  nameFromComponents,
  samePublicKey,
  selfSignedCaCertificate,
} from '../../../crypto/ca.js';
import { generateRsaKeyPair } from '../../../crypto/keygen.js';
import type { KeyUsageBit } from '../../../pki/x509.js';
import { KmipError } from '../../errors.js';
import { type ModelAttribute, setStandard, standardKey } from '../../model/attributes.js';
import { asymmetricContent } from '../../model/key-formats.js';
import { newObjectAttributes } from '../../model/lifecycle.js';
import type { ManagedObject } from '../../model/object.js';
import type { ObjectService } from '../../model/service.js';
import { signatureOidOf } from '../../model/x509-attributes.js';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  KeyFormatType,
  LinkType,
  NameType,
  ObjectType,
  Tag,
} from '../../spec/index.js';
import { boolean, dateTime, enumeration, integer, structure, textString } from '../../ttlv/build.js';
import type { OperationContext } from '../types.js';
import {
  CLOCK_SKEW_MS,
  certificateValue,
  DEFAULT_VALIDITY_MS,
  SERVER_CA_KEY_NAME,
  SERVER_CA_NAME,
  SERVER_CA_OWNER,
  storeCertificate,
  type Validity,
} from './certificates.js';
import { isDestroyed, notFound, stateName, stateOf, wrongState } from './common.js';
import { asymmetricKeyOf, loadCryptoObject } from './crypto-common.js';
import { withLink } from './key-pairs.js';
import { linkedId } from './replacement.js';

/** Validity of the server's issuing CA (ten years). */
const CA_VALIDITY_MS = 10 * DEFAULT_VALIDITY_MS;

const CERTIFICATE_TYPE_NAME = 'Certificate';

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
