import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { openMasterKeyProvider } from '../../src/hsm/index.js';
import { openSoftwareProvider, rotateSoftwareMasterKey } from '../../src/hsm/software/index.js';
import { MasterKeyError } from '../../src/hsm/types.js';
import type { Logger } from '../../src/log.js';
import { silentLogger } from '../../src/log.js';
import { rejection } from '../helpers/assertions.js';
import { providerContract } from './provider-contract.js';

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...silentLogger, warnings, warn: (m: string) => void warnings.push(m) };
}

describe('software master-key provider', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kmip-hsm-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('contract', () => {
    let contractDir: string;
    before(async () => {
      contractDir = await mkdtemp(path.join(tmpdir(), 'kmip-hsm-contract-'));
    });
    after(async () => {
      await rm(contractDir, { recursive: true, force: true });
    });
    providerContract('software', () => openSoftwareProvider(path.join(contractDir, 'master.key')));
  });

  it('creates the key file with mode 0600 in a new 0700 directory', async () => {
    const file = path.join(dir, 'conf', 'nested', 'master.key');
    const p = await openSoftwareProvider(file);
    await p.close();
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).to.equal(0o700);
  });

  it('labels the file development-only and keeps a versioned key line', async () => {
    const file = path.join(dir, 'master.key');
    const p = await openSoftwareProvider(file);
    await p.close();
    const lines = (await readFile(file, 'utf8')).split('\n');
    expect(lines[0]).to.match(/DEVELOPMENT-ONLY/);
    expect(lines[0]).to.match(/not use it in production/i);
    const keyLines = lines.filter((l) => /^v\d+ /.test(l));
    expect(keyLines).to.have.length(1);
    expect(keyLines[0]).to.match(/^v1 [A-Za-z0-9+/]{43}=$/);
    expect(p.currentKeyId).to.match(/^software:[0-9a-f]{16}:v1$/);
  });

  it('logs a development-only warning at open', async () => {
    const log = recordingLogger();
    const p = await openSoftwareProvider(path.join(dir, 'master.key'), { log });
    await p.close();
    expect(log.warnings.some((w) => /development only/.test(w))).to.equal(true);
  });

  it('reopens the same key and leaves the file as it was', async () => {
    const file = path.join(dir, 'master.key');
    const a = await openSoftwareProvider(file);
    const before = await readFile(file);
    const kek = randomBytes(32);
    const { masterKeyId, wrapped } = await a.wrap(kek);
    await a.close();
    const b = await openSoftwareProvider(file);
    expect(b.currentKeyId).to.equal(masterKeyId);
    expect(Buffer.from(await b.unwrap(masterKeyId, wrapped)).equals(kek)).to.equal(true);
    await b.close();
    expect((await readFile(file)).equals(before)).to.equal(true);
  });

  it('refuses a key file readable by group or others, telling to chmod 600', async () => {
    const file = path.join(dir, 'master.key');
    await (await openSoftwareProvider(file)).close();
    await chmod(file, 0o644);
    const err = await rejection(openSoftwareProvider(file));
    expect(err).to.be.instanceOf(MasterKeyError);
    expect(err.message).to.include('chmod 600');
    expect(err.message).to.include('0644');
    await chmod(file, 0o640);
    expect(await rejection(openSoftwareProvider(file))).to.be.instanceOf(MasterKeyError);
  });

  it('does not create the file when create is false', async () => {
    const file = path.join(dir, 'master.key');
    const err = await rejection(openSoftwareProvider(file, { create: false }));
    expect(err).to.be.instanceOf(MasterKeyError);
    expect(err.message).to.include('does not exist');
  });

  it('rejects a malformed file without echoing its content', async () => {
    const file = path.join(dir, 'master.key');
    const secret = randomBytes(31).toString('base64');
    await writeFile(file, `format kmip-server-software-master-key/1\nv1 ${secret}\n`, { mode: 0o600 });
    const err = await rejection(openSoftwareProvider(file));
    expect(err).to.be.instanceOf(MasterKeyError);
    expect(err.message).to.include('line 2');
    expect(err.message).not.to.include(secret);
    await writeFile(file, 'hello\n', { mode: 0o600 });
    expect(await rejection(openSoftwareProvider(file))).to.be.instanceOf(MasterKeyError);
  });

  it('detects a wrong key file on unwrap', async () => {
    const a = await openSoftwareProvider(path.join(dir, 'a.key'));
    const b = await openSoftwareProvider(path.join(dir, 'b.key'));
    const { masterKeyId, wrapped } = await a.wrap(randomBytes(32));
    const err = await rejection(b.unwrap(masterKeyId, wrapped));
    expect(err).to.be.instanceOf(MasterKeyError);
    expect(err.message).to.include('wrong master key file');
    await a.close();
    await b.close();
  });

  it('nodes starting together on one new key file agree on one key', async () => {
    const file = path.join(dir, 'shared', 'master.key');
    const providers = await Promise.all(Array.from({ length: 8 }, () => openSoftwareProvider(file)));
    const ids = new Set(providers.map((p) => p.currentKeyId));
    expect(ids.size).to.equal(1);
    await Promise.all(providers.map((p) => p.close()));
  });

  it('rotation appends a version; old wraps still unwrap; open providers learn new versions', async () => {
    const file = path.join(dir, 'master.key');
    const v1 = await openSoftwareProvider(file);
    const kek1 = randomBytes(32);
    const w1 = await v1.wrap(kek1);
    const newId = await rotateSoftwareMasterKey(file);
    expect(newId).to.match(/:v2$/);
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    const v2 = await openSoftwareProvider(file);
    expect(v2.currentKeyId).to.equal(newId);
    expect(Buffer.from(await v2.unwrap(w1.masterKeyId, w1.wrapped)).equals(kek1)).to.equal(true);
    const kek2 = randomBytes(32);
    const w2 = await v2.wrap(kek2);
    expect(w2.masterKeyId).to.equal(newId);
    // v1 was opened before the rotation: it reloads the file for the unknown version
    expect(Buffer.from(await v1.unwrap(w2.masterKeyId, w2.wrapped)).equals(kek2)).to.equal(true);
    expect((await readFile(file, 'utf8')).split('\n').filter((l) => /^v\d+ /.test(l))).to.have.length(2);
    await v1.close();
    await v2.close();
  });

  describe('openMasterKeyProvider', () => {
    it('opens the software provider from the configuration', async () => {
      const p = await openMasterKeyProvider(
        { provider: 'software', keyFile: path.join(dir, 'master.key') },
        silentLogger,
      );
      expect(p.kind).to.equal('software');
      await p.close();
    });

    it('says what a pkcs11 configuration lacks', async () => {
      const noModule = await rejection(
        openMasterKeyProvider({ provider: 'pkcs11', keyFile: path.join(dir, 'x') }, silentLogger),
      );
      expect(noModule.message).to.include('needs hsm.module');
      const noPin = await rejection(
        openMasterKeyProvider(
          { provider: 'pkcs11', keyFile: path.join(dir, 'x'), module: '/nonexistent.so', tokenLabel: 't' },
          silentLogger,
        ),
      );
      expect(noPin.message).to.include('needs hsm.pin');
    });

    it('rotates through the provider: new current version, old wraps still unwrap', async () => {
      const p = await openSoftwareProvider(path.join(dir, 'master.key'));
      try {
        const before = p.currentKeyId;
        const kek = new Uint8Array(randomBytes(32));
        const old = await p.wrap(kek);
        const id = await p.rotate?.();
        expect(id).to.be.a('string').and.not.equal(before);
        expect(p.currentKeyId).to.equal(id);
        expect(Buffer.from(await p.unwrap(old.masterKeyId, old.wrapped)).equals(Buffer.from(kek))).to.equal(
          true,
        );
        const versions = (await p.versions?.()) ?? [];
        expect(versions.map((v) => [v.version, v.current])).to.deep.equal([
          [1, false],
          [2, true],
        ]);
        expect(p.owns?.(before)).to.equal(true);
        expect(p.owns?.('pkcs11:kmip-master:v1.0011223344556677')).to.equal(false);
      } finally {
        await p.close();
      }
    });
  });
});
