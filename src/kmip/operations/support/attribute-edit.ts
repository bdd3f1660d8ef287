/**
 * What Add / Modify / Delete / Set / Adjust Attribute share: checking the
 * attribute a request carries (payloads/attributes.ts reads it, 1.x or 2.x
 * shaped) and the rules on who may change what (KMIP 1.4 §3, 2.1 §4).
 */
import { KmipError } from '../../errors.js';
import {
  type AttributeKey,
  checkValueType,
  isClientModifiable,
  keyLabel,
  type ModelAttribute,
  PRE_ACTIVE_ONLY,
  withUsageLimitsCount,
} from '../../model/attributes.js';
import type { ManagedObject } from '../../model/object.js';
import type { DeleteAttributeRequest } from '../../payloads/attributes.js';
import { State } from '../../spec/index.js';
import type { OperationContext } from '../types.js';
import { isDestroyed, stateOf, wrongState } from './common.js';

/**
 * The attribute to add, modify or set (1.x Attribute, 2.x New Attribute),
 * checked against its attribute's type, a Usage Limits given its count.
 */
export function requiredNewAttribute(attr: ModelAttribute | undefined): ModelAttribute {
  if (attr === undefined) throw new KmipError('InvalidMessage', 'the attribute is missing');
  checkValueType(attr);
  return withUsageLimitsCount(attr);
}

/** Delete Attribute's target: 2.x Current Attribute, or 1.x Attribute Name (+ Index) / 2.x Attribute Reference. */
export function deleteTargetOf(req: DeleteAttributeRequest): {
  key: AttributeKey;
  index: number | undefined;
  value: ModelAttribute | undefined;
} {
  const current = req.currentAttribute;
  if (current !== undefined) return { key: current.key, index: undefined, value: current };
  const key = req.attributeReferences?.[0];
  if (key === undefined) throw new KmipError('InvalidMessage', 'which attribute to delete is missing');
  return { key, index: req.attributeIndex, value: undefined };
}

/** Refuses a change a client may not make to this object now. */
export function checkClientChange(ctx: OperationContext, obj: ManagedObject, key: AttributeKey): void {
  if (!isClientModifiable(key)) {
    throw new KmipError('AttributeReadOnly', `${keyLabel(key)} cannot be changed by a client`);
  }
  const state = stateOf(obj);
  if (isDestroyed(state)) throw wrongState(ctx, `object ${obj.id} is destroyed`);
  if (key.kind === 'standard' && PRE_ACTIVE_ONLY.has(key.tag) && state !== State.PreActive) {
    throw wrongState(ctx, `${keyLabel(key)} can only change while the object is Pre-Active`);
  }
}

/** The object has no instance of the attribute at all (Delete / Modify of an unset attribute). */
export function attributeNotFound(_ctx: OperationContext, key: AttributeKey): KmipError {
  return new KmipError('AttributeNotFound', `the object has no ${keyLabel(key)}`);
}

/**
 * The attribute is set but not the instance asked for: a 1.x Attribute Index
 * past the last instance (Index Out of Bounds, KMIP 1.0 §9.1.3.2.28) or a 2.x
 * Current Attribute no instance equals (Attribute Instance Not Found, 2.0 §11.29).
 */
export function instanceNotFound(_ctx: OperationContext, key: AttributeKey, index?: number): KmipError {
  const which = index === undefined ? 'with that value' : `at Attribute Index ${index}`;
  return new KmipError(
    'AttributeInstanceNotFound',
    `the object has no instance of ${keyLabel(key)} ${which}`,
  );
}
