/**
 * Re-certify (KMIP 1.0 §4.8, 1.4 §4.8, 2.1 §6.1.41): a new certificate for
 * the public key of an existing Certificate object, as Re-key does for
 * symmetric keys (rekey.ts): the replacement takes the existing
 * certificate's attributes (lifecycle.ts rekeyedAttributes: dates copied,
 * or moved by the Offset), its Names (removed from the existing one), then
 * the client's Template-Attribute / Attributes. Links: Replaced Object Link
 * (new → old) first, then the existing Public Key Link; Replacement Object
 * Link (old → new); the public key's Certificate Link to the old
 * certificate now points to the new one (TC_134_1x).
 *
 * Content: the subject and subject alternative name of the request, else
 * of the existing certificate; the same public key (a request for another
 * key is refused). Validity: from now (now + Offset with an Offset) for as
 * long as the existing certificate was valid, or to a Deactivation Date the
 * request gives. Issuer: a Certificate Link in the request, else the
 * existing certificate's, else the server's issuing CA (certify.ts).
 *
 * Errors (spec table): not a Certificate → Invalid Object Type (2.x) /
 * Illegal Operation (1.x); destroyed → Wrong Key Lifecycle State (2.x) /
 * Permission Denied (1.x); archived → Object Archived; a bad request →
 * Invalid CSR (2.x) / Invalid Field (1.x).
 */
import { certificateFacts, samePublicKey } from '../../crypto/ca.js';
import { KmipError } from '../errors.js';
import { type ModelAttribute, removeAll, standardKey } from '../model/attributes.js';
import { rekeyedAttributes } from '../model/lifecycle.js';
import type { ManagedObject } from '../model/object.js';
import { overlayAttributes } from '../model/templates.js';
import { CertifyResponse, RecertifyRequest } from '../payloads/certificates.js';
import { LinkType, ObjectType, Operation, Tag } from '../spec/index.js';
import { issue, resolveIssuer } from './support/certificate-issuer.js';
import {
  invalidCsr,
  readCertificateAttributes,
  readCertificationRequest,
} from './support/certificate-requests.js';
import {
  CLOCK_SKEW_MS,
  certificateValue,
  endEntityKeyUsage,
  relink,
  storeCertificate,
} from './support/certificates.js';
import { stateName } from './support/common.js';
import { consumeUsage } from './support/crypto-common.js';
import { defineObjectOperation } from './support/define.js';
import { withLink } from './support/key-pairs.js';
import { linkedId, setLink } from './support/replacement.js';

export const recertify = defineObjectOperation({
  operation: Operation.ReCertify,
  since: '1.0',
  mutates: true,
  request: RecertifyRequest,
  response: CertifyResponse,
  object: {
    types: [ObjectType.Certificate],
    typeReason: ['InvalidObjectType', 'IllegalOperation'],
    typeMessage: (obj) => `object ${obj.id} is not a Certificate; Re-certify renews certificates`,
    states: ['PreActive', 'Active', 'Deactivated', 'Compromised'],
    stateMessage: (obj, state) => `object ${obj.id} is ${stateName(state)}`,
    online: true,
  },
  async handle(payload, ctx, { obj: old }) {
    const oldDer = await certificateValue(ctx, old);
    let facts: ReturnType<typeof certificateFacts>;
    try {
      facts = certificateFacts(oldDer);
    } catch {
      throw new KmipError('InvalidField', `certificate ${old.id} does not parse as X.509`);
    }
    const csr = await readCertificationRequest(payload, ctx);
    if (csr !== undefined && !samePublicKey(csr.publicKey, facts.publicKey)) {
      throw invalidCsr(ctx, `the Certificate Request is for another key than certificate ${old.id}`);
    }
    const req = await readCertificateAttributes(payload, ctx);
    const now = ctx.services.clock();
    const offset = payload.offset;
    const inherited = rekeyedAttributes(old.attributes, offset, now);
    const requestedParent = linkedId(req.attributes, LinkType.CertificateLink);
    const oldParent = linkedId(old.attributes, LinkType.CertificateLink);
    const issuer = await resolveIssuer(ctx, requestedParent ?? oldParent);

    const start =
      offset === undefined
        ? new Date(now.getTime() - CLOCK_SKEW_MS)
        : new Date(now.getTime() + offset * 1000);
    const lifetime = facts.notAfter.getTime() - facts.notBefore.getTime();
    const requestedEnd = req.attributes.find((a) => a.value.tag === Tag.DeactivationDate)?.value;
    const notAfter =
      requestedEnd?.type === 'DateTime'
        ? new Date(Number(requestedEnd.value) * 1000)
        : new Date(start.getTime() + lifetime);
    const der = issue(
      csr?.subject ?? req.subject ?? facts.subject,
      facts.publicKey,
      issuer,
      { notBefore: start, notAfter },
      {
        signatureAlgorithm: req.signatureAlgorithm,
        keyUsage: endEntityKeyUsage(overlayAttributes(inherited, req.attributes)),
        subjectAltName: csr?.subjectAltName ?? facts.subjectAltName,
      },
    );

    const publicId = linkedId(old.attributes, LinkType.PublicKeyLink);
    let attrs: ModelAttribute[] = withLink(
      overlayAttributes(inherited, req.attributes),
      LinkType.ReplacedObjectLink,
      old.id,
    );
    if (publicId !== undefined) attrs = withLink(attrs, LinkType.PublicKeyLink, publicId);
    if (requestedParent === undefined && oldParent !== undefined) {
      attrs = withLink(attrs, LinkType.CertificateLink, oldParent);
    }
    const pub = publicId === undefined ? undefined : await ctx.services.objects.get(publicId);
    const created = await storeCertificate(ctx, der, attrs, ctx.client.commonName, (certId) => [
      {
        id: old.id,
        mutate: (obj) => ({
          attributes: setLink(
            removeAll(obj.attributes, standardKey(Tag.Name)),
            LinkType.ReplacementObjectLink,
            certId,
          ),
        }),
      },
      ...(pub === undefined || pub.tombstoned
        ? []
        : [
            {
              id: pub.id,
              mutate: (cur: ManagedObject) => ({
                attributes: relink(cur.attributes, LinkType.CertificateLink, old.id, certId),
              }),
            },
          ]),
    ]);
    await consumeUsage(ctx, issuer.keyObject);
    ctx.idPlaceholder = created.id;
    return { uniqueIdentifier: created.id };
  },
});
