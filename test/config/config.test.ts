import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  ConfigError,
  DEFAULT_TLS12_CIPHERS,
  DEFAULT_TLS13_CIPHERSUITES,
  loadConfig,
  OPTIONS,
  type ServerConfig,
  tlsCipherList,
} from '../../src/config/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config/loadConfig', () => {
  let dir: string;
  const cwd = '/srv/kmip';

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'kmip-config-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, content: string): string {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    return p;
  }

  it('has documented defaults and a development PKI under DATA/pki', () => {
    const config = loadConfig({ env: {}, cwd });
    const expected: ServerConfig = {
      dataDir: '/srv/kmip/data',
      server: { workers: 0 },
      listen: { host: '127.0.0.1', port: 5696 },
      tls: {
        cert: '/srv/kmip/data/pki/server.crt',
        key: '/srv/kmip/data/pki/server.key',
        ca: '/srv/kmip/data/pki/ca.crt',
        ciphers: DEFAULT_TLS12_CIPHERS,
        ciphersuites: DEFAULT_TLS13_CIPHERSUITES,
        minVersion: 'TLSv1.2',
        sessionTimeoutSeconds: 300,
        sessionTickets: true,
        devPki: true,
      },
      limits: {
        maxMessageBytes: 1048576,
        maxResponseBytes: 16 * 1024 * 1024,
        locateMaxItems: 1000,
        locateMaxScan: 10000,
        maxConnections: 10000,
        idleTimeoutMs: 300000,
        readTimeoutMs: 30000,
        maxBatchItems: 1000,
        maxDepth: 64,
        maxHandshakes: 1000,
        handshakeTimeoutMs: 10000,
        maxConnectionsPerIdentity: 1000,
        requestsPerSecondPerIdentity: 0,
      },
      log: { level: 'info' },
      store: { uri: 'sqlite:/srv/kmip/data/kmip.db', database: undefined },
      hsm: { provider: 'software', keyFile: '/srv/kmip/data/master.key' },
      crypto: { allowTripleDes: false },
      auth: {
        enabled: false,
        identityFrom: 'cn',
        tenants: [],
        identities: {
          admin: {
            tenant: 'default',
            roles: ['security-officer', 'key-administrator', 'crypto-user'],
            groups: [],
          },
        },
        dualControl: { approvals: 2, operations: [], expiryHours: 24, maxPendingPerIdentity: 100 },
      },
      audit: {
        sealEveryRecords: 1000,
        sealIntervalSeconds: 60,
        anchorFile: '/srv/kmip/data/audit-anchor.json',
        requirePurpose: [],
        defaultPurpose: {},
      },
    };
    expect(config).to.deep.equal(expected);
    expect(DEFAULT_TLS12_CIPHERS).to.equal(
      'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305',
    );
  });

  it('reads YAML and resolves relative paths against the file directory', () => {
    const configFile = file(
      'kmip.yaml',
      [
        'dataDir: state',
        'listen:',
        '  host: 0.0.0.0',
        '  port: 15696',
        'tls:',
        '  cert: certs/server.pem',
        '  key: /etc/kmip/server.key',
        '  ca: certs/ca.pem',
        '  minVersion: TLSv1.3',
        'limits:',
        '  maxMessageBytes: 65536',
        'log:',
        '  level: debug',
        '  file: logs/kmip.log',
      ].join('\n'),
    );
    const config = loadConfig({ configFile, env: {}, cwd });
    expect(config.dataDir).to.equal(path.join(dir, 'state'));
    expect(config.listen).to.deep.equal({ host: '0.0.0.0', port: 15696 });
    expect(config.tls.cert).to.equal(path.join(dir, 'certs/server.pem'));
    expect(config.tls.key).to.equal('/etc/kmip/server.key');
    expect(config.tls.ca).to.equal(path.join(dir, 'certs/ca.pem'));
    expect(config.tls.devPki).to.equal(false);
    expect(config.tls.minVersion).to.equal('TLSv1.3');
    expect(config.limits.maxMessageBytes).to.equal(65536);
    expect(config.limits.maxDepth).to.equal(64);
    expect(config.log).to.deep.equal({ level: 'debug', file: path.join(dir, 'logs/kmip.log') });
  });

  it('reads JSON', () => {
    const configFile = file(
      'kmip.json',
      JSON.stringify({ listen: { port: 7000 }, limits: { maxBatchItems: 10 } }),
    );
    const config = loadConfig({ configFile, env: {}, cwd });
    expect(config.listen.port).to.equal(7000);
    expect(config.limits.maxBatchItems).to.equal(10);
  });

  it('accepts an empty file', () => {
    const configFile = file('empty.yaml', '# nothing yet\n');
    expect(loadConfig({ configFile, env: {}, cwd }).listen.port).to.equal(5696);
  });

  it('takes the file from KMIP_CONFIG when configFile is not given', () => {
    const configFile = file('kmip.yaml', 'listen: { port: 7001 }\n');
    expect(loadConfig({ env: { KMIP_CONFIG: configFile }, cwd }).listen.port).to.equal(7001);
  });

  it('applies every environment variable', () => {
    const env = {
      KMIP_DATA_DIR: 'var/kmip',
      KMIP_LISTEN_HOST: '::',
      KMIP_LISTEN_PORT: '6000',
      KMIP_TLS_CERT: '/etc/kmip/cert.pem',
      KMIP_TLS_KEY: 'key.pem',
      KMIP_TLS_CA: '/etc/kmip/ca.pem',
      KMIP_TLS_CIPHERS: 'ECDHE-ECDSA-AES256-GCM-SHA384',
      KMIP_TLS_CIPHERSUITES: 'TLS_AES_256_GCM_SHA384',
      KMIP_TLS_MIN_VERSION: 'TLSv1.3',
      KMIP_TLS_SESSION_TIMEOUT_SECONDS: '60',
      KMIP_TLS_SESSION_TICKETS: 'false',
      KMIP_TLS_CRL: '/etc/kmip/crl.pem',
      KMIP_LIMITS_MAX_HANDSHAKES: '4',
      KMIP_LIMITS_HANDSHAKE_TIMEOUT_MS: '700',
      KMIP_LIMITS_MAX_CONNECTIONS_PER_IDENTITY: '2',
      KMIP_LIMITS_REQUESTS_PER_SECOND_PER_IDENTITY: '50',
      KMIP_LIMITS_REQUEST_BURST_PER_IDENTITY: '20',
      KMIP_LIMITS_MAX_MESSAGE_BYTES: '2048',
      KMIP_LIMITS_MAX_RESPONSE_BYTES: '131072',
      KMIP_LIMITS_LOCATE_MAX_ITEMS: '50',
      KMIP_LIMITS_LOCATE_MAX_SCAN: '500',
      KMIP_LIMITS_MAX_CONNECTIONS: '5',
      KMIP_LIMITS_IDLE_TIMEOUT_MS: '1000',
      KMIP_LIMITS_READ_TIMEOUT_MS: '500',
      KMIP_LIMITS_MAX_BATCH_ITEMS: '3',
      KMIP_LIMITS_MAX_DEPTH: '8',
      KMIP_LOG_LEVEL: 'warn',
      KMIP_LOG_FILE: '/var/log/kmip.log',
      KMIP_STORE_URI: 'mongodb://127.0.0.1:27017/?replicaSet=rs0',
      KMIP_STORE_DATABASE: 'keys',
      KMIP_HSM_PROVIDER: 'software',
      KMIP_HSM_KEY_FILE: 'master.key',
      KMIP_HSM_MODULE: '/usr/lib/softhsm/libsofthsm2.so',
      KMIP_HSM_TOKEN_LABEL: 'kmip',
      KMIP_HSM_SLOT: '7',
      KMIP_HSM_PIN: 'env:HSM_PIN',
      KMIP_HSM_KEY_LABEL: 'master',
      KMIP_HSM_SESSIONS: '2',
      KMIP_HSM_GRACE_PERIOD_SECONDS: '30',
      KMIP_HSM_HEALTH_CHECK_SECONDS: '2',
      KMIP_CRYPTO_ALLOW_TRIPLE_DES: 'true',
      KMIP_AUTH_ENABLED: 'true',
      KMIP_AUTH_IDENTITY_FROM: 'san-dns',
      KMIP_AUTH_TENANTS: '["payments"]',
      KMIP_AUTH_IDENTITIES: '{"app.example":{"tenant":"payments","roles":["crypto-user"]}}',
      KMIP_AUTH_DUAL_CONTROL: '{"approvals":3,"operations":["destroy"]}',
      KMIP_AUDIT_SEAL_EVERY_RECORDS: '50',
      KMIP_AUDIT_SEAL_INTERVAL_SECONDS: '5',
      KMIP_AUDIT_ANCHOR_FILE: 'anchor.json',
      KMIP_AUDIT_REQUIRE_PURPOSE: '["Destroy","Get"]',
      KMIP_AUDIT_DEFAULT_PURPOSE: '{"*":"unspecified"}',
      KMIP_AUDIT_FILE: '/var/log/kmip-audit.jsonl',
      KMIP_AUDIT_SYSLOG: 'udp://127.0.0.1:514',
      KMIP_AUDIT_DURABILITY: 'batched',
      KMIP_AUDIT_FAIL_CLOSED: 'true',
      KMIP_SERVER_WORKERS: '3',
    };
    expect(Object.keys(env).sort()).to.deep.equal(OPTIONS.map((o) => o.env).sort());
    const config = loadConfig({ env, cwd });
    expect(config).to.deep.equal({
      dataDir: '/srv/kmip/var/kmip',
      server: { workers: 3 },
      listen: { host: '::', port: 6000 },
      tls: {
        cert: '/etc/kmip/cert.pem',
        key: '/srv/kmip/key.pem',
        ca: '/etc/kmip/ca.pem',
        ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384',
        ciphersuites: 'TLS_AES_256_GCM_SHA384',
        minVersion: 'TLSv1.3',
        sessionTimeoutSeconds: 60,
        sessionTickets: false,
        crl: '/etc/kmip/crl.pem',
        devPki: false,
      },
      limits: {
        maxMessageBytes: 2048,
        maxResponseBytes: 131072,
        locateMaxItems: 50,
        locateMaxScan: 500,
        maxConnections: 5,
        idleTimeoutMs: 1000,
        readTimeoutMs: 500,
        maxBatchItems: 3,
        maxDepth: 8,
        maxHandshakes: 4,
        handshakeTimeoutMs: 700,
        maxConnectionsPerIdentity: 2,
        requestsPerSecondPerIdentity: 50,
        requestBurstPerIdentity: 20,
      },
      log: { level: 'warn', file: '/var/log/kmip.log' },
      store: { uri: 'mongodb://127.0.0.1:27017/?replicaSet=rs0', database: 'keys' },
      hsm: {
        provider: 'software',
        keyFile: '/srv/kmip/master.key',
        module: '/usr/lib/softhsm/libsofthsm2.so',
        tokenLabel: 'kmip',
        slot: 7,
        pin: 'env:HSM_PIN',
        keyLabel: 'master',
        sessions: 2,
        gracePeriodSeconds: 30,
        healthCheckSeconds: 2,
      },
      crypto: { allowTripleDes: true },
      auth: {
        enabled: true,
        identityFrom: 'san-dns',
        tenants: ['payments'],
        identities: { 'app.example': { tenant: 'payments', roles: ['crypto-user'], groups: [] } },
        dualControl: { approvals: 3, operations: ['destroy'], expiryHours: 24, maxPendingPerIdentity: 100 },
      },
      audit: {
        durability: 'batched',
        failClosed: true,
        sealEveryRecords: 50,
        sealIntervalSeconds: 5,
        anchorFile: '/srv/kmip/anchor.json',
        requirePurpose: ['Destroy', 'Get'],
        defaultPurpose: { '*': 'unspecified' },
        file: '/var/log/kmip-audit.jsonl',
        syslog: 'udp://127.0.0.1:514',
      },
    });
  });

  it('checks the audit section: operation names, purposes, syslog URL', () => {
    const load = (yaml: string) => () => loadConfig({ configFile: file('audit.yaml', yaml), env: {}, cwd });
    expect(load('audit:\n  requirePurpose: [Destroy, Launch]\n')).to.throw(
      /audit.requirePurpose: 'Launch' is not a KMIP operation name/,
    );
    expect(load('audit:\n  defaultPurpose: { a: 3 }\n')).to.throw(
      /audit.defaultPurpose.a: must be a non-empty string/,
    );
    expect(load('audit:\n  syslog: http://siem:514\n')).to.throw(/audit.syslog: must be udp:\/\/HOST:PORT/);
  });

  it('checks the auth section: roles, dual-control operations, and no plain passwords', () => {
    const load = (yaml: string) => () => loadConfig({ configFile: file('auth.yaml', yaml), env: {}, cwd });
    expect(load('auth:\n  identities:\n    a: { tenant: t, roles: [wizard] }\n')).to.throw(
      /unknown role 'wizard'/,
    );
    expect(load('auth:\n  dualControl: { operations: [launch] }\n')).to.throw(/unknown operation 'launch'/);
    expect(
      load(
        'auth:\n  identities:\n    a: { tenant: t, roles: [crypto-user], credential: { username: u, passwordHash: hunter2 } }\n',
      ),
    ).to.throw(/plain passwords are refused/);
    expect(load('auth:\n  identities: [a, b]\n')).to.throw(/auth.identities: must be a mapping/);
  });

  it('reads crypto.allowTripleDes as a boolean from the file and refuses other values', () => {
    expect(
      loadConfig({ configFile: file('on.yaml', 'crypto: { allowTripleDes: true }\n'), env: {}, cwd }).crypto,
    ).to.deep.equal({ allowTripleDes: true });
    expect(() =>
      loadConfig({ configFile: file('bad.yaml', 'crypto: { allowTripleDes: yes please }\n'), env: {}, cwd }),
    ).to.throw(/crypto.allowTripleDes .*must be true or false/);
    expect(() => loadConfig({ env: { KMIP_CRYPTO_ALLOW_TRIPLE_DES: 'maybe' }, cwd })).to.throw(
      /must be true or false/,
    );
    expect(
      loadConfig({ env: {}, cwd, overrides: { crypto: { allowTripleDes: true } } }).crypto.allowTripleDes,
    ).to.equal(true);
  });

  it('ignores empty environment variables', () => {
    expect(loadConfig({ env: { KMIP_LISTEN_PORT: '' }, cwd }).listen.port).to.equal(5696);
  });

  it('gives overrides precedence over environment, and environment over the file', () => {
    const configFile = file(
      'kmip.yaml',
      'listen: { host: 10.0.0.1, port: 7000 }\nlimits: { maxDepth: 10 }\n',
    );
    const env = { KMIP_LISTEN_PORT: '7100', KMIP_LIMITS_MAX_DEPTH: '20' };
    const config = loadConfig({ configFile, env, cwd, overrides: { listen: { port: 7200 }, dataDir: 'd' } });
    expect(config.listen).to.deep.equal({ host: '10.0.0.1', port: 7200 });
    expect(config.limits.maxDepth).to.equal(20);
    expect(config.dataDir).to.equal('/srv/kmip/d');
    expect(config.tls.ca).to.equal('/srv/kmip/d/pki/ca.crt');
  });

  it('skips undefined override values', () => {
    const config = loadConfig({ env: {}, cwd, overrides: { listen: { host: undefined, port: 1 } } });
    expect(config.listen).to.deep.equal({ host: '127.0.0.1', port: 1 });
  });

  it('rejects unknown keys and suggests the intended one', () => {
    const configFile = file('kmip.yaml', 'limits:\n  maxMesageBytes: 10\nlsten: {}\nfoo: 1\n');
    const err = configError(() => loadConfig({ configFile, env: {}, cwd }));
    expect(err.problems).to.have.length(3);
    expect(err.problems[0]).to.equal(
      `unknown option 'limits.maxMesageBytes' (${configFile}): did you mean 'limits.maxMessageBytes'?`,
    );
    expect(err.problems[1]).to.equal(`unknown option 'lsten' (${configFile}): did you mean 'listen'?`);
    expect(err.problems[2]).to.equal(`unknown option 'foo' (${configFile})`);
    expect(err.message).to.contain('invalid configuration:\n  - unknown option');
    expect(err.code).to.equal('KMIP_CONFIG_INVALID');
  });

  it('rejects tls.devPki, which is derived', () => {
    const err = configError(() => loadConfig({ env: {}, cwd, overrides: { tls: { devPki: false } } }));
    expect(err.problems[0]).to.match(/tls\.devPki \(command line\): not an option/);
  });

  it('validates types and ranges', () => {
    const configFile = file(
      'bad.yaml',
      [
        'listen:',
        '  port: "5696"',
        'tls:',
        '  minVersion: TLSv1.1',
        'limits:',
        '  maxMessageBytes: 1.5',
        '  maxConnections: 0',
        'log: debug',
      ].join('\n'),
    );
    const err = configError(() =>
      loadConfig({ configFile, env: { KMIP_LIMITS_MAX_DEPTH: 'deep', KMIP_LISTEN_HOST: ' ' }, cwd }),
    );
    expect(err.problems).to.deep.equal([
      `listen.port (${configFile}): must be an integer from 0 to 65535, got '5696'`,
      `tls.minVersion (${configFile}): must be one of TLSv1.2, TLSv1.3, got 'TLSv1.1'`,
      `limits.maxMessageBytes (${configFile}): must be an integer from 16 to 268435456, got 1.5`,
      `limits.maxConnections (${configFile}): must be an integer from 1 to 1000000, got 0`,
      `log (${configFile}): must be a mapping`,
      `listen.host (environment variable KMIP_LISTEN_HOST): must be a non-empty string, got ' '`,
      `limits.maxDepth (environment variable KMIP_LIMITS_MAX_DEPTH): must be an integer from 1 to 1024, got 'deep'`,
    ]);
  });

  it('rejects an out-of-range port from the environment', () => {
    const err = configError(() => loadConfig({ env: { KMIP_LISTEN_PORT: '70000' }, cwd }));
    expect(err.problems).to.deep.equal([
      'listen.port (environment variable KMIP_LISTEN_PORT): must be an integer from 0 to 65535, got 70000',
    ]);
  });

  it('requires tls.cert, tls.key and tls.ca together', () => {
    const err = configError(() => loadConfig({ env: { KMIP_TLS_CERT: 'c.pem' }, cwd }));
    expect(err.problems).to.deep.equal([
      'tls.cert set but tls.key, tls.ca not: set all of tls.cert, tls.key and tls.ca, or none of them to use the development PKI',
    ]);
  });

  it('reports a missing file, a syntax error and a non-mapping document', () => {
    expect(
      configError(() => loadConfig({ configFile: path.join(dir, 'nope.yaml'), env: {} })).message,
    ).to.match(/cannot read configuration file .*nope\.yaml \(ENOENT\)/);
    const broken = file('broken.yaml', 'listen:\n  port: [1\n');
    expect(configError(() => loadConfig({ configFile: broken, env: {} })).message).to.match(
      /cannot parse configuration file .*broken\.yaml/,
    );
    const list = file('list.yaml', '- a\n- b\n');
    expect(configError(() => loadConfig({ configFile: list, env: {} })).problems).to.deep.equal([
      `${list}: the configuration must be a mapping of option names to values`,
    ]);
  });

  it('builds node cipher lists with TLS 1.3 suites first', () => {
    expect(tlsCipherList({ ciphers: 'A:B', ciphersuites: 'TLS_X' })).to.equal('TLS_X:A:B');
  });
});

describe('docs/configuration.md', () => {
  it('documents every option with its file key and environment variable', () => {
    const doc = readFileSync(path.join(repoRoot, 'docs/configuration.md'), 'utf8');
    for (const option of OPTIONS) {
      expect(doc, option.key).to.contain(`\`${option.key}\``);
      expect(doc, option.env).to.contain(`\`${option.env}\``);
    }
  });
});
