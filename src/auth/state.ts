/**
 * The access policy in force: the configuration's tenants and identities
 * merged with what officers added at run time (tenants, assignments,
 * grants; src/auth/records.ts). Read through a short cache so that a KMIP
 * request costs no store query; a change made on any node takes effect
 * everywhere within `cacheMs`.
 */
import type { AuthConfig, IdentityConfig, Role } from '../config/auth.js';
import { type AccessRecords, RecordConflictError } from './records.js';

export interface TenantRecord {
  readonly name: string;
  readonly createdBy: string;
  readonly createdAt: number;
}

/** An identity assigned by `kmip-server tenants assign`; it overrides tenant, roles and groups of the configuration. */
export interface AssignmentRecord {
  readonly identity: string;
  readonly tenant: string;
  readonly roles: Role[];
  readonly groups: string[];
  /** further tenants its administrative roles cover (IdentityConfig.tenants) */
  readonly tenants?: string[];
  readonly createdBy: string;
  readonly createdAt: number;
}

/**
 * Lets an identity or a group use objects of another tenant: one object or
 * every object of an Object Group, for the listed operations only.
 */
export interface Grant {
  readonly id: string;
  /** the tenant that owns the objects */
  readonly tenant: string;
  readonly objectId?: string;
  readonly objectGroup?: string;
  readonly toIdentity?: string;
  readonly toGroup?: string;
  /** Operation enumeration names, e.g. Get, Encrypt */
  readonly operations: readonly string[];
  readonly createdBy: string;
  readonly createdAt: number;
  readonly revokedBy?: string;
  readonly revokedAt?: number;
}

export interface AccessSnapshot {
  readonly tenants: ReadonlySet<string>;
  readonly identities: ReadonlyMap<string, IdentityConfig>;
  /** active grants only */
  readonly grants: readonly Grant[];
}

export class AccessState {
  readonly #config: AuthConfig;
  readonly #records: AccessRecords;
  readonly #cacheMs: number;
  #cached: { at: number; snapshot: Promise<AccessSnapshot> } | undefined;

  constructor(config: AuthConfig, records: AccessRecords, cacheMs = 2000) {
    this.#config = config;
    this.#records = records;
    this.#cacheMs = cacheMs;
  }

  get records(): AccessRecords {
    return this.#records;
  }

  /** The policy, at most cacheMs old. */
  snapshot(): Promise<AccessSnapshot> {
    const now = Date.now();
    if (this.#cached === undefined || now - this.#cached.at > this.#cacheMs) {
      const snapshot = this.#load();
      // A failed load is not cached: the next request tries again.
      snapshot.catch(() => {
        if (this.#cached?.snapshot === snapshot) this.#cached = undefined;
      });
      this.#cached = { at: now, snapshot };
    }
    return this.#cached.snapshot;
  }

  /** Forget the cache (after a change made by this process). */
  invalidate(): void {
    this.#cached = undefined;
  }

  async #load(): Promise<AccessSnapshot> {
    const [tenants, assignments, grants] = await Promise.all([
      this.#records.list<TenantRecord>('tenant'),
      this.#records.list<AssignmentRecord>('identity'),
      this.#records.list<Grant>('grant'),
    ]);
    const identities = new Map<string, IdentityConfig>(Object.entries(this.#config.identities));
    for (const { body } of assignments) {
      const base = identities.get(body.identity);
      const { tenants: _previous, ...rest } = base ?? {};
      identities.set(body.identity, {
        ...rest,
        tenant: body.tenant,
        roles: body.roles,
        groups: body.groups,
        ...(body.tenants === undefined ? {} : { tenants: body.tenants }),
      });
    }
    const names = new Set<string>(this.#config.tenants);
    for (const { body } of tenants) names.add(body.name);
    for (const id of identities.values()) names.add(id.tenant);
    return {
      tenants: names,
      identities,
      grants: grants.map((g) => g.body).filter((g) => g.revokedAt === undefined),
    };
  }

  // ---- changes (the CLI's; dual control, when configured, is checked by the caller)

  async addTenant(name: string, by: string): Promise<void> {
    await this.#records.create<TenantRecord>('tenant', name, { name, createdBy: by, createdAt: Date.now() });
    this.invalidate();
  }

  async assign(a: Omit<AssignmentRecord, 'createdAt'>): Promise<void> {
    const existing = await this.#records.get<AssignmentRecord>('identity', a.identity);
    const body: AssignmentRecord = { ...a, createdAt: Date.now() };
    if (existing === undefined) await this.#records.create('identity', a.identity, body);
    else await this.#records.update('identity', a.identity, existing.version, body);
    this.invalidate();
  }

  async addGrant(g: Grant): Promise<void> {
    await this.#records.create<Grant>('grant', g.id, g);
    this.invalidate();
  }

  async revokeGrant(id: string, by: string): Promise<Grant> {
    const existing = await this.#records.get<Grant>('grant', id);
    if (existing === undefined) throw new RecordConflictError(`no grant ${id}`);
    if (existing.body.revokedAt !== undefined)
      throw new RecordConflictError(`grant ${id} is already revoked`);
    const body: Grant = { ...existing.body, revokedBy: by, revokedAt: Date.now() };
    await this.#records.update('grant', id, existing.version, body);
    this.invalidate();
    return body;
  }

  async getGrant(id: string): Promise<Grant | undefined> {
    return (await this.#records.get<Grant>('grant', id))?.body;
  }

  async listGrants(): Promise<Grant[]> {
    return (await this.#records.list<Grant>('grant')).map((g) => g.body);
  }
}

/** Does `grant` let (identity, groups) run `operation` (enumeration name) on an object of `owner` with `objectGroups`? */
export function grantCovers(
  grant: Grant,
  who: { identity: string; groups: readonly string[] },
  obj: { id: string; owner: string | undefined; objectGroups: readonly string[] },
): boolean {
  if (grant.tenant !== obj.owner) return false;
  const target =
    (grant.objectId !== undefined && grant.objectId === obj.id) ||
    (grant.objectGroup !== undefined && obj.objectGroups.includes(grant.objectGroup));
  return target && grantedTo(grant, who);
}

/** Is (identity, groups) the grantee of `grant`? */
export function grantedTo(grant: Grant, who: { identity: string; groups: readonly string[] }): boolean {
  return (
    (grant.toIdentity !== undefined && grant.toIdentity === who.identity) ||
    (grant.toGroup !== undefined && who.groups.includes(grant.toGroup))
  );
}
