import { isCryptoError } from '../../crypto/errors.js';
import { causedByHsmUnavailable } from '../../hsm/types.js';
import type { Logger } from '../../log.js';
import { storeErrorCode } from '../../store/types.js';
import { isKmipError, type KmipError, type ResultReasonName, V1_REASON } from '../errors.js';
import { defaultPrincipal, type ItemEvent, type ItemGuard } from '../hooks.js';
import {
  buildResponseBatchItem,
  buildResponseHeader,
  buildResponseMessage,
  type ProtocolVersionPair,
  parseRequestMessage,
  peekProtocolVersion,
  pruneForVersion,
  type RequestBatchItem,
  type RequestMessage,
  resolveVersion,
} from '../messages/index.js';
import { criticalExtensionErrors } from '../messages/message-extension.js';
import { UndoJournal } from '../model/service.js';
import type {
  ClientIdentity,
  OperationContext,
  OperationDefinition,
  OperationServices,
  Principal,
  ServerDescription,
} from '../operations/index.js';
import {
  BatchErrorContinuationOption,
  compareVersions,
  enumNameOf,
  enumValueExistsIn,
  type KmipVersion,
  Operation,
  ResultReason,
  ResultStatus,
  Tag,
  versionFromPair,
  versionPair,
} from '../spec/index.js';
import { decodeTtlv, encodeTtlv, ttlvSize } from '../ttlv/binary.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import {
  itemEvent,
  report,
  sniffProtocolVersion,
  unavailableServices,
  withIdPlaceholder,
} from './batch-items.js';

export type { ItemCheck, ItemEvent, ItemGuard } from '../hooks.js';
export { defaultPrincipal, sniffProtocolVersion };

export interface ExecutorOptions {
  readonly operations: readonly OperationDefinition[];
  readonly server: Omit<ServerDescription, 'operations'>;
  readonly log: Logger;
  readonly maxDepth: number;
  readonly maxBatchItems: number;
  /**
   * Largest response message, in bytes (limits.maxResponseBytes; default
   * DEFAULT_MAX_RESPONSE_BYTES). A client's smaller Maximum Response Size
   * wins. An item whose answer would cross it answers Response Too Large and
   * its output is dropped; the items after it are not run.
   */
  readonly maxResponseBytes?: number;
  readonly now?: () => Date;
  /** the object service; without it, object operations fail with "storage unavailable" */
  readonly services?: OperationServices;
  /**
   * Told about every batch item once its result is known (the audit trail).
   * Awaited before the response is sent: an item is not answered before it
   * is recorded. A throw fails nothing; it is logged.
   */
  readonly onItem?: (event: ItemEvent) => void | Promise<void>;
  /**
   * Resolves who a message acts for (access layer). A KmipError fails every
   * item of the message with its reason. Default: defaultPrincipal.
   */
  readonly resolvePrincipal?: (
    client: ClientIdentity,
    authentication: TtlvStructure | undefined,
  ) => Principal | Promise<Principal>;
  /** The object services as `principal` may see them (tenant scoping). Default: unchanged. */
  readonly scopeServices?: (services: OperationServices, principal: Principal) => OperationServices;
  /**
   * Run before each item, in order: a KmipError fails that item (roles,
   * dual control, purpose policy); the operation does not run.
   */
  readonly guards?: readonly ItemGuard[];
}

/**
 * A message whose operations have run and whose answer waits for its audit
 * records to become durable (ExecutorOptions.onItem).
 */
export interface StagedResponse {
  /** never rejects */
  readonly response: Promise<Buffer>;
  /** what the answer will take, at most (the listener bounds the bytes a connection holds with it) */
  readonly bytes: number;
}

export interface BatchExecutor {
  /** Never rejects: every problem becomes a KMIP response. */
  execute(frame: Uint8Array, client: ClientIdentity, signal: AbortSignal): Promise<Buffer>;
  /**
   * Runs the message's operations and resolves as soon as they are done, so
   * that the connection can start its next message while this one's audit
   * record is committed (pipelining clients then share group commits); the
   * answer is `response`, ready only once onItem resolved. Never rejects.
   */
  stage(frame: Uint8Array, client: ClientIdentity, signal: AbortSignal): Promise<Buffer | StagedResponse>;
}

type ReasonName = keyof typeof ResultReason;

interface Outcome {
  readonly item: TtlvStructure;
  readonly failed: boolean;
}

const GENERIC_FAILURE_MESSAGE = 'internal server error; the server log has the details';

/**
 * Default limits.maxResponseBytes: 16 answers of the largest object a default
 * 1 MiB request can register (or 16 RNG Retrieves of their 1 MiB maximum), far
 * above any real client's message, and small enough that the process holds a
 * bounded amount per connection (the listener stops reading past it too).
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export function createBatchExecutor(opts: ExecutorOptions): BatchExecutor {
  const byOperation = new Map<number, OperationDefinition>();
  for (const op of opts.operations) byOperation.set(op.operation, op);
  const server: ServerDescription = { ...opts.server, operations: opts.operations };
  const now = opts.now ?? (() => new Date());
  const log = opts.log;
  const services = opts.services ?? unavailableServices(now);
  const maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const emptySizes = new Map<KmipVersion, number>();

  /** Header plus message framing, the same for every message of a version (Time Stamp and Batch Count are fixed size). */
  function emptyResponseSize(version: KmipVersion): number {
    let size = emptySizes.get(version);
    if (size === undefined) {
      size = ttlvSize(
        buildResponseMessage(
          buildResponseHeader({ protocolVersion: versionPair(version), timeStamp: now() }, 0),
          [],
        ),
      );
      emptySizes.set(version, size);
    }
    return size;
  }

  function reasonValue(name: string, version: KmipVersion): number {
    for (const candidate of [name, V1_REASON[name as ResultReasonName]]) {
      const value = candidate === undefined ? undefined : (ResultReason as Record<string, number>)[candidate];
      if (value !== undefined && enumValueExistsIn('ResultReason', value, version)) return value;
    }
    // A reason the request's version lacks and has no equivalent for.
    return ResultReason.GeneralFailure;
  }

  function failure(
    version: KmipVersion,
    operation: number | undefined,
    id: Uint8Array | undefined,
    reason: ReasonName | string,
    message: string,
  ): TtlvStructure {
    return buildResponseBatchItem({
      operation,
      uniqueBatchItemId: id,
      resultStatus: ResultStatus.OperationFailed,
      resultReason: reasonValue(reason, version),
      resultMessage: message,
    });
  }

  function encodeResponse(version: KmipVersion, items: readonly TtlvStructure[]): Buffer {
    const header = buildResponseHeader(
      { protocolVersion: versionPair(version), timeStamp: now() },
      items.length,
    );
    const message = buildResponseMessage(header, items);
    const shaped = pruneForVersion(message, version, (tag) =>
      log.warn('response item not defined in request version removed', {
        tag: `0x${tag.toString(16)}`,
        version,
      }),
    );
    return encodeTtlv(shaped ?? message);
  }

  function messageFailure(
    pair: ProtocolVersionPair | undefined,
    reason: ReasonName,
    message: string,
  ): Buffer {
    const version = (pair && versionFromPair(pair.major, pair.minor)) ?? (pair ? resolveAnswer(pair) : '1.0');
    return encodeResponse(version, [failure(version, undefined, undefined, reason, message)]);
  }

  function resolveAnswer(pair: ProtocolVersionPair): KmipVersion {
    const r = resolveVersion(pair);
    return r.supported ? r.version : r.answerIn;
  }

  async function runItem(
    b: RequestBatchItem,
    ctx: OperationContext,
    clientCorrelationValue: string | undefined,
  ): Promise<Outcome> {
    const version = ctx.version;
    const fail = (reason: string, message: string): Outcome => ({
      item: failure(version, b.operation, b.uniqueBatchItemId, reason, message),
      failed: true,
    });
    if (b.problem !== undefined || b.operation === undefined || b.payload === undefined) {
      return fail('InvalidMessage', b.problem ?? 'malformed Batch Item');
    }
    const def = byOperation.get(b.operation);
    if (def === undefined || compareVersions(def.since, version) > 0) {
      const name = enumNameOf('Operation', b.operation) ?? `0x${b.operation.toString(16).padStart(8, '0')}`;
      if (b.operation === Operation.Poll || b.operation === Operation.Cancel) {
        // KMIP 1.0 §4.26-4.27: only asynchronous (Operation Pending) requests can be polled or cancelled.
        return fail(
          'OperationNotSupported',
          `${name}: this server completes every operation within its request and never answers Operation Pending, so there is nothing to ${name === 'Poll' ? 'poll' : 'cancel'}`,
        );
      }
      if (b.operation === Operation.Notify || b.operation === Operation.Put) {
        // KMIP 1.0 §5: Notify and Put are server-to-client operations.
        return fail(
          'OperationNotSupported',
          `${name} is a server-to-client operation (KMIP 1.0 §5); a client cannot send it`,
        );
      }
      return fail('OperationNotSupported', `operation ${name} is not supported in KMIP ${version}`);
    }
    try {
      const input = def.needsObject ? withIdPlaceholder(b.payload, ctx.idPlaceholder) : b.payload;
      for (const guard of opts.guards ?? []) {
        await guard({ operation: b.operation, payload: input, ctx, clientCorrelationValue });
      }
      const payload = await def.handle(input, ctx);
      return {
        item: buildResponseBatchItem({
          operation: b.operation,
          uniqueBatchItemId: b.uniqueBatchItemId,
          resultStatus: ResultStatus.Success,
          payload,
        }),
        failed: false,
      };
    } catch (e: unknown) {
      if (isKmipError(e) || isCryptoError(e)) return fail(e.reason, e.message);
      if (storeErrorCode(e) === 'ERR_STORE_UNAVAILABLE') {
        const message = e instanceof Error ? e.message : String(e);
        // The Sealer reports a lost HSM as storage that cannot be unsealed; say which.
        const what = causedByHsmUnavailable(e) ? 'HSM unavailable' : 'storage unavailable';
        log.error(what, { operation: enumNameOf('Operation', b.operation), error: message });
        return fail('GeneralFailure', what);
      }
      log.error('operation failed unexpectedly', {
        operation: enumNameOf('Operation', b.operation),
        error: e instanceof Error ? e.stack : String(e),
      });
      return fail('GeneralFailure', GENERIC_FAILURE_MESSAGE);
    }
  }

  async function runMessage(
    req: RequestMessage,
    client: ClientIdentity,
    signal: AbortSignal,
    extensionErrors: readonly (KmipError | undefined)[] = [],
  ): Promise<Buffer | StagedResponse> {
    const h = req.header;
    const resolved = resolveVersion(h.protocolVersion);
    if (!resolved.supported) {
      const v = resolved.answerIn;
      // KMIP 2.0 added Unsupported Protocol Version; 1.x can only say Invalid Message.
      const reason = compareVersions(v, '2.0') >= 0 ? 'UnsupportedProtocolVersion' : 'InvalidMessage';
      const msg = `protocol version ${h.protocolVersion.major}.${h.protocolVersion.minor} is not supported; use Discover Versions`;
      return encodeResponse(
        v,
        req.batchItems.map((b) => failure(v, b.operation, b.uniqueBatchItemId, reason, msg)),
      );
    }
    const version = resolved.version;
    if (req.batchItems.length > opts.maxBatchItems) {
      return encodeResponse(version, [
        failure(
          version,
          undefined,
          undefined,
          'ServerLimitExceeded',
          `at most ${opts.maxBatchItems} batch items per message`,
        ),
      ]);
    }
    const continuation = h.batchErrorContinuationOption ?? BatchErrorContinuationOption.Stop;
    // Undo (KMIP 1.0 §6.7): the items' writes are journaled and put back when one fails.
    const journal =
      continuation === BatchErrorContinuationOption.Undo && opts.services !== undefined
        ? new UndoJournal()
        : undefined;
    let principal: Principal;
    try {
      principal = (await opts.resolvePrincipal?.(client, h.authentication)) ?? defaultPrincipal(client);
    } catch (e: unknown) {
      if (!isKmipError(e)) throw e;
      return encodeResponse(
        version,
        req.batchItems.map((b) => failure(version, b.operation, b.uniqueBatchItemId, e.reason, e.message)),
      );
    }
    const scoped = opts.scopeServices?.(services, principal) ?? services;
    const itemServices =
      journal === undefined ? scoped : { ...scoped, objects: scoped.objects.journaled(journal) };
    const ctx: OperationContext = {
      version,
      client,
      principal,
      idPlaceholder: undefined,
      signal,
      server,
      services: itemServices,
    };
    // The response size budget (KMIP 1.0 §6.3 Maximum Response Size, Response Too Large
    // since 1.0): the client's maximum, never more than the server's.
    const clientMax = h.maximumResponseSize;
    const limit = clientMax === undefined ? maxResponseBytes : Math.min(clientMax, maxResponseBytes);
    const limitText =
      clientMax !== undefined && clientMax <= maxResponseBytes
        ? `the Maximum Response Size of ${clientMax} bytes`
        : `the server's response size limit of ${maxResponseBytes} bytes`;
    let size = emptyResponseSize(version);
    // Once an answer was dropped for its size, or nothing fits any more, no further item runs.
    let spent = size >= limit;
    const tooLarge = (b: RequestBatchItem, message: string): Outcome => ({
      item: failure(version, b.operation, b.uniqueBatchItemId, 'ResponseTooLarge', message),
      failed: true,
    });
    const items: TtlvStructure[] = [];
    for (const [index, b] of req.batchItems.entries()) {
      if (signal.aborted) break;
      // KMIP 1.0 §6.16: an item with a critical Message Extension the server does not understand fails.
      const extension = extensionErrors[index];
      let outcome: Outcome;
      if (spent) {
        outcome = tooLarge(b, `not run: the response reached ${limitText}`);
      } else if (extension !== undefined) {
        outcome = {
          item: failure(version, b.operation, b.uniqueBatchItemId, extension.reason, extension.message),
          failed: true,
        };
      } else {
        ctx.responseBytesLeft = limit - size;
        outcome = await runItem(b, ctx, h.clientCorrelationValue);
      }
      // Measured, not encoded (the Get hot path encodes once); what the version prunes only
      // when the item looks too large, so that an answer that fits exactly is kept.
      let itemSize = ttlvSize(outcome.item);
      if (!spent && size + itemSize > limit) {
        const shaped = pruneForVersion(outcome.item, version);
        itemSize = shaped === undefined ? 0 : ttlvSize(shaped);
        if (size + itemSize > limit) {
          // Dropped here: the answer is not kept, and nothing after it runs.
          outcome = tooLarge(b, `the response would exceed ${limitText}`);
          itemSize = ttlvSize(outcome.item);
          spent = true;
        }
      }
      size += itemSize;
      if (size >= limit) spent = true;
      items.push(outcome.item);
      if (opts.onItem !== undefined) {
        const event = itemEvent(now(), b, outcome.item, ctx, h.clientCorrelationValue, index);
        const reported = report(opts.onItem, event, log);
        const last =
          index === req.batchItems.length - 1 ||
          (outcome.failed && continuation !== BatchErrorContinuationOption.Continue);
        if (last && journal === undefined) {
          // Nothing after this item depends on its record: the message is done, its answer waits.
          const at = items.length - 1;
          return {
            bytes: size,
            response: reported
              .then((ok) => {
                if (!ok) items[at] = auditFailure(version, b);
                return encodeResponse(version, items);
              })
              .catch((e: unknown) => {
                log.error('request failed unexpectedly', {
                  error: e instanceof Error ? e.stack : String(e),
                });
                return messageFailure(versionPair(version), 'GeneralFailure', GENERIC_FAILURE_MESSAGE);
              }),
          };
        }
        if (!(await reported)) {
          outcome = { item: auditFailure(version, b), failed: true };
          items[items.length - 1] = outcome.item;
        }
      }
      if (outcome.failed && continuation !== BatchErrorContinuationOption.Continue) {
        if (journal !== undefined) return encodeResponse(version, await undoBatch(journal, items));
        break;
      }
    }
    return encodeResponse(version, items);
  }

  /** audit.failClosed (src/audit/index.ts): no answer the audit trail does not hold. */
  function auditFailure(version: KmipVersion, b: RequestBatchItem): TtlvStructure {
    return failure(version, b.operation, b.uniqueBatchItemId, 'GeneralFailure', 'audit trail unavailable');
  }

  /** Puts back the batch's writes; the items that had succeeded become Operation Undone. */
  async function undoBatch(journal: UndoJournal, items: readonly TtlvStructure[]): Promise<TtlvStructure[]> {
    const notUndone = await services.objects.undo(journal);
    if (notUndone.length > 0) {
      log.error('undo left objects changed by others meanwhile', { objects: notUndone });
    }
    return items.map((item, i) =>
      i === items.length - 1
        ? item
        : {
            ...item,
            value: item.value.map((c) =>
              c.tag === Tag.ResultStatus && c.type === 'Enumeration' && c.value === ResultStatus.Success
                ? { ...c, value: ResultStatus.OperationUndone }
                : c,
            ),
          },
    );
  }

  async function stage(
    frame: Uint8Array,
    client: ClientIdentity,
    signal: AbortSignal,
  ): Promise<Buffer | StagedResponse> {
    try {
      let message: TtlvItem;
      try {
        message = decodeTtlv(frame, { maxDepth: opts.maxDepth });
      } catch (e: unknown) {
        log.info('undecodable request', {
          client: client.commonName,
          error: e instanceof Error ? e.message : 'unknown',
        });
        return messageFailure(sniffProtocolVersion(frame), 'InvalidMessage', 'the message is not valid TTLV');
      }
      let req: RequestMessage;
      try {
        req = parseRequestMessage(message);
      } catch (e: unknown) {
        const text = isKmipError(e) ? e.message : 'malformed request message';
        return messageFailure(peekProtocolVersion(message), 'InvalidMessage', text);
      }
      return await runMessage(req, client, signal, criticalExtensionErrors(message));
    } catch (e: unknown) {
      log.error('request failed unexpectedly', { error: e instanceof Error ? e.stack : String(e) });
      return messageFailure(sniffProtocolVersion(frame), 'GeneralFailure', GENERIC_FAILURE_MESSAGE);
    }
  }

  return {
    stage,
    async execute(frame, client, signal) {
      const staged = await stage(frame, client, signal);
      return Buffer.isBuffer(staged) ? staged : staged.response;
    },
  };
}
