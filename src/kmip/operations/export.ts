/**
 * Export (KMIP 2.0 §6.1.21, 2.1 §6.1.21): Get's content (with Key Format
 * Type, Key Wrap Type and Key Wrapping Specification applied the same way,
 * support/content.ts) together with every attribute of the object, for
 * Import on another server. Unlike Get it leaves Fresh alone: the
 * TC-IMPEXP-*-20 exports still show Fresh True. The attributes come in
 * the order of those vectors (model/attributes.ts inExportOrder).
 *
 * Errors: those of Get.
 */
import { inExportOrder } from '../model/attributes.js';
import { ExportRequest, ExportResponse } from '../payloads/objects.js';
import { ObjectType, Operation } from '../spec/index.js';
import { retrieveContent } from './support/content.js';
import { defineObjectOperation } from './support/define.js';
import { servedAttributes } from './support/served-attributes.js';

const KEY_TYPES: ReadonlySet<number> = new Set([
  ObjectType.SymmetricKey,
  ObjectType.PublicKey,
  ObjectType.PrivateKey,
  ObjectType.SplitKey,
]);

// States as for Get (get.ts): a Destroyed object answers Object Destroyed.
export const exportOperation = defineObjectOperation({
  operation: Operation.Export,
  since: '2.0',
  mutates: false,
  request: ExportRequest,
  response: ExportResponse,
  object: { online: true },
  async handle(req, ctx, { obj }) {
    const content = await retrieveContent(ctx, obj, req);
    return {
      objectType: obj.objectType,
      uniqueIdentifier: obj.id,
      attributes: inExportOrder(servedAttributes(obj), KEY_TYPES.has(obj.objectType)),
      object: content,
    };
  },
});
