/**
 * KMIP XML messages (the test vectors' form) of one batch item, for the
 * conformance comparer's tests.
 */
import { type CompareOptions, compareResponse } from '../../conformance-tests/lib/compare.js';
import { SentinelTable } from '../../conformance-tests/lib/placeholders.js';
import { prepareRequest } from '../../conformance-tests/lib/request.js';
import { ReplayState } from '../../conformance-tests/lib/state.js';
import { specDictionary as dict } from '../../src/kmip/spec/dictionary.js';
import { parseXml, xmlToTtlv } from '../../src/kmip/ttlv/xml.js';

export const NOW_TEXT = '2023-11-14T22:13:20+00:00';

/** A Request or Response Message of one `op` item around `payload`; a Response succeeds, stamped NOW_TEXT. */
export function xmlMessage(
  kind: 'Request' | 'Response',
  op: string,
  payload: string,
  version = '1.3',
): string {
  const [major, minor] = version.split('.');
  const header = kind === 'Response' ? `<TimeStamp type="DateTime" value="${NOW_TEXT}"/>` : '';
  const status = kind === 'Response' ? '<ResultStatus type="Enumeration" value="Success"/>' : '';
  return `<${kind}Message>
    <${kind}Header>
      <ProtocolVersion>
        <ProtocolVersionMajor type="Integer" value="${major}"/>
        <ProtocolVersionMinor type="Integer" value="${minor}"/>
      </ProtocolVersion>${header}
      <BatchCount type="Integer" value="1"/>
    </${kind}Header>
    <BatchItem>
      <Operation type="Enumeration" value="${op}"/>${status}
      <${kind}Payload>${payload}</${kind}Payload>
    </BatchItem>
  </${kind}Message>`;
}

const clock = { now: () => 1_700_000_000n };

/**
 * The comparer's verdict on the `actual` Response of one `op` item against
 * the `expected` one (whose placeholders bind), for the Request of `requestPayload`.
 */
export function compareXml(
  op: string,
  requestPayload: string,
  expected: string,
  actual: string,
  version = '1.3',
) {
  const state = new ReplayState(clock);
  const sentinels = new SentinelTable();
  const opts: CompareOptions = {
    dict,
    sentinels,
    state,
    request: prepareRequest(parseXml(xmlMessage('Request', op, requestPayload, version)), dict, state).item,
  };
  return compareResponse(
    xmlToTtlv(xmlMessage('Response', op, expected, version), dict, {
      placeholder: (text, type) => sentinels.sentinel(text, type),
    }),
    xmlToTtlv(xmlMessage('Response', op, actual, version), dict),
    opts,
  );
}
