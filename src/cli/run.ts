import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/index.js';
import { ACCESS_FLAGS } from './access-common.js';
import { approvalsCommand } from './approvals.js';
import { type FlagSpec, type ParsedArgs, parseArgs, UsageError } from './args.js';
import { auditCommand } from './audit.js';
import { backupCommand, restoreCommand } from './backup.js';
import { grantsCommand } from './grants.js';
import { type CliIo, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './io.js';
import { hsmCommand, kekCommand, masterKeyCommand } from './keys.js';
import { pkiCommand } from './pki.js';
import { startCommand } from './start.js';
import { tenantsCommand } from './tenants.js';

export const USAGE = `Usage: kmip-server <command> [options]

Commands:
  start                     Run the KMIP server (mutual TLS, port 5696 by default).
  pki issue-client NAME     Issue a client certificate from the development CA into DATA/pki.
  decode <hex|file>         Print a TTLV message (hex string or file) as text.
  backup --out FILE         Export the store (secrets stay sealed; authenticated) to FILE.
  restore FILE              Verify a backup, then import it into an empty store (all or nothing).
  master-key status         Master-key versions and the KEKs each one protects.
  master-key rotate         New master-key version; rewrap every KEK under it (online).
  kek rotate                New key-encryption key; re-seal every object under it (online).
  hsm migrate               Move KEKs from the software master key to the pkcs11 provider.
  audit verify              Check the audit trail's hash chain, seals and anchor; exit 1 naming the first bad record.
  audit export              Print the audit trail as JSON lines (--since T, --until T: ISO 8601 or epoch seconds).
  tenants list|add NAME|assign IDENTITY TENANT|adopt|hash-password
                            Tenants and their identities (docs/access-control.md).
                            adopt: give objects created with auth off (owner = a CN) to a tenant.
  grants list|add|revoke ID Let another tenant's identity or group use objects.
  approvals list|approve ID|deny ID
                            Officers decide on dual-control requests.
  version                   Print the version.
  help                      Print this help.

Options of start:
  --config FILE             Configuration file, YAML or JSON (default: $KMIP_CONFIG).
  --data-dir DIR            Data directory (default: ./data).
  --host HOST               Listen address (default: 127.0.0.1).
  --port PORT               Listen port (default: 5696).
  --log-level LEVEL         error, warn, info or debug (default: info).

Options of pki issue-client:
  --data-dir DIR            Data directory holding pki/ (default: ./data).
  --config FILE             Configuration file to read dataDir from.
  --days N                  Validity in days (default: 730).
  --key-type ec|rsa         ECDSA P-256 (default) or RSA-2048 for clients without ECDSA.
  --force                   Replace an existing NAME.crt / NAME.key.

Options of backup and restore:
  --config FILE, --data-dir DIR   Which server's store and master key (as for start).
  --store URI               sqlite:PATH or mongodb://... instead of the configured store.
  --allow-unauthenticated   restore: also accept a version 1 backup (it has no MAC).

Options of master-key, kek and hsm:
  --config FILE, --data-dir DIR   Which server's store and HSM (as for start).
  --resume                  Finish an interrupted rotation without making a new version/KEK.
  --rate N                  kek rotate: re-seal at most N objects per second.
  --from-key-file FILE      hsm migrate: the software master key file (default: hsm.keyFile).
  --cert FILE, --key FILE   master-key rotate under dual control: the requesting officer.

Options of audit:
  --config FILE, --data-dir DIR   Which server's store, HSM and anchor file (as for start).
  --store URI               sqlite:PATH or mongodb://... instead of the configured store.
  --strict                  verify: records after the last seal are an error (use after a clean shutdown).
  --anchor FILE             verify: the anchor file (default: audit.anchorFile); --no-anchor skips it.
  --since T, --until T      export: only records in this time range.

Options of tenants, grants and approvals:
  --config FILE, --data-dir DIR   Which server's store and access policy (as for start).
  --cert FILE, --key FILE   The officer's client certificate and key (changes and decisions).
  --roles R1,R2 --groups G1,G2    tenants assign: roles and groups of the identity.
  --tenants T1,T2|*         tenants assign: further tenants a key administrator administers,
                            or the only ones a tenant security officer acts for.
  --owner CN --tenant T [--dry-run]
                            tenants adopt: objects owned by CN (auth was off) become tenant T's.
  --tenant T (--object ID | --object-group G) (--to-identity I | --to-group G) --operations Get,Encrypt
                            grants add: what the grant opens, to whom.

Every option of the configuration file also has an environment variable; see docs/configuration.md.
`;

interface Command {
  flags: FlagSpec;
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  start: {
    flags: { config: 'string', 'data-dir': 'string', host: 'string', port: 'string', 'log-level': 'string' },
    run: startCommand,
  },
  pki: {
    flags: { config: 'string', 'data-dir': 'string', days: 'string', 'key-type': 'string', force: 'boolean' },
    run: pkiCommand,
  },
  decode: { flags: {}, run: decodeCli },
  backup: {
    flags: { config: 'string', 'data-dir': 'string', store: 'string', out: 'string' },
    run: backupCommand,
  },
  restore: {
    flags: { config: 'string', 'data-dir': 'string', store: 'string', 'allow-unauthenticated': 'boolean' },
    run: restoreCommand,
  },
  'master-key': {
    flags: { config: 'string', 'data-dir': 'string', resume: 'boolean', cert: 'string', key: 'string' },
    run: masterKeyCommand,
  },
  kek: {
    flags: { config: 'string', 'data-dir': 'string', resume: 'boolean', rate: 'string' },
    run: kekCommand,
  },
  hsm: { flags: { config: 'string', 'data-dir': 'string', 'from-key-file': 'string' }, run: hsmCommand },
  audit: {
    flags: {
      config: 'string',
      'data-dir': 'string',
      store: 'string',
      strict: 'boolean',
      anchor: 'string',
      'no-anchor': 'boolean',
      since: 'string',
      until: 'string',
    },
    run: auditCommand,
  },
  tenants: {
    flags: {
      ...ACCESS_FLAGS,
      roles: 'string',
      groups: 'string',
      tenants: 'string',
      owner: 'string',
      tenant: 'string',
      'dry-run': 'boolean',
    },
    run: tenantsCommand,
  },
  grants: {
    flags: {
      ...ACCESS_FLAGS,
      tenant: 'string',
      object: 'string',
      'object-group': 'string',
      'to-identity': 'string',
      'to-group': 'string',
      operations: 'string',
    },
    run: grantsCommand,
  },
  approvals: { flags: ACCESS_FLAGS, run: approvalsCommand },
  version: { flags: {}, run: versionCommand },
  help: { flags: {}, run: helpCommand },
};

/**
 * Runs one `kmip-server` command. `argv` excludes node and the script path. Resolves with the
 * exit status: 0 success, 1 failure, 2 usage error. `start` resolves only after shutdown.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.err(USAGE);
    return EXIT_USAGE;
  }
  if (first === '--help' || first === '-h') return helpCommand(parseArgs([], {}), io);
  if (first === '--version' || first === '-v') return versionCommand(parseArgs([], {}), io);
  const command = COMMANDS[first];
  if (command === undefined) {
    io.err(`kmip-server: unknown command '${first}'\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  try {
    const args = parseArgs(rest, command.flags);
    if (args.options.get('help') === true) return helpCommand(args, io);
    return await command.run(args, io);
  } catch (err: unknown) {
    if (err instanceof UsageError) {
      io.err(`kmip-server ${first}: ${err.message}\n\nRun 'kmip-server --help' for usage.\n`);
      return EXIT_USAGE;
    }
    if (err instanceof ConfigError) {
      io.err(`kmip-server ${first}: ${err.message}\n`);
      return EXIT_FAILURE;
    }
    io.err(`kmip-server ${first}: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_FAILURE;
  }
}

export function packageVersion(): string {
  // src/cli/run.ts and dist/cli/run.js are both two levels below the package root.
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const version = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
  return typeof version === 'string' ? version : 'unknown';
}

async function helpCommand(_args: ParsedArgs, io: CliIo): Promise<number> {
  io.out(USAGE);
  return EXIT_OK;
}

async function versionCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  if (args.positionals.length > 0) throw new UsageError('version takes no arguments');
  io.out(`kmip-server ${packageVersion()}\n`);
  return EXIT_OK;
}

async function decodeCli(args: ParsedArgs, io: CliIo): Promise<number> {
  const [input, ...extra] = args.positionals;
  if (input === undefined || extra.length > 0)
    throw new UsageError('decode needs exactly one <hex|file> argument');
  // Loaded on demand so that the other commands do not pay for the spec tables.
  const [{ decodeCommand }, { specDictionary }] = await Promise.all([
    import('./decode.js'),
    import('../kmip/spec/dictionary.js'),
  ]);
  const text = decodeCommand(input, specDictionary);
  io.out(text.endsWith('\n') ? text : `${text}\n`);
  return EXIT_OK;
}
