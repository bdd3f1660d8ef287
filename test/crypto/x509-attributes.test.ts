import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { certificateAttributes } from '../../src/kmip/model/x509-attributes.js';
import { CryptographicAlgorithm, DigitalSignatureAlgorithm, Tag } from '../../src/kmip/spec/index.js';
import { child, children } from '../../src/kmip/ttlv/build.js';
import type { TtlvItem } from '../../src/kmip/ttlv/types.js';
import { VECTORS_ROOT } from '../helpers/vectors.js';

const vectors = VECTORS_ROOT;
const CERTATTR_14 =
  'oasis-kmip-cosmian-mirror/website/testcases/v1.4/cnprd01/test-cases/kmip-v1.4/TC-CERTATTR-1-14.xml';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function attr(items: readonly TtlvItem[], tag: number): TtlvItem | undefined {
  return items.find((i) => i.tag === tag);
}

function text(item: TtlvItem | undefined): string | undefined {
  return item?.type === 'TextString' ? item.value : undefined;
}

function bytes(item: TtlvItem | undefined): string | undefined {
  return item?.type === 'ByteString' ? toHex(item.value) : undefined;
}

function num(item: TtlvItem | undefined): number | undefined {
  return item?.type === 'Integer' || item?.type === 'Enumeration' ? item.value : undefined;
}

/** Node's multi-line subject ("C=AU\nO=x\nCN=y", DER order) as an RFC 4514 string. */
function nodeDn(multiline: string): string {
  return multiline.split('\n').reverse().join(',');
}

function derive(der: Uint8Array) {
  const d = certificateAttributes(der);
  if (d === undefined) throw new Error('certificate did not parse');
  return d;
}

describe('kmip/model/x509-attributes', () => {
  describe('the TC-CERTATTR-1-14 certificate (values the vector expects)', () => {
    let der: Uint8Array;
    before(() => {
      const file = path.join(vectors, CERTATTR_14);
      const m = /<CertificateValue type="ByteString" value="([0-9a-f]+)"/.exec(readFileSync(file, 'utf8'));
      if (m?.[1] === undefined) throw new Error('no CertificateValue in the vector');
      der = new Uint8Array(Buffer.from(m[1], 'hex'));
    });

    it('gives the 1.x text identifiers and names', () => {
      const { attributes: a } = derive(der);
      expect(num(attr(a, Tag.CertificateLength))).to.equal(557);
      const id = attr(a, Tag.CertificateIdentifier);
      expect(text(child(id, Tag.Issuer))).to.equal('CN=Inter,O=Kmip Test,C=AU');
      expect(text(child(id, Tag.SerialNumber))).to.equal('3132333435363738');
      expect(text(child(attr(a, Tag.CertificateSubject), Tag.CertificateSubjectDistinguishedName))).to.equal(
        'CN=EE,O=Kmip Test,C=AU',
      );
      expect(text(child(attr(a, Tag.CertificateIssuer), Tag.CertificateIssuerDistinguishedName))).to.equal(
        'CN=Inter,O=Kmip Test,C=AU',
      );
    });

    it('gives the X.509 DER identifiers', () => {
      const { attributes: a } = derive(der);
      const issuer =
        '3031310b300906035504061302415531123010060355040a13094b6d69702054657374310e300c06035504031305496e746572';
      const id = attr(a, Tag.X_509CertificateIdentifier);
      expect(bytes(child(id, Tag.IssuerDistinguishedName))).to.equal(issuer);
      expect(bytes(child(id, Tag.CertificateSerialNumber))).to.equal('02083132333435363738');
      expect(bytes(child(attr(a, Tag.X_509CertificateIssuer), Tag.IssuerDistinguishedName))).to.equal(issuer);
      expect(bytes(child(attr(a, Tag.X_509CertificateSubject), Tag.SubjectDistinguishedName))).to.equal(
        '302e310b300906035504061302415531123010060355040a13094b6d69702054657374310b3009060355040313024545',
      );
    });

    it('gives the component attributes, signature and key algorithm', () => {
      const d = derive(der);
      const a = d.attributes;
      expect(text(attr(a, Tag.CertificateSubjectCN))).to.equal('EE');
      expect(text(attr(a, Tag.CertificateSubjectO))).to.equal('Kmip Test');
      expect(text(attr(a, Tag.CertificateSubjectC))).to.equal('AU');
      expect(text(attr(a, Tag.CertificateIssuerCN))).to.equal('Inter');
      expect(text(attr(a, Tag.CertificateIssuerO))).to.equal('Kmip Test');
      expect(text(attr(a, Tag.CertificateIssuerC))).to.equal('AU');
      expect(attr(a, Tag.CertificateSubjectOU)).to.equal(undefined);
      expect(num(attr(a, Tag.DigitalSignatureAlgorithm))).to.equal(
        DigitalSignatureAlgorithm.SHA_256WithRSAEncryption,
      );
      expect(d.algorithm).to.equal(CryptographicAlgorithm.RSA);
      expect(d.length).to.equal(1024);
    });
  });

  describe('an OpenSSL certificate, checked against node:crypto X509Certificate', () => {
    let dir: string;
    let der: Uint8Array;
    let x: X509Certificate;
    const subject =
      '/DC=com/DC=example/C=AU/ST=Queensland/L=Brisbane/O=Kmip\\, Test/OU=Unit/CN=Leaf' +
      '/emailAddress=leaf@example.com/UID=u42/serialNumber=S-7/title=Dr/dnQualifier=dq';

    before(function () {
      this.timeout(20_000);
      dir = mkdtempSync(path.join(tmpdir(), 'x509-attrs-'));
      const pem = path.join(dir, 'c.pem');
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-384',
          '-nodes',
          '-keyout',
          path.join(dir, 'k.pem'),
          '-sha384',
          '-days',
          '2',
          '-subj',
          subject,
          '-addext',
          'subjectAltName=DNS:a.example,IP:192.0.2.1,email:x@example.com',
          '-out',
          pem,
        ],
        { stdio: 'pipe' },
      );
      x = new X509Certificate(readFileSync(pem));
      der = new Uint8Array(x.raw);
    });

    after(() => rmSync(dir, { recursive: true, force: true }));

    it('derives length, identifiers and names as node:crypto reads them', () => {
      const { attributes: a } = derive(der);
      expect(num(attr(a, Tag.CertificateLength))).to.equal(x.raw.length);
      const id = attr(a, Tag.CertificateIdentifier);
      expect(text(child(id, Tag.SerialNumber))?.toUpperCase()).to.equal(x.serialNumber.replace(/^00/, ''));
      expect(text(child(id, Tag.Issuer))).to.equal(nodeDn(x.issuer));
      expect(text(child(attr(a, Tag.CertificateSubject), Tag.CertificateSubjectDistinguishedName))).to.equal(
        nodeDn(x.subject),
      );
      const alt = children(attr(a, Tag.CertificateSubject), Tag.CertificateSubjectAlternativeName).map(text);
      expect(alt).to.deep.equal(
        (x.subjectAltName ?? '').split(', ').map((s) => s.replace(/^(DNS|IP Address|email):/, '')),
      );
    });

    it('keeps the DER serial number and Name inside the certificate bytes', () => {
      const { attributes: a } = derive(der);
      const id = attr(a, Tag.X_509CertificateIdentifier);
      const serial = bytes(child(id, Tag.CertificateSerialNumber)) ?? '';
      expect(serial.slice(4).toUpperCase()).to.equal(x.serialNumber);
      const subjectDer =
        bytes(child(attr(a, Tag.X_509CertificateSubject), Tag.SubjectDistinguishedName)) ?? '';
      expect(subjectDer.length).to.be.greaterThan(0);
      expect(toHex(der)).to.contain(subjectDer);
      // self-signed: issuer and subject are the same Name
      expect(bytes(child(attr(a, Tag.X_509CertificateIssuer), Tag.IssuerDistinguishedName))).to.equal(
        subjectDer,
      );
      expect(bytes(child(attr(a, Tag.X_509CertificateSubject), Tag.SubjectAlternativeName))).to.match(/^30/);
    });

    it('derives every component attribute, the first of repeated types', () => {
      const { attributes: a } = derive(der);
      const lines = new Map<string, string>();
      for (const l of x.subject.split('\n').reverse()) {
        const [k, v] = l.split('=');
        if (k !== undefined && v !== undefined) lines.set(k, v.replace(/\\/g, ''));
      }
      const expected: Array<[number, number, string]> = [
        [Tag.CertificateSubjectCN, Tag.CertificateIssuerCN, 'CN'],
        [Tag.CertificateSubjectO, Tag.CertificateIssuerO, 'O'],
        [Tag.CertificateSubjectOU, Tag.CertificateIssuerOU, 'OU'],
        [Tag.CertificateSubjectEmail, Tag.CertificateIssuerEmail, 'emailAddress'],
        [Tag.CertificateSubjectC, Tag.CertificateIssuerC, 'C'],
        [Tag.CertificateSubjectST, Tag.CertificateIssuerST, 'ST'],
        [Tag.CertificateSubjectL, Tag.CertificateIssuerL, 'L'],
        [Tag.CertificateSubjectUID, Tag.CertificateIssuerUID, 'UID'],
        [Tag.CertificateSubjectSerialNumber, Tag.CertificateIssuerSerialNumber, 'serialNumber'],
        [Tag.CertificateSubjectTitle, Tag.CertificateIssuerTitle, 'title'],
        [Tag.CertificateSubjectDC, Tag.CertificateIssuerDC, 'DC'],
        [Tag.CertificateSubjectDNQualifier, Tag.CertificateIssuerDNQualifier, 'dnQualifier'],
      ];
      for (const [subjectTag, issuerTag, key] of expected) {
        const want = lines.get(key);
        expect(want, key).to.be.a('string');
        expect(text(attr(a, subjectTag)), key).to.equal(want);
        expect(text(attr(a, issuerTag)), key).to.equal(want);
      }
      // DC=com comes first in DER order; the map above kept the last line read, i.e. the first RDN
      expect(text(attr(a, Tag.CertificateSubjectDC))).to.equal('com');
    });

    it('derives signature and key algorithm', () => {
      const d = derive(der);
      expect(num(attr(d.attributes, Tag.DigitalSignatureAlgorithm))).to.equal(
        DigitalSignatureAlgorithm.ECDSAWithSHA384,
      );
      expect(x.publicKey.asymmetricKeyDetails?.namedCurve).to.equal('secp384r1');
      expect(d.algorithm).to.equal(CryptographicAlgorithm.EC);
      expect(d.length).to.equal(384);
    });
  });

  it('returns undefined for bytes that are not a certificate', () => {
    expect(certificateAttributes(new Uint8Array([1, 2, 3]))).to.equal(undefined);
    expect(certificateAttributes(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))).to.equal(undefined);
  });
});
