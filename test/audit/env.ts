/**
 * A real batch executor with the audit trail wired in (onItem + purpose
 * guard) over a real SQLite store, a master-key provider (software, or pkcs11
 * on SoftHSM2 with KMIP_TEST_HSM=pkcs11) and the Sealer, in a temporary data
 * directory. `reopen()` closes the store (the trail is sealed at close) and
 * opens it again with a fresh Sealer on the same master key, as
 * `audit verify` would.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AuditService, startAudit } from '../../src/audit/index.js';
import type { AuditConfig } from '../../src/config/audit.js';
import { openMasterKeyProvider, openSoftwareProvider } from '../../src/hsm/index.js';
import type { MasterKeyProvider } from '../../src/hsm/types.js';
import { ObjectService } from '../../src/kmip/model/service.js';
import { OPERATIONS } from '../../src/kmip/operations/index.js';
import { StreamRegistry } from '../../src/kmip/operations/support/streams.js';
import type { ClientIdentity } from '../../src/kmip/operations/types.js';
import { createBatchExecutor, defaultPrincipal } from '../../src/kmip/server/executor.js';
import type { KmipVersion } from '../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../src/kmip/ttlv/types.js';
import { type Logger, silentLogger } from '../../src/log.js';
import { openStore } from '../../src/store/index.js';
import { Sealer } from '../../src/store/sealing.js';
import type { AuditRecord, ObjectStore } from '../../src/store/types.js';
import { encodeRequest, responseItems } from '../helpers/requests.js';
import { createSoftHsmToken, testHsmProvider } from '../helpers/softhsm.js';
import type { BatchItemSpec, ItemResult } from '../kmip/operations/harness.js';

export const CLIENT: ClientIdentity = {
  commonName: 'tester',
  remoteAddress: '192.0.2.7',
  certificateFingerprint: 'AB:CD:EF:01',
};

export interface AuditEnv {
  readonly dataDir: string;
  readonly dbFile: string;
  readonly anchorFile: string;
  store: ObjectStore;
  sealer: Sealer;
  readonly provider: MasterKeyProvider;
  readonly audit: AuditService;
  send(
    version: KmipVersion,
    items: BatchItemSpec[],
    header?: TtlvItem[],
    client?: ClientIdentity,
  ): Promise<ItemResult[]>;
  /** every audit record in store order */
  records(): Promise<(AuditRecord & { seq: number })[]>;
  /** closes the audit trail (final seal), the Sealer and the store; the provider stays open */
  closeStore(): Promise<void>;
  /** closes the store and opens it again with a new Sealer, as `audit verify` does; no audit trail writes to it */
  reopenStore(): Promise<void>;
  close(): Promise<void>;
}

export function auditConfig(dataDir: string, over: Partial<AuditConfig> = {}): AuditConfig {
  return {
    sealEveryRecords: 1000,
    sealIntervalSeconds: 60,
    anchorFile: path.join(dataDir, 'audit-anchor.json'),
    requirePurpose: [],
    defaultPurpose: {},
    ...over,
  };
}

export async function openAuditEnv(
  over: Partial<AuditConfig> = {},
  opts: { log?: Logger; groups?: string[] } = {},
): Promise<AuditEnv> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-audit-'));
  const dbFile = path.join(dataDir, 'kmip.db');
  const log = opts.log ?? silentLogger;
  const provider =
    testHsmProvider() === 'pkcs11'
      ? await openMasterKeyProvider(createSoftHsmToken().hsm, log)
      : await openSoftwareProvider(path.join(dataDir, 'master.key'), { log });
  let store = await openStore(`sqlite:${dbFile}`, { log });
  let sealer = await Sealer.open(store, provider, { log, settleMs: 0 });
  const config = auditConfig(dataDir, over);
  const audit = await startAudit(config, { store, sealer, log });
  const clock = () => new Date();
  const executor = createBatchExecutor({
    operations: OPERATIONS,
    server: { vendorIdentification: 'test', productName: 'test', productVersion: '0', objectTypes: [] },
    log,
    maxDepth: 64,
    maxBatchItems: 64,
    services: {
      objects: new ObjectService({ store, sealer, clock }),
      clock,
      streams: new StreamRegistry(),
    },
    resolvePrincipal: (client) => ({ ...defaultPrincipal(client), groups: opts.groups ?? [] }),
    onItem: (e) => audit.onItem(e),
    guards: [(c) => audit.guard(c)],
  });
  const signal = new AbortController().signal;
  let storeOpen = true;

  const env: AuditEnv = {
    dataDir,
    dbFile,
    anchorFile: config.anchorFile,
    store,
    sealer,
    provider,
    audit,
    async send(version, items, header = [], client = CLIENT) {
      const req = encodeRequest(items, { version, header });
      return responseItems(await executor.execute(req, client, signal));
    },
    async records() {
      const out: (AuditRecord & { seq: number })[] = [];
      for await (const r of env.store.readAudit()) out.push(r);
      return out;
    },
    async closeStore() {
      if (!storeOpen) return;
      storeOpen = false;
      await audit.close();
      sealer.close();
      await store.close();
    },
    async reopenStore() {
      await env.closeStore();
      store = await openStore(`sqlite:${dbFile}`, { log });
      sealer = await Sealer.open(store, provider, { log, settleMs: 0 });
      env.store = store;
      env.sealer = sealer;
      storeOpen = true;
    },
    async close() {
      await env.closeStore();
      await provider.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return env;
}
