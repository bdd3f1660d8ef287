import { expect } from 'chai';
import { Rule } from '../../conformance-tests/lib/compare.js';
import { isolationGroup, seriesOrder } from '../../conformance-tests/lib/isolation.js';
import { compareXml } from './messages.js';

const compare = compareXml;

const UID = '<UniqueIdentifier type="TextString" value="k1"/>';
const names = (...n: string[]) =>
  UID + n.map((x) => `<AttributeName type="TextString" value="${x}"/>`).join('');
const attr = (name: string, value: string) =>
  `<Attribute><AttributeName type="TextString" value="${name}"/><AttributeValue type="TextString" value="${value}"/></Attribute>`;

describe('conformance compare: attribute listings', () => {
  it('accepts an Attribute Name whose expected text has runs of spaces, and nothing else', () => {
    const ok = compare('GetAttributeList', UID, names('Unique   Identifier'), names('Unique Identifier'));
    expect(ok.ok).to.equal(true);
    expect(ok.rules.get(Rule.AttributeNameSpacing)).to.equal(1);
    const bad = compare('GetAttributeList', UID, names('Unique   Identifier'), names('Unique Identifiers'));
    expect(bad.ok).to.equal(false);
    const single = compare('GetAttributeList', UID, names('Object Type'), names('ObjectType'));
    expect(single.ok).to.equal(false);
  });

  it('matches Get Attribute List names by name, whatever the order, but not a missing or extra one', () => {
    const ok = compare(
      'GetAttributeList',
      UID,
      names('Name', 'State', 'Digest'),
      names('Digest', 'Name', 'State'),
    );
    expect(ok.ok).to.equal(true);
    expect(ok.rules.get(Rule.AttributeOrder)).to.equal(1);
    expect(compare('GetAttributeList', UID, names('Name', 'State'), names('Name')).ok).to.equal(false);
    expect(compare('GetAttributeList', UID, names('Name'), names('Name', 'Fresh')).ok).to.equal(false);
  });

  it('reorders Get Attributes only when the request names no attribute', () => {
    const expected = UID + attr('x-a', '1') + attr('x-b', '2');
    const actual = UID + attr('x-b', '2') + attr('x-a', '1');
    const all = compare('GetAttributes', UID, expected, actual);
    expect(all.ok).to.equal(true);
    expect(all.rules.get(Rule.AttributeOrder)).to.equal(1);
    const named = compare(
      'GetAttributes',
      `${UID}<AttributeName type="TextString" value="x-a"/><AttributeName type="TextString" value="x-b"/>`,
      expected,
      actual,
    );
    expect(named.ok).to.equal(false);
    // Values are still compared after matching.
    expect(compare('GetAttributes', UID, expected, UID + attr('x-b', '2') + attr('x-a', '9')).ok).to.equal(
      false,
    );
  });

  it('keeps the order among instances of one multi-instance attribute', () => {
    const expected = UID + attr('x-m', '1') + attr('x-m', '2');
    expect(compare('GetAttributes', UID, expected, UID + attr('x-m', '2') + attr('x-m', '1')).ok).to.equal(
      false,
    );
  });

  it('accepts a Random Number Generator the vector does not list, in listings only', () => {
    const ok = compare(
      'GetAttributeList',
      UID,
      names('Name', 'State'),
      names('Name', 'Random Number Generator', 'State'),
    );
    expect(ok.ok).to.equal(true);
    expect(ok.rules.get(Rule.RngAttributeOptional)).to.equal(1);
    const v2 = compare(
      'GetAttributes',
      UID,
      `${UID}<Attributes><State type="Enumeration" value="Active"/></Attributes>`,
      `${UID}<Attributes><RandomNumberGenerator><RNGAlgorithm type="Enumeration" value="DRBG"/></RandomNumberGenerator><State type="Enumeration" value="Active"/></Attributes>`,
      '2.1',
    );
    expect(v2.ok).to.equal(true);
  });
});

describe('conformance isolation series', () => {
  it('groups the files of a series by directory', () => {
    expect(isolationGroup('a/v1.3/XML/mandatory/TL-M-3-13.xml')).to.equal('a/v1.3/XML/mandatory/TL-M');
    expect(isolationGroup('ovh/v1.0/TL_M_2_10_tape_write_new_key.xml')).to.equal('ovh/v1.0/TL-M');
    expect(isolationGroup('ovh/v1.0/SASED_M_3_10_storage_array_retrieve.xml')).to.equal('ovh/v1.0/SASED-M');
    expect(isolationGroup('a/v1.3/XML/mandatory/SKLC-M-1-13.xml')).to.equal(undefined);
  });

  it('runs SETUP files first and CLEANUP files last', () => {
    const files = ['TC-OTP-CLEANUP-1-13.xml', 'TC-OTP-2-13.xml', 'TC-OTP-SETUP-1-13.xml', 'TC-OTP-10-13.xml'];
    expect([...files].sort(seriesOrder)).to.deep.equal([
      'TC-OTP-SETUP-1-13.xml',
      'TC-OTP-2-13.xml',
      'TC-OTP-10-13.xml',
      'TC-OTP-CLEANUP-1-13.xml',
    ]);
  });
});
