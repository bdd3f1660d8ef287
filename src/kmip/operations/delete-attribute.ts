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
import { ChangedAttributeResponse, DeleteAttributeRequest } from '../payloads/attributes.js';
import { Operation } from '../spec/index.js';
import {
  attributeNotFound,
  checkClientChange,
  deleteTargetOf,
  instanceNotFound,
} from './support/attribute-edit.js';
import { isV2 } from './support/common.js';
import { defineObjectOperation } from './support/define.js';

export const deleteAttribute = defineObjectOperation({
  operation: Operation.DeleteAttribute,
  since: '1.0',
  mutates: true,
  request: DeleteAttributeRequest,
  response: ChangedAttributeResponse,
  object: {},
  async handle(req, ctx, target) {
    const which = deleteTargetOf(req);
    let deleted: ModelAttribute[] = [];
    await target.update((obj) => {
      checkClientChange(ctx, obj, which.key);
      const instances = findAll(obj.attributes, which.key);
      if (instances.length === 0) throw attributeNotFound(ctx, which.key);
      if (which.value !== undefined) {
        const v = which.value.value;
        deleted = instances.filter((a) => sameValue(a.value, v)).slice(0, 1);
      } else if (isV2(ctx.version) && which.index === undefined) {
        // A 2.x Attribute Reference names every instance.
        deleted = instances;
      } else {
        deleted = instances.filter((a) => (a.index ?? 0) === (which.index ?? 0));
      }
      if (deleted.length === 0) {
        throw instanceNotFound(ctx, which.key, which.value === undefined ? (which.index ?? 0) : undefined);
      }
      const gone = new Set(deleted);
      return { attributes: obj.attributes.filter((a) => !gone.has(a)) };
    });
    // 1.x answers with the deleted attribute (a 1.x-only field).
    return { uniqueIdentifier: target.obj.id, attribute: deleted };
  },
});
