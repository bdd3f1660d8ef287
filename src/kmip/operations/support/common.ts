/**
 * Helpers shared by the operations: version-aware result reasons, lifecycle
 * state, unique Names, the attributes a new object is requested with, and
 * giving back a dual-control approval when an item fails.
 */
import { isKmipError, KmipError, type ResultReasonName } from '../../errors.js';
import { notFound, takeApprovalRelease } from '../../hooks.js';
import type { ModelAttribute } from '../../messages/attributes.js';
import { findEnum } from '../../model/attributes.js';
import { checkClientAttributes } from '../../model/lifecycle.js';
import type { ManagedObject } from '../../model/object.js';
import { withTemplates } from '../../model/templates.js';
import { compareVersions, enumNameOf, type KmipVersion, State, Tag } from '../../spec/index.js';
import { childText } from '../../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../../ttlv/types.js';
import type { OperationContext, OperationDefinition } from '../types.js';

export function isV2(version: KmipVersion): boolean {
  return compareVersions(version, '2.0') >= 0;
}

/** 2.x has precise reasons that 1.x lacks; each 1.x fallback is what the 1.x profile vectors expect. */
export function reason(ctx: OperationContext, v2: ResultReasonName, v1: ResultReasonName): ResultReasonName {
  return isV2(ctx.version) ? v2 : v1;
}

export { notFound };

export function stateOf(obj: ManagedObject): number {
  return findEnum(obj.attributes, Tag.State) ?? State.PreActive;
}

export function stateName(state: number): string {
  return enumNameOf('State', state) ?? String(state);
}

export function isDestroyed(state: number): boolean {
  return state === State.Destroyed || state === State.DestroyedCompromised;
}

/**
 * Wrong Key Lifecycle State from KMIP 2.1; 1.x and 2.0 answer Permission
 * Denied, as every 1.x and 2.0 profile vector expects (SKLC-M-2-1x,
 * AKLC-M-2-20, CS-BC-M-14-20, CS-AC-M-8-20) while their 2.1 twins expect
 * Wrong Key Lifecycle State.
 */
export function wrongState(ctx: OperationContext, message: string): KmipError {
  const reasonName = compareVersions(ctx.version, '2.1') >= 0 ? 'WrongKeyLifecycleState' : 'PermissionDenied';
  return new KmipError(reasonName, message);
}

export function uidItem(id: string): TtlvItem {
  return { tag: Tag.UniqueIdentifier, type: 'TextString', value: id };
}

/**
 * KMIP 2.x Non Unique Name Attribute (2.1 §4.2: a Name is unique among live
 * objects). 1.x states no such error; 1.x clients (Barbican, pg_tde) get no
 * check, so their flows are unchanged.
 */
export async function checkNameUnique(
  ctx: OperationContext,
  attrs: readonly ModelAttribute[],
  self: string | undefined,
): Promise<void> {
  if (!isV2(ctx.version)) return;
  for (const a of attrs) {
    const v = a.value;
    if (a.key.kind !== 'standard' || a.key.tag !== Tag.Name || v.type !== 'Structure') continue;
    const nv = childText(v, Tag.NameValue);
    if (nv === undefined) continue;
    const ids = await ctx.services.objects.locate({ name: nv }, { limit: 2 });
    if (ids.some((id) => id !== self)) {
      throw new KmipError('NonUniqueNameAttribute', `another object is already named "${nv}"`);
    }
  }
}

/**
 * The operation, giving back the dual-control approval used for the item
 * (Destroy, Revoke with a compromise, Get or Export of another tenant's
 * object, Import replacing an object...) when it fails: a Destroy of a key
 * still Active, a Get of a Sensitive key... keep the approval for the retry.
 * Without an approval the handler runs as it is.
 */
export function givingApprovalBack(def: OperationDefinition): OperationDefinition {
  return {
    ...def,
    handle(payload, ctx) {
      const release = takeApprovalRelease(payload);
      if (release === undefined) return def.handle(payload, ctx);
      return handleReleasing(def, payload, ctx, release);
    },
  };
}

async function handleReleasing(
  def: OperationDefinition,
  payload: TtlvStructure,
  ctx: OperationContext,
  release: () => Promise<void>,
): Promise<readonly TtlvItem[]> {
  try {
    return await def.handle(payload, ctx);
  } catch (e: unknown) {
    // The operation's own error is the answer; a failed give-back leaves the approval used.
    await release().catch(() => undefined);
    throw e;
  }
}

/**
 * The object service's "does not exist" for the item's target, as every
 * operation answers it (notFound): Item Not Found in 1.x, Object Not Found
 * in 2.x, whichever way the operation reached the object.
 */
export async function updateTarget(
  ctx: OperationContext,
  id: string,
  mutate: Parameters<OperationContext['services']['objects']['update']>[1],
): Promise<ManagedObject> {
  try {
    return await ctx.services.objects.update(id, mutate);
  } catch (e: unknown) {
    if (isKmipError(e) && e.reason === 'ItemNotFound' && e.message === notFound(ctx, id).message) {
      throw notFound(ctx, id);
    }
    throw e;
  }
}

/**
 * The attributes a new object is requested with: the client's own, checked
 * for what a client may set (1.0 §3 tables), over those of the Templates
 * the request names (1.0 §2.1.8).
 */
export async function requestedAttributes(
  ctx: OperationContext,
  req: { readonly attributes?: readonly ModelAttribute[]; readonly templates?: readonly string[] },
): Promise<ModelAttribute[]> {
  const own = req.attributes ?? [];
  checkClientAttributes(own, isV2(ctx.version));
  return withTemplates(ctx.services.objects, req.templates ?? [], own);
}
