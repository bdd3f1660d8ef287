/**
 * Add Attribute (KMIP 1.0 §4.13, 1.4 §4.14, 2.1 §6.1.3): adds an instance;
 * 1.x answers with the attribute and its new Attribute Index, 2.x with the
 * identifier only. Several in one batch work (vSphere, CLIENTS.md 6);
 * custom attributes of any TTLV type.
 *
 * Errors (spec table): read-only attribute → Permission Denied (1.x) /
 * Attribute Read Only (2.x); a second instance of a single-instance
 * attribute → Permission Denied / Attribute Single Valued (2.x); destroyed
 * object → Permission Denied / Wrong Key Lifecycle State.
 */
import { KmipError } from '../errors.js';
import { addInstance, findAll, isMultiInstance, keyLabel, type ModelAttribute } from '../model/attributes.js';
import { AddAttributeRequest, ChangedAttributeResponse } from '../payloads/attributes.js';
import { Operation } from '../spec/index.js';
import { checkClientChange, requiredNewAttribute } from './support/attribute-edit.js';
import { checkNameUnique } from './support/common.js';
import { defineObjectOperation } from './support/define.js';

export const addAttribute = defineObjectOperation({
  operation: Operation.AddAttribute,
  since: '1.0',
  mutates: true,
  request: AddAttributeRequest,
  response: ChangedAttributeResponse,
  object: {},
  async handle(req, ctx, target) {
    const attr = requiredNewAttribute(req.attribute);
    const id = target.obj.id;
    // A second instance of the object's own Name is a duplicate too (BL-M-8).
    await checkNameUnique(ctx, [attr], undefined);
    let added: ModelAttribute | undefined;
    await target.update((obj) => {
      checkClientChange(ctx, obj, attr.key);
      if (!isMultiInstance(attr.key) && findAll(obj.attributes, attr.key).length > 0) {
        throw new KmipError('AttributeSingleValued', `${keyLabel(attr.key)} already has a value`);
      }
      const r = addInstance(obj.attributes, attr);
      added = r.added;
      return { attributes: r.attrs };
    });
    // 1.x answers with the attribute and its Attribute Index (a 1.x-only field).
    return { uniqueIdentifier: id, ...(added === undefined ? {} : { attribute: [added] }) };
  },
});
