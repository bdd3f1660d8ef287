import { expect } from 'chai';
import { type CompareOptions, compareResponse, Rule } from '../../conformance-tests/lib/compare.js';
import { SentinelTable } from '../../conformance-tests/lib/placeholders.js';
import { prepareRequest, Substitution } from '../../conformance-tests/lib/request.js';
import { roundTripMessage } from '../../conformance-tests/lib/roundtrip.js';
import { ReplayState } from '../../conformance-tests/lib/state.js';
import { specDictionary as dict } from '../../src/kmip/spec/dictionary.js';
import type { TtlvItem } from '../../src/kmip/ttlv/types.js';
import { parseXml, xmlToTtlv } from '../../src/kmip/ttlv/xml.js';

const NOW = 1_700_000_000n; // 2023-11-14T22:13:20Z
const NOW_TEXT = '2023-11-14T22:13:20+00:00';
const clock = { now: () => NOW };

function response(items: string, version = '1.4', header = ''): string {
  const [major, minor] = version.split('.');
  const count = (items.match(/<BatchItem>/g) ?? []).length;
  return `<ResponseMessage>
    <ResponseHeader>
      <ProtocolVersion>
        <ProtocolVersionMajor type="Integer" value="${major}"/>
        <ProtocolVersionMinor type="Integer" value="${minor}"/>
      </ProtocolVersion>
      <TimeStamp type="DateTime" value="${NOW_TEXT}"/>${header}
      <BatchCount type="Integer" value="${count}"/>
    </ResponseHeader>${items}
  </ResponseMessage>`;
}

function request(items: string): string {
  const count = (items.match(/<BatchItem>/g) ?? []).length;
  return `<RequestMessage>
    <RequestHeader>
      <ProtocolVersion>
        <ProtocolVersionMajor type="Integer" value="1"/>
        <ProtocolVersionMinor type="Integer" value="4"/>
      </ProtocolVersion>
      <BatchCount type="Integer" value="${count}"/>
    </RequestHeader>${items}
  </RequestMessage>`;
}

function item(op: string, payload: string, status = 'Success'): string {
  return `<BatchItem>
      <Operation type="Enumeration" value="${op}"/>
      <ResultStatus type="Enumeration" value="${status}"/>
      <ResponsePayload>${payload}</ResponsePayload>
    </BatchItem>`;
}

/** One replayed file: the same state and sentinel table across steps, as the runner uses them. */
class Session {
  readonly state = new ReplayState(clock);
  readonly sentinels = new SentinelTable();

  compare(expectedXml: string, actualXml: string, requestXml?: string) {
    const expected = xmlToTtlv(expectedXml, dict, {
      placeholder: (text, type) => this.sentinels.sentinel(text, type),
    });
    const actual = xmlToTtlv(actualXml, dict);
    const opts: CompareOptions = { dict, sentinels: this.sentinels, state: this.state };
    if (requestXml !== undefined) opts.request = this.send(requestXml);
    return compareResponse(expected, actual, opts);
  }

  send(requestXml: string): TtlvItem {
    return prepareRequest(parseXml(requestXml), dict, this.state).item;
  }
}

const CREATE_REQUEST = request(`<BatchItem>
  <Operation type="Enumeration" value="Create"/>
  <RequestPayload>
    <ObjectType type="Enumeration" value="SymmetricKey"/>
    <TemplateAttribute>
      <Attribute>
        <AttributeName type="TextString" value="Cryptographic Algorithm"/>
        <AttributeValue type="Enumeration" value="AES"/>
      </Attribute>
    </TemplateAttribute>
  </RequestPayload>
</BatchItem>`);

/** A Discover Versions response listing `list` ("2.1", "1.0", ...). */
function versions(list: string[]): string {
  return response(
    item(
      'DiscoverVersions',
      list
        .map((v) => {
          const [a, b] = v.split('.');
          return `<ProtocolVersion><ProtocolVersionMajor type="Integer" value="${a}"/><ProtocolVersionMinor type="Integer" value="${b}"/></ProtocolVersion>`;
        })
        .join(''),
    ),
  );
}

function keyPayload(uid: string, material: string): string {
  return `<ObjectType type="Enumeration" value="SymmetricKey"/>
    <UniqueIdentifier type="TextString" value="${uid}"/>
    <SymmetricKey>
      <KeyBlock>
        <KeyFormatType type="Enumeration" value="Raw"/>
        <KeyValue><KeyMaterial type="ByteString" value="${material}"/></KeyValue>
        <CryptographicAlgorithm type="Enumeration" value="AES"/>
        <CryptographicLength type="Integer" value="128"/>
      </KeyBlock>
    </SymmetricKey>`;
}

const GET_REQUEST = (uid: string) =>
  request(`<BatchItem>
  <Operation type="Enumeration" value="Get"/>
  <RequestPayload><UniqueIdentifier type="TextString" value="${uid}"/></RequestPayload>
</BatchItem>`);

describe('conformance comparison', () => {
  it('passes identical messages', () => {
    const xml = response(item('Destroy', '<UniqueIdentifier type="TextString" value="42"/>'));
    const r = new Session().compare(xml, xml);
    expect(r.ok).to.equal(true);
    expect(r.differences).to.equal(0);
  });

  it('fails a differing value and names the path of the first difference', () => {
    const s = new Session();
    const expected = response(item('Get', keyPayload('k1', '00112233445566778899aabbccddeeff')));
    const actual = expected.replace('value="128"', 'value="256"');
    const r = s.compare(expected, actual, GET_REQUEST('k1'));
    expect(r.ok).to.equal(false);
    expect(r.diff?.path).to.equal(
      'ResponseMessage/BatchItem/ResponsePayload/SymmetricKey/KeyBlock/CryptographicLength',
    );
    expect(r.diff?.expected).to.equal('Integer 128');
    expect(r.diff?.actual).to.equal('Integer 256');
  });

  it('fails on a different result status or a missing element', () => {
    const s = new Session();
    const expected = response(item('Activate', '<UniqueIdentifier type="TextString" value="7"/>'));
    const failed = response(
      `<BatchItem>
      <Operation type="Enumeration" value="Activate"/>
      <ResultStatus type="Enumeration" value="OperationFailed"/>
      <ResultReason type="Enumeration" value="ObjectNotFound"/>
      <ResultMessage type="TextString" value="no"/>
    </BatchItem>`,
    );
    const r = s.compare(expected, failed);
    expect(r.ok).to.equal(false);
    expect(r.diff?.path).to.equal('ResponseMessage/BatchItem/ResultStatus');
    const r2 = s.compare(expected, response(item('Activate', '')));
    expect(r2.diff?.note).to.equal('missing element');
  });

  it('binds $UNIQUE_IDENTIFIER_n on first sight and requires it to stay the same', () => {
    const s = new Session();
    const created = s.compare(
      response(
        item(
          'Create',
          '<ObjectType type="Enumeration" value="SymmetricKey"/><UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>',
        ),
      ),
      response(
        item(
          'Create',
          '<ObjectType type="Enumeration" value="SymmetricKey"/><UniqueIdentifier type="TextString" value="srv-1"/>',
        ),
      ),
      CREATE_REQUEST,
    );
    expect(created.ok).to.equal(true);
    expect(created.rules.get(Rule.PlaceholderBinding)).to.equal(1);
    expect(s.state.bindings.get('$UNIQUE_IDENTIFIER_0')).to.deep.include({
      type: 'TextString',
      value: 'srv-1',
    });

    // The request quoting the placeholder gets the bound value.
    const sent = s.send(GET_REQUEST('$UNIQUE_IDENTIFIER_0'));
    expect(JSON.stringify(sent, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).to.contain('"srv-1"');

    const same = s.compare(
      response(item('Activate', '<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>')),
      response(item('Activate', '<UniqueIdentifier type="TextString" value="srv-1"/>')),
    );
    expect(same.ok).to.equal(true);

    const other = s.compare(
      response(item('Activate', '<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>')),
      response(item('Activate', '<UniqueIdentifier type="TextString" value="srv-2"/>')),
    );
    expect(other.ok).to.equal(false);
    expect(other.diff?.note).to.equal('placeholder bound earlier to another value');
  });

  it('fails when two identifier placeholders get the same server identifier', () => {
    const s = new Session();
    const r = s.compare(
      response(
        item(
          'CreateKeyPair',
          '<PrivateKeyUniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/><PublicKeyUniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_1"/>',
        ),
      ),
      response(
        item(
          'CreateKeyPair',
          '<PrivateKeyUniqueIdentifier type="TextString" value="same"/><PublicKeyUniqueIdentifier type="TextString" value="same"/>',
        ),
      ),
    );
    expect(r.ok).to.equal(false);
    expect(r.diff?.path).to.equal('ResponseMessage/BatchItem/ResponsePayload/PublicKeyUniqueIdentifier');
  });

  it('tolerates the header Time Stamp when current, counting the rule, and fails a stale one', () => {
    const s = new Session();
    const expected = response(item('Destroy', '<UniqueIdentifier type="TextString" value="1"/>')).replace(
      NOW_TEXT,
      '2012-04-27T08:14:39+00:00',
    );
    const actual = response(item('Destroy', '<UniqueIdentifier type="TextString" value="1"/>'));
    const r = s.compare(expected, actual);
    expect(r.ok).to.equal(true);
    expect(r.rules.get(Rule.HeaderTimeStamp)).to.equal(1);

    const stale = s.compare(expected, actual.replace(NOW_TEXT, '2020-01-01T00:00:00+00:00'));
    expect(stale.ok).to.equal(false);
    expect(stale.diff?.note).to.equal('time stamp is not current');
  });

  it('checks $NOW against the clock and $NOW-k against the instant the client sent', () => {
    const s = new Session();
    const expected = response(
      item(
        'GetAttributes',
        `<UniqueIdentifier type="TextString" value="1"/>
         <Attribute><AttributeName type="TextString" value="Initial Date"/><AttributeValue type="DateTime" value="$NOW"/></Attribute>`,
      ),
    );
    const at = (text: string) =>
      response(
        item(
          'GetAttributes',
          `<UniqueIdentifier type="TextString" value="1"/>
           <Attribute><AttributeName type="TextString" value="Initial Date"/><AttributeValue type="DateTime" value="${text}"/></Attribute>`,
        ),
      );
    const ok = s.compare(expected, at('2023-11-14T22:13:00+00:00'));
    expect(ok.ok).to.equal(true);
    expect(ok.rules.get(Rule.NowPlaceholder)).to.equal(1);
    expect(s.compare(expected, at('2023-11-13T22:13:00+00:00')).ok).to.equal(false);

    // $NOW-3600 sent in a request is one instant; the answer must echo it exactly.
    s.send(
      request(`<BatchItem><Operation type="Enumeration" value="Register"/><RequestPayload>
        <ActivationDate type="DateTime" value="$NOW-3600"/></RequestPayload></BatchItem>`),
    );
    const echoed = response(item('Get', '<ActivationDate type="DateTime" value="$NOW-3600"/>'));
    expect(
      s.compare(
        echoed,
        response(item('Get', '<ActivationDate type="DateTime" value="2023-11-14T21:13:20+00:00"/>')),
      ).ok,
    ).to.equal(true);
    expect(
      s.compare(
        echoed,
        response(item('Get', '<ActivationDate type="DateTime" value="2023-11-14T21:13:21+00:00"/>')),
      ).ok,
    ).to.equal(false);
  });

  it('tolerates a literal server-clock date the client never sent, but not one it sent', () => {
    const s = new Session();
    const expected = response(
      item('Get', '<InitialDate type="DateTime" value="2013-01-11T08:18:21+00:00"/>'),
    );
    const actual = response(item('Get', `<InitialDate type="DateTime" value="${NOW_TEXT}"/>`));
    const r = s.compare(expected, actual);
    expect(r.ok).to.equal(true);
    expect(r.rules.get(Rule.ServerClockDate)).to.equal(1);

    s.send(
      request(`<BatchItem><Operation type="Enumeration" value="Register"/><RequestPayload>
        <ActivationDate type="DateTime" value="2013-01-11T08:18:21+00:00"/></RequestPayload></BatchItem>`),
    );
    const sent = s.compare(
      response(item('Get', '<ActivationDate type="DateTime" value="2013-01-11T08:18:21+00:00"/>')),
      response(item('Get', `<ActivationDate type="DateTime" value="${NOW_TEXT}"/>`)),
    );
    expect(sent.ok).to.equal(false);
  });

  it('FAILS a different Key Material of a registered key', () => {
    const s = new Session();
    s.state.noteUid('k1');
    const r = s.compare(
      response(item('Get', keyPayload('k1', '0123456789abcdef0123456789abcdef'))),
      response(item('Get', keyPayload('k1', 'ffffffffffffffffffffffffffffffff'))),
      GET_REQUEST('k1'),
    );
    expect(r.ok).to.equal(false);
    expect(r.diff?.path).to.match(/KeyValue\/KeyMaterial$/);
    expect(r.rules.get(Rule.GeneratedKeyMaterial)).to.equal(undefined);
  });

  it('tolerates the Key Material and Digest of a key the server generated', () => {
    const s = new Session();
    s.compare(
      response(
        item(
          'Create',
          '<ObjectType type="Enumeration" value="SymmetricKey"/><UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>',
        ),
      ),
      response(
        item(
          'Create',
          '<ObjectType type="Enumeration" value="SymmetricKey"/><UniqueIdentifier type="TextString" value="gen-1"/>',
        ),
      ),
      CREATE_REQUEST,
    );
    expect(s.state.generated.has('gen-1')).to.equal(true);
    const r = s.compare(
      response(item('Get', keyPayload('$UNIQUE_IDENTIFIER_0', '0123456789abcdef0123456789abcdef'))),
      response(item('Get', keyPayload('gen-1', 'ffffffffffffffffffffffffffffffff'))),
      GET_REQUEST('$UNIQUE_IDENTIFIER_0'),
    );
    expect(r.ok).to.equal(true);
    expect(r.rules.get(Rule.GeneratedKeyMaterial)).to.equal(1);

    const digest = (uid: string, hex: string) =>
      response(
        item(
          'GetAttributes',
          `<UniqueIdentifier type="TextString" value="${uid}"/>
           <Attribute><AttributeName type="TextString" value="Digest"/><AttributeValue>
             <HashingAlgorithm type="Enumeration" value="SHA_256"/><DigestValue type="ByteString" value="${hex}"/>
           </AttributeValue></Attribute>`,
        ),
      );
    const d = s.compare(digest('$UNIQUE_IDENTIFIER_0', '8eb422ae'), digest('gen-1', '00000000'));
    expect(d.ok).to.equal(true);
    expect(d.rules.get(Rule.GeneratedDigest)).to.equal(1);
    expect(s.compare(digest('k9', '8eb422ae'), digest('k9', '00000000')).ok).to.equal(false);

    // Only the material: the algorithm of a generated key is still exact.
    const wrongAlg = s.compare(
      response(item('Get', keyPayload('$UNIQUE_IDENTIFIER_0', '00'))),
      response(item('Get', keyPayload('gen-1', '11').replace('value="AES"', 'value="DES3"'))),
      GET_REQUEST('$UNIQUE_IDENTIFIER_0'),
    );
    expect(wrongAlg.ok).to.equal(false);
    expect(wrongAlg.diff?.path).to.match(/KeyBlock\/CryptographicAlgorithm$/);
  });

  it('tolerates a server-chosen IV and carries the server values into later requests', () => {
    const s = new Session();
    const encrypt = request(`<BatchItem><Operation type="Enumeration" value="Encrypt"/><RequestPayload>
      <UniqueIdentifier type="TextString" value="k1"/>
      <Data type="ByteString" value="01020304"/></RequestPayload></BatchItem>`);
    const expected = response(
      item(
        'Encrypt',
        '<UniqueIdentifier type="TextString" value="k1"/><Data type="ByteString" value="aaaaaaaa"/><IVCounterNonce type="ByteString" value="bbbbbbbb"/>',
      ),
    );
    const actual = response(
      item(
        'Encrypt',
        '<UniqueIdentifier type="TextString" value="k1"/><Data type="ByteString" value="cccccccc"/><IVCounterNonce type="ByteString" value="dddddddd"/>',
      ),
    );
    const r = s.compare(expected, actual, encrypt);
    expect(r.ok).to.equal(true);
    expect(r.rules.get(Rule.ServerGeneratedIv)).to.equal(2);

    const prepared = prepareRequest(
      parseXml(
        request(`<BatchItem><Operation type="Enumeration" value="Decrypt"/><RequestPayload>
      <UniqueIdentifier type="TextString" value="k1"/>
      <Data type="ByteString" value="aaaaaaaa"/><IVCounterNonce type="ByteString" value="bbbbbbbb"/></RequestPayload></BatchItem>`),
      ),
      dict,
      s.state,
    );
    expect(prepared.substitutions.get(Substitution.CarryForward)).to.equal(2);
    const text = JSON.stringify(prepared.item, (_k, v) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'bigint' ? String(v) : v,
    );
    expect(text).to.contain('cccccccc').and.contain('dddddddd').and.not.contain('aaaaaaaa');

    // With the IV in the request, the ciphertext must be exact.
    const withIv = request(`<BatchItem><Operation type="Enumeration" value="Encrypt"/><RequestPayload>
      <UniqueIdentifier type="TextString" value="k1"/>
      <Data type="ByteString" value="01020304"/><IVCounterNonce type="ByteString" value="bbbbbbbb"/></RequestPayload></BatchItem>`);
    expect(s.compare(expected, actual, withIv).ok).to.equal(false);
  });

  it('Query: reports capability differences as info and fails invalid values', () => {
    const s = new Session();
    const expected = response(
      item(
        'Query',
        `<Operation type="Enumeration" value="Create"/><Operation type="Enumeration" value="Get"/>
         <ObjectType type="Enumeration" value="SymmetricKey"/>
         <VendorIdentification type="TextString" value="Some Vendor"/>`,
      ),
    );
    const fewer = response(
      item(
        'Query',
        `<Operation type="Enumeration" value="Get"/><Operation type="Enumeration" value="Query"/>
         <VendorIdentification type="TextString" value="kmip-server"/>`,
      ),
    );
    const r = s.compare(expected, fewer);
    expect(r.ok).to.equal(true);
    expect(r.rules.get(Rule.QueryCapabilities)).to.equal(1);
    expect(r.info).to.have.length(1);
    expect(r.info[0])
      .to.contain('Operation not reported: Create')
      .and.contain('Operation also reported: Query');

    const invalid = fewer.replace(
      '<Operation type="Enumeration" value="Get"/>',
      '<Operation type="Enumeration" value="0x00007777"/>',
    );
    const bad = s.compare(expected, invalid);
    expect(bad.ok).to.equal(false);
    expect(bad.diff?.note).to.equal('invalid capability value');
    expect(bad.diff?.path).to.equal('ResponseMessage/BatchItem/ResponsePayload/Operation');

    const failed = s.compare(expected, fewer.replace('value="Success"', 'value="OperationFailed"'));
    expect(failed.ok).to.equal(false);
    expect(failed.diff?.path).to.equal('ResponseMessage/BatchItem/ResultStatus');
  });

  it('Discover Versions is compared exactly', () => {
    const s = new Session();
    expect(s.compare(versions(['1.1', '1.0']), versions(['1.1', '1.0'])).ok).to.equal(true);
    const r = s.compare(versions(['1.1', '1.0']), versions(['2.1', '1.1', '1.0']));
    expect(r.ok).to.equal(false);
    expect(r.diff?.path).to.equal(
      'ResponseMessage/BatchItem/ResponsePayload/ProtocolVersion[0]/ProtocolVersionMajor',
    );
  });

  it("Discover Versions without a client list accepts a newer server list, newest first, holding the vector's", () => {
    const noList = request(
      '<BatchItem><Operation type="Enumeration" value="DiscoverVersions"/><RequestPayload></RequestPayload></BatchItem>',
    );
    const s = new Session();
    const ok = s.compare(versions(['1.1', '1.0']), versions(['2.1', '1.1', '1.0']), noList);
    expect(ok.ok).to.equal(true);
    expect(ok.rules.get(Rule.DiscoverVersionsServerList)).to.equal(1);
    expect(ok.info.join(' ')).to.contain('2.1');
    const missing = s.compare(versions(['1.1', '1.0']), versions(['2.1', '1.1']), noList);
    expect(missing.ok).to.equal(false);
    expect(missing.diff?.note).to.equal('versions missing');
    const order = s.compare(versions(['1.1', '1.0']), versions(['1.0', '1.1']), noList);
    expect(order.ok).to.equal(false);
    expect(order.diff?.note).to.equal('version list out of order');
  });

  it('a Query expected to be too large passes only when the server answer really fits the limit', () => {
    const s = new Session();
    const query = (max: number) =>
      request(
        '<BatchItem><Operation type="Enumeration" value="Query"/><RequestPayload><QueryFunction type="Enumeration" value="QueryOperations"/></RequestPayload></BatchItem>',
      ).replace('<BatchCount', `<MaximumResponseSize type="Integer" value="${max}"/><BatchCount`);
    const tooLarge = response(`<BatchItem>
      <Operation type="Enumeration" value="Query"/>
      <ResultStatus type="Enumeration" value="OperationFailed"/>
      <ResultReason type="Enumeration" value="ResponseTooLarge"/>
      <ResultMessage type="TextString" value="TOO_LARGE"/>
    </BatchItem>`);
    const small = response(item('Query', '<Operation type="Enumeration" value="Query"/>'));
    const fits = s.compare(tooLarge, small, query(256));
    expect(fits.ok).to.equal(true);
    expect(fits.rules.get(Rule.QueryFitsMaximumResponseSize)).to.equal(1);
    expect(s.compare(tooLarge, small, query(64)).ok).to.equal(false);
  });

  it('accepts an extra Located Items only when it counts at least the identifiers returned', () => {
    const s = new Session();
    const ids =
      '<UniqueIdentifier type="TextString" value="a"/><UniqueIdentifier type="TextString" value="b"/>';
    const expected = response(item('Locate', ids));
    const withCount = (n: number) =>
      response(item('Locate', `<LocatedItems type="Integer" value="${n}"/>${ids}`));
    const ok = s.compare(expected, withCount(5));
    expect(ok.ok).to.equal(true);
    expect(ok.rules.get(Rule.LocatedItemsOptional)).to.equal(1);
    expect(s.compare(expected, withCount(1)).ok).to.equal(false);
  });

  it('tolerates the Server Correlation Value and the Result Message text, but not the Result Reason', () => {
    const s = new Session();
    const failure = (reason: string, message: string, scv: string) =>
      response(
        `<BatchItem>
      <Operation type="Enumeration" value="Get"/>
      <ResultStatus type="Enumeration" value="OperationFailed"/>
      <ResultReason type="Enumeration" value="${reason}"/>
      <ResultMessage type="TextString" value="${message}"/>
    </BatchItem>`,
        '2.1',
        scv,
      );
    const expected = failure(
      'ItemNotFound',
      'NOT_FOUND',
      '<ServerCorrelationValue type="TextString" value="A5E83842-2A456820-4"/>',
    );
    const r = s.compare(expected, failure('ItemNotFound', 'object not found', ''));
    expect(r.ok).to.equal(true);
    expect(r.rules.get(Rule.ServerCorrelationValue)).to.equal(1);
    expect(r.rules.get(Rule.ResultMessageText)).to.equal(1);
    expect(s.compare(expected, failure('PermissionDenied', 'NOT_FOUND', '')).ok).to.equal(false);
  });

  it('tolerates RNG output of the same length only', () => {
    const s = new Session();
    const rng = (hex: string) => response(item('RNGRetrieve', `<Data type="ByteString" value="${hex}"/>`));
    const r = s.compare(rng('00112233'), rng('deadbeef'));
    expect(r.ok).to.equal(true);
    expect(r.rules.get(Rule.RngOutput)).to.equal(1);
    expect(s.compare(rng('00112233'), rng('deadbeef00')).ok).to.equal(false);
  });

  it('resolves an unbound $UNIQUE_IDENTIFIER_n in a request by order of appearance', () => {
    const s = new Session();
    s.state.noteUid('first');
    s.state.noteUid('second');
    const prepared = prepareRequest(parseXml(GET_REQUEST('$UNIQUE_IDENTIFIER_1')), dict, s.state);
    expect(prepared.substitutions.get(Substitution.OrdinalUid)).to.equal(1);
    expect(s.state.bindings.get('$UNIQUE_IDENTIFIER_1')).to.deep.include({ value: 'second' });
  });

  it('round-trips a message with placeholders', () => {
    const msg = parseXml(
      response(
        item(
          'Get',
          keyPayload('$UNIQUE_IDENTIFIER_3', '$KEY_MATERIAL') +
            '<InitialDate type="DateTime" value="$NOW-60"/>',
        ),
      ),
    );
    expect(roundTripMessage(msg, dict)).to.equal(undefined);
    const bad = parseXml(response(item('Get', '<NoSuchTag type="Integer" value="1"/>')));
    expect(roundTripMessage(bad, dict)).to.match(/^XML → TTLV/);
  });
});
