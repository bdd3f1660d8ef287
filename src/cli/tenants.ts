/**
 * `kmip-server tenants list|add NAME|assign IDENTITY TENANT|adopt|hash-password`:
 * the service team's tenants and who belongs to them. Changes need an
 * officer (--cert/--key) who may act for the tenants concerned
 * (src/auth/tenancy.ts), are written to the audit trail and, when
 * auth.dualControl lists `policy`, need approvals.
 */
import { createInterface } from 'node:readline';
import { AdoptError, adoptObjects, ownedBy } from '../auth/adopt.js';
import { hashPassword } from '../auth/password.js';
import { ALL_TENANTS, ROLES, type Role } from '../config/auth.js';
import { SYSTEM_OWNER_PREFIX } from '../kmip/model/service.js';
import { cliApproved, officerOf, refuseReservedNames, requireActsFor, withAccess } from './access-common.js';
import { type ParsedArgs, stringOption, UsageError } from './args.js';
import type { CliIo } from './io.js';

function listOption(args: ParsedArgs, name: string): string[] {
  return (stringOption(args, name) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

async function readLine(): Promise<string> {
  const rl = createInterface({ input: process.stdin });
  try {
    for await (const line of rl) return line;
    return '';
  } finally {
    rl.close();
  }
}

export async function tenantsCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const [sub, ...rest] = args.positionals;
  switch (sub) {
    case 'list':
      return withAccess(args, async (a) => {
        const snap = await a.state.snapshot();
        for (const t of [...snap.tenants].sort()) {
          const members = [...snap.identities]
            .filter(([, id]) => id.tenant === t)
            .map(([name, id]) => `${name}(${id.roles.join('+') || 'no role'})`);
          io.out(`${t}\t${members.join(' ') || '-'}\n`);
        }
        return 0;
      });
    case 'add': {
      const [name, ...extra] = rest;
      if (name === undefined || extra.length > 0) throw new UsageError('tenants add needs exactly one NAME');
      refuseReservedNames('tenant', name);
      return withAccess(args, async (a) => {
        const officer = await officerOf(args, a);
        await requireActsFor(a, officer, '');
        const approval = await cliApproved(a, io, 'policy', 'tenants add', officer, { name });
        if (approval === false) return 1;
        await approval.change(() => a.state.addTenant(name, officer.identity));
        await a.audit({
          actor: officer.identity,
          operation: 'tenants add',
          outcome: 'Success',
          tenant: name,
        });
        io.out(`tenant ${name} added by ${officer.identity}\n`);
        return 0;
      });
    }
    case 'assign': {
      const [identity, tenant, ...extra] = rest;
      if (identity === undefined || tenant === undefined || extra.length > 0)
        throw new UsageError('tenants assign needs IDENTITY TENANT');
      const roles = listOption(args, 'roles');
      const bad = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
      if (roles.length === 0 || bad.length > 0)
        throw new UsageError(`--roles must list roles among ${ROLES.join(', ')}`);
      const groups = listOption(args, 'groups');
      const more = args.options.get('tenants') === undefined ? undefined : listOption(args, 'tenants');
      if (more !== undefined && !roles.includes('key-administrator') && !roles.includes('security-officer'))
        throw new UsageError('--tenants is for a key-administrator or security-officer');
      refuseReservedNames('identity', identity);
      refuseReservedNames('tenant', tenant, ...(more ?? []));
      return withAccess(args, async (a) => {
        const officer = await officerOf(args, a);
        const current = (await a.state.snapshot()).identities.get(identity);
        // Every tenant the assignment touches: where the identity goes, where it was, what it administers.
        const touched = new Set([tenant, ...(current === undefined ? [] : [current.tenant])]);
        for (const t of [...(more ?? []), ...(current?.tenants ?? [])])
          touched.add(t === ALL_TENANTS ? '' : t);
        // A security officer without a tenant list is one of the service's: only those make more.
        if (roles.includes('security-officer') && (more === undefined || more.includes(ALL_TENANTS)))
          touched.add('');
        await requireActsFor(a, officer, ...touched);
        const params = { identity, tenant, roles, groups, ...(more === undefined ? {} : { tenants: more }) };
        // Approvers must act for everything touched: one tenant's officers, else the service's.
        const scope = touched.size === 1 ? tenant : '';
        const approval = await cliApproved(a, io, 'policy', 'tenants assign', officer, params, scope);
        if (approval === false) return 1;
        await approval.change(() =>
          a.state.assign({
            identity,
            tenant,
            roles: roles as Role[],
            groups,
            ...(more === undefined ? {} : { tenants: more }),
            createdBy: officer.identity,
          }),
        );
        await a.audit({
          actor: officer.identity,
          operation: 'tenants assign',
          outcome: 'Success',
          tenant,
          detail: { assignment: JSON.stringify(params) },
        });
        io.out(`${identity} assigned to tenant ${tenant} as ${roles.join(', ')}\n`);
        return 0;
      });
    }
    case 'adopt': {
      const owner = stringOption(args, 'owner');
      const tenant = stringOption(args, 'tenant');
      if (rest.length > 0 || owner === undefined || tenant === undefined)
        throw new UsageError('tenants adopt needs --owner CN --tenant TENANT');
      refuseReservedNames('tenant', tenant);
      const dryRun = args.options.get('dry-run') === true;
      return withAccess(args, async (a) => {
        const snap = await a.state.snapshot();
        if (!snap.tenants.has(tenant)) throw new Error(`no tenant ${tenant}`);
        // A tenant's keys change hands by grants, never wholesale; the server's own objects never do.
        if (snap.tenants.has(owner) || owner.startsWith(SYSTEM_OWNER_PREFIX))
          throw new Error(`${owner} is a tenant or the server itself, not a certificate owner to adopt from`);
        if (dryRun) {
          const ids = await ownedBy(a.store, owner);
          io.out(`${ids.length} object(s) owned by ${owner} would go to tenant ${tenant}\n`);
          return 0;
        }
        const officer = await officerOf(args, a);
        await requireActsFor(a, officer, tenant);
        const params = { owner, tenant };
        const approval = await cliApproved(a, io, 'policy', 'tenants adopt', officer, params, tenant);
        if (approval === false) return 1;
        let moved: string[];
        try {
          moved = await approval.change(async () => adoptObjects(a.store, await a.sealer(), owner, tenant));
        } catch (e: unknown) {
          if (e instanceof AdoptError) throw new UsageError(e.message);
          throw e;
        }
        await a.audit({
          actor: officer.identity,
          operation: 'tenants adopt',
          outcome: 'Success',
          tenant,
          detail: {
            owner,
            count: String(moved.length),
            ...(moved.length > 1 ? { objectIds: JSON.stringify(moved) } : {}),
          },
          ...(moved[0] === undefined ? {} : { objectId: moved[0] }),
        });
        io.out(`${moved.length} object(s) of ${owner} adopted by tenant ${tenant}\n`);
        return 0;
      });
    }
    case 'hash-password': {
      if (rest.length > 0)
        throw new UsageError('tenants hash-password reads the password from standard input');
      const password = await readLine();
      if (password === '') throw new UsageError('empty password');
      io.out(`${await hashPassword(password)}\n`);
      return 0;
    }
    default:
      throw new UsageError(
        'tenants needs list, add NAME, assign IDENTITY TENANT, adopt --owner CN --tenant T or hash-password',
      );
  }
}
