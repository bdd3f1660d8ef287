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
import { IdPayload } from '../payloads/lifecycle.js';
import { Operation, Tag } from '../spec/index.js';
import { dateTime } from '../ttlv/build.js';
import { stateName } from './support/common.js';
import { defineObjectOperation } from './support/define.js';

export const archive = defineObjectOperation({
  operation: Operation.Archive,
  since: '1.0',
  mutates: true,
  request: IdPayload,
  response: IdPayload,
  object: {
    states: ['PreActive', 'Active', 'Deactivated', 'Compromised'],
    stateMessage: (obj, state) => `object ${obj.id} is ${stateName(state)}`,
  },
  async handle(_req, ctx, target) {
    const id = target.obj.id;
    await target.update((obj) => {
      if (isArchived(obj.attributes)) {
        throw new KmipError('ObjectArchived', `object ${id} is already archived`);
      }
      return { attributes: setStandard(obj.attributes, dateTime(Tag.ArchiveDate, ctx.services.clock())) };
    });
    return { uniqueIdentifier: id };
  },
});
