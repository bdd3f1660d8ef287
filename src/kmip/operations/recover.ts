/**
 * Recover (KMIP 1.0 §4.23, 1.4 §4.24, 2.1 §6.1.43): brings an archived
 * object back on-line: its Archive Date is removed (archive.ts). Recovering
 * an object that is not archived succeeds and changes nothing (the object is
 * already on-line, which is what the client asks for).
 */
import { removeAll, standardKey } from '../model/attributes.js';
import { isArchived } from '../model/lifecycle.js';
import { IdPayload } from '../payloads/lifecycle.js';
import { Operation, Tag } from '../spec/index.js';
import { defineObjectOperation } from './support/define.js';

export const recover = defineObjectOperation({
  operation: Operation.Recover,
  since: '1.0',
  mutates: true,
  request: IdPayload,
  response: IdPayload,
  object: {},
  async handle(_req, _ctx, target) {
    await target.update((obj) =>
      isArchived(obj.attributes)
        ? { attributes: removeAll(obj.attributes, standardKey(Tag.ArchiveDate)) }
        : undefined,
    );
    return { uniqueIdentifier: target.obj.id };
  },
});
