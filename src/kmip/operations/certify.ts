/**
 * Certify (KMIP 1.0 §4.7, 1.4 §4.7, 2.1 §6.1.7): the server, as a
 * certificate authority, issues an X.509 certificate for a Public Key (named
 * by Unique Identifier or the ID Placeholder) and/or a PKCS#10 Certificate
 * Request (1.x Certificate Request, 2.x Certificate Request Value or
 * Certificate Request Unique Identifier; PKCS_10 as DER, PEM as text). The
 * certificate is a new Certificate object with the attributes derived from
 * it (crypto/x509-attributes.ts, as Register derives them), the client's
 * Template-Attribute / Attributes, and a Public Key Link to the key, which
 * gets a Certificate Link back (1.4 §4.7).
 *
 * Subject: the request's (it takes precedence over attributes, 1.4 §4.7),
 * else the X.509 Certificate Subject / Certificate Subject / 2.x Certificate
 * Subject component attributes, else CN=<the key's first Name or identifier>.
 * Validity: Activation Date (else now, backdated 5 minutes for clients whose
 * clock lags) to Deactivation Date (else one year later). Key usage follows
 * the Cryptographic Usage Mask; Certify issues end-entity certificates only.
 * A Digital Signature Algorithm attribute chooses the signature (one the
 * issuing key can make).
 *
 * Issuer (the server's policy; KMIP leaves it open): a Certificate Link in
 * the request's attributes names the issuer's certificate (1.4 §3.35: "the
 * parent certificate"); its private key is found by the certificate's
 * Private Key Link, or its Public Key Link's Private Key Link, and must be
 * Active with the Certificate Sign usage. Otherwise the server's own issuing
 * CA signs: an RSA-2048 Private Key and self-signed CA certificate kept in
 * the store (owner SERVER_CA_OWNER, Names SERVER_CA_NAME /
 * SERVER_CA_KEY_NAME), created at first use, replaced by a new one when
 * less than a year of validity is left. Only objects the server made are
 * trusted: certificate and linked key both owned by SERVER_CA_OWNER (a
 * namespace no client identity can reach, src/auth/identity.ts), the key
 * matching the certificate. Its private key is Sensitive and not
 * Extractable, so Get never returns it. It is deliberately not the TLS CA
 * (certs/): a certificate a client obtains by Certify must not authenticate
 * anyone to this server.
 *
 * Errors (spec table): no key and no request → Invalid Field; the object is
 * not a Public Key → Invalid Object Type (2.x) / Illegal Operation (1.x); a
 * request that does not parse or verify, or for another key → Invalid CSR
 * (2.x) / Invalid Field (1.x); CRMF / PGP requests → Feature Not Supported;
 * an issuer key not usable → Wrong Key Lifecycle State / Incompatible
 * Cryptographic Usage Mask (2.x), Permission Denied (1.x).
 */
import type { KeyObject } from 'node:crypto';
import { nameFromComponents, samePublicKey } from '../../crypto/ca.js';
import { KmipError } from '../errors.js';
import { findDate, findValue, type ModelAttribute } from '../model/attributes.js';
import { isArchived } from '../model/lifecycle.js';
import type { ManagedObject } from '../model/object.js';
import { CertifyRequest, CertifyResponse } from '../payloads/certificates.js';
import { LinkType, ObjectType, Operation, Tag } from '../spec/index.js';
import { childText, dateFromSeconds } from '../ttlv/build.js';
import { issue, resolveIssuer } from './support/certificate-issuer.js';
import {
  invalidCsr,
  readCertificateAttributes,
  readCertificationRequest,
} from './support/certificate-requests.js';
import {
  CLOCK_SKEW_MS,
  contentOf,
  DEFAULT_VALIDITY_MS,
  endEntityKeyUsage,
  storeCertificate,
  type Validity,
} from './support/certificates.js';
import { isDestroyed, notFound, reason, stateName, stateOf, wrongState } from './support/common.js';
import { asymmetricKeyOf, consumeUsage } from './support/crypto-common.js';
import { defineOperation } from './support/define.js';
import { withLink } from './support/key-pairs.js';
import { linkedId } from './support/replacement.js';
import type { OperationContext } from './types.js';

/** The Public Key object to certify: present, live, on-line, with key material. */
async function loadSubjectKey(
  ctx: OperationContext,
  id: string,
): Promise<{ obj: ManagedObject; key: KeyObject }> {
  const obj = await ctx.services.objects.get(id);
  if (obj === undefined || obj.tombstoned) throw notFound(ctx, id);
  if (obj.objectType !== ObjectType.PublicKey) {
    throw new KmipError(
      reason(ctx, 'InvalidObjectType', 'IllegalOperation'),
      `object ${id} is not a Public Key; Certify certifies public keys`,
    );
  }
  if (isArchived(obj.attributes)) {
    throw new KmipError('ObjectArchived', `object ${id} is archived; Recover it first`);
  }
  const state = stateOf(obj);
  if (isDestroyed(state)) throw wrongState(ctx, `object ${id} is ${stateName(state)}`);
  const content = await contentOf(ctx, obj);
  if (content === undefined) {
    throw new KmipError('ObjectDestroyed', `object ${id} has no key material`);
  }
  return { obj, key: asymmetricKeyOf({ obj, content }) };
}

/** Activation Date (else now, backdated) to Deactivation Date (else `lifetimeMs` later). */
export function validityOf(attrs: readonly ModelAttribute[], now: Date, lifetimeMs: number): Validity {
  const activation = findDate(attrs, Tag.ActivationDate);
  const deactivation = findDate(attrs, Tag.DeactivationDate);
  const notBefore =
    activation === undefined ? new Date(now.getTime() - CLOCK_SKEW_MS) : dateFromSeconds(activation);
  const notAfter =
    deactivation === undefined ? new Date(notBefore.getTime() + lifetimeMs) : dateFromSeconds(deactivation);
  return { notBefore, notAfter };
}

function fallbackSubject(key: ManagedObject | undefined): Uint8Array {
  const name = childText(findValue(key?.attributes ?? [], Tag.Name), Tag.NameValue);
  return nameFromComponents([{ oid: '2.5.4.3', value: name ?? key?.id ?? 'KMIP certificate' }]);
}

export const certify = defineOperation({
  operation: Operation.Certify,
  since: '1.0',
  mutates: true,
  request: CertifyRequest,
  response: CertifyResponse,
  // The key to certify is optional (a Certificate Request alone will do), so not an object operation.
  usesPlaceholder: true,
  async handle(payload, ctx) {
    const keyId = payload.uniqueIdentifier;
    const subjectKey = keyId === undefined ? undefined : await loadSubjectKey(ctx, keyId);
    const csr = await readCertificationRequest(payload, ctx);
    if (subjectKey === undefined && csr === undefined) {
      throw new KmipError('InvalidField', 'Certify needs a Public Key identifier or a Certificate Request');
    }
    if (subjectKey !== undefined && csr !== undefined && !samePublicKey(subjectKey.key, csr.publicKey)) {
      throw invalidCsr(ctx, `the Certificate Request is for another key than ${subjectKey.obj.id}`);
    }
    const req = await readCertificateAttributes(payload, ctx);
    const publicKey = subjectKey?.key ?? csr?.publicKey;
    if (publicKey === undefined) throw new KmipError('InvalidField', 'no public key to certify');
    const issuer = await resolveIssuer(ctx, linkedId(req.attributes, LinkType.CertificateLink));
    const now = ctx.services.clock();
    const der = issue(
      csr?.subject ?? req.subject ?? fallbackSubject(subjectKey?.obj),
      publicKey,
      issuer,
      validityOf(req.attributes, now, DEFAULT_VALIDITY_MS),
      {
        signatureAlgorithm: req.signatureAlgorithm,
        keyUsage: endEntityKeyUsage(req.attributes),
        subjectAltName: csr?.subjectAltName,
      },
    );
    const attrs =
      subjectKey === undefined
        ? req.attributes
        : withLink(req.attributes, LinkType.PublicKeyLink, subjectKey.obj.id);
    const cert = await storeCertificate(ctx, der, attrs, ctx.client.commonName, (certId) =>
      subjectKey === undefined
        ? []
        : [
            {
              id: subjectKey.obj.id,
              mutate: (cur) => ({ attributes: withLink(cur.attributes, LinkType.CertificateLink, certId) }),
            },
          ],
    );
    await consumeUsage(ctx, issuer.keyObject);
    ctx.idPlaceholder = cert.id;
    return { uniqueIdentifier: cert.id };
  },
});
