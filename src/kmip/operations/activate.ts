/**
 * Activate (KMIP 1.0 §4.18, 1.4 §4.19, 2.1 §6.1.1): Pre-Active → Active,
 * Activation Date = now.
 *
 * Errors (spec table): not Pre-Active → Permission Denied (1.x) / Wrong Key
 * Lifecycle State (2.x); no such object → Item Not Found / Object Not Found.
 */
import { setStandard } from '../model/attributes.js';
import { IdPayload } from '../payloads/lifecycle.js';
import { Operation, State, Tag } from '../spec/index.js';
import { dateTime, enumeration } from '../ttlv/build.js';
import { defineObjectOperation } from './support/define.js';

export const activate = defineObjectOperation({
  operation: Operation.Activate,
  since: '1.0',
  mutates: true,
  request: IdPayload,
  response: IdPayload,
  object: { states: ['PreActive'] },
  async handle(_req, ctx, target) {
    await target.update((obj) => {
      let attrs = setStandard(obj.attributes, enumeration(Tag.State, State.Active));
      attrs = setStandard(attrs, dateTime(Tag.ActivationDate, ctx.services.clock()));
      return { attributes: attrs };
    });
    return { uniqueIdentifier: target.obj.id };
  },
});
