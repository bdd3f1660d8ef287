/**
 * Archive (KMIP 1.0 §4.22, 1.4 §4.23, 2.1 §6.1.2): moves an object to
 * archival storage. Here the object stays in the store and carries an
 * Archive Date (lifecycle.ts isArchived) until Recover; the operation
 * completes at once (no Operation Pending / Poll).
 *
 * Errors (spec table): already archived → Object Archived; destroyed →
 * Permission Denied (1.x) / Wrong Key Lifecycle State (2.x).
 */
import { KmipError } from '../errors.js';
import { setStandard } from '../model/attributes.js';
import { isArchived } from '../model/lifecycle.js';
import { Operation, Tag } from '../spec/index.js';
import { dateTime } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { isDestroyed, stateName, stateOf, targetId, uidItem, updateTarget, wrongState } from './common.js';
import type { OperationContext, OperationDefinition } from './types.js';

export const archive: OperationDefinition = {
  operation: Operation.Archive,
  since: '1.0',
  mutates: true,
  needsObject: true,
  async handle(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
    const id = targetId(payload);
    await updateTarget(ctx, id, (obj) => {
      if (isArchived(obj.attributes))
        throw new KmipError('ObjectArchived', `object ${id} is already archived`);
      const state = stateOf(obj);
      if (isDestroyed(state)) throw wrongState(ctx, `object ${id} is ${stateName(state)}`);
      return { attributes: setStandard(obj.attributes, dateTime(Tag.ArchiveDate, ctx.services.clock())) };
    });
    return [uidItem(id)];
  },
};
