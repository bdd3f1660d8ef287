import { createPublicKey, generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import {
  CertificateRequestError,
  certificateFacts,
  createCertificationRequest,
  issueCertificate,
  nameFromComponents,
  nameFromText,
  parseCertificationRequest,
  samePublicKey,
  selfSignedCaCertificate,
  validateChain,
} from '../../src/crypto/ca.js';
import {
  certificateAttributes,
  keyUsageFromMask,
  signatureOidOf,
} from '../../src/kmip/model/x509-attributes.js';
import { CryptographicUsageMask, DigitalSignatureAlgorithm, Tag } from '../../src/kmip/spec/index.js';
import { childText } from '../../src/kmip/ttlv/build.js';
import { KeyUsageBit } from '../../src/pki/x509.js';
import { VECTORS_ROOT } from '../helpers/vectors.js';

const TC_134_10 = path.join(
  VECTORS_ROOT,
  'ovh-kmip-go/kmiptest/testdata/v1.0/TC_134_10_Register_Key_Pair_Certify_and_Re_certify_Public_Key.xml',
);

const DAY = 24 * 3600 * 1000;
const NOW = new Date('2030-06-01T12:00:00Z');

const cn = (value: string) => nameFromComponents([{ oid: '2.5.4.3', value }]);
const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = (namedCurve = 'prime256v1') => generateKeyPairSync('ec', { namedCurve });

interface Ca {
  readonly certificate: Uint8Array;
  readonly privateKey: KeyObject;
}

function rootCa(name: string, key = ec().privateKey): Ca {
  return {
    certificate: selfSignedCaCertificate({
      subject: cn(name),
      privateKey: key,
      notBefore: new Date(NOW.getTime() - DAY),
      notAfter: new Date(NOW.getTime() + 3650 * DAY),
    }),
    privateKey: key,
  };
}

function subCa(name: string, parent: Ca): Ca {
  const key = ec().privateKey;
  return {
    certificate: issueCertificate({
      subject: cn(name),
      publicKey: createPublicKey(key),
      issuer: parent,
      notBefore: new Date(NOW.getTime() - DAY),
      notAfter: new Date(NOW.getTime() + 365 * DAY),
      ca: true,
      keyUsage: [KeyUsageBit.keyCertSign],
    }),
    privateKey: key,
  };
}

function leaf(parent: Ca, publicKey: KeyObject, days = 30): Uint8Array {
  return issueCertificate({
    subject: nameFromText('CN=leaf,O=Example,C=US') ?? cn('leaf'),
    publicKey,
    issuer: parent,
    notBefore: new Date(NOW.getTime() - DAY),
    notAfter: new Date(NOW.getTime() + days * DAY),
    keyUsage: [KeyUsageBit.digitalSignature],
  });
}

describe('crypto/ca', () => {
  describe('issueCertificate', () => {
    for (const [label, caKey] of [
      ['an RSA CA', rsa().privateKey],
      ['an EC P-256 CA', ec().privateKey],
      ['an EC P-384 CA', ec('secp384r1').privateKey],
    ] as const) {
      it(`issues a certificate that node:crypto verifies against ${label}`, () => {
        const ca = rootCa('Test CA', caKey);
        const subject = rsa().publicKey;
        const der = leaf(ca, subject);
        const cert = new X509Certificate(der);
        const caCert = new X509Certificate(ca.certificate);
        expect(cert.verify(caCert.publicKey)).to.equal(true);
        expect(cert.checkIssued(caCert)).to.equal(true);
        expect(cert.issuer).to.equal(caCert.subject);
        expect(cert.subject).to.equal('C=US\nO=Example\nCN=leaf');
        expect(samePublicKey(cert.publicKey, subject)).to.equal(true);
        expect(cert.ca).to.equal(false);
        expect(caCert.ca).to.equal(true);
        expect(new Date(cert.validTo).getTime()).to.equal(
          Math.floor((NOW.getTime() + 30 * DAY) / 1000) * 1000,
        );
      });
    }

    it('signs with a requested Digital Signature Algorithm the issuing key can make', () => {
      const ca = rootCa('RSA CA', rsa().privateKey);
      const issueSignedWith = (algorithm: number) =>
        issueCertificate({
          subject: cn('x'),
          publicKey: ec().publicKey,
          issuer: ca,
          notBefore: NOW,
          notAfter: new Date(NOW.getTime() + DAY),
          signatureOid: signatureOidOf(algorithm),
        });
      const der = issueSignedWith(DigitalSignatureAlgorithm.SHA_384WithRSAEncryption);
      const attrs = certificateAttributes(der)?.attributes ?? [];
      const dsa = attrs.find((a) => a.tag === Tag.DigitalSignatureAlgorithm);
      expect(dsa?.type === 'Enumeration' && dsa.value).to.equal(
        DigitalSignatureAlgorithm.SHA_384WithRSAEncryption,
      );
      expect(new X509Certificate(der).verify(new X509Certificate(ca.certificate).publicKey)).to.equal(true);
      expect(() => issueSignedWith(DigitalSignatureAlgorithm.ECDSAWithSHA256)).to.throw(/cannot sign/);
    });

    it('refuses a validity that ends before it starts', () => {
      const ca = rootCa('CA');
      expect(() =>
        issueCertificate({
          subject: cn('x'),
          publicKey: ec().publicKey,
          issuer: ca,
          notBefore: NOW,
          notAfter: NOW,
        }),
      ).to.throw(/expire/);
    });

    it('gives the facts Re-certify needs back', () => {
      const ca = rootCa('CA');
      const key = ec().publicKey;
      const facts = certificateFacts(leaf(ca, key, 10));
      expect(samePublicKey(facts.publicKey, key)).to.equal(true);
      expect(facts.notAfter.getTime() - facts.notBefore.getTime()).to.equal(11 * DAY);
      expect(
        Buffer.from(facts.subject).equals(Buffer.from(nameFromText('CN=leaf,O=Example,C=US') ?? [])),
      ).to.equal(true);
    });
  });

  describe('names', () => {
    it('writes an RFC 4514 name that x509-attributes reads back the same', () => {
      const ca = rootCa('CA');
      const dn = 'CN=Client\\, Inc,OU=KMIP,O=ACME,C=US';
      const der = issueCertificate({
        subject: nameFromText(dn) ?? new Uint8Array(),
        publicKey: ec().publicKey,
        issuer: ca,
        notBefore: NOW,
        notAfter: new Date(NOW.getTime() + DAY),
      });
      const attrs = certificateAttributes(der)?.attributes ?? [];
      const subject = attrs.find((a) => a.tag === Tag.CertificateSubject);
      expect(childText(subject, Tag.CertificateSubjectDistinguishedName)).to.equal(dn);
    });

    it('refuses text that is not a distinguished name', () => {
      expect(nameFromText('')).to.equal(undefined);
      expect(nameFromText('no equals sign')).to.equal(undefined);
      expect(nameFromText('XYZ=1')).to.equal(undefined);
    });
  });

  describe('keyUsageFromMask', () => {
    it('maps the Cryptographic Usage Mask to X.509 key usage', () => {
      const M = CryptographicUsageMask;
      expect(keyUsageFromMask(M.Sign | M.Verify)).to.deep.equal([KeyUsageBit.digitalSignature]);
      expect(keyUsageFromMask(M.WrapKey | M.Encrypt)).to.deep.equal([
        KeyUsageBit.keyEncipherment,
        KeyUsageBit.dataEncipherment,
      ]);
      expect(keyUsageFromMask(undefined)).to.deep.equal([]);
    });
  });

  describe('parseCertificationRequest', () => {
    it('reads a request it built, DER and PEM', () => {
      const { privateKey, publicKey } = ec();
      const der = createCertificationRequest(cn('req'), privateKey);
      const info = parseCertificationRequest(der);
      expect(samePublicKey(info.publicKey, publicKey)).to.equal(true);
      expect(Buffer.from(info.subject).equals(Buffer.from(cn('req')))).to.equal(true);
      const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from(der).toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
      expect(samePublicKey(parseCertificationRequest(Buffer.from(pem), true).publicKey, publicKey)).to.equal(
        true,
      );
    });

    it('reads the SHA-1 RSA request of TC_134_10 and refuses it tampered', () => {
      const hex = /<CertificateRequest type="ByteString" value="([0-9a-f]+)"/.exec(
        readFileSync(TC_134_10, 'utf8'),
      )?.[1];
      expect(hex).to.be.a('string');
      const der = Buffer.from(hex ?? '', 'hex');
      const info = parseCertificationRequest(der);
      expect(info.publicKey.asymmetricKeyDetails?.modulusLength).to.equal(2048);
      const bad = Buffer.from(der);
      bad[bad.length - 5] = (bad[bad.length - 5] ?? 0) ^ 0xff;
      expect(() => parseCertificationRequest(bad)).to.throw(CertificateRequestError, /does not verify/);
    });

    it('refuses what is not a request', () => {
      expect(() => parseCertificationRequest(new Uint8Array([1, 2, 3]))).to.throw(CertificateRequestError);
      expect(() => parseCertificationRequest(Buffer.from('nothing'), true)).to.throw(CertificateRequestError);
      const ca = rootCa('CA');
      expect(() => parseCertificationRequest(ca.certificate)).to.throw(CertificateRequestError);
    });
  });

  describe('validateChain', () => {
    const root = rootCa('Root');
    const inter = subCa('Intermediate', root);
    const end = leaf(inter, ec().publicKey);

    it('is valid for a chain ending in a self-signed certificate', () => {
      expect(validateChain([end, inter.certificate, root.certificate], NOW)).to.equal('valid');
      expect(validateChain([root.certificate], NOW)).to.equal('valid');
    });

    it('is unknown without a trust anchor, valid when the server anchor issued the last', () => {
      expect(validateChain([end, inter.certificate], NOW)).to.equal('unknown');
      expect(validateChain([end, inter.certificate], NOW, [root.certificate])).to.equal('valid');
      expect(validateChain([end, inter.certificate], NOW, [rootCa('Other').certificate])).to.equal('unknown');
    });

    it('is invalid out of dates, out of order, tampered or malformed', () => {
      const chain = [end, inter.certificate, root.certificate];
      expect(validateChain(chain, new Date(NOW.getTime() + 400 * DAY))).to.equal('invalid');
      expect(validateChain(chain, new Date(NOW.getTime() - 2 * DAY))).to.equal('invalid');
      expect(validateChain([inter.certificate, end, root.certificate], NOW)).to.equal('invalid');
      expect(validateChain([end, root.certificate], NOW)).to.equal('invalid');
      const tampered = Buffer.from(end);
      tampered[tampered.length - 3] = (tampered[tampered.length - 3] ?? 0) ^ 0xff;
      expect(validateChain([tampered, inter.certificate, root.certificate], NOW)).to.equal('invalid');
      expect(validateChain([new Uint8Array([0x30, 0x00])], NOW)).to.equal('invalid');
    });

    it('refuses an issuer that is not a CA', () => {
      const holder = ec();
      const notCa = leaf(root, holder.publicKey);
      // a certificate signed by the holder of an end-entity certificate
      const fake = issueCertificate({
        subject: cn('victim'),
        publicKey: ec().publicKey,
        issuer: { certificate: notCa, privateKey: holder.privateKey },
        notBefore: new Date(NOW.getTime() - DAY),
        notAfter: new Date(NOW.getTime() + DAY),
      });
      expect(validateChain([fake, notCa, root.certificate], NOW)).to.equal('invalid');
    });
  });
});
