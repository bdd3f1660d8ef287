/**
 * `kmip-server grants list|add|revoke ID`: let an identity or a group use
 * objects of another tenant (one object, or an Object Group) for chosen
 * operations. Changes need an officer (--cert/--key) and, when
 * auth.dualControl lists `grants`, approvals.
 */
import { randomBytes } from 'node:crypto';
import type { Grant } from '../auth/state.js';
import { Operation } from '../kmip/spec/index.js';
import { cliApproved, officerOf, requireActsFor, withAccess } from './access-common.js';
import { type ParsedArgs, stringOption, UsageError } from './args.js';
import type { CliIo } from './io.js';

function describe(g: Grant): string {
  const target = g.objectId !== undefined ? `object ${g.objectId}` : `group ${g.objectGroup ?? '?'}`;
  const to = g.toIdentity !== undefined ? `identity ${g.toIdentity}` : `group ${g.toGroup ?? '?'}`;
  const state = g.revokedAt === undefined ? 'active' : `revoked by ${g.revokedBy ?? '?'}`;
  return `${g.id}\t${state}\ttenant ${g.tenant}\t${target}\t-> ${to}\t${g.operations.join(',')}`;
}

export async function grantsCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const [sub, ...rest] = args.positionals;
  if (sub === 'list') {
    return withAccess(args, async (a) => {
      for (const g of await a.state.listGrants()) io.out(`${describe(g)}\n`);
      return 0;
    });
  }
  if (sub === 'add') {
    if (rest.length > 0) throw new UsageError('grants add takes options only');
    const tenant = stringOption(args, 'tenant');
    const objectId = stringOption(args, 'object');
    const objectGroup = stringOption(args, 'object-group');
    const toIdentity = stringOption(args, 'to-identity');
    const toGroup = stringOption(args, 'to-group');
    const operations = (stringOption(args, 'operations') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (tenant === undefined) throw new UsageError('grants add needs --tenant (the owner of the objects)');
    if ((objectId === undefined) === (objectGroup === undefined))
      throw new UsageError('grants add needs one of --object ID or --object-group GROUP');
    if ((toIdentity === undefined) === (toGroup === undefined))
      throw new UsageError('grants add needs one of --to-identity NAME or --to-group GROUP');
    const unknown = operations.filter((o) => !(o in Operation));
    if (operations.length === 0 || unknown.length > 0)
      throw new UsageError(
        `--operations must list KMIP operation names (e.g. Get,Encrypt); unknown: ${unknown.join(',')}`,
      );
    const spec = {
      tenant,
      ...(objectId === undefined ? {} : { objectId }),
      ...(objectGroup === undefined ? {} : { objectGroup }),
      ...(toIdentity === undefined ? {} : { toIdentity }),
      ...(toGroup === undefined ? {} : { toGroup }),
      operations,
    };
    return withAccess(args, async (a) => {
      const officer = await officerOf(args, a);
      // Opening a tenant's keys to others is that tenant's officers' (or the service's) decision.
      await requireActsFor(a, officer, tenant);
      const approval = await cliApproved(a, io, 'grants', 'grants add', officer, spec, tenant);
      if (approval === false) return 1;
      const grant: Grant = {
        id: randomBytes(8).toString('hex'),
        ...spec,
        createdBy: officer.identity,
        createdAt: Date.now(),
      };
      await approval.change(() => a.state.addGrant(grant));
      await a.audit({
        actor: officer.identity,
        operation: 'grants add',
        ...(objectId === undefined ? {} : { objectId }),
        outcome: 'Success',
        tenant,
        detail: { grantId: grant.id, grant: JSON.stringify(spec) },
      });
      io.out(`grant ${grant.id} added\n`);
      return 0;
    });
  }
  if (sub === 'revoke') {
    const [id, ...extra] = rest;
    if (id === undefined || extra.length > 0) throw new UsageError('grants revoke needs exactly one ID');
    return withAccess(args, async (a) => {
      const officer = await officerOf(args, a);
      const existing = await a.state.getGrant(id);
      if (existing === undefined) throw new Error(`no grant ${id}`);
      await requireActsFor(a, officer, existing.tenant);
      const approval = await cliApproved(a, io, 'grants', 'grants revoke', officer, { id }, existing.tenant);
      if (approval === false) return 1;
      await approval.change(() => a.state.revokeGrant(id, officer.identity));
      await a.audit({
        actor: officer.identity,
        operation: 'grants revoke',
        ...(existing.objectId === undefined ? {} : { objectId: existing.objectId }),
        outcome: 'Success',
        tenant: existing.tenant,
        detail: { grantId: id },
      });
      io.out(`grant ${id} revoked\n`);
      return 0;
    });
  }
  throw new UsageError('grants needs list, add or revoke ID');
}
