/**
 * `tenants adopt`: keys created while auth was off (owner = certificate CN)
 * become a tenant's, through the store, audited; and the officer proof
 * honours tls.crl. Real servers over mutual TLS on one data directory.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { stringify } from 'yaml';
import { type RunningServer, startServer } from '../../src/app.js';
import { Operation, ResultReason, ResultStatus } from '../../src/kmip/spec/index.js';
import { silentLogger } from '../../src/log.js';
import { ensureDevPki, issueClientCertificate } from '../../src/pki/index.js';
import { runCliCaptured } from '../helpers/cli.js';
import { TestKmipClient } from '../helpers/kmip-client.js';
import { opensslCrl } from '../helpers/openssl.js';
import { localConfig } from '../helpers/server-config.js';

const AUTH = {
  enabled: true,
  identities: {
    app1: { tenant: 'apps', roles: ['crypto-user'] },
    officer1: { tenant: 'ops', roles: ['security-officer'] },
    officer2: { tenant: 'ops', roles: ['security-officer'] },
  },
};

describe('cli: tenants adopt and the officer CRL check', function () {
  this.timeout(90_000);
  let dir: string;
  let configFile: string;
  let paths: Awaited<ReturnType<typeof ensureDevPki>>['paths'];
  const certs = new Map<string, { cert: string; key: string }>();
  let server: RunningServer | undefined;

  async function start(auth: unknown): Promise<RunningServer> {
    const config = localConfig(dir, { auth } as never);
    server = await startServer(config, silentLogger);
    return server;
  }

  async function as(name: string, s: RunningServer): Promise<TestKmipClient> {
    const c = certs.get(name);
    if (c === undefined) throw new Error(`no certificate for ${name}`);
    return TestKmipClient.connect({
      host: s.address.host,
      port: s.address.port,
      pki: { ca: paths.caCert, adminCert: c.cert, adminKey: c.key },
    });
  }

  const cli = (...argv: string[]) => runCliCaptured([...argv, '--config', configFile]);
  const officer = (name: string): string[] => {
    const c = certs.get(name);
    return c === undefined ? [] : ['--cert', c.cert, '--key', c.key];
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kmip-cli-adopt-'));
    ({ paths } = await ensureDevPki(dir));
    for (const name of ['app1', 'officer1', 'officer2'])
      certs.set(name, await issueClientCertificate(dir, name));
    configFile = path.join(dir, 'kmip.yaml');
    await writeFile(configFile, stringify({ dataDir: dir, auth: AUTH }));
  });

  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the keys of a CN from the auth-off era to a tenant, audited', async () => {
    let s = await start({ enabled: false });
    let app = await as('app1', s);
    const id = await app.createAes();
    const before = TestKmipClient.keyMaterial(await app.ok(Operation.Get, [app.uidItem(id)]));
    app.close();
    await s.close();

    s = await start(AUTH);
    app = await as('app1', s);
    try {
      const hidden = await app.call(Operation.Get, [app.uidItem(id)]);
      expect(hidden.status).to.equal(ResultStatus.OperationFailed);
      expect(hidden.reason).to.equal(ResultReason.ItemNotFound);

      const adoptAs = (owner: string, tenant: string) =>
        cli('tenants', 'adopt', '--owner', owner, '--tenant', tenant, ...officer('officer1'));
      const dry = await cli('tenants', 'adopt', '--owner', 'app1', '--tenant', 'apps', '--dry-run');
      expect(dry.out).to.contain('1 object(s) owned by app1 would go to tenant apps');
      const unknownTenant = await adoptAs('app1', 'nope');
      expect(unknownTenant.code).to.equal(1);
      expect(unknownTenant.err).to.contain('no tenant nope');
      const fromTenant = await adoptAs('ops', 'apps');
      expect(fromTenant.code).to.equal(1);
      expect(fromTenant.err).to.contain('is a tenant or the server itself');

      const adopt = await adoptAs('app1', 'apps');
      expect(adopt.code, adopt.err).to.equal(0);
      expect(adopt.out).to.contain('1 object(s) of app1 adopted by tenant apps');
      // the key, re-sealed under its new version, is the same key
      const after = TestKmipClient.keyMaterial(await app.ok(Operation.Get, [app.uidItem(id)]));
      expect(Buffer.from(after ?? []).equals(Buffer.from(before ?? []))).to.equal(true);
      // idempotent
      const again = await adoptAs('app1', 'apps');
      expect(again.out).to.contain('0 object(s)');
    } finally {
      app.close();
    }
    const exported = await cli('audit', 'export');
    const record = exported.out
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { operation: string; identity: string; tenant: string; uniqueIdentifier: string },
      )
      .find((r) => r.operation === 'tenants adopt');
    expect(record).to.include({ identity: 'officer1', tenant: 'apps', uniqueIdentifier: id });
    const verify = await cli('audit', 'verify');
    expect(verify.code, verify.out + verify.err).to.equal(0);
    await s.close();
    server = undefined;
  });

  it('refuses an officer whose certificate tls.crl revokes, and its earlier approvals', async () => {
    const first = await cli('tenants', 'add', 'later', ...officer('officer1'));
    expect(first.code, first.err).to.equal(0); // no dual control configured here
    // officer2 approves a request while still trusted
    await writeFile(
      configFile,
      stringify({ dataDir: dir, auth: { ...AUTH, dualControl: { approvals: 1, operations: ['policy'] } } }),
    );
    const pending = await cli('tenants', 'add', 'pending-co', ...officer('officer1'));
    const approvalId = /pending approval id (\w+)/.exec(pending.err)?.[1] ?? '';
    expect((await cli('approvals', 'approve', approvalId, ...officer('officer2'))).code).to.equal(0);
    expect((await cli('approvals', 'list')).out).to.contain(`${approvalId}\tapproved\t1/1`);

    const db = path.join(dir, 'crl-db');
    expect(await opensslCrl(db, paths, [certs.get('officer2')?.cert ?? ''])).to.contain('X509 CRL');
    await writeFile(
      configFile,
      stringify({
        dataDir: dir,
        tls: { crl: `${db}.crl` },
        auth: { ...AUTH, dualControl: { approvals: 1, operations: ['policy'] } },
      }),
    );
    const revoked = await cli('approvals', 'list', ...officer('officer2'));
    expect(revoked.out).to.contain(`${approvalId}\tapproved\t0/1`);
    const refused = await cli('tenants', 'add', 'x', ...officer('officer2'));
    expect(refused.code).to.equal(1);
    expect(refused.err).to.contain('revoked');
    // the retry finds no valid approval: a new decision is needed
    const retry = await cli('tenants', 'add', 'pending-co', ...officer('officer1'));
    expect(retry.code).to.equal(1);
    expect(retry.err).to.contain(approvalId);
  });
});
