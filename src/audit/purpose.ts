/**
 * Purpose codes ("why was this key used"): the request header's Client
 * Correlation Value (KMIP 1.4 and later) as sent, else a default purpose that
 * policy gives the client. Policy can require a purpose for chosen operations.
 */

import { KmipError } from '../kmip/errors.js';
import type { ItemGuard } from '../kmip/hooks.js';
import type { Principal } from '../kmip/operations/types.js';
import { compareVersions, enumNameOf, enumValueOf } from '../kmip/spec/index.js';

/** Longest purpose kept in a record; a longer Client Correlation Value is cut (and flagged). */
export const MAX_PURPOSE_CHARS = 1024;

export interface PurposePolicyConfig {
  /**
   * Default purposes: keys are an identity, `group:NAME`, or `*` (everyone);
   * the identity wins over its groups (in the order the access layer lists
   * them), which win over `*`.
   */
  readonly defaultPurpose?: Readonly<Record<string, string>>;
  /** Operation names (e.g. 'Destroy', 'Get') that may not run without a purpose. */
  readonly requirePurpose?: readonly string[];
}

export type PurposeSource = 'header' | 'default';

export interface Purpose {
  readonly value: string;
  readonly source: PurposeSource;
}

export class PurposePolicy {
  readonly #defaults: ReadonlyMap<string, string>;
  readonly #required: ReadonlySet<number>;

  constructor(config: PurposePolicyConfig = {}) {
    this.#defaults = new Map(Object.entries(config.defaultPurpose ?? {}).filter(([, v]) => v !== ''));
    const required = new Set<number>();
    for (const name of config.requirePurpose ?? []) {
      const value = enumValueOf('Operation', name);
      if (value === undefined) throw new RangeError(`audit.requirePurpose: unknown operation '${name}'`);
      required.add(value);
    }
    this.#required = required;
  }

  /** The purpose of a request, or undefined when it has none. */
  purposeOf(principal: Principal, clientCorrelationValue: string | undefined): Purpose | undefined {
    if (clientCorrelationValue !== undefined && clientCorrelationValue !== '') {
      return { value: clientCorrelationValue, source: 'header' };
    }
    const d =
      this.#defaults.get(principal.identity) ??
      principal.groups.map((g) => this.#defaults.get(`group:${g}`)).find((v) => v !== undefined) ??
      this.#defaults.get('*');
    return d === undefined ? undefined : { value: d, source: 'default' };
  }

  requires(operation: number): boolean {
    return this.#required.has(operation);
  }

  /**
   * Refuses an item whose operation needs a purpose and has none. Permission
   * Denied, not Invalid Message: the message is well formed (Client
   * Correlation Value is optional in every version, KMIP 1.4 §6 / 2.1 §6), it is
   * the server's policy that forbids the operation without one (KMIP 1.4 §11 and
   * 2.1 §11: Permission Denied when the client may not perform the operation).
   */
  guard(): ItemGuard {
    return (check) => {
      if (!this.#required.has(check.operation)) return;
      if (this.purposeOf(check.ctx.principal, check.clientCorrelationValue) !== undefined) return;
      const name = enumNameOf('Operation', check.operation) ?? String(check.operation);
      const how =
        compareVersions(check.ctx.version, '1.4') >= 0
          ? 'send it as the Client Correlation Value of the request header'
          : `KMIP ${check.ctx.version} has no Client Correlation Value: use KMIP 1.4 or later and send it there`;
      throw new KmipError(
        'PermissionDenied',
        `policy requires a purpose for ${name}: ${how}, or ask the security officers for a default purpose for ${check.ctx.principal.identity}`,
      );
    };
  }
}
