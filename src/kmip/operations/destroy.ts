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
import { IdPayload } from '../payloads/lifecycle.js';
import { Operation, State, Tag } from '../spec/index.js';
import { dateTime, enumeration } from '../ttlv/build.js';
import { stateName, stateOf } from './support/common.js';
import { defineObjectOperation } from './support/define.js';
import { destroyHsmKey } from './support/hsm-resident.js';

export const destroy = defineObjectOperation({
  operation: Operation.Destroy,
  since: '1.0',
  mutates: true,
  request: IdPayload,
  response: IdPayload,
  object: {
    states: ['PreActive', 'Deactivated', 'Compromised'],
    stateMessage: (obj, state) => `object ${obj.id} is ${stateName(state)} and cannot be destroyed`,
  },
  async handle(_req, ctx, target) {
    // A key inside the HSM is destroyed in the token first (hsm-resident.ts).
    await destroyHsmKey(ctx, target.obj);
    await target.update((obj) => {
      const next = stateOf(obj) === State.Compromised ? State.DestroyedCompromised : State.Destroyed;
      let attrs = setStandard(obj.attributes, enumeration(Tag.State, next));
      attrs = setStandard(attrs, dateTime(Tag.DestroyDate, ctx.services.clock()));
      return { attributes: attrs, content: null, tombstoned: true };
    });
    return { uniqueIdentifier: target.obj.id };
  },
});
