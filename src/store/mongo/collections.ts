/**
 * The collections of a MongoDB store and the documents of the atomic()
 * protocol's own collections (see atomic.ts).
 */

import type { Collection, CollectionOptions, Db } from 'mongodb';
import type { AuditDoc, KekDoc, ObjectDoc } from './documents.js';

export interface TxnDoc {
  _id: string;
  /** ms since the epoch on the writing node */
  at: number;
  objects: string[];
}

export interface OutcomeDoc {
  _id: string;
  outcome: 'commit' | 'abort';
  at: number;
}

export interface ClaimDoc {
  _id: string;
  at: number;
}

export interface CounterDoc {
  _id: string;
  seq: number;
}

export interface MongoCollections {
  readonly objects: Collection<ObjectDoc>;
  readonly audit: Collection<AuditDoc>;
  readonly keks: Collection<KekDoc>;
  readonly txns: Collection<TxnDoc>;
  readonly outcomes: Collection<OutcomeDoc>;
  readonly claims: Collection<ClaimDoc>;
  readonly counters: Collection<CounterDoc>;
}

export function collectionsOf(db: Db): MongoCollections {
  // Set per collection as well: a readConcernLevel in the URI would otherwise win.
  const o: CollectionOptions = {
    writeConcern: { w: 'majority', journal: true },
    readConcern: { level: 'majority' },
    readPreference: 'primary',
  };
  return {
    objects: db.collection<ObjectDoc>('objects', o),
    audit: db.collection<AuditDoc>('audit', o),
    keks: db.collection<KekDoc>('keks', o),
    txns: db.collection<TxnDoc>('txns', o),
    outcomes: db.collection<OutcomeDoc>('txn_outcomes', o),
    claims: db.collection<ClaimDoc>('claims', o),
    counters: db.collection<CounterDoc>('counters', o),
  };
}

/** Matches documents an atomic() write has marked, and those it has not. */
export const MARKED = { $type: 'string' } as const;
export const UNMARKED = { $exists: false } as const;
