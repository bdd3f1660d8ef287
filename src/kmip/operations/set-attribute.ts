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
import { Operation } from '../spec/index.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { checkClientChange, newAttributeOf } from './attribute-edit.js';
import { checkNameUnique, targetId, uidItem, updateTarget } from './common.js';
import type { OperationContext, OperationDefinition } from './types.js';

export const setAttribute: OperationDefinition = {
  operation: Operation.SetAttribute,
  since: '2.0',
  mutates: true,
  needsObject: true,
  async handle(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
    const attr = newAttributeOf(payload);
    const id = targetId(payload);
    await checkNameUnique(ctx, [attr], id);
    if (attr.key.kind === 'standard' && isMultiInstance(attr.key)) {
      throw new KmipError(
        'MultiValuedAttribute',
        `${keyLabel(attr.key)} has several instances; use Add / Modify Attribute`,
      );
    }
    await updateTarget(ctx, id, (obj) => {
      checkClientChange(ctx, obj, attr.key);
      if (findAll(obj.attributes, attr.key).length > 1) {
        throw new KmipError(
          'MultiValuedAttribute',
          `the object has several instances of ${keyLabel(attr.key)}; use Modify / Delete Attribute`,
        );
      }
      return { attributes: setSingle(obj.attributes, attr) };
    });
    return [uidItem(id)];
  },
};
