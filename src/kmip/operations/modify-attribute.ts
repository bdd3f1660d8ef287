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
import { ChangedAttributeResponse, ModifyAttributeRequest } from '../payloads/attributes.js';
import { Operation } from '../spec/index.js';
import {
  attributeNotFound,
  checkClientChange,
  instanceNotFound,
  requiredNewAttribute,
} from './support/attribute-edit.js';
import { checkNameUnique } from './support/common.js';
import { defineObjectOperation } from './support/define.js';

export const modifyAttribute = defineObjectOperation({
  operation: Operation.ModifyAttribute,
  since: '1.0',
  mutates: true,
  request: ModifyAttributeRequest,
  response: ChangedAttributeResponse,
  object: {},
  async handle(req, ctx, target) {
    const attr = requiredNewAttribute(req.attribute);
    const current = req.currentAttribute;
    const id = target.obj.id;
    await checkNameUnique(ctx, [attr], id);
    let modified: ModelAttribute | undefined;
    await target.update((obj) => {
      checkClientChange(ctx, obj, attr.key);
      const instances = findAll(obj.attributes, attr.key);
      if (instances.length === 0) throw attributeNotFound(ctx, attr.key);
      const instance =
        current !== undefined
          ? instances.find((a) => sameValue(a.value, current.value))
          : instances.find((a) => (a.index ?? 0) === (attr.index ?? 0));
      if (instance === undefined)
        throw instanceNotFound(ctx, attr.key, current === undefined ? attr.index : undefined);
      modified = { ...attr, index: instance.index };
      const next = modified;
      return {
        attributes: obj.attributes.map((a) => (a === instance && keysEqual(a.key, next.key) ? next : a)),
      };
    });
    // 1.x answers with the modified attribute (a 1.x-only field).
    return { uniqueIdentifier: id, ...(modified === undefined ? {} : { attribute: [modified] }) };
  },
});
