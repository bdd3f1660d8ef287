/**
 * Activate (KMIP 1.0 §4.18, 1.4 §4.19, 2.1 §6.1.1): Pre-Active → Active,
 * Activation Date = now.
 *
 * Errors (spec table): not Pre-Active → Permission Denied (1.x) / Wrong Key
 * Lifecycle State (2.x); no such object → Item Not Found / Object Not Found.
 */
import { setStandard } from '../model/attributes.js';
import { Operation, State, Tag } from '../spec/index.js';
import { dateTime, enumeration } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { stateName, stateOf, targetId, uidItem, updateTarget, wrongState } from './common.js';
import type { OperationContext, OperationDefinition } from './types.js';

export const activate: OperationDefinition = {
  operation: Operation.Activate,
  since: '1.0',
  mutates: true,
  needsObject: true,
  allowedStates: ['PreActive'],
  async handle(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
    const id = targetId(payload);
    await updateTarget(ctx, id, (obj) => {
      const state = stateOf(obj);
      if (state !== State.PreActive) {
        throw wrongState(ctx, `object ${id} is ${stateName(state)}, not Pre-Active`);
      }
      let attrs = setStandard(obj.attributes, enumeration(Tag.State, State.Active));
      attrs = setStandard(attrs, dateTime(Tag.ActivationDate, ctx.services.clock()));
      return { attributes: attrs };
    });
    return [uidItem(id)];
  },
};
