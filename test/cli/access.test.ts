import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { stringify } from 'yaml';
import { hashPassword, verifyPassword } from '../../src/auth/password.js';
import { ensureDevPki, issueClientCertificate } from '../../src/pki/index.js';
import { runCliCaptured } from '../helpers/cli.js';

describe('cli: tenants, grants and approvals', function () {
  this.timeout(60_000);
  let dir: string;
  let configFile: string;
  const certs = new Map<string, string[]>();

  const cli = (...argv: string[]) => runCliCaptured([...argv, '--config', configFile]);
  const officer = (name: string) => certs.get(name) ?? [];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kmip-cli-access-'));
    await ensureDevPki(dir);
    for (const name of ['officer1', 'officer2', 'app']) {
      const c = await issueClientCertificate(dir, name);
      certs.set(name, ['--cert', c.cert, '--key', c.key]);
    }
    configFile = path.join(dir, 'kmip.yaml');
    await writeFile(
      configFile,
      stringify({
        dataDir: dir,
        auth: {
          enabled: true,
          identities: {
            officer1: { tenant: 'ops', roles: ['security-officer'] },
            officer2: { tenant: 'ops', roles: ['security-officer'] },
          },
          dualControl: { approvals: 1, operations: ['policy', 'master-key-rotate'] },
        },
      }),
    );
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hashes passwords with scrypt and verifies them', async () => {
    const h = await hashPassword('s3cret');
    expect(h).to.match(/^scrypt\$16384\$8\$1\$/);
    expect(await verifyPassword('s3cret', h)).to.equal(true);
    expect(await verifyPassword('s3cret!', h)).to.equal(false);
    expect(await verifyPassword('s3cret', 'scrypt$1$1$1$AA$AA')).to.equal(false);
  });

  it('adds a tenant only after another officer approves, and lists it', async () => {
    const first = await cli('tenants', 'add', 'payments', ...officer('officer1'));
    expect(first.code).to.equal(1);
    const id = /pending approval id (\w+)/.exec(first.err)?.[1] ?? '';
    expect(id).to.have.length(16);
    const approve = await cli('approvals', 'approve', id, ...officer('officer2'));
    expect(approve.code, approve.err).to.equal(0);
    const retry = await cli('tenants', 'add', 'payments', ...officer('officer1'));
    expect(retry.code, retry.err).to.equal(0);
    expect((await cli('tenants', 'list')).out).to.match(/^payments\t-$/m);
  });

  it('gives an approval back when the approved change then fails', async () => {
    const first = await cli('tenants', 'add', 'payments', ...officer('officer1'));
    const id = /pending approval id (\w+)/.exec(first.err)?.[1] ?? '';
    expect(id).not.to.equal('');
    expect((await cli('approvals', 'approve', id, ...officer('officer2'))).code).to.equal(0);
    // payments exists already: the change fails, and the approval stays usable
    const failed = await cli('tenants', 'add', 'payments', ...officer('officer1'));
    expect(failed.code).to.equal(1);
    expect((await cli('approvals', 'list')).out).to.match(new RegExp(`^${id}\tapproved\t`, 'm'));
  });

  it('refuses changes without an officer certificate, or with a non-officer one', async () => {
    expect((await cli('tenants', 'add', 'x')).code).to.equal(2);
    const app = await cli('tenants', 'add', 'x', ...officer('app'));
    expect(app.code).to.equal(1);
    expect(app.err).to.contain('app is not a security officer');
  });

  it('assigns an identity to a tenant with roles', async () => {
    const args = ['tenants', 'assign', 'app', 'payments', '--roles', 'crypto-user', '--groups', 'batch'];
    const first = await cli(...args, ...officer('officer2'));
    const id = /pending approval id (\w+)/.exec(first.err)?.[1] ?? '';
    expect((await cli('approvals', 'approve', id, ...officer('officer1'))).code).to.equal(0);
    expect((await cli(...args, ...officer('officer2'))).code).to.equal(0);
    expect((await cli('tenants', 'list')).out).to.match(/^payments\tapp\(crypto-user\)$/m);
  });

  it('puts master-key rotate under dual control', async () => {
    const first = await cli('master-key', 'rotate', ...officer('officer1'));
    expect(first.code).to.equal(1);
    const id = /pending approval id (\w+)/.exec(first.err)?.[1] ?? '';
    expect((await cli('approvals', 'list')).out).to.contain(`${id}\tpending\t0/1\tmaster-key rotate`);
    expect((await cli('approvals', 'approve', id, ...officer('officer2'))).code).to.equal(0);
    const retry = await cli('master-key', 'rotate', ...officer('officer1'));
    expect(retry.code, retry.err).to.equal(0);
    expect(retry.out).to.contain('new master key version');
  });
});
