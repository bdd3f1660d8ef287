import { expect } from 'chai';
import {
  criticalExtensionError,
  criticalExtensionErrors,
} from '../../../src/kmip/messages/message-extension.js';
import { Operation, Tag } from '../../../src/kmip/spec/index.js';
import type { TtlvStructure } from '../../../src/kmip/ttlv/types.js';
import { S } from '../../helpers/requests.js';

const extension = (critical: boolean): TtlvStructure =>
  S(Tag.MessageExtension, [
    { tag: Tag.VendorIdentification, type: 'TextString', value: 'Acme' },
    { tag: Tag.CriticalityIndicator, type: 'Boolean', value: critical },
    S(Tag.VendorExtension, [{ tag: 0x540001, type: 'TextString', value: 'na' }]),
  ]);
const item = (ext?: TtlvStructure): TtlvStructure =>
  S(Tag.BatchItem, [
    { tag: Tag.Operation, type: 'Enumeration', value: Operation.Create },
    S(Tag.RequestPayload, []),
    ...(ext ? [ext] : []),
  ]);

describe('message extensions (KMIP 1.0 §6.16)', () => {
  it('fails an item with a critical extension with Feature Not Supported (ovh TC_72_10)', () => {
    const e = criticalExtensionError(item(extension(true)));
    expect(e?.reason).to.equal('FeatureNotSupported');
    expect(e?.message).to.match(/critical Message Extension/);
  });

  it('ignores a non-critical extension and an item without one', () => {
    expect(criticalExtensionError(item(extension(false)))).to.equal(undefined);
    expect(criticalExtensionError(item())).to.equal(undefined);
  });

  it('gives one entry per Batch Item of a message, in order', () => {
    const message = S(Tag.RequestMessage, [S(Tag.RequestHeader, []), item(), item(extension(true))]);
    const errors = criticalExtensionErrors(message);
    expect(errors).to.have.length(2);
    expect(errors[0]).to.equal(undefined);
    expect(errors[1]?.reason).to.equal('FeatureNotSupported');
  });
});
