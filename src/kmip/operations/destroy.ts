/**
 * Destroy (KMIP 1.0 §4.21, 1.4 §4.22, 2.1 §6.1.18): erases the key material
 * (the sealed content is dropped from the record) and keeps the metadata:
 * Pre-Active / Deactivated → Destroyed, Compromised → Destroyed Compromised,
 * Destroy Date = now. Get then fails; Get Attributes still answers.
 *
 * Errors (spec table): an Active object → Permission Denied (1.x) / Wrong
 * Key Lifecycle State (2.x) (SKLC-M-2); already destroyed → the same.
 */
import { setStandard } from '../model/attributes.js';
import { Operation, State, Tag } from '../spec/index.js';
import { dateTime, enumeration } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { isDestroyed, stateName, stateOf, targetId, uidItem, updateTarget, wrongState } from './common.js';
import { destroyHsmKey } from './hsm-resident.js';
import type { OperationContext, OperationDefinition } from './types.js';

export const destroy: OperationDefinition = {
  operation: Operation.Destroy,
  since: '1.0',
  mutates: true,
  needsObject: true,
  allowedStates: ['PreActive', 'Deactivated', 'Compromised'],
  async handle(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
    const id = targetId(payload);
    const before = await ctx.services.objects.get(id);
    if (before !== undefined && !isDestroyed(stateOf(before)) && stateOf(before) !== State.Active) {
      // A key inside the HSM is destroyed in the token first (hsm-resident.ts).
      await destroyHsmKey(ctx, before);
    }
    await updateTarget(ctx, id, (obj) => {
      const state = stateOf(obj);
      if (state === State.Active || isDestroyed(state)) {
        throw wrongState(ctx, `object ${id} is ${stateName(state)} and cannot be destroyed`);
      }
      const next = state === State.Compromised ? State.DestroyedCompromised : State.Destroyed;
      let attrs = setStandard(obj.attributes, enumeration(Tag.State, next));
      attrs = setStandard(attrs, dateTime(Tag.DestroyDate, ctx.services.clock()));
      return { attributes: attrs, content: null, tombstoned: true };
    });
    return [uidItem(id)];
  },
};
