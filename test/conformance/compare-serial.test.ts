import { expect } from 'chai';
import { Rule } from '../../conformance-tests/lib/compare.js';
import { compareXml } from './messages.js';

const UID = '<UniqueIdentifier type="TextString" value="c1"/>';
const identifier = (serial: string) =>
  `${UID}<Attribute><AttributeName type="TextString" value="Certificate Identifier"/><AttributeValue>` +
  `<Issuer type="TextString" value="CN=CA"/><SerialNumber type="TextString" value="${serial}"/>` +
  '</AttributeValue></Attribute>';

const compare = (expected: string, actual: string) =>
  compareXml('GetAttributes', UID, expected, actual, '1.0');

describe('conformance compare: certificate-serial-text', () => {
  it('accepts the same serial number in another hex spelling (ovh TC_ECC_3_10)', () => {
    const r = compare(identifier('DADA16A58D2924D9'), identifier('00dada16a58d2924d9'));
    expect(r.ok).to.equal(true);
    expect(r.rules.get(Rule.CertificateSerialText)).to.equal(1);
  });

  it('fails another serial number and a text that is not hex', () => {
    expect(compare(identifier('DADA16A58D2924D9'), identifier('00dada16a58d2924d8')).ok).to.equal(false);
    expect(compare(identifier('DADA16A58D2924D9'), identifier('serial-1')).ok).to.equal(false);
  });
});
