import { expect } from 'chai';
import { classifySource, profileOf, versionOf } from '../../conformance-tests/lib/classify.js';
import { parseXml } from '../../src/kmip/ttlv/xml.js';

describe('conformance file classification', () => {
  it('takes the profile from the file-name prefix', () => {
    expect(profileOf('v1.4/XML/mandatory/SKLC-M-1-14.xml')).to.equal('SKLC');
    expect(profileOf('CS-BC-M-GCM-1-14.xml')).to.equal('CS-BC');
    expect(profileOf('CS-AC-M-OAEP-10-21.xml')).to.equal('CS-AC');
    expect(profileOf('CS-RNG-O-2-21.xml')).to.equal('CS-RNG');
    expect(profileOf('CS_BC_M_14_12_Encrypt_and_Decrypt.xml')).to.equal('CS-BC');
    expect(profileOf('SUITEB_128-M-1-14.xml')).to.equal('SUITEB_128');
    expect(profileOf('TC_101_11_Create_a_Key_Archive.xml')).to.equal('TC');
    expect(profileOf('TC_MDO_1_12_Register_MDO_Key.xml')).to.equal('TC-MDO');
    expect(profileOf('TC-Q-CAP-1-14.xml')).to.equal('TC-Q-CAP');
    expect(profileOf('TC-311-10-CREATE-DESTROY.xml')).to.equal('TC');
    expect(profileOf('MSGENC-HTTPS-M-1-21.xml')).to.equal('MSGENC-HTTPS');
  });

  it('tells the sources apart', () => {
    expect(classifySource('oasis-kmip-cosmian-mirror/v2.1/XML/mandatory/BL-M-1-21.xml')).to.equal(
      'oasis-profiles',
    );
    expect(
      classifySource(
        'oasis-kmip-cosmian-mirror/website/kmip-profiles/v2.0/os/test-cases/kmip-v2.0/mandatory/x.xml',
      ),
    ).to.equal('oasis-profiles');
    expect(classifySource('oasis-kmip-cosmian-mirror/website/testcases/v1.4/cnprd01/x.xml')).to.equal(
      'oasis-testcases',
    );
    expect(classifySource('oasis-kmip-cosmian-mirror/website/kmip-testcases/v2.0/cnd02/x.xml')).to.equal(
      'oasis-testcases',
    );
    expect(classifySource('ovh-kmip-go/kmiptest/testdata/v1.0/x.xml')).to.equal('ovh');
    expect(classifySource('kmip4j/gui/src/main/resources/xml/UseCases.xml')).to.equal('kmip4j');
  });

  it('reads the protocol version of the first request', () => {
    const req = (major: number, minor: number) =>
      parseXml(`<RequestMessage><RequestHeader><ProtocolVersion>
        <ProtocolVersionMajor type="Integer" value="${major}"/><ProtocolVersionMinor type="Integer" value="${minor}"/>
      </ProtocolVersion></RequestHeader></RequestMessage>`);
    expect(versionOf(req(1, 0))).to.equal('1.0');
    expect(versionOf(req(2, 1))).to.equal('2.1');
    expect(versionOf(req(3, 0))).to.equal('other');
    expect(versionOf(undefined)).to.equal('other');
  });
});
