/**
 * Every configuration option, as data: file key, environment variable, type, range, default and
 * meaning. The loader, the validation and docs/configuration.md (checked by a test) follow this table.
 */

import { checkDefaultPurpose, checkRequirePurpose, checkSyslog } from './audit.js';
import { checkDualControl, checkIdentities, checkTenants, IDENTITY_SOURCES } from './auth.js';

/** 'data': a YAML mapping or list (JSON text in the environment), checked by the option's `check` */
export type OptionKind = 'string' | 'path' | 'int' | 'enum' | 'boolean' | 'data';

export interface OptionSpec {
  /** dotted key in the configuration file, e.g. 'limits.maxMessageBytes' */
  key: string;
  env: string;
  kind: OptionKind;
  /** undefined: unset unless configured */
  default: string | number | boolean | undefined;
  min?: number;
  max?: number;
  values?: readonly string[];
  doc: string;
  /** kinds 'data', 'string' and 'path': the problems of a value, empty when it is valid */
  check?: (value: unknown) => string[];
}

/** Node's TLS 1.3 defaults, all AEAD. */
export const DEFAULT_TLS13_CIPHERSUITES =
  'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';

/** TLS 1.2: forward secrecy (ECDHE) and AEAD only. */
export const DEFAULT_TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** winston's npm levels */
export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;

const MiB = 1024 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;

export const OPTIONS: readonly OptionSpec[] = [
  {
    key: 'dataDir',
    env: 'KMIP_DATA_DIR',
    kind: 'path',
    default: './data',
    doc: 'Directory for the server state: the embedded database and, when tls.* are unset, the development PKI in DATA/pki.',
  },
  {
    key: 'listen.host',
    env: 'KMIP_LISTEN_HOST',
    kind: 'string',
    default: '127.0.0.1',
    doc: 'Address to listen on. Use 0.0.0.0 or :: to accept connections from other hosts.',
  },
  {
    key: 'listen.port',
    env: 'KMIP_LISTEN_PORT',
    kind: 'int',
    default: 5696,
    min: 0,
    max: 65535,
    doc: 'TCP port (5696 is the IANA port for KMIP over TLS; 0 picks a free port).',
  },
  {
    key: 'server.workers',
    env: 'KMIP_SERVER_WORKERS',
    kind: 'int',
    default: 0,
    min: 0,
    max: 256,
    doc: '`kmip-server start` runs this many server processes sharing the listening socket (node:cluster); 0: one per CPU core. Limits (connections, handshakes, per-identity caps and rates) and multi-part stream state are per process.',
  },
  {
    key: 'tls.cert',
    env: 'KMIP_TLS_CERT',
    kind: 'path',
    default: undefined,
    doc: 'Server certificate chain (PEM). Set tls.cert, tls.key and tls.ca together, or none of them for the development PKI.',
  },
  {
    key: 'tls.key',
    env: 'KMIP_TLS_KEY',
    kind: 'path',
    default: undefined,
    doc: 'Server private key (PEM).',
  },
  {
    key: 'tls.ca',
    env: 'KMIP_TLS_CA',
    kind: 'path',
    default: undefined,
    doc: 'CA certificate(s) (PEM) that client certificates must chain to. Every client must present a certificate.',
  },
  {
    key: 'tls.ciphers',
    env: 'KMIP_TLS_CIPHERS',
    kind: 'string',
    default: DEFAULT_TLS12_CIPHERS,
    doc: 'TLS 1.2 cipher list in OpenSSL syntax.',
  },
  {
    key: 'tls.ciphersuites',
    env: 'KMIP_TLS_CIPHERSUITES',
    kind: 'string',
    default: DEFAULT_TLS13_CIPHERSUITES,
    doc: 'TLS 1.3 cipher suites, colon-separated.',
  },
  {
    key: 'tls.minVersion',
    env: 'KMIP_TLS_MIN_VERSION',
    kind: 'enum',
    values: ['TLSv1.2', 'TLSv1.3'],
    default: 'TLSv1.2',
    doc: 'Lowest TLS version accepted. Many KMIP clients (vSphere, MySQL) still speak only TLS 1.2.',
  },
  {
    key: 'tls.sessionTimeoutSeconds',
    env: 'KMIP_TLS_SESSION_TIMEOUT_SECONDS',
    kind: 'int',
    default: 300,
    min: 1,
    max: 86400,
    doc: 'Lifetime of TLS sessions and tickets for session resumption.',
  },
  {
    key: 'tls.sessionTickets',
    env: 'KMIP_TLS_SESSION_TICKETS',
    kind: 'boolean',
    default: true,
    doc: "Issue TLS session tickets. Off saves ~11 KB per open connection (the two TLS 1.3 tickets outgrow Node's 1 KB per-connection output buffer, which then stays 16 KB for the life of the connection; BENCHMARKS.md, idle connections) for servers holding thousands of idle connections, but TLS 1.3 clients can then not resume sessions (TLS 1.2 clients still resume by session ID).",
  },
  {
    key: 'tls.crl',
    env: 'KMIP_TLS_CRL',
    kind: 'path',
    default: undefined,
    doc: 'Certificate revocation list(s) (PEM; several CRLs may be concatenated in one file). A revoked client certificate is refused at the TLS handshake. When set, every CA in tls.ca that issues client certificates needs a current CRL here. Reloaded with the certificates on SIGHUP.',
  },
  {
    key: 'limits.maxMessageBytes',
    env: 'KMIP_LIMITS_MAX_MESSAGE_BYTES',
    kind: 'int',
    default: MiB,
    min: 16,
    max: 256 * MiB,
    doc: 'Largest request message (TTLV header included). A longer length header closes the connection before any buffering.',
  },
  {
    key: 'limits.maxResponseBytes',
    env: 'KMIP_LIMITS_MAX_RESPONSE_BYTES',
    kind: 'int',
    default: 16 * MiB,
    min: 64 * 1024,
    max: 256 * MiB,
    doc: "Largest response message; a client's smaller Maximum Response Size wins. A batch item whose answer would cross it answers Response Too Large and the items after it are not run. Also the answers one connection may hold unwritten: past it the server reads nothing more from that connection until the client takes them. Keep it at least limits.maxMessageBytes, or an object registered in one full message cannot be fetched back.",
  },
  {
    key: 'limits.locateMaxItems',
    env: 'KMIP_LIMITS_LOCATE_MAX_ITEMS',
    kind: 'int',
    default: 1000,
    min: 1,
    max: 1_000_000,
    doc: 'Identifiers in one Locate answer when the client asks for more or gives no Maximum Items. Located Items (KMIP 1.3+) still counts every match, so clients page on with Offset Items.',
  },
  {
    key: 'limits.locateMaxScan',
    env: 'KMIP_LIMITS_LOCATE_MAX_SCAN',
    kind: 'int',
    default: 10_000,
    min: 1,
    max: 10_000_000,
    doc: 'Candidate objects one Locate loads to match attributes the store does not index. Past it the answer stops once its page is full (without Located Items); a page it cannot fill fails (Server Limit Exceeded, General Failure before KMIP 2.0).',
  },
  {
    key: 'limits.maxConnections',
    env: 'KMIP_LIMITS_MAX_CONNECTIONS',
    kind: 'int',
    default: 10000,
    min: 1,
    max: 1_000_000,
    doc: 'Concurrent TCP connections, TLS handshakes included. At the cap the oldest handshake in progress is dropped to make room; with none in progress the new connection is refused.',
  },
  {
    key: 'limits.maxHandshakes',
    env: 'KMIP_LIMITS_MAX_HANDSHAKES',
    kind: 'int',
    default: 1000,
    min: 1,
    max: 1_000_000,
    doc: 'TLS handshakes in progress at once (capped by limits.maxConnections); past it the oldest one is dropped, so sockets that never finish theirs cannot lock real clients out.',
  },
  {
    key: 'limits.handshakeTimeoutMs',
    env: 'KMIP_LIMITS_HANDSHAKE_TIMEOUT_MS',
    kind: 'int',
    default: 10_000,
    min: 1,
    max: DAY_MS,
    doc: 'A TLS handshake must complete within this time, or the connection is closed.',
  },
  {
    key: 'limits.maxConnectionsPerIdentity',
    env: 'KMIP_LIMITS_MAX_CONNECTIONS_PER_IDENTITY',
    kind: 'int',
    default: 1000,
    min: 0,
    max: 1_000_000,
    doc: 'Concurrent authenticated connections per client identity (certificate subject CN); a further connection is closed right after its handshake. 0: no cap.',
  },
  {
    key: 'limits.requestsPerSecondPerIdentity',
    env: 'KMIP_LIMITS_REQUESTS_PER_SECOND_PER_IDENTITY',
    kind: 'int',
    default: 0,
    min: 0,
    max: 1_000_000,
    doc: 'Request messages per second per client identity, over all its connections (token bucket). Requests over the rate are delayed, not refused. 0: no limit.',
  },
  {
    key: 'limits.requestBurstPerIdentity',
    env: 'KMIP_LIMITS_REQUEST_BURST_PER_IDENTITY',
    kind: 'int',
    default: undefined,
    min: 1,
    max: 1_000_000,
    doc: 'Request messages an identity may send at once after a quiet period, before limits.requestsPerSecondPerIdentity applies (default: one second of the rate).',
  },
  {
    key: 'limits.idleTimeoutMs',
    env: 'KMIP_LIMITS_IDLE_TIMEOUT_MS',
    kind: 'int',
    default: 300_000,
    min: 1,
    max: DAY_MS,
    doc: 'A connection with no request in progress is closed after this long.',
  },
  {
    key: 'limits.readTimeoutMs',
    env: 'KMIP_LIMITS_READ_TIMEOUT_MS',
    kind: 'int',
    default: 30_000,
    min: 1,
    max: DAY_MS,
    doc: 'A message whose first byte has arrived must be complete within this time, or the connection is closed.',
  },
  {
    key: 'limits.maxBatchItems',
    env: 'KMIP_LIMITS_MAX_BATCH_ITEMS',
    kind: 'int',
    default: 1000,
    min: 1,
    max: 100_000,
    doc: 'Batch items in one request message.',
  },
  {
    key: 'limits.maxDepth',
    env: 'KMIP_LIMITS_MAX_DEPTH',
    kind: 'int',
    default: 64,
    min: 1,
    max: 1024,
    doc: 'Nesting depth of TTLV structures in one message.',
  },
  {
    key: 'store.uri',
    env: 'KMIP_STORE_URI',
    kind: 'string',
    default: undefined,
    doc: 'Where managed objects are stored: sqlite:PATH (default sqlite:DATA/kmip.db, one embedded file) or a mongodb:// / mongodb+srv:// connection string (MongoDB 6+ replica set for production; several server nodes may share it).',
  },
  {
    key: 'store.database',
    env: 'KMIP_STORE_DATABASE',
    kind: 'string',
    default: undefined,
    doc: 'MongoDB database name (ignored for SQLite); default: the database named in store.uri, else kmip.',
  },
  {
    key: 'hsm.provider',
    env: 'KMIP_HSM_PROVIDER',
    kind: 'enum',
    default: 'software',
    values: ['software', 'pkcs11'],
    doc: 'Who holds the master key that wraps the key-encryption keys: software (a key file; development only) or pkcs11 (an HSM).',
  },
  {
    key: 'hsm.keyFile',
    env: 'KMIP_HSM_KEY_FILE',
    kind: 'path',
    default: undefined,
    doc: 'Software provider: the 256-bit master key file (default DATA/master.key, created with mode 0600 on first start). Development only: anyone who can read it can unseal every key.',
  },
  {
    key: 'hsm.module',
    env: 'KMIP_HSM_MODULE',
    kind: 'path',
    default: undefined,
    doc: 'pkcs11 provider: the PKCS#11 library of the HSM, e.g. /usr/lib/softhsm/libsofthsm2.so.',
  },
  {
    key: 'hsm.tokenLabel',
    env: 'KMIP_HSM_TOKEN_LABEL',
    kind: 'string',
    default: undefined,
    doc: 'pkcs11 provider: label of the token holding the master key. Set it or hsm.slot.',
  },
  {
    key: 'hsm.slot',
    env: 'KMIP_HSM_SLOT',
    kind: 'int',
    default: undefined,
    min: 0,
    max: 0xffffffff,
    doc: 'pkcs11 provider: slot id of the token (as pkcs11-tool --list-slots shows it), instead of or besides hsm.tokenLabel.',
  },
  {
    key: 'hsm.pin',
    env: 'KMIP_HSM_PIN',
    kind: 'string',
    default: undefined,
    doc: 'pkcs11 provider: where the user PIN is, env:NAME (an environment variable) or file:PATH (first line of a file). A PIN written here is refused.',
  },
  {
    key: 'hsm.keyLabel',
    env: 'KMIP_HSM_KEY_LABEL',
    kind: 'string',
    default: undefined,
    doc: 'pkcs11 provider: CKA_LABEL of the master-key versions in the token (default kmip-master); generated on first start.',
  },
  {
    key: 'hsm.sessions',
    env: 'KMIP_HSM_SESSIONS',
    kind: 'int',
    default: undefined,
    min: 1,
    max: 256,
    doc: 'pkcs11 provider: PKCS#11 sessions opened at most, i.e. concurrent HSM calls (default 4).',
  },
  {
    key: 'hsm.gracePeriodSeconds',
    env: 'KMIP_HSM_GRACE_PERIOD_SECONDS',
    kind: 'int',
    default: undefined,
    min: 0,
    max: 86400,
    doc: 'pkcs11 provider: while the HSM is unreachable, key-encryption keys already unwrapped in memory keep serving this long, then are wiped and requests fail until the HSM is back (default 300; 0 stops at once).',
  },
  {
    key: 'hsm.healthCheckSeconds',
    env: 'KMIP_HSM_HEALTH_CHECK_SECONDS',
    kind: 'int',
    default: undefined,
    min: 1,
    max: 3600,
    doc: 'pkcs11 provider: how often the HSM is probed and, while lost, reconnected (default 5).',
  },
  {
    key: 'crypto.allowTripleDes',
    env: 'KMIP_CRYPTO_ALLOW_TRIPLE_DES',
    kind: 'boolean',
    default: false,
    doc: 'Let Encrypt and Decrypt use Triple DES keys (ECB, CBC). Off by default: NIST SP 800-131A disallows Triple DES encryption; turn it on only for legacy clients.',
  },
  {
    key: 'auth.enabled',
    env: 'KMIP_AUTH_ENABLED',
    kind: 'boolean',
    default: false,
    doc: 'Access control: tenants, per-object access, roles and dual control (docs/access-control.md). Off: every client acts in one tenant "default" with every operation, as before access control existed.',
  },
  {
    key: 'auth.identityFrom',
    env: 'KMIP_AUTH_IDENTITY_FROM',
    kind: 'enum',
    values: IDENTITY_SOURCES,
    default: 'cn',
    doc: 'What names a client: its verified certificate subject CN, or its first DNS, email or URI subject alternative name.',
  },
  {
    key: 'auth.tenants',
    env: 'KMIP_AUTH_TENANTS',
    kind: 'data',
    default: undefined,
    check: checkTenants,
    doc: 'Tenant names (a list). Tenants named by identities exist too; `kmip-server tenants add` adds more at run time.',
  },
  {
    key: 'auth.identities',
    env: 'KMIP_AUTH_IDENTITIES',
    kind: 'data',
    default: undefined,
    check: checkIdentities,
    doc: 'Identity name → { tenant, roles, groups, tenants, credential: { username, passwordHash }, device: { serialNumber, ... } }. Unknown identities are refused. tenants: further tenants a key-administrator administers (* = all); on a security-officer it limits it to tenant and those (docs/access-control.md).',
  },
  {
    key: 'auth.dualControl',
    env: 'KMIP_AUTH_DUAL_CONTROL',
    kind: 'data',
    default: undefined,
    check: checkDualControl,
    doc: 'M-of-N approval: { approvals: M (default 2), operations: [destroy, revoke-compromise, export-foreign, master-key-rotate, grants, policy], expiryHours (default 24) }.',
  },
  {
    key: 'audit.sealEveryRecords',
    env: 'KMIP_AUDIT_SEAL_EVERY_RECORDS',
    kind: 'int',
    default: 1000,
    min: 1,
    max: 1_000_000,
    doc: 'The audit trail is sealed (an HMAC under a key protected by the master key) after this many records. Records after the last seal are hash-chained only (docs/audit.md).',
  },
  {
    key: 'audit.durability',
    env: 'KMIP_AUDIT_DURABILITY',
    kind: 'enum',
    default: 'sync',
    values: ['sync', 'batched'],
    doc: 'sync: a response is sent once its audit record is durable. batched: the response does not wait; the record is written in the next group commit (normally within a few milliseconds), so a crash can lose the records of the last few milliseconds of answered requests.',
  },
  {
    key: 'audit.sealIntervalSeconds',
    env: 'KMIP_AUDIT_SEAL_INTERVAL_SECONDS',
    kind: 'int',
    default: 60,
    min: 1,
    max: 86400,
    doc: 'Unsealed audit records are sealed at least this often; the trail is also sealed at shutdown.',
  },
  {
    key: 'audit.anchorFile',
    env: 'KMIP_AUDIT_ANCHOR_FILE',
    kind: 'path',
    default: undefined,
    doc: 'Where each node writes the position and hash of its last seal (default DATA/audit-anchor.json); `audit verify` uses it to detect records deleted from the end of the trail. Keep it (or a copy) out of reach of database administrators.',
  },
  {
    key: 'audit.requirePurpose',
    env: 'KMIP_AUDIT_REQUIRE_PURPOSE',
    kind: 'data',
    default: undefined,
    check: checkRequirePurpose,
    doc: 'Operations (a list of KMIP operation names, e.g. [Destroy, Get]) refused with Permission Denied unless the request has a purpose: a Client Correlation Value in its header (KMIP 1.4+) or a default purpose from audit.defaultPurpose.',
  },
  {
    key: 'audit.defaultPurpose',
    env: 'KMIP_AUDIT_DEFAULT_PURPOSE',
    kind: 'data',
    default: undefined,
    check: checkDefaultPurpose,
    doc: 'Purpose recorded when a request carries no Client Correlation Value: a mapping of identity, group:NAME or * to a purpose text; the identity wins over its groups, which win over *.',
  },
  {
    key: 'audit.file',
    env: 'KMIP_AUDIT_FILE',
    kind: 'path',
    default: undefined,
    doc: 'Also append every audit record to this file as JSON lines (the `audit export` format), for a SIEM. Best effort; the store keeps the verifiable trail.',
  },
  {
    key: 'audit.syslog',
    env: 'KMIP_AUDIT_SYSLOG',
    kind: 'string',
    default: undefined,
    check: checkSyslog,
    doc: 'Also send every audit record to syslog: udp://HOST:PORT or tcp://HOST:PORT (RFC 5424, facility 13 "log audit", message = the JSON line; TCP uses RFC 6587 octet counting). Best effort.',
  },
  {
    key: 'audit.failClosed',
    env: 'KMIP_AUDIT_FAIL_CLOSED',
    kind: 'boolean',
    default: false,
    doc: 'A batch item whose audit record cannot be written to the store answers General Failure ("audit trail unavailable") instead of its result. The operation has run by then: this withholds results, it does not undo them. Off: the failure is logged and the client gets its answer.',
  },
  {
    key: 'log.level',
    env: 'KMIP_LOG_LEVEL',
    kind: 'enum',
    values: LOG_LEVELS,
    default: 'info',
    doc: 'Operational log level.',
  },
  {
    key: 'log.file',
    env: 'KMIP_LOG_FILE',
    kind: 'path',
    default: undefined,
    doc: 'Write the operational log (JSON lines) to this file instead of stderr.',
  },
];

/** Environment variable naming the configuration file when --config is not given. */
export const CONFIG_FILE_ENV = 'KMIP_CONFIG';
