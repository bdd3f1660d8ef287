import { createPublicKey, generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import { expect } from 'chai';
import * as pkijs from 'pkijs';
import {
  createCertificationRequest,
  issueCertificate,
  nameFromComponents,
  nameFromText,
  samePublicKey,
  selfSignedCaCertificate,
} from '../../../src/crypto/ca.js';
import type { ModelAttribute } from '../../../src/kmip/messages/attributes.js';
import { SERVER_CA_NAME } from '../../../src/kmip/operations/support/certificates.js';
import {
  CertificateRequestType,
  CertificateType,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  KeyFormatType,
  type KmipVersion,
  LinkType,
  NameType,
  ObjectType,
  Operation,
  ResultReason,
  RevocationReasonCode,
  Tag,
  ValidityIndicator,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem, TtlvStructure } from '../../../src/kmip/ttlv/types.js';
import { rsaKey } from '../../helpers/requests.js';
import { attrList } from './fixtures.js';
import { B, D, E, type Harness, I, kid, S, T, text, useHarness } from './harness.js';

const M = CryptographicUsageMask;

const nameAttr = (n: string) =>
  S(Tag.Name, [T(Tag.NameValue, n), E(Tag.NameType, NameType.UninterpretedTextString)]);
const linkAttr = (type: number, id: string) =>
  S(Tag.Link, [E(Tag.LinkType, type), T(Tag.LinkedObjectIdentifier, id)]);
const csrItems = (version: KmipVersion, der: Uint8Array, type: number = CertificateRequestType.PKCS_10) => [
  E(Tag.CertificateRequestType, type),
  B(version.startsWith('2') ? Tag.CertificateRequestValue : Tag.CertificateRequest, der),
];

function links(attrs: readonly ModelAttribute[]): [number, string][] {
  const out: [number, string][] = [];
  for (const a of attrs) {
    const v = a.value;
    if (v.tag !== Tag.Link || v.type !== 'Structure') continue;
    const t = kid(v, Tag.LinkType);
    out.push([t?.type === 'Enumeration' ? t.value : -1, text(v, Tag.LinkedObjectIdentifier) ?? '']);
  }
  return out;
}

function names(attrs: readonly ModelAttribute[]): string[] {
  return attrs.flatMap((a) => (a.value.tag === Tag.Name ? [text(a.value, Tag.NameValue) ?? ''] : []));
}

interface Pair {
  readonly publicId: string;
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
}

async function registerPublicKey(h: Harness, version: KmipVersion, label: string): Promise<Pair> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const p = await h.ok(version, Operation.Register, [
    E(Tag.ObjectType, ObjectType.PublicKey),
    attrList(version, [I(Tag.CryptographicUsageMask, M.Verify), nameAttr(label)]),
    rsaKey(Tag.PublicKey, publicKey, 'pkcs1'),
  ]);
  return { publicId: text(p, Tag.UniqueIdentifier) ?? '', publicKey, privateKey };
}

async function certificateDer(h: Harness, version: KmipVersion, id: string): Promise<Uint8Array> {
  const p = await h.ok(version, Operation.Get, [T(Tag.UniqueIdentifier, id)]);
  const value = kid(kid(p, Tag.Certificate), Tag.CertificateValue);
  if (value?.type !== 'ByteString') throw new Error('no certificate value');
  return value.value;
}

async function serverCa(h: Harness): Promise<{ id: string; cert: X509Certificate }> {
  const [id] = await h.objects.locate({ name: SERVER_CA_NAME, objectType: 'Certificate' });
  if (id === undefined) throw new Error('no server CA');
  return { id, cert: new X509Certificate(await certificateDer(h, '2.1', id)) };
}

async function attrsOf(h: Harness, id: string): Promise<readonly ModelAttribute[]> {
  const obj = await h.objects.get(id);
  if (obj === undefined) throw new Error(`no object ${id}`);
  return obj.attributes;
}

async function fails(
  h: Harness,
  version: KmipVersion,
  op: number,
  payload: TtlvItem[],
  reason: number,
): Promise<string | undefined> {
  const [r] = await h.send(version, [{ op, payload }]);
  expect(r?.status, r?.message).to.equal(1);
  expect(r?.reason, r?.message).to.equal(reason);
  return r?.message;
}

/** The first byte of the key usage BIT STRING (0x80 digitalSignature ... 0x04 keyCertSign), undefined without one. */
function keyUsageByte(der: Uint8Array): number | undefined {
  const ext = pkijs.Certificate.fromBER(der).extensions?.find((e) => e.extnID === '2.5.29.15');
  if (ext === undefined) return undefined;
  const bits = asn1js.fromBER(ext.extnValue.valueBlock.valueHexView).result;
  return bits instanceof asn1js.BitString ? bits.valueBlock.valueHexView[0] : undefined;
}

const subject = (dn: string) => nameFromText(dn) ?? new Uint8Array();

describe('Certify, Re-certify and Validate', function () {
  this.timeout(20_000);
  const h = useHarness();

  describe('Certify', () => {
    it('issues a certificate for a Public Key and a PKCS#10 request (1.0, as TC_134_10)', async () => {
      const pair = await registerPublicKey(h, '1.0', 'c1-pub');
      const csr = createCertificationRequest(subject('CN=Client,OU=KMIP,O=ACME,C=US'), pair.privateKey);
      const p = await h.ok('1.0', Operation.Certify, [
        T(Tag.UniqueIdentifier, pair.publicId),
        ...csrItems('1.0', csr),
        attrList('1.0', [I(Tag.CryptographicUsageMask, M.Verify | M.Sign), nameAttr('c1-cert')]),
      ]);
      expect(p.value.map((c) => c.tag)).to.deep.equal([Tag.UniqueIdentifier]);
      const certId = text(p, Tag.UniqueIdentifier) ?? '';
      const cert = new X509Certificate(await certificateDer(h, '1.0', certId));
      const ca = await serverCa(h);
      expect(cert.verify(ca.cert.publicKey)).to.equal(true);
      expect(cert.checkIssued(ca.cert)).to.equal(true);
      expect(ca.cert.ca).to.equal(true);
      expect(cert.ca).to.equal(false);
      expect(cert.subject).to.equal('C=US\nO=ACME\nOU=KMIP\nCN=Client');
      expect(samePublicKey(cert.publicKey, pair.publicKey)).to.equal(true);
      expect(keyUsageByte(cert.raw)).to.equal(0x80);
      const validFor = new Date(cert.validTo).getTime() - new Date(cert.validFrom).getTime();
      expect(validFor).to.equal(365 * 24 * 3600 * 1000);

      const certAttrs = await attrsOf(h, certId);
      expect(links(certAttrs)).to.deep.equal([[LinkType.PublicKeyLink, pair.publicId]]);
      expect(links(await attrsOf(h, pair.publicId))).to.deep.equal([[LinkType.CertificateLink, certId]]);
      expect(names(certAttrs)).to.deep.equal(['c1-cert']);
      const subj = certAttrs.find((a) => a.value.tag === Tag.CertificateSubject)?.value;
      expect(text(subj, Tag.CertificateSubjectDistinguishedName)).to.equal('CN=Client,OU=KMIP,O=ACME,C=US');
      const mask = certAttrs.find((a) => a.value.tag === Tag.CryptographicUsageMask)?.value;
      expect(mask?.type === 'Integer' && mask.value).to.equal(M.Verify | M.Sign);

      // GetAttributes over the wire, as the vector asks
      const ga = await h.ok('1.0', Operation.GetAttributes, [
        T(Tag.UniqueIdentifier, certId),
        T(Tag.AttributeName, 'Certificate Issuer'),
        T(Tag.AttributeName, 'Certificate Type'),
      ]);
      const issuer = kid(kid(ga, Tag.Attribute), Tag.AttributeValue);
      expect(text(issuer, Tag.CertificateIssuerDistinguishedName)).to.equal(`CN=${SERVER_CA_NAME}`);
    });

    it('keeps the issuing CA private key inside the server', async () => {
      const [keyId] = await h.objects.locate({ objectType: 'PrivateKey', name: `${SERVER_CA_NAME} key` });
      expect(keyId).to.be.a('string');
      const [r] = await h.send('2.1', [
        { op: Operation.Get, payload: [T(Tag.UniqueIdentifier, keyId ?? '')] },
      ]);
      expect(r?.status).to.equal(1);
      expect(r?.reason).to.be.oneOf([ResultReason.Sensitive, ResultReason.NotExtractable]);
    });

    it('takes the subject and usage from attributes when there is no request (2.1), and sets the ID Placeholder', async () => {
      const pair = await registerPublicKey(h, '2.1', 'c2-pub');
      const results = await h.send('2.1', [
        {
          op: Operation.Certify,
          payload: [
            T(Tag.UniqueIdentifier, pair.publicId),
            attrList('2.1', [
              S(Tag.X_509CertificateSubject, [B(Tag.SubjectDistinguishedName, subject('CN=two,O=Org'))]),
              I(Tag.CryptographicUsageMask, M.Sign | M.Verify | M.CertificateSign),
              nameAttr('c2-cert'),
            ]),
          ],
        },
        { op: Operation.Get, payload: [] },
      ]);
      expect(results.map((r) => r.status)).to.deep.equal([0, 0]);
      const value = kid(kid(results[1]?.payload, Tag.Certificate), Tag.CertificateValue);
      if (value?.type !== 'ByteString') throw new Error('no certificate');
      const cert = new X509Certificate(value.value);
      expect(cert.subject).to.equal('O=Org\nCN=two');
      expect(cert.ca).to.equal(false);
      // Certify issues end-entity certificates: the Certificate Sign bit is not granted
      expect(keyUsageByte(cert.raw)).to.equal(0x80);
      expect(samePublicKey(cert.publicKey, pair.publicKey)).to.equal(true);
      expect(cert.verify((await serverCa(h)).cert.publicKey)).to.equal(true);
    });

    it('reads a 1.x Certificate Subject text and 2.x Certificate Subject components', async () => {
      const pair = await registerPublicKey(h, '2.1', 'c4-pub');
      const cases: [KmipVersion, TtlvItem[], string][] = [
        [
          '1.4',
          [
            attrList('1.4', [
              S(Tag.CertificateSubject, [T(Tag.CertificateSubjectDistinguishedName, 'CN=text,O=T,C=DE')]),
            ]),
          ],
          'C=DE\nO=T\nCN=text',
        ],
        [
          '2.1',
          [
            S(Tag.Attributes, [
              T(Tag.CertificateSubjectCN, 'comp'),
              T(Tag.CertificateSubjectO, 'Org'),
              T(Tag.CertificateSubjectC, 'FR'),
            ]),
          ],
          'C=FR\nO=Org\nCN=comp',
        ],
      ];
      for (const [version, items, expected] of cases) {
        const p = await h.ok(version, Operation.Certify, [T(Tag.UniqueIdentifier, pair.publicId), ...items]);
        const der = await certificateDer(h, version, text(p, Tag.UniqueIdentifier) ?? '');
        expect(new X509Certificate(der).subject).to.equal(expected);
      }
      await fails(
        h,
        '1.4',
        Operation.Certify,
        [
          T(Tag.UniqueIdentifier, pair.publicId),
          attrList('1.4', [
            S(Tag.CertificateSubject, [T(Tag.CertificateSubjectDistinguishedName, 'nonsense')]),
          ]),
        ],
        ResultReason.InvalidField,
      );
    });

    it('names the certificate after the key when nothing gives a subject', async () => {
      const pair = await registerPublicKey(h, '1.4', 'c3-pub');
      const p = await h.ok('1.4', Operation.Certify, [T(Tag.UniqueIdentifier, pair.publicId)]);
      const cert = new X509Certificate(await certificateDer(h, '1.4', text(p, Tag.UniqueIdentifier) ?? ''));
      expect(cert.subject).to.equal('CN=c3-pub');
    });

    it('certifies a bare request (2.1), with no key object to link', async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const csr = createCertificationRequest(subject('CN=bare'), privateKey);
      const p = await h.ok('2.1', Operation.Certify, csrItems('2.1', csr));
      const id = text(p, Tag.UniqueIdentifier) ?? '';
      const cert = new X509Certificate(await certificateDer(h, '2.1', id));
      expect(samePublicKey(cert.publicKey, publicKey)).to.equal(true);
      expect(links(await attrsOf(h, id))).to.deep.equal([]);
    });

    it('is signed by the CA a Certificate Link names, whose key must have Certificate Sign', async () => {
      const registerCa = async (mask: number, label: string) => {
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
        const now = Math.floor(Date.now() / 1000);
        const kp = await h.ok('2.1', Operation.Register, [
          E(Tag.ObjectType, ObjectType.PrivateKey),
          S(Tag.Attributes, [I(Tag.CryptographicUsageMask, mask), D(Tag.ActivationDate, now - 60)]),
          S(Tag.PrivateKey, [
            S(Tag.KeyBlock, [
              E(Tag.KeyFormatType, KeyFormatType.PKCS_8),
              S(Tag.KeyValue, [B(Tag.KeyMaterial, privateKey.export({ format: 'der', type: 'pkcs8' }))]),
              E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.EC),
              I(Tag.CryptographicLength, 256),
            ]),
          ]),
        ]);
        const der = selfSignedCaCertificate({
          subject: nameFromComponents([{ oid: '2.5.4.3', value: label }]),
          privateKey,
          notBefore: new Date(Date.now() - 60_000),
          notAfter: new Date(Date.now() + 10 * 365 * 86_400_000),
        });
        const cp = await h.ok('2.1', Operation.Register, [
          E(Tag.ObjectType, ObjectType.Certificate),
          S(Tag.Attributes, [linkAttr(LinkType.PrivateKeyLink, text(kp, Tag.UniqueIdentifier) ?? '')]),
          S(Tag.Certificate, [E(Tag.CertificateType, CertificateType.X_509), B(Tag.CertificateValue, der)]),
        ]);
        return { id: text(cp, Tag.UniqueIdentifier) ?? '', cert: new X509Certificate(der) };
      };
      const good = await registerCa(M.CertificateSign, 'Team CA');
      const pair = await registerPublicKey(h, '2.1', 'c5-pub');
      const p = await h.ok('2.1', Operation.Certify, [
        T(Tag.UniqueIdentifier, pair.publicId),
        attrList('2.1', [linkAttr(LinkType.CertificateLink, good.id)]),
      ]);
      const id = text(p, Tag.UniqueIdentifier) ?? '';
      const cert = new X509Certificate(await certificateDer(h, '2.1', id));
      expect(cert.verify(good.cert.publicKey)).to.equal(true);
      expect(cert.issuer).to.equal('CN=Team CA');
      expect(links(await attrsOf(h, id))).to.deep.equal([
        [LinkType.CertificateLink, good.id],
        [LinkType.PublicKeyLink, pair.publicId],
      ]);

      const weak = await registerCa(M.Sign, 'Weak CA');
      await fails(
        h,
        '2.1',
        Operation.Certify,
        [
          T(Tag.UniqueIdentifier, pair.publicId),
          attrList('2.1', [linkAttr(LinkType.CertificateLink, weak.id)]),
        ],
        ResultReason.IncompatibleCryptographicUsageMask,
      );
    });

    it('refuses bad requests with the reason of the version', async () => {
      const pair = await registerPublicKey(h, '1.4', 'c6-pub');
      const other = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const good = createCertificationRequest(subject('CN=x'), pair.privateKey);
      const tampered = Buffer.from(good);
      tampered[tampered.length - 4] = (tampered[tampered.length - 4] ?? 0) ^ 0x55;
      const foreign = createCertificationRequest(subject('CN=x'), other.privateKey);
      for (const [version, reason] of [
        ['1.4', ResultReason.InvalidField],
        ['2.1', ResultReason.InvalidCSR],
      ] as const) {
        for (const csr of [tampered, new Uint8Array([0x30, 0x03, 1, 2, 3]), foreign]) {
          await fails(
            h,
            version,
            Operation.Certify,
            [T(Tag.UniqueIdentifier, pair.publicId), ...csrItems(version, csr)],
            reason,
          );
        }
      }
      await fails(
        h,
        '2.1',
        Operation.Certify,
        [T(Tag.UniqueIdentifier, pair.publicId), ...csrItems('2.1', good, CertificateRequestType.CRMF)],
        ResultReason.FeatureNotSupported,
      );
      await fails(h, '2.1', Operation.Certify, [], ResultReason.InvalidField);
      const key = await h.ok('1.4', Operation.Create, [
        E(Tag.ObjectType, ObjectType.SymmetricKey),
        S(Tag.TemplateAttribute, [
          S(Tag.Attribute, [
            T(Tag.AttributeName, 'Cryptographic Algorithm'),
            E(Tag.AttributeValue, CryptographicAlgorithm.AES),
          ]),
          S(Tag.Attribute, [T(Tag.AttributeName, 'Cryptographic Length'), I(Tag.AttributeValue, 128)]),
          S(Tag.Attribute, [
            T(Tag.AttributeName, 'Cryptographic Usage Mask'),
            I(Tag.AttributeValue, M.Encrypt),
          ]),
        ]),
      ]);
      const keyId = text(key, Tag.UniqueIdentifier) ?? '';
      await fails(
        h,
        '1.4',
        Operation.Certify,
        [T(Tag.UniqueIdentifier, keyId)],
        ResultReason.IllegalOperation,
      );
      await fails(
        h,
        '2.1',
        Operation.Certify,
        [T(Tag.UniqueIdentifier, keyId)],
        ResultReason.InvalidObjectType,
      );
      await fails(
        h,
        '2.1',
        Operation.ReCertify,
        [T(Tag.UniqueIdentifier, keyId)],
        ResultReason.InvalidObjectType,
      );
    });
  });

  describe('Re-certify', () => {
    it('renews for the same key, moves the Names and links old and new (1.0, as TC_134_10)', async () => {
      const pair = await registerPublicKey(h, '1.0', 'r1-pub');
      const csr = createCertificationRequest(subject('CN=Client,O=ACME'), pair.privateKey);
      const first = await h.ok('1.0', Operation.Certify, [
        T(Tag.UniqueIdentifier, pair.publicId),
        ...csrItems('1.0', csr),
        attrList('1.0', [nameAttr('r1-cert1')]),
      ]);
      const oldId = text(first, Tag.UniqueIdentifier) ?? '';
      const before = Date.now();
      const second = await h.ok('1.0', Operation.ReCertify, [
        T(Tag.UniqueIdentifier, oldId),
        ...csrItems('1.0', csr),
        { tag: Tag.Offset, type: 'Interval', value: 3600 },
        attrList('1.0', [nameAttr('r1-cert2')]),
      ]);
      const newId = text(second, Tag.UniqueIdentifier) ?? '';
      expect(newId).to.not.equal(oldId);
      const oldCert = new X509Certificate(await certificateDer(h, '1.0', oldId));
      const newCert = new X509Certificate(await certificateDer(h, '1.0', newId));
      expect(newCert.verify((await serverCa(h)).cert.publicKey)).to.equal(true);
      expect(samePublicKey(newCert.publicKey, pair.publicKey)).to.equal(true);
      expect(newCert.subject).to.equal(oldCert.subject);
      expect(newCert.serialNumber).to.not.equal(oldCert.serialNumber);
      const start = new Date(newCert.validFrom).getTime();
      expect(start).to.be.within(before + 3_599_000 - 2000, Date.now() + 3_600_000);
      const lifetime = (c: X509Certificate) =>
        new Date(c.validTo).getTime() - new Date(c.validFrom).getTime();
      expect(lifetime(newCert)).to.equal(lifetime(oldCert));

      const newAttrs = await attrsOf(h, newId);
      expect(links(newAttrs)).to.deep.equal([
        [LinkType.ReplacedObjectLink, oldId],
        [LinkType.PublicKeyLink, pair.publicId],
      ]);
      expect(names(newAttrs)).to.deep.equal(['r1-cert1', 'r1-cert2']);
      const oldAttrs = await attrsOf(h, oldId);
      expect(links(oldAttrs)).to.deep.equal([
        [LinkType.PublicKeyLink, pair.publicId],
        [LinkType.ReplacementObjectLink, newId],
      ]);
      expect(names(oldAttrs)).to.deep.equal([]);
      expect(links(await attrsOf(h, pair.publicId))).to.deep.equal([[LinkType.CertificateLink, newId]]);
    });

    it('renews without a request, and refuses a request for another key', async () => {
      const pair = await registerPublicKey(h, '2.1', 'r2-pub');
      const first = await h.ok('2.1', Operation.Certify, [
        T(Tag.UniqueIdentifier, pair.publicId),
        attrList('2.1', [
          S(Tag.X_509CertificateSubject, [B(Tag.SubjectDistinguishedName, subject('CN=r2'))]),
        ]),
      ]);
      const oldId = text(first, Tag.UniqueIdentifier) ?? '';
      const second = await h.ok('2.1', Operation.ReCertify, [T(Tag.UniqueIdentifier, oldId)]);
      const cert = new X509Certificate(
        await certificateDer(h, '2.1', text(second, Tag.UniqueIdentifier) ?? ''),
      );
      expect(cert.subject).to.equal('CN=r2');
      expect(samePublicKey(cert.publicKey, pair.publicKey)).to.equal(true);
      const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      await fails(
        h,
        '2.1',
        Operation.ReCertify,
        [
          T(Tag.UniqueIdentifier, oldId),
          ...csrItems('2.1', createCertificationRequest(subject('CN=r2'), other.privateKey)),
        ],
        ResultReason.InvalidCSR,
      );
    });
  });

  describe('Validate', () => {
    let certId: string;
    let certDer: Uint8Array;
    before(async () => {
      const pair = await registerPublicKey(h, '2.1', 'v-pub');
      const p = await h.ok('2.1', Operation.Certify, [T(Tag.UniqueIdentifier, pair.publicId)]);
      certId = text(p, Tag.UniqueIdentifier) ?? '';
      certDer = await certificateDer(h, '2.1', certId);
    });

    const certificate = (der: Uint8Array) =>
      S(Tag.Certificate, [E(Tag.CertificateType, CertificateType.X_509), B(Tag.CertificateValue, der)]);

    async function indicator(version: KmipVersion, payload: TtlvItem[]): Promise<number | undefined> {
      const p: TtlvStructure = await h.ok(version, Operation.Validate, payload);
      expect(p.value.map((c) => c.tag)).to.deep.equal([Tag.ValidityIndicator]);
      const v = kid(p, Tag.ValidityIndicator);
      return v?.type === 'Enumeration' ? v.value : undefined;
    }

    it('is Valid for a certificate and the server CA, by identifier or value', async () => {
      const ca = await serverCa(h);
      expect(
        await indicator('1.0', [T(Tag.UniqueIdentifier, certId), T(Tag.UniqueIdentifier, ca.id)]),
      ).to.equal(ValidityIndicator.Valid);
      expect(await indicator('2.1', [certificate(certDer), certificate(ca.cert.raw)])).to.equal(
        ValidityIndicator.Valid,
      );
      // the server's CA is a trust anchor of its own
      expect(await indicator('2.1', [certificate(certDer)])).to.equal(ValidityIndicator.Valid);
    });

    it('is Invalid at a Validity Date out of the certificates dates, or for a broken chain', async () => {
      const ca = await serverCa(h);
      const in2100 = Math.floor(Date.UTC(2100, 0, 1) / 1000);
      expect(
        await indicator('1.4', [
          T(Tag.UniqueIdentifier, certId),
          T(Tag.UniqueIdentifier, ca.id),
          D(Tag.ValidityDate, in2100),
        ]),
      ).to.equal(ValidityIndicator.Invalid);
      const tampered = Buffer.from(certDer);
      tampered[tampered.length - 3] = (tampered[tampered.length - 3] ?? 0) ^ 0xff;
      expect(await indicator('2.1', [certificate(tampered), certificate(ca.cert.raw)])).to.equal(
        ValidityIndicator.Invalid,
      );
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const stranger = selfSignedCaCertificate({
        subject: nameFromComponents([{ oid: '2.5.4.3', value: 'Stranger' }]),
        privateKey,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 86_400_000),
      });
      expect(await indicator('2.1', [certificate(certDer), certificate(stranger)])).to.equal(
        ValidityIndicator.Invalid,
      );
    });

    it('is Unknown for a chain that ends at an issuer the server does not know', async () => {
      const root = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
      const rootDer = selfSignedCaCertificate({
        subject: nameFromComponents([{ oid: '2.5.4.3', value: 'Elsewhere' }]),
        privateKey: root,
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 86_400_000),
      });
      const leafDer = issueCertificate({
        subject: nameFromComponents([{ oid: '2.5.4.3', value: 'leaf' }]),
        publicKey: createPublicKey(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey),
        issuer: { certificate: rootDer, privateKey: root },
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 86_400_000),
      });
      expect(await indicator('2.1', [certificate(leafDer)])).to.equal(ValidityIndicator.Unknown);
      expect(await indicator('2.1', [certificate(leafDer), certificate(rootDer)])).to.equal(
        ValidityIndicator.Valid,
      );
    });

    it('is Invalid once a certificate of the chain is revoked', async () => {
      const pair = await registerPublicKey(h, '2.1', 'v2-pub');
      const p = await h.ok('2.1', Operation.Certify, [T(Tag.UniqueIdentifier, pair.publicId)]);
      const id = text(p, Tag.UniqueIdentifier) ?? '';
      expect(await indicator('2.1', [T(Tag.UniqueIdentifier, id)])).to.equal(ValidityIndicator.Valid);
      await h.ok('2.1', Operation.Revoke, [
        T(Tag.UniqueIdentifier, id),
        S(Tag.RevocationReason, [E(Tag.RevocationReasonCode, RevocationReasonCode.KeyCompromise)]),
      ]);
      expect(await indicator('2.1', [T(Tag.UniqueIdentifier, id)])).to.equal(ValidityIndicator.Invalid);
    });

    it('answers errors for an empty chain, an unknown or a wrong object', async () => {
      await fails(h, '2.1', Operation.Validate, [], ResultReason.MissingData);
      await fails(
        h,
        '1.0',
        Operation.Validate,
        [T(Tag.UniqueIdentifier, 'no-such-id')],
        ResultReason.ItemNotFound,
      );
      await fails(
        h,
        '2.1',
        Operation.Validate,
        [T(Tag.UniqueIdentifier, 'no-such-id')],
        ResultReason.ObjectNotFound,
      );
      const pair = await registerPublicKey(h, '2.1', 'v3-pub');
      await fails(
        h,
        '2.1',
        Operation.Validate,
        [T(Tag.UniqueIdentifier, pair.publicId)],
        ResultReason.InvalidObjectType,
      );
    });
  });
});
