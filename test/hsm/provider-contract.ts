/**
 * The contract every master-key provider passes (software, pkcs11). `open`
 * returns a fresh provider; calling it twice must give two providers over the
 * same master key (e.g. the same key file or HSM token).
 */

import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { MasterKeyError, type MasterKeyProvider } from '../../src/hsm/types.js';

async function expectMasterKeyError(p: Promise<unknown>): Promise<MasterKeyError> {
  try {
    await p;
  } catch (err: unknown) {
    expect(err).to.be.instanceOf(MasterKeyError);
    expect((err as MasterKeyError).code).to.equal('ERR_MASTER_KEY');
    return err as MasterKeyError;
  }
  expect.fail('expected a MasterKeyError');
}

function containsRun(haystack: Uint8Array, needle: Uint8Array, run: number): boolean {
  const h = Buffer.from(haystack);
  for (let i = 0; i + run <= needle.length; i++) {
    if (h.includes(Buffer.from(needle.subarray(i, i + run)))) return true;
  }
  return false;
}

export function providerContract(name: string, open: () => Promise<MasterKeyProvider>): void {
  describe(`MasterKeyProvider contract: ${name}`, () => {
    let provider: MasterKeyProvider;

    beforeEach(async () => {
      provider = await open();
    });

    afterEach(async () => {
      await provider.close();
    });

    it('has a kind and a current key id', () => {
      expect(['software', 'pkcs11']).to.include(provider.kind);
      expect(provider.currentKeyId).to.be.a('string').and.not.equal('');
    });

    it('round-trips many random KEKs', async () => {
      for (let i = 0; i < 200; i++) {
        const kek = new Uint8Array(randomBytes(32));
        const { masterKeyId, wrapped } = await provider.wrap(kek);
        expect(masterKeyId).to.equal(provider.currentKeyId);
        const back = await provider.unwrap(masterKeyId, wrapped);
        expect(Buffer.from(back).equals(Buffer.from(kek))).to.equal(true);
      }
    });

    it('wrapped form differs from the KEK and holds no 8-byte run of it', async () => {
      for (let i = 0; i < 50; i++) {
        const kek = new Uint8Array(randomBytes(32));
        const { wrapped } = await provider.wrap(kek);
        expect(Buffer.from(wrapped).equals(Buffer.from(kek))).to.equal(false);
        expect(containsRun(wrapped, kek, 8)).to.equal(false);
      }
    });

    it('does not wrap a caller buffer in place', async () => {
      const kek = new Uint8Array(randomBytes(32));
      const copy = Buffer.from(kek);
      await provider.wrap(kek);
      expect(Buffer.from(kek).equals(copy)).to.equal(true);
    });

    it('fails with MasterKeyError on any tampered byte', async () => {
      const kek = new Uint8Array(randomBytes(32));
      const { masterKeyId, wrapped } = await provider.wrap(kek);
      for (let i = 0; i < wrapped.length; i++) {
        const bad = new Uint8Array(wrapped);
        bad[i] = (bad[i] ?? 0) ^ 0x01;
        await expectMasterKeyError(provider.unwrap(masterKeyId, bad));
      }
      await expectMasterKeyError(provider.unwrap(masterKeyId, wrapped.subarray(0, wrapped.length - 8)));
      await expectMasterKeyError(provider.unwrap(masterKeyId, new Uint8Array(0)));
    });

    it('fails with MasterKeyError for an unknown or wrong master key id', async () => {
      const { masterKeyId, wrapped } = await provider.wrap(new Uint8Array(randomBytes(32)));
      await expectMasterKeyError(provider.unwrap(`${masterKeyId}0`, wrapped));
      await expectMasterKeyError(provider.unwrap('no-such-master-key', wrapped));
      await expectMasterKeyError(provider.unwrap('', wrapped));
    });

    it('a second provider over the same master key unwraps', async () => {
      const kek = new Uint8Array(randomBytes(32));
      const { masterKeyId, wrapped } = await provider.wrap(kek);
      const other = await open();
      try {
        expect(other.currentKeyId).to.equal(provider.currentKeyId);
        const back = await other.unwrap(masterKeyId, wrapped);
        expect(Buffer.from(back).equals(Buffer.from(kek))).to.equal(true);
      } finally {
        await other.close();
      }
    });

    it('refuses to work after close', async () => {
      const { masterKeyId, wrapped } = await provider.wrap(new Uint8Array(randomBytes(32)));
      await provider.close();
      await expectMasterKeyError(provider.wrap(new Uint8Array(randomBytes(32))));
      await expectMasterKeyError(provider.unwrap(masterKeyId, wrapped));
    });
  });
}
