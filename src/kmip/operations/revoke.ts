/**
 * Revoke (KMIP 1.0 §4.19, 1.4 §4.20, 2.1 §6.1.44). Key Compromise and CA
 * Compromise make the object Compromised (from any state but Destroyed),
 * setting Compromise Date and Compromise Occurrence Date; any other reason
 * deactivates an Active object (Deactivation Date = now). Revocation Reason
 * is recorded.
 *
 * Errors (spec table): destroyed object, or a non-compromise reason on an
 * object that is not Active → Permission Denied (1.x) / Wrong Key Lifecycle
 * State (2.x); no Revocation Reason → Invalid Message.
 */
import { KmipError } from '../errors.js';
import { setStandard } from '../model/attributes.js';
import { IdPayload, RevokeRequest } from '../payloads/lifecycle.js';
import { Operation, RevocationReasonCode, State, Tag } from '../spec/index.js';
import { childEnum, dateTime, enumeration } from '../ttlv/build.js';
import { stateName, stateOf, wrongState } from './support/common.js';
import { defineObjectOperation } from './support/define.js';

export const revoke = defineObjectOperation({
  operation: Operation.Revoke,
  since: '1.0',
  mutates: true,
  request: RevokeRequest,
  response: IdPayload,
  object: {
    states: ['PreActive', 'Active', 'Deactivated', 'Compromised'],
    stateMessage: (obj, state) => `object ${obj.id} is ${stateName(state)}`,
  },
  async handle(req, ctx, target) {
    const id = target.obj.id;
    const rr = req.revocationReason;
    const code = childEnum(rr, Tag.RevocationReasonCode);
    if (rr === undefined || code === undefined) {
      throw new KmipError('InvalidMessage', 'Revocation Reason with a Revocation Reason Code is required');
    }
    const occurrence = req.compromiseOccurrenceDate;
    const compromise =
      code === RevocationReasonCode.KeyCompromise || code === RevocationReasonCode.CACompromise;
    await target.update((obj) => {
      const state = stateOf(obj);
      const now = ctx.services.clock();
      let attrs = setStandard(obj.attributes, rr);
      if (compromise) {
        attrs = setStandard(attrs, enumeration(Tag.State, State.Compromised));
        attrs = setStandard(attrs, dateTime(Tag.CompromiseOccurrenceDate, occurrence ?? now));
        attrs = setStandard(attrs, dateTime(Tag.CompromiseDate, now));
      } else if (state === State.Active) {
        attrs = setStandard(attrs, enumeration(Tag.State, State.Deactivated));
        attrs = setStandard(attrs, dateTime(Tag.DeactivationDate, now));
      } else if (state === State.PreActive) {
        throw wrongState(ctx, `object ${id} is Pre-Active; only a compromise revokes it`);
      }
      return { attributes: attrs };
    });
    return { uniqueIdentifier: id };
  },
});
