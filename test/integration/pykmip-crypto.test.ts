/**
 * PyKMIP 0.10 as a client of the cryptographic operations, at every version
 * it speaks that has them (1.2+), with Python's cryptography package as the
 * independent check (pykmip_crypto.py): AES in CBC, ECB and CTR both ways,
 * the parameter-less Encrypt of MongoDB Enterprise, HMAC-SHA256, RSA PSS and
 * PKCS#1 v1.5 signatures both ways, RSA-OAEP, ECDSA P-256, PBKDF2 Derive Key.
 */
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { okValue, type PyRun, requirePyKmip, runPyKmipScript, stepOf } from '../helpers/pykmip.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const SCRIPT = fileURLToPath(new URL('./pykmip_crypto.py', import.meta.url));
const VERSIONS = ['1.2', '1.3', '1.4', '2.0'] as const;

describe('PyKMIP: cryptographic operations checked by Python cryptography (integration)', function () {
  this.timeout(240_000);

  let server: TestServer | undefined;
  const runs = new Map<string, PyRun>();

  before(async function () {
    await requirePyKmip(this);
    const s = await startTestServer();
    server = s;
    for (const version of VERSIONS) runs.set(version, await runPyKmipScript(SCRIPT, s, version));
  });

  after(async () => {
    await server?.close();
  });

  for (const version of VERSIONS) {
    describe(`KMIP ${version}`, () => {
      const ok = (name: string) => okValue(runs.get(version), name);

      for (const mode of ['cbc', 'ecb', 'ctr']) {
        it(`AES-256 ${mode.toUpperCase()}: the server's ciphertext decrypts locally, and the reverse`, () => {
          const enc = ok(`aes_${mode}_server_encrypts`) as { length: number; roundTrip: boolean };
          expect(enc.roundTrip).to.equal(true);
          // 37 bytes: PKCS#5 pads CBC/ECB to 48; CTR keeps the length.
          expect(enc.length).to.equal(mode === 'ctr' ? 37 : 48);
          expect(ok(`aes_${mode}_server_decrypts`)).to.equal(true);
        });
      }

      it('Encrypt with no parameters returns a 16-byte IV that Decrypt accepts back', () => {
        expect(ok('aes_default_round_trip')).to.deep.equal({ ivLength: 16, roundTrip: true });
      });

      it('MAC (HMAC-SHA256) equals Python hmac', () => {
        expect(ok('hmac_sha256_matches')).to.equal(true);
      });

      for (const pad of ['pss', 'pkcs1']) {
        it(`RSA ${pad}: the server's signature verifies locally; local signatures verify on the server`, () => {
          expect(ok(`rsa_${pad}_server_signs`)).to.equal(256);
          expect(ok(`rsa_${pad}_server_verifies`)).to.deep.equal(['VALID', 'INVALID']);
        });
      }

      it('RSA-OAEP: the server encrypts for the public key, both sides decrypt', () => {
        expect(ok('rsa_oaep_round_trip')).to.deep.equal({ local: true, server: true });
      });

      it("ECDSA P-256: the server's signature verifies locally", () => {
        expect(ok('ecdsa_p256_server_signs')).to.equal(true);
      });

      it('Derive Key PBKDF2-SHA256 gives the bytes Python computes', () => {
        expect(ok('pbkdf2_derive_matches')).to.equal(true);
      });

      it('Encrypt with a key that lacks the Encrypt usage is refused', () => {
        const s = stepOf(runs.get(version), 'encrypt_without_usage');
        expect(s.ok).to.equal(false);
        expect(s.error?.status).to.equal('OPERATION_FAILED');
        expect(s.error?.reason).to.equal(
          version === '2.0' ? 'INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK' : 'PERMISSION_DENIED',
        );
      });
    });
  }
});
