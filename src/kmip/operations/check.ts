/**
 * Check (KMIP 1.0 §4.9, 1.4 §4.10, 2.1 §6.1.4): would the object allow the
 * use the client describes? Each given item is compared with the object:
 * Cryptographic Usage Mask (every requested bit must be in the object's
 * mask), Usage Limits Count (no more than what is left of its Usage
 * Limits), Lease Time (no longer than the lease the server would grant,
 * obtain-lease.ts). Success echoes the Unique Identifier.
 *
 * Errors (spec table): a usage the object does not allow → Incompatible
 * Cryptographic Usage Mask (2.x mask) / Permission Denied; an archived
 * object → Object Archived; no such object → Item / Object Not Found.
 */
import { KmipError } from '../errors.js';
import { findInteger } from '../model/attributes.js';
import { CheckRequest, CheckResponse } from '../payloads/objects.js';
import { Operation, Tag } from '../spec/index.js';
import { defineObjectOperation } from './support/define.js';
import { leaseTimeOf } from './support/lease.js';
import { usageRemaining } from './support/usage.js';

export const check = defineObjectOperation({
  operation: Operation.Check,
  since: '1.0',
  mutates: false,
  request: CheckRequest,
  response: CheckResponse,
  object: { online: true },
  handle(req, _ctx, { obj }) {
    const mask = req.cryptographicUsageMask;
    if (mask !== undefined) {
      const allowed = findInteger(obj.attributes, Tag.CryptographicUsageMask) ?? 0;
      if ((allowed & mask) >>> 0 !== mask >>> 0) {
        throw new KmipError(
          'IncompatibleCryptographicUsageMask',
          'Check Failed: the Cryptographic Usage Mask does not allow that use',
        );
      }
    }
    const count = req.usageLimitsCount;
    const remaining = usageRemaining(obj.attributes);
    if (count !== undefined && remaining !== undefined && count > remaining) {
      throw new KmipError('PermissionDenied', `Check Failed: only ${remaining} uses are left`);
    }
    const lease = req.leaseTime;
    if (lease !== undefined && lease > leaseTimeOf(obj.attributes)) {
      throw new KmipError(
        'PermissionDenied',
        `Check Failed: leases last at most ${leaseTimeOf(obj.attributes)} s`,
      );
    }
    // Success: the identifier only; the other fields name a failed check, answered as an error instead.
    return { uniqueIdentifier: obj.id };
  },
});
