/** Command-line options of bench/load.ts. */

import { isKmipVersion, type KmipVersion } from '../../src/kmip/spec/index.js';

export const OPS = ['create', 'get', 'locate', 'register', 'getattrs', 'encrypt', 'sign', 'mix'] as const;
/** Operations that act on preloaded objects. */
const NEEDS_PRELOAD: readonly OpName[] = ['get', 'locate', 'getattrs', 'encrypt', 'sign', 'mix'];
export type OpName = (typeof OPS)[number];

export interface LoadOptions {
  op: OpName;
  seconds: number;
  warmup: number;
  connections: number;
  depth: number;
  preload: number;
  /** 'sqlite', 'ferretdb' (started here) or a mongodb:// URI */
  store: string;
  version: KmipVersion;
  /** spawned (default), in-process, or external (--server) */
  mode: 'spawn' | 'in-process' | 'external';
  server: string | undefined;
  ca: string | undefined;
  cert: string | undefined;
  key: string | undefined;
  cpuProf: string | undefined;
  /** server.workers of the spawned server; undefined: the server's default (one per core) */
  workers: number | undefined;
  /** audit.durability of the server started here */
  auditDurability: 'sync' | 'batched';
  preloadTimeout: number;
  /** Get every preloaded object once before the warm-up */
  touch: boolean;
  json: boolean;
  label: string | undefined;
  /** master-key provider of the server started here; pkcs11: a fresh SoftHSM2 token (BENCHMARKS.md "HSM provider") */
  hsm?: 'software' | 'pkcs11';
}

export const USAGE = `usage: tsx bench/load.ts [options]
  --op create|get|locate|register|getattrs|encrypt|sign|mix   operation (default create);
                     encrypt: AES-256-GCM of 64 bytes with a server IV; sign: ECDSA P-256 SHA-256 of 64 bytes
  --seconds N        measured time (default 10)
  --warmup N         warm-up time before measuring (default 2)
  --connections N    mutual-TLS connections (default 32)
  --depth N          requests in flight per connection (default 1)
  --preload N        objects created before measuring (default 10000 for get/locate/getattrs/mix,
                     100 keys for encrypt/sign, else 0)
  --preload-timeout N  seconds allowed for the preload (default 600)
  --touch            Get every preloaded object once before the warm-up: the first Get of
                     an object clears Fresh (a durable write), later ones only read
  --store S          sqlite (default) | ferretdb (starts FerretDB v1.24) | mongodb://...
  --version V        KMIP protocol version (default 1.4)
  --spawn            run the server as a child process (default)
  --in-process       run the server in this process (shares the event loop)
  --server HOST:PORT --ca FILE --cert FILE --key FILE   load an existing server
  --cpu-prof DIR     write a V8 CPU profile of the spawned server into DIR (one file per process)
  --workers N        server.workers of the spawned server (default: the server's, one per core)
  --audit-durability sync|batched   audit.durability of the server (default sync)
  --hsm software|pkcs11   master-key provider of the server started here (pkcs11: a SoftHSM2 token)
  --label TEXT       store label in the markdown row
  --json             print the JSON result only`;

export class UsageError extends Error {}

const int = (name: string, raw: string | undefined, min: number, max: number): number => {
  const n = Number(raw);
  if (raw === undefined || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} takes an integer from ${min} to ${max}, got ${raw ?? 'nothing'}`);
  }
  return n;
};

export function parseLoadArgs(argv: readonly string[]): LoadOptions {
  const o: LoadOptions = {
    op: 'create',
    seconds: 10,
    warmup: 2,
    connections: 32,
    depth: 1,
    preload: -1,
    store: 'sqlite',
    version: '1.4',
    mode: 'spawn',
    server: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
    cpuProf: undefined,
    workers: undefined,
    auditDurability: 'sync',
    preloadTimeout: 600,
    touch: false,
    json: false,
    label: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--op': {
        const v = value();
        const op = OPS.find((x) => x === v);
        if (op === undefined) throw new UsageError(`--op takes one of ${OPS.join(', ')}`);
        o.op = op;
        break;
      }
      case '--seconds':
        o.seconds = int(a, value(), 1, 3600);
        break;
      case '--warmup':
        o.warmup = int(a, value(), 0, 600);
        break;
      case '--connections':
        o.connections = int(a, value(), 1, 1024);
        break;
      case '--depth':
        o.depth = int(a, value(), 1, 64);
        break;
      case '--preload':
        o.preload = int(a, value(), 0, 10_000_000);
        break;
      case '--preload-timeout':
        o.preloadTimeout = int(a, value(), 1, 7200);
        break;
      case '--store':
        o.store = value();
        if (!['sqlite', 'ferretdb'].includes(o.store) && !/^mongodb(\+srv)?:\/\//.test(o.store)) {
          throw new UsageError('--store takes sqlite, ferretdb or a mongodb:// URI');
        }
        break;
      case '--version': {
        const v = value();
        if (!isKmipVersion(v)) throw new UsageError(`unknown KMIP version ${v}`);
        o.version = v;
        break;
      }
      case '--spawn':
        o.mode = 'spawn';
        break;
      case '--in-process':
        o.mode = 'in-process';
        break;
      case '--server':
        o.server = value();
        o.mode = 'external';
        break;
      case '--ca':
        o.ca = value();
        break;
      case '--cert':
        o.cert = value();
        break;
      case '--key':
        o.key = value();
        break;
      case '--workers':
        o.workers = int(a, value(), 0, 64);
        break;
      case '--audit-durability': {
        const v = value();
        if (v !== 'sync' && v !== 'batched') throw new UsageError('--audit-durability takes sync or batched');
        o.auditDurability = v;
        break;
      }
      case '--cpu-prof':
        o.cpuProf = value();
        break;
      case '--label':
        o.label = value();
        break;
      case '--touch':
        o.touch = true;
        break;
      case '--hsm': {
        const v = value();
        if (v !== 'software' && v !== 'pkcs11') throw new UsageError('--hsm takes software or pkcs11');
        o.hsm = v;
        break;
      }
      case '--json':
        o.json = true;
        break;
      case '--help':
      case '-h':
        throw new UsageError('');
      default:
        throw new UsageError(`unknown option ${a}`);
    }
  }
  if (o.preload < 0) {
    // Crypto operations need a few keys, not a large store.
    o.preload = o.op === 'encrypt' || o.op === 'sign' ? 100 : NEEDS_PRELOAD.includes(o.op) ? 10_000 : 0;
  }
  if (o.preload === 0 && NEEDS_PRELOAD.includes(o.op)) {
    throw new UsageError(`--op ${o.op} needs --preload > 0`);
  }
  if (o.mode === 'external' && (o.ca === undefined || o.cert === undefined || o.key === undefined)) {
    throw new UsageError('--server needs --ca, --cert and --key');
  }
  if (o.mode === 'external' && o.store !== 'sqlite') {
    throw new UsageError('--store applies to a server started by the generator, not to --server');
  }
  return o;
}
