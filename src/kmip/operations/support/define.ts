/**
 * The pipeline every operation runs through: decode the typed request,
 * enforce what the operation declares about its object (presence, Object
 * Type, lifecycle state, archived), or, for a cryptographic operation,
 * resolve its key (state, usage mask, usage limits, local or HSM-resident),
 * then the handler, then encode the typed response. A handler never sees a
 * tag and never repeats these checks.
 *
 * Declared states are checked when the object is loaded and again, on the
 * current version, inside every update the handler makes through its
 * target, so that a concurrent change of state is never overwritten.
 */
import { KmipError, type ResultReasonName } from '../../errors.js';
import { isArchived } from '../../model/lifecycle.js';
import type { ManagedObject } from '../../model/object.js';
import type { Mutation } from '../../model/writes.js';
import { decodePayload, encodePayload, type PayloadOf, type Schema } from '../../payloads/schema.js';
import { enumNameOf, type KmipVersion, State } from '../../spec/index.js';
import type { TtlvItem, TtlvStructure } from '../../ttlv/types.js';
import type { OperationContext, OperationDefinition } from '../types.js';
import { notFound, reason, stateName, stateOf, updateTarget, wrongState } from './common.js';
import { type CryptoTarget, type CryptoUsage, consumeUsage, loadCryptoObject } from './crypto-common.js';

export type StateName = keyof typeof State;

type Awaitable<T> = T | Promise<T>;

interface Declaration<Req extends Schema, Res extends Schema> {
  /** Operation enumeration value (KMIP 1.0 §9.1.3.2.26, 2.0 §11.26) */
  readonly operation: number;
  /** first protocol version in which a client may send it */
  readonly since: KmipVersion;
  /** writes to the store */
  readonly mutates: boolean;
  readonly request: Req;
  readonly response: Res;
}

/** What an operation that acts on one named object requires of it. */
export interface ObjectRule {
  /** States in which the operation may act; absent: any. */
  readonly states?: readonly StateName[];
  /** What a refused state is called in the message ("cannot be destroyed"); default: the allowed states. */
  readonly stateMessage?: (obj: ManagedObject, state: number) => string;
  /** Object Type values it acts on; absent: any. */
  readonly types?: readonly number[];
  /** The Result Reasons for another Object Type (2.x, 1.x); default Invalid Object Type / Invalid Field. */
  readonly typeReason?: readonly [ResultReasonName, ResultReasonName];
  readonly typeMessage?: (obj: ManagedObject) => string;
  /** Archived objects are off-line until Recover (KMIP 1.0 §4.10, §4.21): refused with Object Archived. */
  readonly online?: boolean;
}

/** The object an operation acts on, as the pipeline checked it. */
export interface ObjectTarget {
  readonly obj: ManagedObject;
  /** Updates the object; the declared rule is checked again on its current version first. */
  update(mutate: Mutation): Promise<ManagedObject>;
}

export type Handler<Req extends Schema, Res extends Schema, Extra extends unknown[] = []> = (
  req: PayloadOf<Req>,
  ctx: OperationContext,
  ...extra: Extra
) => Awaitable<PayloadOf<Res>>;

function definition<Req extends Schema, Res extends Schema>(
  d: Declaration<Req, Res>,
  needsObject: boolean,
  allowedStates: readonly string[] | undefined,
  run: (req: PayloadOf<Req>, ctx: OperationContext) => Awaitable<PayloadOf<Res>>,
): OperationDefinition {
  return {
    operation: d.operation,
    since: d.since,
    mutates: d.mutates,
    needsObject,
    ...(allowedStates === undefined ? {} : { allowedStates }),
    request: d.request,
    response: d.response,
    async handle(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
      const res = await run(decodePayload(d.request, payload, ctx.version), ctx);
      return encodePayload(d.response, res, ctx.version);
    },
  };
}

/**
 * An operation whose handler finds its objects itself (Create, Register,
 * Locate, Query...). `usesPlaceholder`: an omitted Unique Identifier is
 * filled from the ID Placeholder (Certify, whose key is optional).
 */
export function defineOperation<Req extends Schema, Res extends Schema>(
  d: Declaration<Req, Res> & { readonly usesPlaceholder?: boolean; readonly handle: Handler<Req, Res> },
): OperationDefinition {
  return definition(d, d.usesPlaceholder === true, undefined, d.handle);
}

/** The Unique Identifier of the item (the executor filled an omitted one from the ID Placeholder). */
export function requiredId(id: string | undefined): string {
  if (id === undefined) {
    // An omitted identifier with no ID Placeholder names no object (OASIS TC_152:
    // a Get after a Locate that found nothing answers Item Not Found).
    throw new KmipError(
      'ItemNotFound',
      'no Unique Identifier given and no ID Placeholder set by an earlier item',
    );
  }
  return id;
}

/** Checks `obj` against `rule` (presence is the caller's), in the order the vectors expect: type, state, archived. */
export function checkRule(
  ctx: OperationContext,
  operation: number,
  rule: ObjectRule,
  obj: ManagedObject,
): void {
  if (rule.types !== undefined && !rule.types.includes(obj.objectType)) {
    const [v2, v1] = rule.typeReason ?? ['InvalidObjectType', 'InvalidField'];
    const type = enumNameOf('ObjectType', obj.objectType) ?? String(obj.objectType);
    const op = enumNameOf('Operation', operation) ?? String(operation);
    throw new KmipError(
      reason(ctx, v2, v1),
      rule.typeMessage?.(obj) ?? `object ${obj.id} is a ${type}; ${op} does not act on it`,
    );
  }
  if (rule.states !== undefined) {
    const state = stateOf(obj);
    if (!rule.states.some((s) => State[s] === state)) {
      const text =
        rule.stateMessage?.(obj, state) ??
        `object ${obj.id} is ${stateName(state)}, not ${rule.states.join(' or ')}`;
      throw wrongState(ctx, text);
    }
  }
  if (rule.online === true && isArchived(obj.attributes)) {
    throw new KmipError('ObjectArchived', `object ${obj.id} is archived; Recover it first`);
  }
}

/** Loads the object `id` names and checks it against `rule`: Item / Object Not Found when there is none. */
export async function loadObject(
  ctx: OperationContext,
  operation: number,
  rule: ObjectRule,
  id: string,
): Promise<ManagedObject> {
  const obj = await ctx.services.objects.get(id);
  if (obj === undefined) throw notFound(ctx, id);
  checkRule(ctx, operation, rule, obj);
  return obj;
}

/** An operation on the object its Unique Identifier (or the ID Placeholder) names. */
export function defineObjectOperation<
  Req extends Schema & { readonly uniqueIdentifier: unknown },
  Res extends Schema,
>(
  d: Declaration<Req, Res> & {
    readonly object: ObjectRule;
    readonly handle: Handler<Req, Res, [ObjectTarget]>;
  },
): OperationDefinition {
  const rule = d.object;
  return definition(d, true, rule.states, async (req, ctx) => {
    const id = requiredId((req as { uniqueIdentifier?: string }).uniqueIdentifier);
    const obj = await loadObject(ctx, d.operation, rule, id);
    const target: ObjectTarget = {
      obj,
      update: (mutate) =>
        updateTarget(ctx, id, (current, content) => {
          checkRule(ctx, d.operation, rule, current);
          return mutate(current, content);
        }),
    };
    return d.handle(req, ctx, target);
  });
}

/** The request fields a cryptographic operation's key resolution reads. */
interface CryptoRequest {
  readonly uniqueIdentifier?: string;
  readonly cryptographicParameters?: TtlvStructure;
}

/**
 * Tells the pipeline what one protecting operation used of a key: one use,
 * or `bytes` for keys whose Usage Limits count bytes (KMIP 1.4 §3.21).
 */
export type CountUsage = (obj: ManagedObject, bytes?: number) => void;

/**
 * A cryptographic operation (Encrypt, Decrypt, Sign, Signature Verify, MAC,
 * MAC Verify...): the pipeline resolves its key for `usage` (lifecycle
 * state and dates, usage mask, usage limits, local or HSM-resident:
 * crypto-common.ts), the handler supplies only the cryptographic step, and
 * the pipeline counts the use the handler reports once the step succeeded
 * (a failed step spends nothing). A request that continues a multi-part
 * stream names no key: the handler gets `undefined` and resumes its stream.
 */
export function defineCryptoOperation<Req extends Schema, Res extends Schema>(
  d: Declaration<Req, Res> & {
    readonly usage: CryptoUsage;
    readonly continues?: (req: PayloadOf<Req>) => boolean;
    readonly handle: Handler<Req, Res, [CryptoTarget | undefined, CountUsage]>;
  },
): OperationDefinition {
  const states: StateName[] =
    d.usage.use === 'protect' ? ['Active'] : ['Active', 'Deactivated', 'Compromised'];
  return definition(d, true, states, async (req, ctx) => {
    let spent: { obj: ManagedObject; bytes: number } | undefined;
    const count: CountUsage = (obj, bytes = 0) => {
      spent = { obj, bytes };
    };
    let key: CryptoTarget | undefined;
    if (d.continues?.(req) !== true) {
      const r = req as CryptoRequest;
      key = await loadCryptoObject(ctx, requiredId(r.uniqueIdentifier), d.usage, r.cryptographicParameters);
    }
    const res = await d.handle(req, ctx, key, count);
    // Usage Limits are counted by the pipeline, once the step has succeeded (KMIP 1.4 §3.21).
    const used = spent as { obj: ManagedObject; bytes: number } | undefined;
    if (used !== undefined) await consumeUsage(ctx, used.obj, used.bytes);
    return res;
  });
}
