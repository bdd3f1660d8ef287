/**
 * What Add / Modify / Delete / Set Attribute share: reading the attribute a
 * request carries (1.x Attribute, 2.x New/Current Attribute or Attribute
 * Reference) and the rules on who may change what (KMIP 1.4 §3, 2.1 §4).
 */
import { KmipError } from '../errors.js';
import { attributeFromV1, attributeFromV2, readAttributeReferences } from '../messages/attributes.js';
import {
  type AttributeKey,
  checkValueType,
  isClientModifiable,
  keyLabel,
  type ModelAttribute,
  PRE_ACTIVE_ONLY,
  withUsageLimitsCount,
} from '../model/attributes.js';
import type { ManagedObject } from '../model/object.js';
import { State, Tag } from '../spec/index.js';
import type { TtlvStructure } from '../ttlv/types.js';
import { isDestroyed, reason, stateOf, wrongState } from './common.js';
import type { OperationContext } from './types.js';

function wrapped(payload: TtlvStructure, tag: number): ModelAttribute | undefined {
  const w = payload.value.find((c) => c.tag === tag);
  if (w === undefined) return undefined;
  if (w.type !== 'Structure' || w.value.length !== 1 || w.value[0] === undefined) {
    throw new KmipError('InvalidMessage', 'New Attribute / Current Attribute must hold one attribute');
  }
  return attributeFromV2(w.value[0]);
}

/** The attribute to add or set: 1.x Attribute, 2.x New Attribute. */
export function newAttributeOf(payload: TtlvStructure): ModelAttribute {
  const v1 = payload.value.find((c) => c.tag === Tag.Attribute);
  const attr = v1 !== undefined ? attributeFromV1(v1) : wrapped(payload, Tag.NewAttribute);
  if (attr === undefined) throw new KmipError('InvalidMessage', 'the attribute is missing');
  checkValueType(attr);
  return withUsageLimitsCount(attr);
}

export function currentAttributeOf(payload: TtlvStructure): ModelAttribute | undefined {
  return wrapped(payload, Tag.CurrentAttribute);
}

/** Delete Attribute's target: 1.x Attribute Name (+ Index), 2.x Current Attribute or Attribute Reference. */
export function deleteTargetOf(payload: TtlvStructure): {
  key: AttributeKey;
  index: number | undefined;
  value: ModelAttribute | undefined;
} {
  const current = currentAttributeOf(payload);
  if (current !== undefined) return { key: current.key, index: undefined, value: current };
  const refs = readAttributeReferences(payload);
  const key = refs[0];
  if (key === undefined) throw new KmipError('InvalidMessage', 'which attribute to delete is missing');
  const idx = payload.value.find((c) => c.tag === Tag.AttributeIndex);
  return { key, index: idx?.type === 'Integer' ? idx.value : undefined, value: undefined };
}

/** Refuses a change a client may not make to this object now. */
export function checkClientChange(ctx: OperationContext, obj: ManagedObject, key: AttributeKey): void {
  if (!isClientModifiable(key)) {
    throw new KmipError(
      reason(ctx, 'AttributeReadOnly', 'PermissionDenied'),
      `${keyLabel(key)} cannot be changed by a client`,
    );
  }
  const state = stateOf(obj);
  if (isDestroyed(state)) throw wrongState(ctx, `object ${obj.id} is destroyed`);
  if (key.kind === 'standard' && PRE_ACTIVE_ONLY.has(key.tag) && state !== State.PreActive) {
    throw wrongState(ctx, `${keyLabel(key)} can only change while the object is Pre-Active`);
  }
}

/** The object has no instance of the attribute at all (Delete / Modify of an unset attribute). */
export function attributeNotFound(ctx: OperationContext, key: AttributeKey): KmipError {
  return new KmipError(
    reason(ctx, 'AttributeNotFound', 'ItemNotFound'),
    `the object has no ${keyLabel(key)}`,
  );
}

/**
 * The attribute is set but not the instance asked for: a 1.x Attribute Index
 * past the last instance (Index Out of Bounds, KMIP 1.0 §9.1.3.2.28) or a 2.x
 * Current Attribute no instance equals (Attribute Instance Not Found, 2.0 §11.29).
 */
export function instanceNotFound(ctx: OperationContext, key: AttributeKey, index?: number): KmipError {
  const which = index === undefined ? 'with that value' : `at Attribute Index ${index}`;
  return new KmipError(
    reason(ctx, 'AttributeInstanceNotFound', 'IndexOutOfBounds'),
    `the object has no instance of ${keyLabel(key)} ${which}`,
  );
}
