/**
 * The storage contract. Narrow on purpose: every backend (SQLite, MongoDB)
 * implements exactly this and passes one contract suite
 * (test/store/contract.ts). Records hold no plaintext key material: secrets
 * arrive already sealed (src/store/sealing.ts) and leave sealed.
 */

/** Secret material sealed with AES-256-GCM under a key-encryption key. */
export interface SealedBlob {
  /** the KEK that sealed it */
  readonly kekId: string;
  /** 12-byte GCM nonce */
  readonly nonce: Uint8Array;
  /** ciphertext followed by the 16-byte GCM tag */
  readonly ciphertext: Uint8Array;
}

/** One managed object as stored. Version-neutral; names follow KMIP 2.x. */
export interface ObjectRecord {
  /** Unique Identifier; unique across nodes */
  readonly id: string;
  /** optimistic concurrency: 1 when inserted, +1 on every update */
  readonly version: number;
  /** Object Type enumeration name, e.g. 'SymmetricKey' */
  readonly objectType: string;
  /** State enumeration name, e.g. 'PreActive' */
  readonly state: string;
  /** the identity (tenant) that owns the object; undefined for system objects */
  readonly owner: string | undefined;
  // Locate index fields, derived from the attributes by the model layer.
  readonly names: readonly string[];
  readonly objectGroups: readonly string[];
  /** Cryptographic Algorithm enumeration name */
  readonly algorithm: string | undefined;
  readonly length: number | undefined;
  /** date attributes by 2.x tag name ('ActivationDate', ...) in seconds since the epoch */
  readonly dates: Readonly<Record<string, number>>;
  /** custom attributes ('x-Name' or 'vendor:Name') → their values rendered as text, for Locate */
  readonly custom: Readonly<Record<string, readonly string[]>>;
  /** every non-sensitive attribute: the TTLV encoding of a 2.x Attributes structure */
  readonly attributes: Uint8Array;
  /** key material and sensitive attributes; undefined for objects without any and after Destroy */
  readonly sealed: SealedBlob | undefined;
  /** ms since the epoch */
  readonly createdAt: number;
  readonly updatedAt: number;
  /** destroyed or deleted: metadata kept, invisible to Locate unless asked */
  readonly tombstoned: boolean;
}

export interface DateRange {
  /** 2.x tag name of the date attribute */
  readonly field: string;
  /** inclusive bounds in seconds since the epoch */
  readonly from?: number;
  readonly to?: number;
}

/** Every field narrows the result (AND); an absent field does not filter. */
export interface LocateFilter {
  readonly objectType?: string;
  readonly state?: string;
  /** exact Name match */
  readonly name?: string;
  readonly objectGroup?: string;
  readonly algorithm?: string;
  readonly length?: number;
  readonly owner?: string;
  readonly dates?: readonly DateRange[];
  /** custom attribute equality on the text form of a value */
  readonly custom?: readonly { readonly name: string; readonly value: string }[];
  readonly includeTombstoned?: boolean;
}

export interface LocatePage {
  /** results to skip (KMIP Offset Items) */
  readonly offset?: number;
  /** at most this many (KMIP Maximum Items) */
  readonly limit?: number;
}

/** One entry of the audit trail (chaining and signing are the audit module's business). */
export interface AuditRecord {
  /** ms since the epoch */
  readonly at: number;
  readonly actor: string | undefined;
  readonly operation: string;
  readonly objectId: string | undefined;
  readonly outcome: string;
  readonly detail: Readonly<Record<string, string>>;
}

/** A key-encryption key, wrapped by a master key. */
export interface KekRecord {
  readonly id: string;
  /** the master key (and its version) that wrapped it */
  readonly masterKeyId: string;
  readonly wrapped: Uint8Array;
  readonly createdAt: number;
  /** new objects are sealed under the active KEK */
  readonly active: boolean;
}

export type WriteOp =
  | { readonly kind: 'insert'; readonly record: ObjectRecord }
  | { readonly kind: 'update'; readonly record: ObjectRecord; readonly expectedVersion: number }
  | { readonly kind: 'audit'; readonly record: AuditRecord };

export interface GetOptions {
  /**
   * false: the caller reads the attributes blob only, so names, objectGroups,
   * dates and custom may come back empty (SQLite keeps them in side tables:
   * four queries saved on every Get/Encrypt). Default true.
   */
  readonly indexFields?: boolean;
}

export interface ObjectStore {
  readonly kind: 'sqlite' | 'mongodb';
  /** tombstoned records too (Get on a destroyed key answers from its metadata) */
  get(id: string, opts?: GetOptions): Promise<ObjectRecord | undefined>;
  /** durable when it resolves; DuplicateIdError if the id exists */
  insert(record: ObjectRecord): Promise<void>;
  /**
   * Replaces the record if its stored version equals expectedVersion; the new
   * record's version must be expectedVersion + 1. VersionConflictError otherwise,
   * NotFoundError if absent.
   */
  update(record: ObjectRecord, expectedVersion: number): Promise<void>;
  /** ids in creation order, honouring offset/limit */
  locate(filter: LocateFilter, page?: LocatePage): Promise<string[]>;
  count(filter: LocateFilter): Promise<number>;
  /** every record (tombstoned included) in creation order, in batches; for background jobs */
  iterate(opts?: { batchSize?: number }): AsyncIterable<ObjectRecord>;
  appendAudit(record: AuditRecord): Promise<void>;
  /** audit records in append order */
  readAudit(opts?: { after?: number; limit?: number }): AsyncIterable<AuditRecord & { readonly seq: number }>;
  /** the last audit record appended (the audit writer links a new chain segment to it); optional */
  lastAudit?(): Promise<(AuditRecord & { readonly seq: number }) | undefined>;
  /**
   * A few writes that become visible together or not at all (e.g. Re-key: insert
   * the new key, update the old one's links, audit). All or nothing.
   */
  atomic(ops: readonly WriteOp[]): Promise<void>;
  /**
   * Rolls back a restore that failed half-way (src/store/backup.ts), in a
   * store that was empty before it: deletes the objects and KEKs with these
   * ids (absent ones are ignored) and every audit record numbered above
   * `auditAfter`. Nothing else may call it. Optional: without it a failed
   * restore leaves what it wrote.
   */
  undoRestore?(written: {
    readonly objectIds: readonly string[];
    readonly kekIds: readonly string[];
    readonly auditAfter: number;
  }): Promise<void>;
  putKek(kek: KekRecord): Promise<void>;
  getKek(id: string): Promise<KekRecord | undefined>;
  listKeks(): Promise<KekRecord[]>;
  /** stops accepting work; resolves when everything acknowledged is durable */
  close(): Promise<void>;
}

const kBrand = Symbol.for('kmip-server.error');

abstract class StoreError extends Error {
  abstract readonly code: string;
  readonly [kBrand] = true;
}

export class DuplicateIdError extends StoreError {
  readonly code = 'ERR_STORE_DUPLICATE_ID' as const;
  override name = 'DuplicateIdError';
}

export class VersionConflictError extends StoreError {
  readonly code = 'ERR_STORE_VERSION_CONFLICT' as const;
  override name = 'VersionConflictError';
}

export class NotFoundError extends StoreError {
  readonly code = 'ERR_STORE_NOT_FOUND' as const;
  override name = 'NotFoundError';
}

/** The database cannot be reached or refused the write; nothing was acknowledged. */
export class StoreUnavailableError extends StoreError {
  readonly code = 'ERR_STORE_UNAVAILABLE' as const;
  override name = 'StoreUnavailableError';
}

export function storeErrorCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || (e as Record<symbol, unknown>)[kBrand] !== true)
    return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_STORE_') ? code : undefined;
}

/**
 * The operation of the record that opens an audit segment (src/audit/chain.ts);
 * its detail names the KEK that seals the segment, which backups must carry.
 */
export const AUDIT_OPEN_OPERATION = 'AuditOpen';
