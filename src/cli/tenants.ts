/**
 * `kmip-server tenants list|add NAME|assign IDENTITY TENANT|hash-password`:
 * the service team's tenants and who belongs to them. Changes need an
 * officer (--cert/--key) and, when auth.dualControl lists `policy`,
 * approvals.
 */
import { createInterface } from 'node:readline';
import { hashPassword } from '../auth/password.js';
import { ROLES, type Role } from '../config/auth.js';
import { cliApproved, officerOf, withAccess } from './access-common.js';
import { type ParsedArgs, stringOption, UsageError } from './args.js';
import type { CliIo } from './run.js';

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
      return withAccess(args, async (a) => {
        const officer = await officerOf(args, a);
        if (!(await cliApproved(a, io, 'policy', 'tenants add', officer, { name }))) return 1;
        await a.state.addTenant(name, officer.identity);
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
      return withAccess(args, async (a) => {
        const officer = await officerOf(args, a);
        const params = { identity, tenant, roles, groups };
        if (!(await cliApproved(a, io, 'policy', 'tenants assign', officer, params))) return 1;
        await a.state.assign({
          identity,
          tenant,
          roles: roles as Role[],
          groups,
          createdBy: officer.identity,
        });
        io.out(`${identity} assigned to tenant ${tenant} as ${roles.join(', ')}\n`);
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
      throw new UsageError('tenants needs list, add NAME, assign IDENTITY TENANT or hash-password');
  }
}
