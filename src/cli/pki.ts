import { loadConfig } from '../config/index.js';
import { ensureDevPki, issueClientCertificate, type KeyType } from '../pki/index.js';
import { intOption, type ParsedArgs, stringOption, UsageError } from './args.js';
import type { CliIo } from './io.js';

/** `kmip-server pki issue-client NAME [--data-dir DIR] [--config FILE] [--days N] [--key-type ec|rsa] [--force]` */
export async function pkiCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const [sub, name, ...extra] = args.positionals;
  if (sub !== 'issue-client') {
    throw new UsageError(
      sub === undefined ? 'missing subcommand: issue-client' : `unknown subcommand '${sub}'`,
    );
  }
  if (name === undefined) throw new UsageError('issue-client needs a NAME');
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const days = intOption(args, 'days', 1, 36500);
  const keyType = stringOption(args, 'key-type') ?? 'ec';
  if (keyType !== 'ec' && keyType !== 'rsa')
    throw new UsageError(`--key-type must be ec or rsa, got '${keyType}'`);

  const dataDir = stringOption(args, 'data-dir');
  const config = loadConfig({
    configFile: stringOption(args, 'config'),
    overrides: dataDir === undefined ? {} : { dataDir },
  });
  if (!config.tls.devPki) {
    io.err(
      'kmip-server pki: tls.cert, tls.key and tls.ca point at your own PKI; issue client certificates from that CA.\n',
    );
    return 1;
  }
  const { created, paths } = await ensureDevPki(config.dataDir);
  if (created) io.err(`Created a development PKI in ${paths.dir}.\n`);
  const issued = await issueClientCertificate(config.dataDir, name, {
    days,
    keyType: keyType satisfies KeyType,
    overwrite: args.options.get('force') === true,
  });
  io.out(`certificate: ${issued.cert}\nprivate key: ${issued.key}\nCA:          ${paths.caCert}\n`);
  return 0;
}
