/** What the object service writes: new objects, changes, and the Undo journal of a batch. */
import type { ObjectRecord } from '../../store/types.js';
import type { TtlvStructure } from '../ttlv/types.js';
import type { ModelAttribute } from './attributes.js';
import type { ManagedObject } from './object.js';

/**
 * What the items of one batch with Batch Error Continuation Option Undo
 * (KMIP 1.0 §6.7) wrote: per object, its record before the batch (undefined
 * for an object the batch created) and the version the batch last wrote.
 */
export class UndoJournal {
  readonly #entries = new Map<string, { before: ObjectRecord | undefined; written: number }>();

  note(id: string, before: ObjectRecord | undefined, written: number): void {
    const e = this.#entries.get(id);
    if (e === undefined) this.#entries.set(id, { before, written });
    else e.written = written;
  }

  /** newest first, the order in which to put things back */
  entries(): [string, { before: ObjectRecord | undefined; written: number }][] {
    return [...this.#entries].reverse();
  }
}

export interface NewObject {
  readonly objectType: number;
  /** every attribute, server-managed ones included (the operation builds them) */
  readonly attributes: readonly ModelAttribute[];
  readonly content: TtlvStructure | undefined;
  readonly owner: string | undefined;
}

/** What a mutation returns; undefined means "no change" (nothing is written). */
export interface Change {
  readonly attributes: readonly ModelAttribute[];
  /** new content; null erases it (Destroy); undefined keeps it */
  readonly content?: TtlvStructure | null;
  readonly tombstoned?: boolean;
}

export type Mutation = (
  obj: ManagedObject,
  content: () => Promise<TtlvStructure | undefined>,
) => Promise<Change | undefined> | Change | undefined;
