/**
 * Export (KMIP 2.0 §6.1.21, 2.1 §6.1.21): Get's content (with Key Format
 * Type, Key Wrap Type and Key Wrapping Specification applied the same way,
 * get.ts retrieveContent) together with every attribute of the object, for
 * Import on another server. Unlike Get it leaves Fresh alone: the
 * TC-IMPEXP-*-20 exports still show Fresh True. The attributes come in
 * the order of those vectors (model/attributes.ts inExportOrder).
 *
 * Errors: those of Get.
 */
import { inExportOrder } from '../model/attributes.js';
import { ObjectType, Operation, Tag } from '../spec/index.js';
import { enumeration } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { responseAttributes, uidItem } from './common.js';
import { retrieveContent } from './get.js';
import { servedAttributes } from './get-attributes.js';
import type { OperationContext, OperationDefinition } from './types.js';

const KEY_TYPES: ReadonlySet<number> = new Set([
  ObjectType.SymmetricKey,
  ObjectType.PublicKey,
  ObjectType.PrivateKey,
  ObjectType.SplitKey,
]);

export const exportOperation: OperationDefinition = {
  operation: Operation.Export,
  since: '2.0',
  mutates: false,
  needsObject: true,
  allowedStates: ['PreActive', 'Active', 'Deactivated', 'Compromised'],
  async handle(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
    const { obj, content } = await retrieveContent(payload, ctx);
    return [
      enumeration(Tag.ObjectType, obj.objectType),
      uidItem(obj.id),
      ...responseAttributes(inExportOrder(servedAttributes(obj), KEY_TYPES.has(obj.objectType)), ctx.version),
      content,
    ];
  },
};
