import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { devPkiPaths } from '../pki/dev-pki.js';
import { type AuditConfig, buildAuditConfig } from './audit.js';
import { type AuthConfig, buildAuthConfig } from './auth.js';
import { CONFIG_FILE_ENV, OPTIONS, type OptionSpec } from './options.js';

export interface ServerConfig {
  dataDir: string;
  /** `workers`: server processes of `kmip-server start` (0: one per CPU core) */
  server: { workers: number };
  listen: { host: string; port: number };
  tls: {
    /** absolute file paths */
    cert: string;
    key: string;
    ca: string;
    /** TLS 1.2 cipher list */
    ciphers: string;
    /** TLS 1.3 suites; node takes both in its `ciphers` option, see {@link tlsCipherList} */
    ciphersuites: string;
    minVersion: 'TLSv1.2' | 'TLSv1.3';
    sessionTimeoutSeconds: number;
    sessionTickets: boolean;
    /** absolute path of a PEM file with the CRL(s) client certificates are checked against */
    crl?: string;
    /** true when tls.* were not set: the paths point into DATA/pki and are created on first start */
    devPki: boolean;
  };
  limits: {
    maxMessageBytes: number;
    /** largest response message, and the unwritten answers one connection may hold */
    maxResponseBytes: number;
    /** identifiers in one Locate answer at most */
    locateMaxItems: number;
    /** candidate objects one Locate loads and matches in memory at most */
    locateMaxScan: number;
    maxConnections: number;
    idleTimeoutMs: number;
    /** a started message must complete within it */
    readTimeoutMs: number;
    maxBatchItems: number;
    maxDepth: number;
    /** TLS handshakes in progress at once; the oldest is dropped past it */
    maxHandshakes: number;
    handshakeTimeoutMs: number;
    /** 0: no cap */
    maxConnectionsPerIdentity: number;
    /** 0: no limit */
    requestsPerSecondPerIdentity: number;
    /** absent: one second of the rate */
    requestBurstPerIdentity?: number;
  };
  log: { level: string; file?: string };
  /** `uri` is sqlite:ABSOLUTE_PATH or a mongodb:// connection string */
  /** database: unset means the one the MongoDB URI names, else 'kmip' */
  store: { uri: string; database: string | undefined };
  /** `keyFile` is absolute (software provider); the rest configures the pkcs11 provider */
  hsm: {
    provider: 'software' | 'pkcs11';
    keyFile: string;
    module?: string;
    tokenLabel?: string;
    slot?: number;
    /** env:NAME or file:PATH, never the PIN */
    pin?: string;
    keyLabel?: string;
    sessions?: number;
    gracePeriodSeconds?: number;
    healthCheckSeconds?: number;
  };
  crypto: { allowTripleDes: boolean };
  auth: AuthConfig;
  audit: AuditConfig;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export interface LoadConfigOptions {
  /** YAML or JSON file; defaults to $KMIP_CONFIG when set */
  configFile?: string;
  /** defaults to process.env */
  env?: NodeJS.ProcessEnv;
  /** command-line values; they win over everything else */
  overrides?: DeepPartial<ServerConfig>;
  /** base for relative paths that do not come from the file; defaults to process.cwd() */
  cwd?: string;
}

/** Invalid configuration; `problems` lists each issue on its own, the message all of them. */
export class ConfigError extends Error {
  readonly code = 'KMIP_CONFIG_INVALID';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Value = string | number | boolean | object;
interface Setting {
  value: Value;
  source: string;
}

const OPTION_BY_KEY = new Map(OPTIONS.map((o) => [o.key, o]));
const SECTIONS = new Set(OPTIONS.filter((o) => o.key.includes('.')).map((o) => o.key.split('.')[0] ?? ''));

/** Defaults ← configuration file ← environment ← overrides; validated, with absolute paths. */
export function loadConfig(opts: LoadConfigOptions = {}): ServerConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const problems: string[] = [];
  const settings = new Map<string, Setting>();

  for (const option of OPTIONS) {
    if (option.default !== undefined) {
      settings.set(option.key, { value: resolveValue(option, option.default, cwd), source: 'default' });
    }
  }

  const configFile = opts.configFile ?? nonEmpty(env[CONFIG_FILE_ENV]);
  if (configFile !== undefined) {
    const file = path.resolve(cwd, configFile);
    const parsed = readConfigFile(file, problems);
    if (parsed !== undefined) {
      applyTree(parsed, file, path.dirname(file), settings, problems);
    }
  }

  for (const option of OPTIONS) {
    const raw = nonEmpty(env[option.env]);
    if (raw === undefined) continue;
    const source = `environment variable ${option.env}`;
    const value =
      option.kind === 'int'
        ? parseIntStrict(raw)
        : option.kind === 'boolean'
          ? parseBoolean(raw)
          : option.kind === 'data'
            ? parseJson(raw)
            : raw;
    const checked = checkValue(option, value, source, problems);
    if (checked !== undefined)
      settings.set(option.key, { value: resolveValue(option, checked, cwd), source });
  }

  if (opts.overrides !== undefined) {
    applyTree(opts.overrides, 'command line', cwd, settings, problems);
  }

  const tlsFiles = ['tls.cert', 'tls.key', 'tls.ca'];
  const setFiles = tlsFiles.filter((k) => settings.has(k));
  if (setFiles.length > 0 && setFiles.length < tlsFiles.length) {
    const missing = tlsFiles.filter((k) => !settings.has(k));
    problems.push(
      `${setFiles.join(', ')} set but ${missing.join(', ')} not: set all of tls.cert, tls.key and tls.ca, or none of them to use the development PKI`,
    );
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return build(settings);
}

/**
 * The string for node's `ciphers` TLS option: node takes TLS 1.3 suites and TLS 1.2 ciphers in one list.
 */
export function tlsCipherList(tls: Pick<ServerConfig['tls'], 'ciphers' | 'ciphersuites'>): string {
  return [tls.ciphersuites, tls.ciphers].filter((s) => s.length > 0).join(':');
}

function build(settings: Map<string, Setting>): ServerConfig {
  const str = (key: string): string => String(settings.get(key)?.value ?? '');
  const int = (key: string): number => Number(settings.get(key)?.value ?? 0);
  const dataDir = str('dataDir');
  const devPki = !settings.has('tls.cert');
  const pki = devPkiPaths(dataDir);
  const logFile = settings.get('log.file');
  return {
    dataDir,
    server: { workers: int('server.workers') },
    listen: { host: str('listen.host'), port: int('listen.port') },
    tls: {
      cert: devPki ? pki.serverCert : str('tls.cert'),
      key: devPki ? pki.serverKey : str('tls.key'),
      ca: devPki ? pki.caCert : str('tls.ca'),
      ciphers: str('tls.ciphers'),
      ciphersuites: str('tls.ciphersuites'),
      minVersion: str('tls.minVersion') === 'TLSv1.3' ? 'TLSv1.3' : 'TLSv1.2',
      sessionTimeoutSeconds: int('tls.sessionTimeoutSeconds'),
      sessionTickets: settings.get('tls.sessionTickets')?.value !== false,
      ...(settings.has('tls.crl') ? { crl: str('tls.crl') } : {}),
      devPki,
    },
    limits: {
      maxMessageBytes: int('limits.maxMessageBytes'),
      maxResponseBytes: int('limits.maxResponseBytes'),
      locateMaxItems: int('limits.locateMaxItems'),
      locateMaxScan: int('limits.locateMaxScan'),
      maxConnections: int('limits.maxConnections'),
      idleTimeoutMs: int('limits.idleTimeoutMs'),
      readTimeoutMs: int('limits.readTimeoutMs'),
      maxBatchItems: int('limits.maxBatchItems'),
      maxDepth: int('limits.maxDepth'),
      maxHandshakes: int('limits.maxHandshakes'),
      handshakeTimeoutMs: int('limits.handshakeTimeoutMs'),
      maxConnectionsPerIdentity: int('limits.maxConnectionsPerIdentity'),
      requestsPerSecondPerIdentity: int('limits.requestsPerSecondPerIdentity'),
      ...(settings.has('limits.requestBurstPerIdentity')
        ? { requestBurstPerIdentity: int('limits.requestBurstPerIdentity') }
        : {}),
    },
    store: {
      uri: settings.has('store.uri') ? str('store.uri') : `sqlite:${path.join(dataDir, 'kmip.db')}`,
      database: settings.has('store.database') ? str('store.database') : undefined,
    },
    hsm: {
      provider: str('hsm.provider') === 'pkcs11' ? 'pkcs11' : 'software',
      keyFile: settings.has('hsm.keyFile') ? str('hsm.keyFile') : path.join(dataDir, 'master.key'),
      ...(settings.has('hsm.module') ? { module: str('hsm.module') } : {}),
      ...(settings.has('hsm.tokenLabel') ? { tokenLabel: str('hsm.tokenLabel') } : {}),
      ...(settings.has('hsm.slot') ? { slot: int('hsm.slot') } : {}),
      ...(settings.has('hsm.pin') ? { pin: str('hsm.pin') } : {}),
      ...(settings.has('hsm.keyLabel') ? { keyLabel: str('hsm.keyLabel') } : {}),
      ...(settings.has('hsm.sessions') ? { sessions: int('hsm.sessions') } : {}),
      ...(settings.has('hsm.gracePeriodSeconds')
        ? { gracePeriodSeconds: int('hsm.gracePeriodSeconds') }
        : {}),
      ...(settings.has('hsm.healthCheckSeconds')
        ? { healthCheckSeconds: int('hsm.healthCheckSeconds') }
        : {}),
    },
    crypto: { allowTripleDes: settings.get('crypto.allowTripleDes')?.value === true },
    auth: buildAuthConfig({
      enabled: settings.get('auth.enabled')?.value === true,
      identityFrom: str('auth.identityFrom'),
      tenants: settings.get('auth.tenants')?.value,
      identities: settings.get('auth.identities')?.value,
      dualControl: settings.get('auth.dualControl')?.value,
      devPki,
    }),
    audit: buildAuditConfig({
      dataDir,
      durability: str('audit.durability'),
      sealEveryRecords: int('audit.sealEveryRecords'),
      sealIntervalSeconds: int('audit.sealIntervalSeconds'),
      anchorFile: settings.has('audit.anchorFile') ? str('audit.anchorFile') : undefined,
      requirePurpose: settings.get('audit.requirePurpose')?.value,
      defaultPurpose: settings.get('audit.defaultPurpose')?.value,
      file: settings.has('audit.file') ? str('audit.file') : undefined,
      syslog: settings.has('audit.syslog') ? str('audit.syslog') : undefined,
      failClosed: settings.get('audit.failClosed')?.value === true,
    }),
    log:
      logFile === undefined
        ? { level: str('log.level') }
        : { level: str('log.level'), file: String(logFile.value) },
  };
}

function readConfigFile(file: string, problems: string[]): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err: unknown) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    problems.push(`cannot read configuration file ${file} (${code})`);
    return undefined;
  }
  try {
    // YAML 1.2 is a superset of JSON, so one parser serves both formats.
    return parseYaml(text) ?? {};
  } catch (err: unknown) {
    const detail = err instanceof YAMLParseError ? err.message : String(err);
    problems.push(`cannot parse configuration file ${file}: ${detail}`);
    return undefined;
  }
}

function applyTree(
  tree: unknown,
  source: string,
  baseDir: string,
  settings: Map<string, Setting>,
  problems: string[],
): void {
  if (!isPlainObject(tree)) {
    problems.push(`${source}: the configuration must be a mapping of option names to values`);
    return;
  }
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [name, value] of Object.entries(node)) {
      const key = prefix === '' ? name : `${prefix}.${name}`;
      if (value === undefined) continue;
      if (prefix === '' && SECTIONS.has(name)) {
        if (isPlainObject(value)) walk(value, key);
        else problems.push(`${key} (${source}): must be a mapping`);
        continue;
      }
      const option = OPTION_BY_KEY.get(key);
      if (option === undefined) {
        problems.push(unknownKey(key, source));
        continue;
      }
      const checked = checkValue(option, value, `${source}`, problems);
      if (checked !== undefined) {
        settings.set(key, { value: resolveValue(option, checked, baseDir), source });
      }
    }
  };
  walk(tree, '');
}

function checkValue(
  option: OptionSpec,
  value: unknown,
  source: string,
  problems: string[],
): Value | undefined {
  const where = `${option.key} (${source})`;
  switch (option.kind) {
    case 'int': {
      const min = option.min ?? Number.MIN_SAFE_INTEGER;
      const max = option.max ?? Number.MAX_SAFE_INTEGER;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        problems.push(`${where}: must be an integer from ${min} to ${max}, got ${show(value)}`);
        return undefined;
      }
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') {
        problems.push(`${where}: must be true or false, got ${show(value)}`);
        return undefined;
      }
      return value;
    case 'enum':
      if (typeof value !== 'string' || !option.values?.includes(value)) {
        problems.push(`${where}: must be one of ${(option.values ?? []).join(', ')}, got ${show(value)}`);
        return undefined;
      }
      return value;
    case 'data': {
      if (typeof value !== 'object' || value === null) {
        problems.push(`${where}: must be a mapping or a list, got ${show(value)}`);
        return undefined;
      }
      const found = option.check?.(value) ?? [];
      for (const p of found) problems.push(`${p} (${source})`);
      return found.length > 0 ? undefined : value;
    }
    case 'string':
    case 'path': {
      if (typeof value !== 'string' || value.trim() === '') {
        problems.push(`${where}: must be a non-empty string, got ${show(value)}`);
        return undefined;
      }
      const found = option.check?.(value) ?? [];
      for (const p of found) problems.push(`${p} (${source})`);
      return found.length > 0 ? undefined : value;
    }
  }
}

function resolveValue(option: OptionSpec, value: Value, baseDir: string): Value {
  return option.kind === 'path' && typeof value === 'string' ? path.resolve(baseDir, value) : value;
}

function unknownKey(key: string, source: string): string {
  if (key === 'tls.devPki') {
    return `tls.devPki (${source}): not an option; it is on exactly when tls.cert, tls.key and tls.ca are unset`;
  }
  const suggestion = closest(key);
  return `unknown option '${key}' (${source})${suggestion ? `: did you mean '${suggestion}'?` : ''}`;
}

function closest(key: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of [...OPTION_BY_KEY.keys(), ...SECTIONS]) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

function parseBoolean(raw: string): boolean | string {
  const v = raw.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return raw;
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function parseIntStrict(raw: string): number | string {
  const trimmed = raw.trim();
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : raw;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value));
}
