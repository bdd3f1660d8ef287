/**
 * `kmip-server audit verify|export`: checks the audit trail's hash chain,
 * seals and anchor; prints it as JSON lines for a SIEM (docs/audit.md).
 */
import { readFile } from 'node:fs/promises';
import {
  type AuditAnchor,
  type AuditKeySealer,
  exportRecord,
  isExported,
  type VerifyProblem,
  verifyAuditTrail,
} from '../audit/index.js';
import type { ServerConfig } from '../config/index.js';
import { openMasterKeyProvider } from '../hsm/index.js';
import type { MasterKeyProvider } from '../hsm/types.js';
import type { Logger } from '../log.js';
import { openStore } from '../store/index.js';
import { Sealer } from '../store/sealing.js';
import type { ObjectStore, SealedBlob } from '../store/types.js';
import { type ParsedArgs, stringOption, UsageError } from './args.js';
import { configOf, quietLog } from './context.js';
import type { CliIo } from './io.js';

/** ISO 8601 (2026-01-31, 2026-01-31T12:00:00Z) or seconds since the epoch. */
export function parseTime(value: string, flag: string): number {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new UsageError(`--${flag}: '${value}' is not an ISO 8601 time or epoch seconds`);
  return ms;
}

/**
 * Unseals audit keys through a Sealer opened on first use: a trail without
 * segments needs no HSM, and verify never creates a KEK in an empty store.
 */
class LazySealer implements AuditKeySealer {
  #sealer: Promise<Sealer> | undefined;
  #provider: MasterKeyProvider | undefined;
  constructor(
    private readonly store: ObjectStore,
    private readonly config: ServerConfig,
    private readonly log: Logger,
  ) {}

  seal(): Promise<SealedBlob> {
    return Promise.reject(new Error('audit verify never seals'));
  }

  async unseal(objectId: string, version: number, blob: SealedBlob): Promise<Uint8Array> {
    this.#sealer ??= (async () => {
      this.#provider = await openMasterKeyProvider(this.config.hsm, this.log);
      return Sealer.open(this.store, this.#provider, { log: this.log });
    })();
    return (await this.#sealer).unseal(objectId, version, blob);
  }

  async close(): Promise<void> {
    if (this.#sealer !== undefined) (await this.#sealer.catch(() => undefined))?.close();
    await this.#provider?.close();
  }
}

async function readAnchor(file: string): Promise<AuditAnchor | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e: unknown) {
    if (e instanceof Error && 'code' in e && e.code === 'ENOENT') return undefined;
    throw e;
  }
  const j: unknown = JSON.parse(text);
  if (typeof j !== 'object' || j === null) throw new Error(`${file} is not an audit anchor`);
  const { chain, n, hash, at } = j as Record<string, unknown>;
  if (
    typeof chain !== 'string' ||
    typeof n !== 'number' ||
    typeof hash !== 'string' ||
    typeof at !== 'number'
  )
    throw new Error(`${file} is not an audit anchor`);
  return { chain, n, hash, at };
}

function describe(p: VerifyProblem): string {
  return p.message;
}

/** `audit verify`: exit 0 when the trail is intact, 1 naming the first bad record otherwise. */
export async function auditVerify(args: ParsedArgs, io: CliIo): Promise<number> {
  const config = configOf(args);
  const log = quietLog();
  const anchorFile = stringOption(args, 'anchor') ?? config.audit.anchorFile;
  const anchor = args.options.get('no-anchor') === true ? undefined : await readAnchor(anchorFile);
  const store = await openStore(config.store.uri, { database: config.store.database, log });
  const sealer = new LazySealer(store, config, log);
  try {
    const report = await verifyAuditTrail(store, {
      sealer,
      ...(anchor === undefined ? {} : { anchor }),
      strict: args.options.get('strict') === true,
    });
    for (const w of report.warnings) io.err(`warning: ${describe(w)}\n`);
    const strict = args.options.get('strict') === true;
    if (anchor === undefined && args.options.get('no-anchor') !== true) {
      // Deleting the newest records and the anchor together must not pass --strict:
      // a sealed trail has had an anchor, so its absence is itself a finding.
      const sealed = report.segments.some((s) => s.sealedThrough >= 0);
      if (strict && sealed) {
        io.out(
          `audit trail FAILED: the anchor file ${anchorFile} is missing although the trail has seals: records deleted from the end cannot be ruled out (--no-anchor accepts that)\n`,
        );
        return 1;
      }
      io.err(`warning: no anchor file ${anchorFile}: deletion of the newest records cannot be detected\n`);
    }
    const crashed = report.segments.filter((s) => s.crashed).length;
    const summary = `${report.records} record(s) in ${report.segments.length} segment(s)${crashed > 0 ? ` (${crashed} closed after a crash of their writer)` : ''}`;
    const [first, ...rest] = report.errors;
    if (first === undefined) {
      io.out(
        `audit trail OK: ${summary}; ${report.unsealed} record(s) after the last seal of their segment (hash-chained, not yet sealed)\n`,
      );
      return 0;
    }
    io.out(`audit trail FAILED: ${summary}\nfirst bad record: ${describe(first)}\n`);
    for (const p of rest.slice(0, 20)) io.out(`  then: ${describe(p)}\n`);
    if (rest.length > 20) io.out(`  ... and ${rest.length - 20} more\n`);
    return 1;
  } finally {
    await sealer.close();
    await store.close();
  }
}

/** `audit export`: JSON lines of the records in [since, until], in store order. */
export async function auditExport(args: ParsedArgs, io: CliIo): Promise<number> {
  const sinceText = stringOption(args, 'since');
  const untilText = stringOption(args, 'until');
  const since = sinceText === undefined ? Number.NEGATIVE_INFINITY : parseTime(sinceText, 'since');
  const until = untilText === undefined ? Number.POSITIVE_INFINITY : parseTime(untilText, 'until');
  const config = configOf(args);
  const log = quietLog();
  const store = await openStore(config.store.uri, { database: config.store.database, log });
  try {
    let lines: string[] = [];
    for await (const r of store.readAudit()) {
      if (r.at < since || r.at > until || !isExported(r)) continue;
      lines.push(JSON.stringify(exportRecord(r)));
      if (lines.length >= 256) {
        io.out(`${lines.join('\n')}\n`);
        lines = [];
      }
    }
    if (lines.length > 0) io.out(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

export async function auditCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const [sub, ...extra] = args.positionals;
  if (extra.length > 0) throw new UsageError(`audit ${sub ?? ''}: unexpected argument '${extra[0]}'`);
  if (sub === 'verify') return auditVerify(args, io);
  if (sub === 'export') return auditExport(args, io);
  throw new UsageError('audit needs a subcommand: verify or export');
}
