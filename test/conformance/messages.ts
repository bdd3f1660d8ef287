/**
 * KMIP XML messages (the test vectors' form) of one batch item, for the
 * conformance comparer's tests.
 */

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
