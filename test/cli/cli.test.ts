import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parseArgs, UsageError } from '../../src/cli/args.js';
import { USAGE } from '../../src/cli/main.js';
import { connectHelp } from '../../src/cli/start.js';
import { loadConfig } from '../../src/config/index.js';
import { devPkiPaths } from '../../src/pki/index.js';
import { runCliCaptured } from '../helpers/cli.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const version: string = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version;

const cli = (...argv: string[]) => runCliCaptured(argv);

describe('cli', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'kmip-cli-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('help and usage errors', () => {
    it('prints usage to stderr and exits 2 without a command', async () => {
      expect(await cli()).to.deep.equal({ code: 2, out: '', err: USAGE });
    });

    for (const argv of [['--help'], ['-h'], ['help'], ['start', '--help'], ['pki', '-h']]) {
      it(`prints usage to stdout for ${argv.join(' ')}`, async () => {
        expect(await cli(...argv)).to.deep.equal({ code: 0, out: USAGE, err: '' });
      });
    }

    it('lists every command in the usage', () => {
      for (const command of ['start', 'pki issue-client NAME', 'decode <hex|file>', 'version', 'help']) {
        expect(USAGE).to.contain(command);
      }
    });

    it('prints the package version', async () => {
      expect(await cli('version')).to.deep.equal({ code: 0, out: `kmip-server ${version}\n`, err: '' });
      expect((await cli('--version')).out).to.equal(`kmip-server ${version}\n`);
    });

    it('rejects an unknown command', async () => {
      const result = await cli('strat');
      expect(result.code).to.equal(2);
      expect(result.err).to.match(/^kmip-server: unknown command 'strat'/);
    });

    it('rejects unknown options and missing values', async () => {
      const unknown = await cli('start', '--prot', '1');
      expect(unknown.code).to.equal(2);
      expect(unknown.err).to.contain("kmip-server start: unknown option '--prot'");
      const missing = await cli('start', '--port');
      expect(missing.code).to.equal(2);
      expect(missing.err).to.contain("option '--port' needs a value");
    });

    it('validates start options before doing anything', async () => {
      const port = await cli('start', '--port', 'http');
      expect(port.code).to.equal(2);
      expect(port.err).to.contain("option '--port' must be an integer from 0 to 65535, got 'http'");
      expect((await cli('start', 'extra')).code).to.equal(2);
    });

    it('reports configuration errors with exit status 1', async () => {
      const configFile = path.join(dir, 'kmip.yaml');
      writeFileSync(configFile, 'listen:\n  prot: 1\n');
      const result = await cli('start', '--config', configFile, '--data-dir', dir);
      expect(result.code).to.equal(1);
      expect(result.err).to.contain("unknown option 'listen.prot'");
      expect(result.err).to.contain("did you mean 'listen.port'?");
      expect(existsSync(path.join(dir, 'pki'))).to.equal(false);
    });
  });

  describe('pki issue-client', () => {
    it('creates the development PKI if needed and issues NAME.crt/.key', async () => {
      const result = await cli('pki', 'issue-client', 'vsphere', '--data-dir', dir, '--days', '90');
      const paths = devPkiPaths(dir);
      expect(result.code, result.err).to.equal(0);
      expect(result.err).to.contain(`Created a development PKI in ${paths.dir}`);
      const certFile = path.join(paths.dir, 'vsphere.crt');
      expect(result.out).to.equal(
        `certificate: ${certFile}\nprivate key: ${path.join(paths.dir, 'vsphere.key')}\nCA:          ${paths.caCert}\n`,
      );
      const cert = new X509Certificate(readFileSync(certFile));
      const ca = new X509Certificate(readFileSync(paths.caCert));
      expect(cert.subject).to.equal('CN=vsphere');
      expect(cert.verify(ca.publicKey)).to.equal(true);
      expect(cert.keyUsage).to.deep.equal(['1.3.6.1.5.5.7.3.2']);
      expect(Math.round((Date.parse(cert.validTo) - Date.now()) / 86400000)).to.equal(90);

      const second = await cli('pki', 'issue-client', 'mongo', '--data-dir', dir, '--key-type', 'rsa');
      expect(second.code).to.equal(0);
      expect(second.err).to.equal('');
      expect(
        new X509Certificate(readFileSync(path.join(paths.dir, 'mongo.crt'))).publicKey.asymmetricKeyType,
      ).to.equal('rsa');
    });

    it('refuses to overwrite without --force', async () => {
      expect((await cli('pki', 'issue-client', 'dup', '--data-dir', dir)).code).to.equal(0);
      const again = await cli('pki', 'issue-client', 'dup', '--data-dir', dir);
      expect(again.code).to.equal(1);
      expect(again.err).to.contain('already exists');
      expect((await cli('pki', 'issue-client', 'dup', '--data-dir', dir, '--force')).code).to.equal(0);
    });

    it('rejects a bad name with status 1', async () => {
      const result = await cli('pki', 'issue-client', '../etc', '--data-dir', dir);
      expect(result.code).to.equal(1);
      expect(result.err).to.contain("invalid client name '../etc'");
    });

    it('reports usage errors with status 2', async () => {
      for (const argv of [
        ['pki'],
        ['pki', 'revoke', 'x'],
        ['pki', 'issue-client'],
        ['pki', 'issue-client', 'a', 'b'],
        ['pki', 'issue-client', 'a', '--days', 'ten'],
        ['pki', 'issue-client', 'a', '--days', '0'],
        ['pki', 'issue-client', 'a', '--key-type', 'dsa'],
        ['pki', 'issue-client', 'a', '--force=yes'],
      ]) {
        const result = await cli(...argv, '--data-dir', dir);
        expect(result.code, argv.join(' ')).to.equal(2);
      }
      expect(existsSync(path.join(dir, 'pki'))).to.equal(false);
    });

    it('refuses when tls.* point at a real PKI', async () => {
      const configFile = path.join(dir, 'kmip.yaml');
      writeFileSync(configFile, 'tls:\n  cert: s.crt\n  key: s.key\n  ca: ca.crt\n');
      const result = await cli('pki', 'issue-client', 'x', '--config', configFile, '--data-dir', dir);
      expect(result.code).to.equal(1);
      expect(result.err).to.contain('point at your own PKI');
    });
  });

  describe('decode', () => {
    // Protocol Version { Major 1, Minor 2 }: tags 0x420069, 0x42006A, 0x42006B (KMIP 1.0 section 9.1.3.1).
    const hex = '42006901000000204200' + '6a020000000400000001000000004200' + '6b02000000040000000200000000';

    it('prints a TTLV hex string as text', async () => {
      const result = await cli('decode', hex);
      expect(result.code, result.err).to.equal(0);
      expect(result.out).to.contain('ProtocolVersion');
      expect(result.out.endsWith('\n')).to.equal(true);
    });

    it('fails on input that is neither hex nor a file', async () => {
      const result = await cli('decode', 'not-hex-and-no-such-file');
      expect(result.code).to.equal(1);
      expect(result.err).to.match(/^kmip-server decode: /);
    });

    it('needs exactly one argument', async () => {
      expect((await cli('decode')).code).to.equal(2);
      expect((await cli('decode', 'aa', 'bb')).code).to.equal(2);
    });
  });

  describe('connectHelp', () => {
    it('gives the CA, admin files and a PyKMIP configuration', () => {
      const config = loadConfig({
        env: {},
        cwd: dir,
        overrides: { listen: { host: '0.0.0.0', port: 15696 } },
      });
      const paths = devPkiPaths(config.dataDir);
      const text = connectHelp(config, paths);
      expect(text).to.contain(`CA certificate:      ${paths.caCert}`);
      expect(text).to.contain(`admin certificate:   ${paths.adminCert}`);
      expect(text).to.contain(
        `[client]\nhost=127.0.0.1\nport=15696\ncertfile=${paths.adminCert}\nkeyfile=${paths.adminKey}\nca_certs=${paths.caCert}\n`,
      );
    });
  });

  it('runs as a script through main.ts', () => {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts'), 'version'],
      {
        cwd: repoRoot,
        encoding: 'utf8',
      },
    );
    expect(out).to.equal(`kmip-server ${version}\n`);
    expect(
      readFileSync(path.join(repoRoot, 'src/cli/main.ts'), 'utf8').startsWith('#!/usr/bin/env node\n'),
    ).to.equal(true);
  });
});

describe('cli/args', () => {
  const flags = { port: 'string', force: 'boolean' } as const;

  it('parses --name value, --name=value, booleans and --', () => {
    const args = parseArgs(['a', '--port', '1', '--port=2', '--force', '--', '--port'], flags);
    expect(args.positionals).to.deep.equal(['a', '--port']);
    expect([...args.options]).to.deep.equal([
      ['port', '2'],
      ['force', true],
    ]);
  });

  it('treats a lone dash as a positional', () => {
    expect(parseArgs(['-'], flags).positionals).to.deep.equal(['-']);
  });

  it('throws UsageError on mistakes', () => {
    for (const argv of [['--nope'], ['-x'], ['--port'], ['--port', '--force'], ['--port='], ['--force=1']]) {
      expect(() => parseArgs(argv, flags), argv.join(' ')).to.throw(UsageError);
    }
  });
});
