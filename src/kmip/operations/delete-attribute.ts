/**
 * Delete Attribute (KMIP 1.0 §4.15, 1.4 §4.16, 2.1 §6.1.17): removes an
 * instance — 1.x by Attribute Name and Index (default 0), 2.x by Current
 * Attribute or Attribute Reference (every instance). 1.x answers with the
 * deleted attribute, 2.x with the identifier.
 *
 * Errors (spec table): attribute not set → Item Not Found (1.x) / Attribute
 * Not Found (2.x); set, but no instance at that Attribute Index → Index Out
 * of Bounds (1.x), or none equal to Current Attribute → Attribute Instance
 * Not Found (2.x); read-only or required → Permission Denied / Attribute
 * Read Only.
 */
import { findAll, type ModelAttribute, sameValue } from '../model/attributes.js';
import { Operation } from '../spec/index.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { attributeNotFound, checkClientChange, deleteTargetOf, instanceNotFound } from './attribute-edit.js';
import { isV2, responseAttributes, targetId, uidItem, updateTarget } from './common.js';
import type { OperationContext, OperationDefinition } from './types.js';

export const deleteAttribute: OperationDefinition = {
  operation: Operation.DeleteAttribute,
  since: '1.0',
  mutates: true,
  needsObject: true,
  async handle(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
    const target = deleteTargetOf(payload);
    const id = targetId(payload);
    let deleted: ModelAttribute[] = [];
    await updateTarget(ctx, id, (obj) => {
      checkClientChange(ctx, obj, target.key);
      const instances = findAll(obj.attributes, target.key);
      if (instances.length === 0) throw attributeNotFound(ctx, target.key);
      if (target.value !== undefined) {
        const v = target.value.value;
        deleted = instances.filter((a) => sameValue(a.value, v)).slice(0, 1);
      } else if (isV2(ctx.version) && target.index === undefined) {
        deleted = instances;
      } else {
        deleted = instances.filter((a) => (a.index ?? 0) === (target.index ?? 0));
      }
      if (deleted.length === 0) {
        throw instanceNotFound(ctx, target.key, target.value === undefined ? (target.index ?? 0) : undefined);
      }
      const gone = new Set(deleted);
      return { attributes: obj.attributes.filter((a) => !gone.has(a)) };
    });
    if (isV2(ctx.version)) return [uidItem(id)];
    return [uidItem(id), ...responseAttributes(deleted, ctx.version)];
  },
};
