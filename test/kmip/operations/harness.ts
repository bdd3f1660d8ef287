/**
 * Drives the real batch executor over a real SQLite store, the software
 * master-key provider and the Sealer, in a temporary data directory.
 * KMIP_TEST_HSM=pkcs11 swaps in the pkcs11 provider on a fresh SoftHSM2 token.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openMasterKeyProvider, openSoftwareProvider } from '../../../src/hsm/index.js';
import type { MasterKeyProvider } from '../../../src/hsm/types.js';
import { ObjectService } from '../../../src/kmip/model/service.js';
import { StreamRegistry } from '../../../src/kmip/operations/support/streams.js';
import type { OperationLimits } from '../../../src/kmip/operations/types.js';
import type { KmipVersion } from '../../../src/kmip/spec/index.js';
import type { TtlvItem, TtlvStructure } from '../../../src/kmip/ttlv/types.js';
import { silentLogger } from '../../../src/log.js';
import { openStore } from '../../../src/store/index.js';
import { Sealer } from '../../../src/store/sealing.js';
import type { ObjectStore } from '../../../src/store/types.js';
import { encodeRequest, execute, responseItems, testExecutor } from '../../helpers/requests.js';
import { createSoftHsmToken, testHsmProvider } from '../../helpers/softhsm.js';

export { B, D, E, I, S, T } from '../../helpers/requests.js';

export interface BatchItemSpec {
  readonly op: number;
  readonly payload: TtlvItem[];
  readonly id?: Uint8Array;
}

/** What send() answers per batch item (a ResponseItem gives more). */
export interface ItemResult {
  readonly status: number;
  readonly reason: number | undefined;
  readonly message: string | undefined;
  readonly payload: TtlvStructure | undefined;
  readonly item: TtlvStructure;
}

export function kids(s: TtlvItem | undefined, tag: number): TtlvItem[] {
  return s?.type === 'Structure' ? s.value.filter((c) => c.tag === tag) : [];
}

/** The children of a Structure; empty for anything else. */
export function members(s: TtlvItem | undefined): readonly TtlvItem[] {
  return s?.type === 'Structure' ? s.value : [];
}

export function kid(s: TtlvItem | undefined, tag: number): TtlvItem | undefined {
  return kids(s, tag)[0];
}

export function text(s: TtlvItem | undefined, tag: number): string | undefined {
  const c = kid(s, tag);
  return c?.type === 'TextString' ? c.value : undefined;
}

/** Every tag in a tree, for "never send a tag the version lacks" checks. */
export function allTags(item: TtlvItem, out: number[] = []): number[] {
  out.push(item.tag);
  if (item.type === 'Structure') for (const c of item.value) allTags(c, out);
  return out;
}

export interface Harness {
  readonly dataDir: string;
  readonly store: ObjectStore;
  readonly objects: ObjectService;
  /** sends one message; returns each batch item's result */
  send(version: KmipVersion, items: BatchItemSpec[], header?: TtlvItem[]): Promise<ItemResult[]>;
  /** sends one item and fails the test unless it succeeds */
  ok(version: KmipVersion, op: number, payload: TtlvItem[]): Promise<TtlvStructure>;
  close(): Promise<void>;
}

export async function openHarness(
  opts: { clock?: () => Date; limits?: OperationLimits; maxBatchItems?: number } = {},
): Promise<Harness> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-ops-'));
  const store = await openStore(`sqlite:${path.join(dataDir, 'kmip.db')}`, { log: silentLogger });
  let provider: MasterKeyProvider | undefined;
  let sealer: Sealer | undefined;
  try {
    provider =
      testHsmProvider() === 'pkcs11'
        ? await openMasterKeyProvider(createSoftHsmToken().hsm, silentLogger)
        : await openSoftwareProvider(path.join(dataDir, 'master.key'), { log: silentLogger });
    sealer = await Sealer.open(store, provider, { log: silentLogger, settleMs: 0 });
  } catch (e: unknown) {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  const clock = opts.clock ?? (() => new Date());
  const objects = new ObjectService({ store, sealer, clock });
  const executor = testExecutor({
    server: { vendorIdentification: 'test', productName: 'test', productVersion: '0', objectTypes: [] },
    maxBatchItems: opts.maxBatchItems ?? 64,
    services: {
      objects,
      clock,
      streams: new StreamRegistry({ now: () => clock().getTime() }),
      ...(opts.limits === undefined ? {} : { limits: opts.limits }),
    },
  });
  const client = { commonName: 'tester', remoteAddress: '127.0.0.1' };

  async function send(version: KmipVersion, items: BatchItemSpec[], header: TtlvItem[] = []) {
    return responseItems(await execute(executor, encodeRequest(items, { version, header }), client));
  }

  return {
    dataDir,
    store,
    objects,
    send,
    async ok(version, op, payload) {
      const [r] = await send(version, [{ op, payload }]);
      if (r === undefined || r.status !== 0 || r.payload === undefined) {
        throw new Error(`operation ${op} failed in ${version}: ${r?.reason} ${r?.message}`);
      }
      return r.payload;
    },
    async close() {
      sealer?.close();
      await provider?.close();
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A harness opened before the suite's tests (before each test with
 * `each`) and closed after them, for `const h = useHarness()` in a describe.
 */
export function useHarness(
  opts: Parameters<typeof openHarness>[0] = {},
  { each = false }: { each?: boolean } = {},
): Harness {
  let current: Harness | undefined;
  (each ? beforeEach : before)(async () => {
    current = await openHarness(opts);
  });
  (each ? afterEach : after)(async () => {
    await current?.close();
    current = undefined;
  });
  const open = (): Harness => {
    if (current === undefined) throw new Error('the harness is open only while the suite runs');
    return current;
  };
  return {
    get dataDir() {
      return open().dataDir;
    },
    get store() {
      return open().store;
    },
    get objects() {
      return open().objects;
    },
    send: (...args) => open().send(...args),
    ok: (...args) => open().ok(...args),
    close: () => open().close(),
  };
}
