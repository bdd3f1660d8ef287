import { expect } from 'chai';
import { type CompareOptions, compareResponse, Rule } from '../../conformance-tests/lib/compare.js';
import { SentinelTable } from '../../conformance-tests/lib/placeholders.js';
import { prepareRequest } from '../../conformance-tests/lib/request.js';
import { ReplayState } from '../../conformance-tests/lib/state.js';
import { specDictionary as dict } from '../../src/kmip/spec/dictionary.js';
import { parseXml, xmlToTtlv } from '../../src/kmip/ttlv/xml.js';
import { xmlMessage } from './messages.js';

const clock = { now: () => 1_700_000_000n };

function message(kind: 'Request' | 'Response', payload: string): string {
  return xmlMessage(kind, 'GetAttributes', payload, '1.0');
}

const UID = '<UniqueIdentifier type="TextString" value="c1"/>';
const identifier = (serial: string) =>
  `${UID}<Attribute><AttributeName type="TextString" value="Certificate Identifier"/><AttributeValue>` +
  `<Issuer type="TextString" value="CN=CA"/><SerialNumber type="TextString" value="${serial}"/>` +
  '</AttributeValue></Attribute>';

function compare(expected: string, actual: string) {
  const state = new ReplayState(clock);
  const sentinels = new SentinelTable();
  const opts: CompareOptions = {
    dict,
    sentinels,
    state,
    request: prepareRequest(parseXml(message('Request', UID)), dict, state).item,
  };
  return compareResponse(
    xmlToTtlv(message('Response', expected), dict),
    xmlToTtlv(message('Response', actual), dict),
    opts,
  );
}

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
