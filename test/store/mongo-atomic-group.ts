/** The object group the atomic() protocol tests write, and the protocol built as the store builds it. */

import type { Db } from 'mongodb';
import { silentLogger } from '../../src/log.js';
import { AtomicProtocol, auditRecords } from '../../src/store/mongo/atomic.js';
import { AuditAppender } from '../../src/store/mongo/audit.js';
import { DatabaseClock } from '../../src/store/mongo/clock.js';
import { collectionsOf, type MongoCollections } from '../../src/store/mongo/collections.js';
import { seqGenerator } from '../../src/store/mongo/documents.js';
import { detectCapabilities } from '../../src/store/mongo/schema.js';
import type { WriteOp } from '../../src/store/types.js';
import { rec } from './fixtures.js';

/** A protocol on `db` (whose schema a store has applied) that presumes writes older than `txnTimeoutMs` dead. */
export async function protocolFor(
  db: Db,
  txnTimeoutMs: number,
): Promise<{ protocol: AtomicProtocol; collections: MongoCollections }> {
  const collections = collectionsOf(db);
  const clock = new DatabaseClock(db);
  await clock.calibrate();
  const protocol = new AtomicProtocol(
    collections,
    clock,
    new AuditAppender(collections.audit, collections.counters),
    {
      log: silentLogger,
      txnTimeoutMs,
      nextSeq: seqGenerator(),
    },
  );
  protocol.capabilities = await detectCapabilities(db);
  return { protocol, collections };
}

/**
 * One multi-object write: `<prefix>-new` inserted, `<prefix>-old` (stored at
 * version 1 beforehand) moved to version 2 and Active, an audit record
 * `<prefix>-op`; both objects in object group `<prefix>`.
 */
export function groupOps(prefix: string): WriteOp[] {
  return [
    { kind: 'insert', record: rec(`${prefix}-new`, { objectGroups: [prefix] }) },
    {
      kind: 'update',
      record: rec(`${prefix}-old`, { version: 2, state: 'Active', objectGroups: [prefix] }),
      expectedVersion: 1,
    },
    {
      kind: 'audit',
      record: {
        at: 1,
        actor: 'a',
        operation: `${prefix}-op`,
        objectId: `${prefix}-old`,
        outcome: 'Success',
        detail: {},
      },
    },
  ];
}

/** `<prefix>-old` as stored before the group. */
export const groupBase = (prefix: string) => rec(`${prefix}-old`, { objectGroups: [prefix] });

/** Runs the group's plan, begin and stage steps (not its commit); returns its txn. */
export async function stageGroup(protocol: AtomicProtocol, prefix: string): Promise<string> {
  const ops = groupOps(prefix);
  const plans = await protocol.plan(ops);
  const txn = await protocol.begin(plans);
  await protocol.stage(txn, plans, auditRecords(ops));
  return txn;
}
