import { expect } from 'chai';
import {
  causedByHsmUnavailable,
  HsmUnavailableError,
  isHsmUnavailable,
  MasterKeyError,
} from '../../src/hsm/types.js';
import { StoreUnavailableError } from '../../src/store/types.js';

describe('hsm/types: telling a lost HSM apart', () => {
  it('HsmUnavailableError has the stable code ERR_HSM_UNAVAILABLE and is a MasterKeyError', () => {
    const e = new HsmUnavailableError('HSM unavailable: CKR_DEVICE_REMOVED');
    expect(e.code).to.equal('ERR_HSM_UNAVAILABLE');
    expect(e).to.be.instanceOf(MasterKeyError);
    expect(isHsmUnavailable(e)).to.equal(true);
    expect(causedByHsmUnavailable(e)).to.equal(true);
  });

  it('finds it as the cause of the StoreUnavailableError the sealer reports', () => {
    const lost = new HsmUnavailableError('HSM unavailable: not connected');
    const reported = new StoreUnavailableError(`HSM unavailable: ${lost.message}`, { cause: lost });
    expect(isHsmUnavailable(reported)).to.equal(false);
    expect(causedByHsmUnavailable(reported)).to.equal(true);
    expect(causedByHsmUnavailable(new Error('outer', { cause: reported }))).to.equal(true);
  });

  it('is false for storage trouble, a refusal by the token, and non-errors', () => {
    expect(causedByHsmUnavailable(new StoreUnavailableError('HSM unavailable, said the message'))).to.equal(
      false,
    );
    expect(causedByHsmUnavailable(new MasterKeyError('the HSM refused to wrap'))).to.equal(false);
    expect(causedByHsmUnavailable(undefined)).to.equal(false);
    expect(causedByHsmUnavailable('HSM unavailable')).to.equal(false);
  });

  it('recognises a copy of the class from another module instance by its brand', () => {
    const copy = Object.assign(new Error('HSM unavailable'), {
      code: 'ERR_HSM_UNAVAILABLE',
      [Symbol.for('kmip-server.error')]: true,
    });
    expect(causedByHsmUnavailable(new StoreUnavailableError('x', { cause: copy }))).to.equal(true);
  });

  it('stops on a cause cycle', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.assign(a, { cause: b });
    expect(causedByHsmUnavailable(a)).to.equal(false);
  });
});
