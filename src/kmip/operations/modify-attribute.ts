/**
 * Modify Attribute (KMIP 1.0 §4.14, 1.4 §4.15, 2.1 §6.1.30): replaces the
 * value of an existing instance — 1.x chosen by Attribute Index (default 0),
 * 2.x by Current Attribute (default: the only instance). 1.x answers with
 * the modified attribute, 2.x with the identifier.
 *
 * Errors (spec table): attribute not set → Item Not Found (1.x) / Attribute
 * Not Found (2.x); set, but no instance at that Attribute Index → Index Out
 * of Bounds (1.x), or none equal to Current Attribute → Attribute Instance
 * Not Found (2.x); read-only → Permission Denied / Attribute Read Only;
 * Activation Date outside Pre-Active → Permission Denied / Wrong Key
 * Lifecycle State.
 */
import { findAll, keysEqual, type ModelAttribute, sameValue } from '../model/attributes.js';
import { Operation } from '../spec/index.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import {
  attributeNotFound,
  checkClientChange,
  currentAttributeOf,
  instanceNotFound,
  newAttributeOf,
} from './attribute-edit.js';
import { checkNameUnique, isV2, responseAttributes, targetId, uidItem, updateTarget } from './common.js';
import type { OperationContext, OperationDefinition } from './types.js';

export const modifyAttribute: OperationDefinition = {
  operation: Operation.ModifyAttribute,
  since: '1.0',
  mutates: true,
  needsObject: true,
  async handle(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
    const attr = newAttributeOf(payload);
    const current = currentAttributeOf(payload);
    const id = targetId(payload);
    await checkNameUnique(ctx, [attr], id);
    let modified: ModelAttribute | undefined;
    await updateTarget(ctx, id, (obj) => {
      checkClientChange(ctx, obj, attr.key);
      const instances = findAll(obj.attributes, attr.key);
      if (instances.length === 0) throw attributeNotFound(ctx, attr.key);
      const target =
        current !== undefined
          ? instances.find((a) => sameValue(a.value, current.value))
          : instances.find((a) => (a.index ?? 0) === (attr.index ?? 0));
      if (target === undefined)
        throw instanceNotFound(ctx, attr.key, current === undefined ? attr.index : undefined);
      modified = { ...attr, index: target.index };
      const next = modified;
      return {
        attributes: obj.attributes.map((a) => (a === target && keysEqual(a.key, next.key) ? next : a)),
      };
    });
    if (isV2(ctx.version) || modified === undefined) return [uidItem(id)];
    return [uidItem(id), ...responseAttributes([modified], ctx.version)];
  },
};
