/**
 * Set Attribute (KMIP 2.0 §6.1.46, 2.1 §6.1.47): sets the value of a
 * single-instance attribute, adding it if absent.
 *
 * Errors (spec table): multi-instance attribute, or a custom attribute the
 * object holds several instances of (TC-SETATTR-3-20) → Multi Valued Attribute;
 * read-only → Attribute Read Only; state rules → Wrong Key Lifecycle State.
 */
import { KmipError } from '../errors.js';
import { findAll, isMultiInstance, keyLabel, setSingle } from '../model/attributes.js';
import { SetAttributeRequest } from '../payloads/attributes.js';
import { IdPayload } from '../payloads/lifecycle.js';
import { Operation } from '../spec/index.js';
import { checkClientChange, requiredNewAttribute } from './support/attribute-edit.js';
import { checkNameUnique } from './support/common.js';
import { defineObjectOperation } from './support/define.js';

export const setAttribute = defineObjectOperation({
  operation: Operation.SetAttribute,
  since: '2.0',
  mutates: true,
  request: SetAttributeRequest,
  response: IdPayload,
  object: {},
  async handle(req, ctx, target) {
    const attr = requiredNewAttribute(req.attribute);
    const id = target.obj.id;
    await checkNameUnique(ctx, [attr], id);
    if (attr.key.kind === 'standard' && isMultiInstance(attr.key)) {
      throw new KmipError(
        'MultiValuedAttribute',
        `${keyLabel(attr.key)} has several instances; use Add / Modify Attribute`,
      );
    }
    await target.update((obj) => {
      checkClientChange(ctx, obj, attr.key);
      if (findAll(obj.attributes, attr.key).length > 1) {
        throw new KmipError(
          'MultiValuedAttribute',
          `the object has several instances of ${keyLabel(attr.key)}; use Modify / Delete Attribute`,
        );
      }
      return { attributes: setSingle(obj.attributes, attr) };
    });
    return { uniqueIdentifier: id };
  },
});
