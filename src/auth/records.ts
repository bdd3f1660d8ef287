/**
 * Access-control state the service team changes at run time (tenants,
 * identity assignments, grants, approval requests), kept in the object
 * store as server-managed records so that it is durable, replicated with
 * the keys (MongoDB), backed up with them, and shared by every node.
 *
 * A record is an ObjectRecord owned by ACCESS_RECORD_OWNER: tombstoned (so
 * no Locate lists it without asking for destroyed objects), with an object
 * type and state no KMIP filter can name, and its JSON body in a custom
 * index field. The object service hides that owner from every operation.
 * Optimistic concurrency (the record version) makes approvals race-free
 * across nodes.
 */

import { encodeAttributes } from '../kmip/model/record.js';
import { ACCESS_RECORD_OWNER } from '../kmip/model/service.js';
import { type LocatePage, type ObjectRecord, type ObjectStore, storeErrorCode } from '../store/types.js';

export type AccessRecordKind = 'tenant' | 'identity' | 'grant' | 'approval';

const KIND_FIELD = 'kmip-server:kind';
const BODY_FIELD = 'kmip-server:body';
const RECORD_TYPE = 'kmip-server:access';

export interface Stored<T> {
  readonly id: string;
  readonly version: number;
  readonly body: T;
  /** the record's index fields (RecordIndex) as stored */
  readonly index: RecordIndex;
}

/**
 * Fields a record is found by without reading every record of its kind
 * (find, count): store custom index fields, name → one value. Names start
 * with `kmip-server:` and are particular to one kind of record.
 */
export type RecordIndex = Readonly<Record<string, string>>;

export class RecordConflictError extends Error {
  override name = 'RecordConflictError';
}

function storeId(kind: AccessRecordKind, id: string): string {
  return `${ACCESS_RECORD_OWNER}:${kind}:${id}`;
}

export class AccessRecords {
  readonly #store: ObjectStore;
  readonly #clock: () => number;

  constructor(store: ObjectStore, clock: () => number = Date.now) {
    this.#store = store;
    this.#clock = clock;
  }

  async get<T>(kind: AccessRecordKind, id: string): Promise<Stored<T> | undefined> {
    const rec = await this.#store.get(storeId(kind, id));
    return rec === undefined ? undefined : this.#decode<T>(kind, id, rec);
  }

  /** Every record of the kind (reads them all: for listings and rare jobs, not per request). */
  async list<T>(kind: AccessRecordKind): Promise<Stored<T>[]> {
    return this.#read<T>(kind, await this.#store.locate(this.#filter(kind, {})));
  }

  /**
   * The records of the kind whose index fields have these values, oldest
   * first (creation order), at most `page.limit`: an indexed store query,
   * then only those records are read.
   */
  async find<T>(kind: AccessRecordKind, index: RecordIndex, page?: LocatePage): Promise<Stored<T>[]> {
    return this.#read<T>(kind, await this.#store.locate(this.#filter(kind, index), page));
  }

  /** How many records of the kind have these index values; no record is read. */
  async count(kind: AccessRecordKind, index: RecordIndex): Promise<number> {
    return this.#store.count(this.#filter(kind, index));
  }

  /**
   * With index fields, the kind is not asked of the store (the field names
   * are the kind's own, and #decode checks it): the query is driven by the
   * few rows that have the value, not by every record of the kind.
   */
  #filter(kind: AccessRecordKind, index: RecordIndex) {
    const custom = Object.entries(index).map(([name, value]) => ({ name, value }));
    return {
      owner: ACCESS_RECORD_OWNER,
      custom: custom.length === 0 ? [{ name: KIND_FIELD, value: kind }] : custom,
      includeTombstoned: true,
    };
  }

  async #read<T>(kind: AccessRecordKind, ids: readonly string[]): Promise<Stored<T>[]> {
    const prefix = storeId(kind, '');
    const out: Stored<T>[] = [];
    for (const sid of ids) {
      if (!sid.startsWith(prefix)) continue;
      const rec = await this.#store.get(sid);
      if (rec === undefined) continue;
      const decoded = this.#decode<T>(kind, sid.slice(prefix.length), rec);
      if (decoded !== undefined) out.push(decoded);
    }
    return out;
  }

  /** RecordConflictError when a record of that kind and id exists */
  async create<T>(kind: AccessRecordKind, id: string, body: T, index: RecordIndex = {}): Promise<Stored<T>> {
    try {
      await this.#store.insert(this.#record(kind, id, 1, body, index, this.#clock()));
    } catch (e: unknown) {
      if (storeErrorCode(e) === 'ERR_STORE_DUPLICATE_ID')
        throw new RecordConflictError(`${kind} ${id} already exists`);
      throw e;
    }
    return { id, version: 1, body, index };
  }

  /**
   * Replaces the body, and the index fields when `index` is given (otherwise
   * they stay as stored). RecordConflictError when someone changed it since
   * `expectedVersion`.
   */
  async update<T>(
    kind: AccessRecordKind,
    id: string,
    expectedVersion: number,
    body: T,
    newIndex?: RecordIndex,
  ): Promise<Stored<T>> {
    const current = await this.#store.get(storeId(kind, id));
    if (current === undefined) throw new RecordConflictError(`${kind} ${id} does not exist`);
    const index = newIndex ?? this.#decode<T>(kind, id, current)?.index ?? {};
    const next = {
      ...this.#record(kind, id, expectedVersion + 1, body, index, this.#clock()),
      createdAt: current.createdAt,
    };
    try {
      await this.#store.update(next, expectedVersion);
    } catch (e: unknown) {
      const code = storeErrorCode(e);
      if (code === 'ERR_STORE_VERSION_CONFLICT' || code === 'ERR_STORE_NOT_FOUND')
        throw new RecordConflictError(`${kind} ${id} changed meanwhile; try again`);
      throw e;
    }
    return { id, version: expectedVersion + 1, body, index };
  }

  #record<T>(
    kind: AccessRecordKind,
    id: string,
    version: number,
    body: T,
    index: RecordIndex,
    now: number,
  ): ObjectRecord {
    const custom: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(index)) {
      if (!name.startsWith('kmip-server:') || name === KIND_FIELD || name === BODY_FIELD)
        throw new Error(`${name} cannot be an index field of an access record`);
      custom[name] = [value];
    }
    return {
      id: storeId(kind, id),
      version,
      objectType: RECORD_TYPE,
      state: RECORD_TYPE,
      owner: ACCESS_RECORD_OWNER,
      names: [],
      objectGroups: [],
      algorithm: undefined,
      length: undefined,
      dates: {},
      custom: { ...custom, [KIND_FIELD]: [kind], [BODY_FIELD]: [JSON.stringify(body)] },
      attributes: encodeAttributes([]),
      sealed: undefined,
      createdAt: now,
      updatedAt: now,
      tombstoned: true,
    };
  }

  #decode<T>(kind: AccessRecordKind, id: string, rec: ObjectRecord): Stored<T> | undefined {
    if (rec.owner !== ACCESS_RECORD_OWNER || rec.custom[KIND_FIELD]?.[0] !== kind) return undefined;
    const text = rec.custom[BODY_FIELD]?.[0];
    if (text === undefined) return undefined;
    const index: Record<string, string> = {};
    for (const [name, values] of Object.entries(rec.custom)) {
      const value = values[0];
      if (name !== KIND_FIELD && name !== BODY_FIELD && value !== undefined) index[name] = value;
    }
    return { id, version: rec.version, body: JSON.parse(text) as T, index };
  }
}
