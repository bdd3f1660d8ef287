/**
 * Locate beyond the caller's tenant: objects of other tenants that a grant
 * naming Locate opens to the caller, and the keys of the tenants a key
 * administrator administers (src/auth/tenancy.ts).
 *
 * Order and paging: the other tenants' objects come first, then the
 * caller's own, each part in the store's (creation) order. Locate lists
 * newest first, i.e. that order reversed, so a client sees its own tenant's
 * objects first and Offset Items / Maximum Items page one stable sequence.
 * The caller's own part is still paged by the store query; the foreign part
 * is computed in full, from queries narrowed to each granted tenant. Only
 * objects the caller may see are ever listed or counted: no existence oracle.
 */
import type { ObjectService } from '../kmip/model/service.js';
import type { LocateFilter, LocatePage } from '../store/types.js';
import type { Grant } from './state.js';

export interface ForeignScope {
  /** tenants (not the caller's) whose every object the caller may list */
  readonly tenants: readonly string[];
  /** grants (naming Locate, to the caller) of other tenants' objects */
  readonly grants: readonly Grant[];
}

/** Ids of other tenants' objects matching `filter` that `scope` opens, in store order per tenant. */
export async function foreignIds(
  filter: LocateFilter,
  unscoped: ObjectService,
  scope: ForeignScope,
): Promise<string[]> {
  const out: string[] = [];
  const whole = new Set(scope.tenants);
  for (const t of whole) out.push(...(await unscoped.locate({ ...filter, owner: t })));
  const byTenant = new Map<string, Grant[]>();
  for (const g of scope.grants) {
    if (whole.has(g.tenant)) continue;
    byTenant.set(g.tenant, [...(byTenant.get(g.tenant) ?? []), g]);
  }
  for (const [tenant, grants] of byTenant) {
    const candidates = await unscoped.locate({ ...filter, owner: tenant });
    if (candidates.length === 0) continue;
    const allowed = new Set<string>();
    for (const g of grants) {
      if (g.objectId !== undefined) allowed.add(g.objectId);
      if (g.objectGroup !== undefined) {
        const members = await unscoped.locate({
          owner: tenant,
          objectGroup: g.objectGroup,
          ...(filter.includeTombstoned === undefined ? {} : { includeTombstoned: filter.includeTombstoned }),
        });
        for (const id of members) allowed.add(id);
      }
    }
    for (const id of candidates) if (allowed.has(id)) out.push(id);
  }
  return out;
}

/** One page of (foreign ++ own), the own part paged by `own`. */
export async function pageUnion(
  foreign: readonly string[],
  own: (page: LocatePage) => Promise<string[]>,
  page: LocatePage | undefined,
): Promise<string[]> {
  const offset = page?.offset ?? 0;
  const limit = page?.limit;
  const head = foreign.slice(offset, limit === undefined ? undefined : offset + limit);
  const rest = limit === undefined ? undefined : limit - head.length;
  if (rest === 0) return head;
  const ownOffset = Math.max(0, offset - foreign.length);
  const tail = await own({
    ...(ownOffset === 0 ? {} : { offset: ownOffset }),
    ...(rest === undefined ? {} : { limit: rest }),
  });
  return [...head, ...tail];
}

/**
 * The scoped service with Locate and count widened to `foreign` (computed
 * per query, so a batch that creates and then locates sees fresh results).
 * A Proxy, because ObjectService keeps its options private: every other
 * member is the scoped service's own, bound to it.
 */
export function withForeignLocate(
  service: ObjectService,
  foreign: (filter: LocateFilter) => Promise<string[]>,
): ObjectService {
  const locate = async (filter: LocateFilter, page?: LocatePage): Promise<string[]> => {
    // An explicit owner (the server's own objects) is the scoped service's business.
    if (filter.owner !== undefined) return service.locate(filter, page);
    const extra = await foreign(filter);
    if (extra.length === 0) return service.locate(filter, page);
    return pageUnion(extra, (p) => service.locate(filter, p), page);
  };
  const count = async (filter: LocateFilter): Promise<number> => {
    if (filter.owner !== undefined) return service.count(filter);
    return (await foreign(filter)).length + (await service.count(filter));
  };
  return new Proxy(service, {
    get(target, prop) {
      if (prop === 'locate') return locate;
      if (prop === 'count') return count;
      if (prop === 'journaled') {
        return (...args: Parameters<ObjectService['journaled']>) =>
          withForeignLocate(target.journaled(...args), foreign);
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
