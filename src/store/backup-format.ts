/** The backup file's constants, types and errors (src/store/backup.ts describes the format). */
import type { MasterKeyProvider } from '../hsm/types.js';
export const EXPORT_FORMAT = 'kmip-server-store';
export const EXPORT_VERSION = 2;
/** version 1: no authentication, KEKs first; restored only when explicitly allowed */
export const UNAUTHENTICATED_VERSION = 1;
export const MAC_ALG = 'HMAC-SHA256';
export const MAC_KEY_BYTES = 32;
export const MAC_BYTES = 32;
/** no record comes near this; it bounds the memory a damaged file can take */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

export type BackupPhase = 'verify' | 'objects' | 'audit' | 'keks';

export interface BackupProgress {
  readonly phase: BackupPhase;
  readonly done: number;
  /** expected total for the phase */
  readonly total: number;
}

export type ProgressCallback = (p: BackupProgress) => void;

export interface Counts {
  keks: number;
  objects: number;
  audit: number;
}

export interface ExportOptions {
  /** wraps the export's MAC key: the provider of the store's master key */
  readonly provider: MasterKeyProvider;
  readonly progress?: ProgressCallback;
}

export interface ImportOptions {
  /** unwraps the export's MAC key: a provider holding the master key the export names */
  readonly provider: MasterKeyProvider;
  readonly progress?: ProgressCallback;
  /**
   * Also restore a version 1 export, which carries no MAC: still checked in
   * full (structure, counts, KEKs) before anything is written, but anyone
   * could have altered it. Default false: refused.
   */
  readonly allowUnauthenticated?: boolean;
  /** told when the store held an interrupted restore of this export, removed before restoring */
  readonly notice?: (message: string) => void;
}

export const PROGRESS_EVERY = 1000;
/** records per atomic() call on import: ops are applied in order, so creation and audit order survive */
export const IMPORT_CHUNK = 256;

/** The file is not a complete, authentic export for this master key; nothing was written. */
export class BackupFormatError extends Error {
  override name = 'BackupFormatError';
}

/** An export would lack a KEK that a record in it needs; it is not returned. */
export class BackupIncompleteError extends Error {
  override name = 'BackupIncompleteError';
}

/** Writing a verified export failed; `rolledBack` tells whether the store is empty again. */
export class RestoreError extends Error {
  override name = 'RestoreError';
  constructor(
    message: string,
    readonly rolledBack: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type Json = Record<string, unknown>;

export const b64 = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64');
