import { expect } from 'chai';
import { badInput, CryptoError, failure, isCryptoError, unsupported } from '../../src/crypto/errors.js';
import { aesKeyUnwrap } from '../../src/crypto/wrap.js';
import { isKmipError } from '../../src/kmip/errors.js';

describe('crypto/errors', () => {
  it('each kind stands for the Result Reason the executor reports', () => {
    expect(badInput('x').reason).to.equal('InvalidField');
    expect(unsupported('x').reason).to.equal('FeatureNotSupported');
    expect(failure('x').reason).to.equal('CryptographicFailure');
    expect(new CryptoError('format', 'x').reason).to.equal('KeyFormatTypeNotSupported');
  });

  it('is recognised by isKmipError without crypto importing kmip', () => {
    let caught: unknown;
    try {
      aesKeyUnwrap(new Uint8Array(16), new Uint8Array(24));
    } catch (e: unknown) {
      caught = e;
    }
    expect(isCryptoError(caught)).to.equal(true);
    expect(isKmipError(caught)).to.equal(true);
    expect((caught as CryptoError).kind).to.equal('failure');
    expect(isCryptoError(new Error('plain'))).to.equal(false);
  });
});
