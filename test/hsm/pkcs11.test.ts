import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { openMasterKeyProvider } from '../../src/hsm/index.js';
import { openPkcs11Provider, type Pkcs11ProviderOptions, resolvePin } from '../../src/hsm/pkcs11/index.js';
import { HsmUnavailableError, MasterKeyError } from '../../src/hsm/types.js';
import { silentLogger } from '../../src/log.js';
import { rejection } from '../helpers/assertions.js';
import {
  createSoftHsmToken,
  listObjects,
  loseHsm,
  type SoftHsmToken,
  useHsmLoss,
} from '../helpers/softhsm.js';
import { providerContract } from './provider-contract.js';

function optionsFor(token: SoftHsmToken, extra: Partial<Pkcs11ProviderOptions> = {}): Pkcs11ProviderOptions {
  return { module: token.module, tokenLabel: token.tokenLabel, pin: token.pin, log: silentLogger, ...extra };
}

type Pkcs11Provider = Awaited<ReturnType<typeof openPkcs11Provider>>;

/** Opens a provider on a new token with `extra` options, runs `check`, then closes the provider. */
async function withNewProvider(
  extra: Partial<Pkcs11ProviderOptions>,
  check: (p: Pkcs11Provider, token: SoftHsmToken) => Promise<void>,
): Promise<void> {
  const token = createSoftHsmToken();
  const p = await openPkcs11Provider(optionsFor(token, extra));
  try {
    await check(p, token);
  } finally {
    await p.close();
  }
}

/** The block pkcs11-tool prints for each object, keyed by CKA_ID text. */
function objectsById(listing: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const block of listing.split(/\n(?=Secret Key Object)/)) {
    const id = /ID:\s+([0-9a-f]+)/.exec(block)?.[1];
    if (id) out.set(Buffer.from(id, 'hex').toString('latin1'), block);
  }
  return out;
}

describe('pkcs11 master-key provider (SoftHSM2)', function () {
  this.timeout(30_000);

  describe('contract, AES key wrap with padding (CKM_AES_KEY_WRAP_PAD)', () => {
    const token = createSoftHsmToken();
    providerContract('pkcs11 kwp', () => openPkcs11Provider(optionsFor(token)));
  });

  describe('contract, AES-GCM fallback (tokens without key wrap with padding)', () => {
    const token = createSoftHsmToken();
    providerContract('pkcs11 gcm', () => openPkcs11Provider(optionsFor(token, { mechanism: 'gcm' })));
  });

  it('generates the master key in the token: AES-256, sensitive, never extractable, wrap/unwrap only', async () => {
    await withNewProvider({}, async (p, token) => {
      expect(p.currentKeyId).to.match(/^pkcs11:kmip-master:v1\.[0-9a-f]{16}$/);
      const listing = await listObjects(token);
      const objects = objectsById(listing);
      expect(objects.size).to.equal(1);
      const block = objects.get(p.currentKeyId.split(':')[2] ?? '') ?? '';
      expect(block).to.include('AES length 32');
      expect(block).to.match(/label:\s+kmip-master/);
      expect(block).to.match(/Usage:\s+wrap, unwrap\s*\n/);
      expect(block).to.match(/Access:\s+sensitive, always sensitive, never extractable, local/);
    });
  });

  it('GCM master keys may only encrypt and decrypt', async () => {
    await withNewProvider({ mechanism: 'gcm' }, async (_p, token) => {
      const block = [...objectsById(await listObjects(token)).values()][0] ?? '';
      expect(block).to.match(/Usage:\s+encrypt, decrypt\s*\n/);
      expect(block).to.match(/Access:\s+sensitive, always sensitive, never extractable, local/);
    });
  });

  it('reopens the same key and takes a custom key label', async () => {
    const token = createSoftHsmToken();
    const a = await openPkcs11Provider(optionsFor(token, { keyLabel: 'team-a' }));
    const id = a.currentKeyId;
    await a.close();
    const b = await openPkcs11Provider(optionsFor(token, { keyLabel: 'team-a' }));
    try {
      expect(b.currentKeyId).to.equal(id);
      expect(id).to.match(/^pkcs11:team-a:v1\./);
    } finally {
      await b.close();
    }
  });

  it('does not create a key when create is false', async () => {
    const token = createSoftHsmToken();
    const err = await rejection(openPkcs11Provider(optionsFor(token, { create: false })));
    expect(err).to.be.instanceOf(MasterKeyError);
    expect(err.message).to.include('holds no master key');
  });

  it('refuses a wrong token, a wrong PIN, a missing module, a literal PIN', async () => {
    const token = createSoftHsmToken();
    const noToken = await rejection(openPkcs11Provider(optionsFor(token, { tokenLabel: 'no-such-token' })));
    expect(noToken.message).to.include('no initialized token with label "no-such-token"');
    const badPin = await rejection(
      openPkcs11Provider(optionsFor(token, { pin: 'env:BAD_PIN', env: { BAD_PIN: '0000' } })),
    );
    expect(badPin.message).to.include('CKR_PIN_INCORRECT');
    const noModule = await rejection(
      openPkcs11Provider(optionsFor(token, { module: '/nonexistent/lib.so' })),
    );
    expect(noModule.message).to.include('cannot load the PKCS#11 module');
    const literal = await rejection(openPkcs11Provider(optionsFor(token, { pin: '12345678' })));
    expect(literal.message).to.include('must be env:NAME or file:PATH');
    expect(literal.message).to.not.include('12345678');
  });

  it('selects the token by slot id as well', async () => {
    const token = createSoftHsmToken();
    const first = await openPkcs11Provider(optionsFor(token));
    await first.close();
    const { loadLibrary, slotNumber, trimLabel } = await import('../../src/hsm/pkcs11/library.js');
    const lib = loadLibrary(token.module);
    const slot = lib
      .C_GetSlotList(true)
      .find((s) => trimLabel(lib.C_GetTokenInfo(s).label) === token.tokenLabel);
    expect(slot).to.not.equal(undefined);
    const p = await openPkcs11Provider(
      optionsFor(token, { tokenLabel: undefined, slot: slotNumber(slot ?? Buffer.alloc(8)) }),
    );
    try {
      expect(p.currentKeyId).to.equal(first.currentKeyId);
    } finally {
      await p.close();
    }
  });

  describe('hsm.pin', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'kmip-pin-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('reads env:NAME and file:PATH, and refuses anything else without echoing it', async () => {
      expect(await resolvePin('env:X_PIN', { X_PIN: '4321' })).to.equal('4321');
      const file = path.join(dir, 'pin');
      await writeFile(file, '9876\n');
      await chmod(file, 0o600);
      expect(await resolvePin(`file:${file}`)).to.equal('9876');
      expect((await rejection(resolvePin('env:X_PIN', {}))).message).to.include('X_PIN is not set');
      expect((await rejection(resolvePin(`file:${path.join(dir, 'none')}`))).message).to.include('ENOENT');
      const literal = await rejection(resolvePin('secret-pin'));
      expect(literal.message).to.not.include('secret-pin');
    });
  });

  it('rotation makes a new version in the token; old wraps unwrap; another node adopts it', async () => {
    const token = createSoftHsmToken();
    const a = await openPkcs11Provider(optionsFor(token));
    const b = await openPkcs11Provider(optionsFor(token));
    try {
      const kek = new Uint8Array(randomBytes(32));
      const v1 = await a.wrap(kek);
      const v2id = await a.rotate?.();
      expect(v2id).to.match(/^pkcs11:kmip-master:v2\./);
      expect(a.currentKeyId).to.equal(v2id);
      const v2 = await a.wrap(kek);
      expect(v2.masterKeyId).to.equal(v2id);
      expect(Buffer.from(await a.unwrap(v1.masterKeyId, v1.wrapped)).equals(Buffer.from(kek))).to.equal(true);
      // b has not seen v2: it finds it in the token on first use, and wraps under it from then on.
      expect(b.currentKeyId).to.equal(v1.masterKeyId);
      expect(Buffer.from(await b.unwrap(v2.masterKeyId, v2.wrapped)).equals(Buffer.from(kek))).to.equal(true);
      expect(b.currentKeyId).to.equal(v2id);
      const versions = (await a.versions?.()) ?? [];
      expect(versions.map((v) => [v.version, v.current])).to.deep.equal([
        [1, false],
        [2, true],
      ]);
      const objects = objectsById(await listObjects(token));
      expect(objects.size).to.equal(2);
      for (const block of objects.values()) expect(block).to.include('never extractable');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('opens from the server configuration (hsm.provider pkcs11)', async () => {
    const token = createSoftHsmToken();
    const p = await openMasterKeyProvider({ ...token.hsm, gracePeriodSeconds: 7 }, silentLogger);
    try {
      expect(p.kind).to.equal('pkcs11');
      expect(p.health?.().graceMs).to.equal(7000);
    } finally {
      await p.close();
    }
  });

  describe('losing and regaining the HSM', () => {
    const hsm = useHsmLoss();

    it('fails with HsmUnavailableError while lost, reconnects by itself, and keys still unwrap', async () => {
      const token = createSoftHsmToken();
      const p = await openPkcs11Provider(
        optionsFor(token, { healthCheckMs: 20, retryMs: 20, graceMs: 1000 }),
      );
      try {
        const kek = new Uint8Array(randomBytes(32));
        const before = await p.wrap(kek);
        expect(p.health?.().available).to.equal(true);

        hsm.lose();
        const err = await rejection(p.wrap(kek));
        expect(err).to.be.instanceOf(HsmUnavailableError);
        expect(err.message).to.match(/^HSM unavailable/);
        const h = p.health?.();
        expect(h?.available).to.equal(false);
        expect(h?.unavailableSince).to.be.a('number');
        expect(h?.graceMs).to.equal(1000);
        await sleep(60);
        expect((await rejection(p.unwrap(before.masterKeyId, before.wrapped))).name).to.equal(
          'HsmUnavailableError',
        );

        hsm.regain();
        for (let i = 0; i < 100 && p.health?.().available !== true; i++) await sleep(20);
        expect(p.health?.().available).to.equal(true);
        expect(p.health?.().unavailableSince).to.equal(undefined);
        const back = await p.unwrap(before.masterKeyId, before.wrapped);
        expect(Buffer.from(back).equals(Buffer.from(kek))).to.equal(true);
      } finally {
        await p.close();
      }
    });

    it('a request right after an HSM restart reconnects and succeeds', async () => {
      await withNewProvider({ healthCheckMs: 60_000 }, async (p) => {
        const kek = new Uint8Array(randomBytes(32));
        const w = await p.wrap(kek);
        // Sessions end, but the HSM comes straight back: one reconnection, no error.
        loseHsm()();
        const back = await p.unwrap(w.masterKeyId, w.wrapped);
        expect(Buffer.from(back).equals(Buffer.from(kek))).to.equal(true);
        expect(p.health?.().available).to.equal(true);
      });
    });
  });
});
