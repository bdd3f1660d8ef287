/**
 * The audit trail (DESIGN.md; docs/audit.md): one record per KMIP batch item,
 * hash-chained, sealed with an HMAC under a key protected by the master key,
 * stored through the ObjectStore; purpose codes and their policy.
 */
import cluster from 'node:cluster';
import type { AuditConfig } from '../config/audit.js';
import type { ItemEvent, ItemGuard } from '../kmip/hooks.js';
import type { Logger } from '../log.js';
import type { ObjectStore } from '../store/types.js';
import { PurposePolicy } from './purpose.js';
import { itemRecord } from './records.js';
import { closeAbandonedSegments } from './recover.js';
import { type AuditSink, fileSink, parseSyslogUrl, syslogSink } from './sinks.js';
import { type AuditKeySealer, AuditTrail } from './trail.js';

export * from './chain.js';
export * from './purpose.js';
export * from './records.js';
export * from './recover.js';
export * from './sinks.js';
export * from './trail.js';
export * from './verify.js';

/**
 * The audit record of a batch item could not be written and audit.failClosed
 * is on: the executor answers the item with General Failure instead.
 */
export class AuditUnavailableError extends Error {
  override name = 'AuditUnavailableError';
  readonly code = 'ERR_AUDIT_UNAVAILABLE';
}

export interface AuditService {
  readonly trail: AuditTrail;
  readonly policy: PurposePolicy;
  /**
   * ExecutorOptions.onItem: records the item; resolves once the record is
   * durable. When it cannot be written: with audit.failClosed, rejects with
   * AuditUnavailableError (the executor must then fail the item); without,
   * logs the failure and resolves.
   */
  onItem(event: ItemEvent): Promise<void>;
  /** ExecutorOptions.guards entry: the purpose policy */
  readonly guard: ItemGuard;
  /** seals the trail and closes the sinks */
  close(): Promise<void>;
  /** segments of crashed writers sealed at start (src/audit/recover.ts); runs in the background */
  readonly recovered: Promise<string[]>;
}

export async function startAudit(
  config: AuditConfig,
  deps: { store: ObjectStore; sealer: AuditKeySealer; log: Logger },
): Promise<AuditService> {
  const policy = new PurposePolicy(config);
  const sinks: AuditSink[] = [];
  if (config.file !== undefined) sinks.push(fileSink(config.file, deps.log));
  if (config.syslog !== undefined) sinks.push(syslogSink(parseSyslogUrl(config.syslog), deps.log));
  let trail: AuditTrail;
  try {
    trail = await AuditTrail.open({
      store: deps.store,
      sealer: deps.sealer,
      sealEveryRecords: config.sealEveryRecords,
      sealIntervalMs: config.sealIntervalSeconds * 1000,
      anchorFile: config.anchorFile,
      sinks,
      log: deps.log,
    });
  } catch (e: unknown) {
    await Promise.allSettled(sinks.map((s) => s.close()));
    throw e;
  }
  // The first worker of a cluster (or the only process) closes what crashed
  // writers left open; workers restarted later, or started beside it, do not,
  // so that two never seal one segment twice.
  const recovered =
    cluster.isWorker && cluster.worker?.id !== 1
      ? Promise.resolve([])
      : closeAbandonedSegments(deps.store, deps.sealer, { log: deps.log }).catch((e: unknown) => {
          deps.log.warn('could not close audit segments left open by a crash', {
            error: e instanceof Error ? e.message : String(e),
          });
          return [];
        });
  return {
    trail,
    policy,
    recovered,
    // batched (audit.durability): the item is answered at once; its record joins the next group commit
    onItem:
      config.durability === 'batched'
        ? (event) => {
            void recordItem(event).catch(() => undefined);
            return Promise.resolve();
          }
        : recordItem,
    guard: policy.guard(),
    close: async () => {
      await recovered;
      await trail.close();
    },
  };

  async function recordItem(event: ItemEvent): Promise<void> {
    try {
      await trail.append(itemRecord(event, policy.purposeOf(event.principal, event.clientCorrelationValue)));
    } catch (e: unknown) {
      const error = e instanceof Error ? e.message : String(e);
      deps.log.error('could not write an audit record', {
        identity: event.principal.identity,
        failClosed: config.failClosed === true,
        error,
      });
      if (config.failClosed === true) throw new AuditUnavailableError(`audit trail unavailable: ${error}`);
    }
  }
}
