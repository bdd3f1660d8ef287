/**
 * The object service: managed objects over the ObjectStore, with the content
 * sealed by the Sealer. Reads decode attributes only; the content is
 * unsealed when an operation asks for it. Updates are optimistic: read, apply,
 * write with the expected version, and on a conflict (another node changed
 * the object) start again from a fresh read, so concurrent changes lose nothing.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type LocateFilter,
  type LocatePage,
  type ObjectRecord,
  type ObjectStore,
  type SealedBlob,
  StoreUnavailableError,
  storeErrorCode,
  type WriteOp,
} from '../../store/types.js';
import { KmipError } from '../errors.js';
import { Tag } from '../spec/index.js';
import { decodeTtlv, encodeTtlv } from '../ttlv/binary.js';
import { dateTime } from '../ttlv/build.js';
import type { TtlvStructure } from '../ttlv/types.js';
import { setStandard } from './attributes.js';
import { markServed, servedOverlay } from './fresh.js';
import { applyDueTransitions } from './lifecycle.js';
import type { ManagedObject } from './object.js';
import { fromRecord, toRecord } from './record.js';
import { type Change, type Mutation, type NewObject, UndoJournal } from './writes.js';

/** What the service needs of src/store/sealing.ts's Sealer. */
export interface ContentSealer {
  seal(objectId: string, version: number, plaintext: Uint8Array): Promise<SealedBlob>;
  unseal(objectId: string, version: number, blob: SealedBlob): Promise<Uint8Array>;
}

/** Owners starting with this are the server's own objects (issuing CA, access records), never a tenant. */
export const SYSTEM_OWNER_PREFIX = 'kmip-server:';
/** Owner of the access-control records (src/auth/records.ts): invisible to every KMIP operation. */
export const ACCESS_RECORD_OWNER = 'kmip-server:access';

/**
 * What one caller may see and touch (src/auth/ builds it per message): the
 * scoped service stamps `owner` on what it creates, narrows Locate to it in
 * the store query (so paging and counts never include other tenants), and
 * answers "does not exist" for any object `permits` refuses — no existence
 * oracle.
 */
export interface AccessScope {
  /** the owner (tenant) of new objects and the only one Locate lists */
  readonly owner: string;
  /** may the caller read (write false) or change (write true) this object now? */
  permits(obj: ManagedObject, write: boolean): boolean;
  /** told about each object created through the scope (it may then change it, e.g. a new issuing CA) */
  created?(obj: ManagedObject): void;
}

export interface ObjectServiceOptions {
  readonly store: ObjectStore;
  readonly sealer: ContentSealer;
  readonly clock?: () => Date;
  /** attempts of an update under contention before giving up (and at most CONTENTION_BUDGET_MS); default 200 */
  readonly maxAttempts?: number;
  /** records every write so that a batch with Undo can put it back */
  readonly journal?: UndoJournal;
  /** tenant scoping; absent: every object */
  readonly scope?: AccessScope;
}

export { type Change, type Mutation, type NewObject, UndoJournal };

const CONTENT_MAX_DEPTH = 16;
const MAX_BACKOFF_MS = 250;
const CONTENTION_BUDGET_MS = 15_000;

export class ObjectService {
  readonly #store: ObjectStore;
  readonly #sealer: ContentSealer;
  readonly #clock: () => Date;
  readonly #maxAttempts: number;
  readonly #opts: ObjectServiceOptions;
  /**
   * The unscoped, unjournaled service of the same store (clearFreshLater's
   * writer), built on first use and shared with every service derived from
   * this one (journaled, scoped: one per message).
   */
  #unscoped: { service?: ObjectService } = {};

  constructor(opts: ObjectServiceOptions) {
    this.#opts = opts;
    this.#store = opts.store;
    this.#sealer = opts.sealer;
    this.#clock = opts.clock ?? (() => new Date());
    this.#maxAttempts = opts.maxAttempts ?? 200;
  }

  now(): Date {
    return this.#clock();
  }

  /** The same service, recording its writes in `journal` (for Undo). */
  journaled(journal: UndoJournal): ObjectService {
    return this.#derive({ ...this.#opts, journal });
  }

  /** The same store seen through `scope` (one tenant's objects and what it was granted). */
  scoped(scope: AccessScope): ObjectService {
    return this.#derive({ ...this.#opts, scope });
  }

  /** A service with other options over the same store, sharing the unscoped one. */
  #derive(opts: ObjectServiceOptions): ObjectService {
    const derived = new ObjectService(opts);
    derived.#unscoped = this.#unscoped;
    return derived;
  }

  get scope(): AccessScope | undefined {
    return this.#opts.scope;
  }

  #visible(rec: ObjectRecord | undefined, write: boolean): ObjectRecord | undefined {
    if (rec === undefined || rec.owner === ACCESS_RECORD_OWNER) return undefined;
    const scope = this.#opts.scope;
    if (scope !== undefined && !scope.permits(fromRecord(rec), write)) return undefined;
    return rec;
  }

  #ownerOf(input: NewObject): string | undefined {
    const scope = this.#opts.scope;
    if (scope === undefined) return input.owner;
    // The server's own objects (the issuing CA) keep their owner; everything else is the caller's tenant's.
    return input.owner?.startsWith(SYSTEM_OWNER_PREFIX) && input.owner !== ACCESS_RECORD_OWNER
      ? input.owner
      : scope.owner;
  }

  /** The Locate filter as the scope allows it; undefined when nothing can match. */
  #narrow(filter: LocateFilter): LocateFilter | undefined {
    const scope = this.#opts.scope;
    if (filter.owner === ACCESS_RECORD_OWNER) return undefined;
    if (scope === undefined) return filter;
    if (filter.owner === undefined) return { ...filter, owner: scope.owner };
    if (filter.owner === scope.owner || filter.owner.startsWith(SYSTEM_OWNER_PREFIX)) return filter;
    return undefined;
  }

  /**
   * Puts back what a batch wrote, newest first: objects it changed get their
   * earlier record again (content re-sealed under the next version, since
   * the AAD binds the version); objects it created are tombstoned with their
   * key material erased. An object changed meanwhile by someone else is left
   * as it is and reported.
   */
  async undo(journal: UndoJournal): Promise<string[]> {
    const notUndone: string[] = [];
    for (const [id, { before, written }] of journal.entries()) {
      const current = await this.#store.get(id);
      if (current === undefined || current.version !== written) {
        notUndone.push(id);
        continue;
      }
      const version = written + 1;
      const now = this.#clock().getTime();
      let restored: ObjectRecord;
      if (before === undefined) {
        restored = { ...current, version, sealed: undefined, tombstoned: true, updatedAt: now };
      } else {
        let sealed: SealedBlob | undefined;
        if (before.sealed !== undefined) {
          const plain = await this.#sealer.unseal(id, before.version, before.sealed);
          try {
            sealed = await this.#sealer.seal(id, version, plain);
          } finally {
            plain.fill(0);
          }
        }
        restored = { ...before, version, sealed, updatedAt: now };
      }
      try {
        await this.#store.update(restored, written);
      } catch (e: unknown) {
        if (storeErrorCode(e) !== 'ERR_STORE_VERSION_CONFLICT') throw e;
        notUndone.push(id);
      }
    }
    return notUndone;
  }

  /** Stores a new object under a fresh UUID (unique across nodes without coordination). */
  async create(input: NewObject): Promise<ManagedObject> {
    const id = randomUUID();
    const attributes = setStandard(input.attributes, {
      tag: Tag.UniqueIdentifier,
      type: 'TextString',
      value: id,
    });
    const obj: ManagedObject = {
      id,
      version: 1,
      objectType: input.objectType,
      owner: this.#ownerOf(input),
      attributes,
      sealed: undefined,
      tombstoned: false,
      createdAt: this.#clock().getTime(),
    };
    const sealed = input.content === undefined ? undefined : await this.#seal(id, 1, input.content);
    const at = obj.createdAt;
    await this.#store.insert(toRecord(obj, sealed, { createdAt: at, updatedAt: at }));
    this.#opts.journal?.note(id, undefined, 1);
    this.#opts.scope?.created?.(obj);
    return { ...obj, sealed };
  }

  /**
   * Stores an object under the identifier the client chose (Import, KMIP 1.4,
   * 2.0 §6.1.26) with its attributes exactly as given: no Last Change
   * Date of ours. An object already under that identifier is replaced when
   * `replace` is true (its store version moves on, so the sealed content's
   * AAD changes; its owner stays), otherwise Object Already Exists.
   */
  async createWithId(id: string, input: NewObject, replace: boolean): Promise<ManagedObject> {
    const attributes = setStandard(input.attributes, {
      tag: Tag.UniqueIdentifier,
      type: 'TextString',
      value: id,
    });
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      const stored = await this.#store.get(id);
      const rec = this.#visible(stored, true);
      // Another tenant's object under that identifier: refused as if it were ours, and never replaced.
      if (stored !== undefined && (rec === undefined || !replace)) {
        throw new KmipError('ObjectAlreadyExists', `an object ${id} already exists`);
      }
      const now = this.#clock().getTime();
      const version = rec === undefined ? 1 : rec.version + 1;
      const obj: ManagedObject = {
        id,
        version,
        objectType: input.objectType,
        // A replacement stays with the replaced object's owner (tenant): it never moves to the caller's.
        owner: rec === undefined ? this.#ownerOf(input) : rec.owner,
        attributes,
        sealed: undefined,
        tombstoned: false,
        createdAt: rec?.createdAt ?? now,
      };
      const sealed = input.content === undefined ? undefined : await this.#seal(id, version, input.content);
      const record = toRecord(obj, sealed, { createdAt: obj.createdAt, updatedAt: now });
      try {
        if (rec === undefined) await this.#store.insert(record);
        else await this.#store.update(record, rec.version);
        this.#opts.journal?.note(id, rec, version);
        if (rec === undefined) this.#opts.scope?.created?.(obj);
        return { ...obj, sealed };
      } catch (e: unknown) {
        const duplicate = storeErrorCode(e) === 'ERR_STORE_DUPLICATE_ID';
        if (duplicate && !replace) {
          throw new KmipError('ObjectAlreadyExists', `an object ${id} already exists`);
        }
        // Replacing: an object inserted under the id meanwhile is contention like a version conflict.
        await this.#backOff(e, attempt, started, id, duplicate);
      }
    }
  }

  /**
   * The object as of now: a date-driven state change that has come due
   * (lifecycle.ts applyDueTransitions) shows at once and is stored with the
   * next change of the object.
   */
  async get(id: string): Promise<ManagedObject | undefined> {
    const rec = this.#visible(await this.#store.get(id, { indexFields: false }), false);
    return rec === undefined ? undefined : this.#current(fromRecord(rec));
  }

  #current(obj: ManagedObject): ManagedObject {
    const due = applyDueTransitions(obj.attributes, this.#clock());
    const now = due === undefined ? obj : { ...obj, attributes: due };
    return servedOverlay(this.#store, now);
  }

  /**
   * Fresh becomes false once a Get served the object (KMIP 1.1 §3.34). The
   * write happens in the background, off the Get's response path (on MongoDB
   * a durable round trip per first Get); until it lands, this process shows
   * the object as not fresh, and any other change of it stores that too.
   */
  clearFreshLater(id: string): void {
    this.#unscoped.service ??= this.#derive({ ...this.#opts, scope: undefined, journal: undefined });
    const unscoped = this.#unscoped.service;
    markServed(this.#store, id, () => unscoped.update(id, () => undefined));
  }

  /** The object, or Item Not Found (KMIP 1.0 §11 "Unique Identifier ... does not exist"). */
  async require(id: string): Promise<ManagedObject> {
    const obj = await this.get(id);
    if (obj === undefined) throw new KmipError('ItemNotFound', `object ${id} does not exist`);
    return obj;
  }

  /** Unseals the content of the object as loaded (its version is the AAD). */
  async content(obj: ManagedObject): Promise<TtlvStructure | undefined> {
    if (obj.sealed === undefined) return undefined;
    const plain = await this.#sealer.unseal(obj.id, obj.version, obj.sealed);
    try {
      const item = decodeTtlv(plain, { maxDepth: CONTENT_MAX_DEPTH });
      if (item.type !== 'Structure') throw new Error(`content of object ${obj.id} is not a Structure`);
      return item;
    } finally {
      plain.fill(0);
    }
  }

  /**
   * Applies `mutate` to the latest version of the object and writes it with
   * optimistic concurrency. Last Change Date is set on every change. The
   * content is re-sealed under the new version (its AAD binds the version).
   * A KmipError thrown by `mutate` is not retried.
   */
  async update(id: string, mutate: Mutation): Promise<ManagedObject> {
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      const step = await this.#prepareUpdate(id, mutate);
      if (step.op === undefined) return step.obj;
      try {
        await this.#store.update(step.op.record, step.op.expectedVersion);
        this.#opts.journal?.note(id, step.before, step.obj.version);
        return step.obj;
      } catch (e: unknown) {
        await this.#backOff(e, attempt, started, id);
      }
    }
  }

  /** A fresh identifier, for objects that must link to each other before they are written together. */
  newId(): string {
    return randomUUID();
  }

  /**
   * Creates and changes several objects with one store.atomic(): after a
   * crash, a race or a failure either all of them are written or none (Re-key,
   * Create Key Pair, Derive Key...). The new objects come with the ids the
   * caller took from newId(). A version conflict on a changed object runs its
   * mutation again on a fresh read; a KmipError from a mutation (e.g. "already
   * replaced", the loser of two Re-keys) is not retried and nothing is written.
   */
  async writeTogether(
    creates: readonly (NewObject & { readonly id: string })[],
    updates: readonly { readonly id: string; readonly mutate: Mutation }[],
  ): Promise<{ created: ManagedObject[]; updated: ManagedObject[] }> {
    const at = this.#clock().getTime();
    const created: { obj: ManagedObject; record: ObjectRecord }[] = [];
    for (const input of creates) {
      const obj: ManagedObject = {
        id: input.id,
        version: 1,
        objectType: input.objectType,
        owner: this.#ownerOf(input),
        attributes: setStandard(input.attributes, {
          tag: Tag.UniqueIdentifier,
          type: 'TextString',
          value: input.id,
        }),
        sealed: undefined,
        tombstoned: false,
        createdAt: at,
      };
      const sealed = input.content === undefined ? undefined : await this.#seal(input.id, 1, input.content);
      created.push({
        obj: { ...obj, sealed },
        record: toRecord(obj, sealed, { createdAt: at, updatedAt: at }),
      });
    }
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      const steps = [];
      for (const u of updates) steps.push(await this.#prepareUpdate(u.id, u.mutate));
      const ops: WriteOp[] = created.map((c) => ({ kind: 'insert', record: c.record }));
      for (const st of steps) if (st.op !== undefined) ops.push(st.op);
      try {
        await this.#store.atomic(ops);
      } catch (e: unknown) {
        await this.#backOff(e, attempt, started, updates.map((u) => u.id).join(', '));
        continue;
      }
      for (const c of created) {
        this.#opts.journal?.note(c.obj.id, undefined, 1);
        this.#opts.scope?.created?.(c.obj);
      }
      for (const st of steps)
        if (st.op !== undefined) this.#opts.journal?.note(st.obj.id, st.before, st.obj.version);
      return { created: created.map((c) => c.obj), updated: steps.map((st) => st.obj) };
    }
  }

  /**
   * Retries a version conflict (and, with `retryDuplicate`, a duplicate id)
   * after a jittered pause; anything else is thrown. Plain contention (many
   * nodes changing one object) is retried for CONTENTION_BUDGET_MS of
   * monotonic time, and at most maxAttempts times.
   */
  async #backOff(
    e: unknown,
    attempt: number,
    started: number,
    what: string,
    retryDuplicate = false,
  ): Promise<void> {
    const code = storeErrorCode(e);
    if (code !== 'ERR_STORE_VERSION_CONFLICT' && !(retryDuplicate && code === 'ERR_STORE_DUPLICATE_ID'))
      throw e;
    if (attempt >= this.#maxAttempts || performance.now() - started > CONTENTION_BUDGET_MS) {
      throw new StoreUnavailableError(`object ${what} kept changing; gave up after ${attempt} attempts`);
    }
    // Full jitter over an exponentially growing window (capped): writers contending for one
    // object through several nodes spread out instead of colliding again in lockstep.
    await sleep(Math.floor(Math.random() * Math.min(MAX_BACKOFF_MS, 2 ** attempt)));
  }

  /** Applies `mutate` to a fresh read of the object; `op` is the conditional write, absent when nothing changes. */
  async #prepareUpdate(
    id: string,
    mutate: Mutation,
  ): Promise<{
    obj: ManagedObject;
    before?: ObjectRecord;
    op?: { readonly kind: 'update'; readonly record: ObjectRecord; readonly expectedVersion: number };
  }> {
    const rec = this.#visible(await this.#store.get(id), true);
    if (rec === undefined) throw new KmipError('ItemNotFound', `object ${id} does not exist`);
    const stored = fromRecord(rec);
    const obj = this.#current(stored);
    let cached: TtlvStructure | undefined;
    let loaded = false;
    const content = async () => {
      if (!loaded) {
        cached = await this.content(stored);
        loaded = true;
      }
      return cached;
    };
    const change =
      (await mutate(obj, content)) ?? (obj === stored ? undefined : { attributes: obj.attributes });
    if (change === undefined) return { obj };
    const now = this.#clock();
    const version = obj.version + 1;
    const attributes = setStandard(change.attributes, dateTime(Tag.LastChangeDate, now));
    const next: ManagedObject = {
      ...obj,
      version,
      attributes,
      tombstoned: change.tombstoned ?? obj.tombstoned,
    };
    let sealed: SealedBlob | undefined;
    if (change.content === null) sealed = undefined;
    else if (change.content !== undefined) sealed = await this.#seal(id, version, change.content);
    else if (obj.sealed !== undefined) sealed = await this.#reseal(obj, version);
    const record = toRecord(next, sealed, { createdAt: rec.createdAt, updatedAt: now.getTime() });
    return {
      obj: { ...next, sealed },
      before: rec,
      op: { kind: 'update', record, expectedVersion: obj.version },
    };
  }

  /** Identifiers matching the filter, in the store's order (creation order). */
  async locate(filter: LocateFilter, page?: LocatePage): Promise<string[]> {
    const narrowed = this.#narrow(filter);
    return narrowed === undefined ? [] : this.#store.locate(narrowed, page);
  }

  async count(filter: LocateFilter): Promise<number> {
    const narrowed = this.#narrow(filter);
    return narrowed === undefined ? 0 : this.#store.count(narrowed);
  }

  async #seal(id: string, version: number, content: TtlvStructure): Promise<SealedBlob> {
    const plain = encodeTtlv(content);
    try {
      return await this.#sealer.seal(id, version, plain);
    } finally {
      plain.fill(0);
    }
  }

  async #reseal(obj: ManagedObject, version: number): Promise<SealedBlob | undefined> {
    if (obj.sealed === undefined) return undefined;
    const plain = await this.#sealer.unseal(obj.id, obj.version, obj.sealed);
    try {
      return await this.#sealer.seal(obj.id, version, plain);
    } finally {
      plain.fill(0);
    }
  }
}
