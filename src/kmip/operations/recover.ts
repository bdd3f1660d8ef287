/**
 * Recover (KMIP 1.0 §4.23, 1.4 §4.24, 2.1 §6.1.43): brings an archived
 * object back on-line: its Archive Date is removed (archive.ts). Recovering
 * an object that is not archived succeeds and changes nothing (the object is
 * already on-line, which is what the client asks for).
 */
import { removeAll, standardKey } from '../model/attributes.js';
import { isArchived } from '../model/lifecycle.js';
import { Operation, Tag } from '../spec/index.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { notFound, targetId, uidItem } from './common.js';
import type { OperationContext, OperationDefinition } from './types.js';

export const recover: OperationDefinition = {
  operation: Operation.Recover,
  since: '1.0',
  mutates: true,
  needsObject: true,
  async handle(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
    const id = targetId(payload);
    if ((await ctx.services.objects.get(id)) === undefined) throw notFound(ctx, id);
    await ctx.services.objects.update(id, (obj) =>
      isArchived(obj.attributes)
        ? { attributes: removeAll(obj.attributes, standardKey(Tag.ArchiveDate)) }
        : undefined,
    );
    return [uidItem(id)];
  },
};
