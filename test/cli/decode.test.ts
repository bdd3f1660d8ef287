import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { decodeCommand, decodeInput } from '../../src/cli/decode.js';
import { specDictionary as dict } from '../../src/kmip/spec/dictionary.js';
import { TextEncodingError, TtlvDecodeError } from '../../src/kmip/ttlv/errors.js';

// KMIP 1.0 Use Case 3.1.1 (0), Create response (kmip4j UseCases.xml).
const CREATE_RESPONSE =
  '42007B01000000C042007A0100000048420069010000002042006A0200000004000000010000000042006B02000000040000000000000000' +
  '4200920900000008000000004AFBE7C242000D0200000004000000010000000042000F010000006842005C05000000040000000100000000' +
  '42007F0500000004000000000000000042007C010000004042005705000000040000000200000000420094070000002466633838333364' +
  '652D373064322D346563652D623036332D66656465336133633539666500000000';

const EXPECTED_XML = [
  '<ResponseMessage>',
  '  <ResponseHeader>',
  '    <ProtocolVersion>',
  '      <ProtocolVersionMajor type="Integer" value="1"/>',
  '      <ProtocolVersionMinor type="Integer" value="0"/>',
  '    </ProtocolVersion>',
  '    <TimeStamp type="DateTime" value="2009-11-12T10:47:30+00:00"/>',
  '    <BatchCount type="Integer" value="1"/>',
  '  </ResponseHeader>',
  '  <BatchItem>',
  '    <Operation type="Enumeration" value="Create"/>',
  '    <ResultStatus type="Enumeration" value="Success"/>',
  '    <ResponsePayload>',
  '      <ObjectType type="Enumeration" value="SymmetricKey"/>',
  '      <UniqueIdentifier type="TextString" value="fc8833de-70d2-4ece-b063-fede3a3c59fe"/>',
  '    </ResponsePayload>',
  '  </BatchItem>',
  '</ResponseMessage>',
].join('\n');

describe('cli/decode', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kmip-decode-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('decodes a hex argument to KMIP XML', () => {
    expect(decodeCommand(CREATE_RESPONSE, dict)).to.equal(EXPECTED_XML);
  });

  it('accepts white space, colons, lower case and a 0x prefix in the hex', () => {
    const spaced = `0x${CREATE_RESPONSE.toLowerCase()
      .replace(/(.{32})/g, '$1\n  ')
      .replace(/(..)(..)/, '$1:$2')}`;
    expect(decodeCommand(spaced, dict)).to.equal(EXPECTED_XML);
  });

  it('reads a file of binary TTLV', () => {
    const p = path.join(dir, 'msg.bin');
    writeFileSync(p, Buffer.from(CREATE_RESPONSE, 'hex'));
    expect(decodeCommand(p, dict)).to.equal(EXPECTED_XML);
  });

  it('reads a file of hex text', () => {
    const p = path.join(dir, 'msg.hex');
    writeFileSync(p, `${CREATE_RESPONSE}\n`);
    expect(decodeInput(p).toString('hex').toUpperCase()).to.equal(CREATE_RESPONSE);
    expect(decodeCommand(p, dict)).to.contain('<ResultStatus type="Enumeration" value="Success"/>');
  });

  it('rejects an argument that is neither a file nor hex', () => {
    expect(() => decodeCommand(path.join(dir, 'missing.bin'), dict)).to.throw(TextEncodingError, /neither/);
    expect(() => decodeCommand('abc', dict)).to.throw(TextEncodingError, /neither/);
  });

  it('reports bad TTLV as a TtlvDecodeError', () => {
    expect(() => decodeCommand('42007B01000000C0', dict)).to.throw(TtlvDecodeError, /truncated/);
  });
});
