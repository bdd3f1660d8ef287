/**
 * `kmip-server approvals list|approve ID|deny ID`: officers decide on
 * pending dual-control requests. A decision is signed with the officer's
 * key (--cert/--key) and stored with the certificate; the server checks the
 * signature again before it honours the approval.
 */

import { officerOf, withAccess } from './access-common.js';
import type { ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import type { CliIo } from './io.js';

export async function approvalsCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const [sub, id, ...extra] = args.positionals;
  if (sub === 'list') {
    if (id !== undefined) throw new UsageError('approvals list takes no arguments');
    return withAccess(args, async (a) => {
      const now = Date.now();
      for (const r of await a.dualControl.list()) {
        const open = r.status === 'pending' || r.status === 'approved';
        const status = open && r.expiresAt <= now ? 'expired' : r.status;
        const approvals = (await a.dualControl.validApprovals(r)).length;
        io.out(
          `${r.id}\t${status}\t${approvals}/${a.dualControl.approvalsNeeded}\t${r.action}\t${r.objectId ?? '-'}\t` +
            `requested by ${r.requester} at ${new Date(r.createdAt).toISOString()}\t${r.summary}\n`,
        );
      }
      return 0;
    });
  }
  if (sub === 'approve' || sub === 'deny') {
    if (id === undefined || extra.length > 0) throw new UsageError(`approvals ${sub} needs exactly one ID`);
    return withAccess(args, async (a) => {
      const officer = await officerOf(args, a);
      const { request, approvals } = await a.dualControl.decide(id, officer, sub);
      await a.audit({
        actor: officer.identity,
        operation: `approvals ${sub}`,
        ...(request.objectId === undefined ? {} : { objectId: request.objectId }),
        outcome: 'Success',
        tenant: request.tenant,
        detail: {
          approvalId: request.id,
          action: request.action,
          requester: request.requester,
          status: request.status,
          approvals: `${approvals}/${a.dualControl.approvalsNeeded}`,
        },
      });
      io.out(
        `${request.id}: ${sub === 'approve' ? 'approved' : 'denied'} by ${officer.identity}; ` +
          `status ${request.status} (${approvals} of ${a.dualControl.approvalsNeeded} approvals)\n`,
      );
      return 0;
    });
  }
  throw new UsageError('approvals needs list, approve ID or deny ID');
}
