/**
 * The real access layer (src/auth/access.ts: principal, tenant scope,
 * guards) in front of the real batch executor, over a real SQLite store,
 * the software master-key provider and the Sealer, in a temporary data
 * directory with the development PKI (officer certificates). No TLS: a
 * message is sent as the client whose certificate CN is `identity`, so
 * that thousands of operations run in seconds.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AccessControl } from '../../src/auth/access.js';
import { loadOfficer, type Officer } from '../../src/auth/officer.js';
import type { AuthConfig, IdentityConfig } from '../../src/config/auth.js';
import { openSoftwareProvider } from '../../src/hsm/index.js';
import type { MasterKeyProvider } from '../../src/hsm/types.js';
import { ObjectService } from '../../src/kmip/model/service.js';
import { OPERATIONS } from '../../src/kmip/operations/index.js';
import { StreamRegistry } from '../../src/kmip/operations/support/streams.js';
import { type BatchExecutor, createBatchExecutor } from '../../src/kmip/server/executor.js';
import { BatchErrorContinuationOption, type KmipVersion } from '../../src/kmip/spec/index.js';
import type { TtlvItem, TtlvStructure } from '../../src/kmip/ttlv/types.js';
import { silentLogger } from '../../src/log.js';
import { ensureDevPki, issueClientCertificate } from '../../src/pki/index.js';
import { openStore } from '../../src/store/index.js';
import { Sealer } from '../../src/store/sealing.js';
import type { ObjectStore } from '../../src/store/types.js';
import { encodeRequest, responseItems } from '../helpers/requests.js';

export { B, E, I, S, T } from '../helpers/requests.js';
export const Bool = (tag: number, value: boolean): TtlvItem => ({ tag, type: 'Boolean', value });

export interface Item {
  readonly op: number;
  readonly payload: TtlvItem[];
}

export interface ItemResult {
  readonly status: number;
  readonly reason: number | undefined;
  readonly message: string | undefined;
  readonly payload: TtlvStructure | undefined;
}

/** What the tests write of an identity; groups default to none. */
export type IdentitySpec = Omit<IdentityConfig, 'groups'> & { groups?: string[] };

export interface AuthSpec {
  readonly identities: Record<string, IdentitySpec>;
  /** maxPendingPerIdentity: read by src/auth/dual-control.ts when the configuration has it */
  readonly dualControl?: Partial<AuthConfig['dualControl'] & { maxPendingPerIdentity: number }>;
  /** the access layer's clock (approval expiry) */
  readonly clock?: () => Date;
}

export function authConfig(spec: AuthSpec): AuthConfig {
  const identities: Record<string, IdentityConfig> = {};
  for (const [name, id] of Object.entries(spec.identities)) identities[name] = { groups: [], ...id };
  return {
    enabled: true,
    identityFrom: 'cn',
    tenants: [],
    identities,
    dualControl: { approvals: 2, operations: [], expiryHours: 24, ...spec.dualControl },
  };
}

export interface AccessServer {
  readonly access: AccessControl;
  /** one message from `identity`: every item runs (Batch Error Continuation Option Continue) */
  send(identity: string, version: KmipVersion, items: readonly Item[]): Promise<ItemResult[]>;
  /** one item; fails the test unless it succeeds */
  ok(identity: string, version: KmipVersion, op: number, payload: TtlvItem[]): Promise<TtlvStructure>;
}

export interface AccessHarness extends AccessServer {
  readonly dataDir: string;
  readonly store: ObjectStore;
  readonly objects: ObjectService;
  readonly caPem: string;
  /** another access layer (another configuration) over the same store, e.g. to set objects up */
  server(spec: AuthSpec): AccessServer;
  /** a security officer's proof (certificate issued by the development CA, CN = name) */
  officer(name: string): Promise<Officer>;
  close(): Promise<void>;
}

export function kid(s: TtlvItem | undefined, tag: number): TtlvItem | undefined {
  return s?.type === 'Structure' ? s.value.find((c) => c.tag === tag) : undefined;
}

export function kids(s: TtlvItem | undefined, tag: number): TtlvItem[] {
  return s?.type === 'Structure' ? s.value.filter((c) => c.tag === tag) : [];
}

export function textOf(s: TtlvItem | undefined, tag: number): string | undefined {
  const c = kid(s, tag);
  return c?.type === 'TextString' ? c.value : undefined;
}

export async function openAccessHarness(spec: AuthSpec): Promise<AccessHarness> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-auth-'));
  let store: ObjectStore | undefined;
  let provider: MasterKeyProvider | undefined;
  let sealer: Sealer | undefined;
  try {
    const { paths } = await ensureDevPki(dataDir);
    const caPem = await readFile(paths.caCert, 'utf8');
    const openedStore = await openStore(`sqlite:${path.join(dataDir, 'kmip.db')}`, { log: silentLogger });
    store = openedStore;
    provider = await openSoftwareProvider(path.join(dataDir, 'master.key'), { log: silentLogger });
    sealer = await Sealer.open(openedStore, provider, { log: silentLogger, settleMs: 0 });
    const clock = () => new Date();
    const objects = new ObjectService({ store: openedStore, sealer, clock });
    const services = { objects, clock, streams: new StreamRegistry() };
    const signal = new AbortController().signal;

    const serve = (s: AuthSpec): AccessServer => {
      const access = new AccessControl({
        config: authConfig(s),
        store: openedStore,
        objects,
        caPem,
        log: silentLogger,
        ...(s.clock === undefined ? {} : { clock: s.clock }),
      });
      const executor: BatchExecutor = createBatchExecutor({
        operations: OPERATIONS,
        server: { vendorIdentification: 'test', productName: 'test', productVersion: '0', objectTypes: [] },
        log: silentLogger,
        maxDepth: 64,
        maxBatchItems: 1000,
        services,
        resolvePrincipal: access.resolvePrincipal,
        scopeServices: access.scopeServices,
        guards: access.guards,
      });
      const send = async (identity: string, version: KmipVersion, items: readonly Item[]) => {
        const req = encodeRequest(items, { version, continuation: BatchErrorContinuationOption.Continue });
        const client = { commonName: identity, remoteAddress: '127.0.0.1' };
        return responseItems(await executor.execute(req, client, signal));
      };
      return {
        access,
        send,
        async ok(identity, version, op, payload) {
          const [r] = await send(identity, version, [{ op, payload }]);
          if (r === undefined || r.status !== 0 || r.payload === undefined) {
            throw new Error(
              `operation ${op} by ${identity} failed in ${version}: ${r?.reason} ${r?.message}`,
            );
          }
          return r.payload;
        },
      };
    };

    const main = serve(spec);
    const s = sealer;
    const p = provider;
    return {
      ...main,
      dataDir,
      store: openedStore,
      objects,
      caPem,
      server: serve,
      async officer(name) {
        const files = await issueClientCertificate(dataDir, name, { overwrite: true });
        return loadOfficer(
          await readFile(files.cert, 'utf8'),
          await readFile(files.key, 'utf8'),
          caPem,
          'cn',
        );
      },
      async close() {
        s.close();
        await p.close();
        await openedStore.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (e: unknown) {
    sealer?.close();
    await provider?.close();
    await store?.close();
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
}
