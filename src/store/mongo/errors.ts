import {
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoStalePrimaryError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
} from 'mongodb';
import { DuplicateIdError, StoreUnavailableError, storeErrorCode } from '../types.js';

// Server codes meaning "not this node, not now": NotWritablePrimary,
// NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary, InterruptedAtShutdown,
// InterruptedDueToReplStateChange, ShutdownInProgress, PrimarySteppedDown,
// HostUnreachable, HostNotFound, NetworkTimeout, SocketException,
// ExceededTimeLimit, WriteConcernFailed, UnsatisfiableWriteConcern.
const unavailableCodes = new Set([10107, 13435, 13436, 11600, 11602, 91, 189, 6, 7, 89, 9001, 262, 64, 100]);

export const DUPLICATE_KEY = 11000;

export const isDuplicate = (err: unknown): boolean =>
  err instanceof MongoServerError && err.code === DUPLICATE_KEY;

/** Driver and server errors → store errors; store errors pass through unchanged. */
export function mapMongoError(err: unknown, what: string): unknown {
  if (storeErrorCode(err) !== undefined) return err;
  if (
    err instanceof MongoServerError &&
    err.code === DUPLICATE_KEY &&
    !(err instanceof MongoWriteConcernError)
  ) {
    return new DuplicateIdError(`${what}: duplicate identifier`, { cause: err });
  }
  if (isUnavailable(err)) {
    return new StoreUnavailableError(`${what}: storage unavailable (${describe(err)})`, {
      cause: err,
    });
  }
  return err;
}

/**
 * Socket errors the driver sometimes lets through unwrapped, e.g. "This
 * socket has been ended by the other party" (EPIPE) when the server dies
 * between two commands on a pooled connection.
 */
const SOCKET_CODES = new Set([
  'EPIPE',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ERR_SOCKET_CLOSED',
]);

function isUnavailable(err: unknown): boolean {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string' && SOCKET_CODES.has(err.code)) {
    return true;
  }
  if (
    err instanceof MongoNetworkError ||
    err instanceof MongoServerSelectionError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoServerClosedError ||
    err instanceof MongoStalePrimaryError ||
    err instanceof MongoOperationTimeoutError ||
    err instanceof MongoWriteConcernError
  ) {
    return true;
  }
  if (err instanceof MongoError) {
    if (err.hasErrorLabel('RetryableWriteError') || err.hasErrorLabel('ResetPool')) return true;
    if (typeof err.code === 'number' && unavailableCodes.has(err.code)) return true;
  }
  return false;
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.name;
  return 'unknown error';
}
