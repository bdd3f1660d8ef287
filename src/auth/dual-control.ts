/**
 * Dual control (M of N): a sensitive action is recorded as a pending
 * request; officers other than the requester approve or deny it with a
 * signed decision (src/auth/officer.ts); after M distinct approvals the
 * requester's retry of exactly the same action (same identity, action,
 * object and payload digest) runs once.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { DualControlConfig, DualControlOperation, IdentitySource } from '../config/auth.js';
import { verifyOfficerSignature } from './officer.js';
import { type AccessRecords, RecordConflictError, type RecordIndex, type Stored } from './records.js';

/** 'expired': closed after its expiry (an open request past expiresAt is expired too) */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'used' | 'expired';

export interface Decision {
  readonly officer: string;
  readonly decision: 'approve' | 'deny';
  readonly at: number;
  readonly certificate: string;
  readonly signature: string;
}

export interface ApprovalRequest {
  readonly id: string;
  /** which dual-control rule applies */
  readonly rule: DualControlOperation;
  /** what runs, e.g. "Destroy", "grants add", "master-key rotate" */
  readonly action: string;
  readonly requester: string;
  readonly tenant: string;
  readonly objectId?: string;
  /** SHA-256 of the request (KMIP payload, or the CLI action's parameters) */
  readonly digest: string;
  readonly summary: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly status: ApprovalStatus;
  readonly decisions: readonly Decision[];
}

export function payloadDigest(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The exact bytes an officer signs for a decision. */
export function decisionMessage(req: ApprovalRequest, officer: string, decision: string, at: number): Buffer {
  return Buffer.from(
    JSON.stringify([
      'kmip-server approval decision v1',
      req.id,
      req.rule,
      req.action,
      req.requester,
      req.objectId ?? '',
      req.digest,
      officer,
      decision,
      at,
    ]),
  );
}

export class DualControlError extends Error {
  override name = 'DualControlError';
}

/** The requester already has as many open requests as auth.dualControl.maxPendingPerIdentity allows. */
export class ApprovalQuotaError extends DualControlError {
  override name = 'ApprovalQuotaError';
}

/**
 * Default auth.dualControl.maxPendingPerIdentity: open (pending or approved,
 * not expired) requests one identity may have. Far above what a person
 * asks officers to decide at once; it bounds what one identity can put in
 * the officers' queue and in the store (a key administrator could file a
 * request per random identifier).
 */
export const DEFAULT_MAX_PENDING_PER_IDENTITY = 100;

// Index fields of approval records (src/auth/records.ts): a request is found
// by its key, and an identity's open requests are counted, by indexed store
// queries, never by reading every request.
/** sha256 of (requester, action, rule, object, digest), while the request is open */
const KEY_FIELD = 'kmip-server:approval-key';
/** the requester, while the request is open */
const OPEN_BY_FIELD = 'kmip-server:approval-open-by';
/** on every approval record written with these fields (older ones are indexed once, see #indexed) */
const INDEXED_FIELD = 'kmip-server:approval-indexed';
const INDEX_VERSION = '1';

/** What identifies "the same request": a retry matches it. */
function requestKey(r: {
  requester: string;
  action: string;
  rule: string;
  objectId?: string;
  digest: string;
}): string {
  return payloadDigest(JSON.stringify([r.requester, r.action, r.rule, r.objectId ?? '', r.digest]));
}

function isOpen(status: ApprovalStatus): boolean {
  return status === 'pending' || status === 'approved';
}

/** The index fields a request is stored with. */
function approvalIndex(r: ApprovalRequest): RecordIndex {
  return isOpen(r.status)
    ? { [INDEXED_FIELD]: INDEX_VERSION, [KEY_FIELD]: requestKey(r), [OPEN_BY_FIELD]: r.requester }
    : { [INDEXED_FIELD]: INDEX_VERSION };
}

function sameIndex(a: RecordIndex, b: RecordIndex): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

export type Authorization =
  | {
      readonly allowed: true;
      /**
       * Gives the used approval back (status as before) when the action then
       * fails, so that the requester's retry needs no new approvals. Does
       * nothing once the request changed again.
       */
      readonly release: () => Promise<void>;
    }
  | {
      readonly allowed: false;
      readonly request: ApprovalRequest;
      readonly created: boolean;
      readonly approvals: number;
    };

export interface DualControlOptions {
  readonly config: DualControlConfig;
  readonly records: AccessRecords;
  /** the client CA (PEM) officer certificates must come from */
  readonly caPem: string;
  /** CRLs (PEM) of the client CA, or a function reading the current ones: revoked officers approve nothing */
  readonly crlPem?: string | (() => string | undefined);
  readonly identityFrom: IdentitySource;
  /** is this identity a security officer for `tenant` now? ('' : a service-wide change) */
  readonly isOfficer: (identity: string, tenant: string) => Promise<boolean>;
  readonly clock?: () => Date;
}

export class DualControl {
  readonly #o: DualControlOptions;
  readonly #clock: () => Date;
  readonly #maxPending: number;
  /** once per process: approval records written before the index fields get them */
  #indexing: Promise<void> | undefined;

  constructor(opts: DualControlOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? (() => new Date());
    this.#maxPending = opts.config.maxPendingPerIdentity ?? DEFAULT_MAX_PENDING_PER_IDENTITY;
  }

  #crl(): string | undefined {
    const c = this.#o.crlPem;
    return typeof c === 'function' ? c() : c;
  }

  get approvalsNeeded(): number {
    return this.#o.config.approvals;
  }

  /** open requests one identity may have */
  get maxPendingPerIdentity(): number {
    return this.#maxPending;
  }

  requires(rule: DualControlOperation): boolean {
    return this.#o.config.operations.includes(rule);
  }

  /**
   * Approvals that count: signed by a current officer of the request's
   * tenant other than the requester, verified against the CA and its CRL,
   * one per officer.
   */
  async validApprovals(req: ApprovalRequest): Promise<string[]> {
    const now = this.#clock();
    const seen = new Set<string>();
    for (const d of req.decisions) {
      if (d.decision !== 'approve' || d.officer === req.requester || seen.has(d.officer)) continue;
      const ok = verifyOfficerSignature(
        d.officer,
        d.certificate,
        d.signature,
        decisionMessage(req, d.officer, d.decision, d.at),
        this.#o.caPem,
        this.#o.identityFrom,
        now,
        this.#crl(),
      );
      if (ok && (await this.#o.isOfficer(d.officer, req.tenant))) seen.add(d.officer);
    }
    return [...seen];
  }

  /**
   * Lets the action run when an approved request matches (and uses it up);
   * otherwise finds the one already pending, or records a new pending
   * request — unless the requester already has maxPendingPerIdentity open
   * ones (ApprovalQuotaError). Reads only the requests of this key (and, to
   * file a new one, counts the requester's open ones): the cost does not
   * grow with the number of requests stored.
   */
  async authorize(a: {
    rule: DualControlOperation;
    action: string;
    requester: string;
    tenant: string;
    objectId?: string;
    digest: string;
    summary: string;
  }): Promise<Authorization> {
    await this.#indexed();
    const now = this.#clock().getTime();
    const key = requestKey(a);
    const same: Stored<ApprovalRequest>[] = [];
    for (const s of await this.#o.records.find<ApprovalRequest>('approval', { [KEY_FIELD]: key })) {
      const r = s.body;
      // the key is a digest: check the fields themselves
      if (
        r.requester !== a.requester ||
        r.action !== a.action ||
        r.rule !== a.rule ||
        (r.objectId ?? '') !== (a.objectId ?? '') ||
        r.digest !== a.digest ||
        !isOpen(r.status)
      )
        continue;
      if (r.expiresAt <= now) await this.#close(s);
      else same.push(s);
    }
    for (const s of same) {
      const approvals = await this.validApprovals(s.body);
      if (approvals.length >= this.#o.config.approvals) {
        try {
          const used = await this.#write(s.id, s.version, { ...s.body, status: 'used' });
          return { allowed: true, release: () => this.#release(s, used.version) };
        } catch (e: unknown) {
          if (!(e instanceof RecordConflictError)) throw e;
          // used by a concurrent retry or decided meanwhile: look further
        }
      }
    }
    const pending = same[0];
    if (pending !== undefined) {
      const approvals = await this.validApprovals(pending.body);
      return { allowed: false, request: pending.body, created: false, approvals: approvals.length };
    }
    await this.#checkQuota(a.requester, now);
    const id = randomBytes(8).toString('hex');
    const request: ApprovalRequest = {
      id,
      rule: a.rule,
      action: a.action,
      requester: a.requester,
      tenant: a.tenant,
      ...(a.objectId === undefined ? {} : { objectId: a.objectId }),
      digest: a.digest,
      summary: a.summary,
      createdAt: now,
      expiresAt: now + this.#o.config.expiryHours * 3600_000,
      status: 'pending',
      decisions: [],
    };
    await this.#o.records.create('approval', id, request, approvalIndex(request));
    return { allowed: false, request, created: true, approvals: 0 };
  }

  /**
   * Refuses a new request when the requester has maxPendingPerIdentity open
   * ones. Expired ones are closed on the way (oldest first: they expire in
   * creation order), so each is closed once and a refusal reads one record.
   * Two requests filed at the same moment by one identity may both pass.
   */
  async #checkQuota(requester: string, now: number): Promise<void> {
    const max = this.#maxPending;
    const by = { [OPEN_BY_FIELD]: requester };
    for (let closed = 0; closed < 64; closed++) {
      if ((await this.#o.records.count('approval', by)) < max) return;
      const [oldest] = await this.#o.records.find<ApprovalRequest>('approval', by, { limit: 1 });
      if (oldest === undefined) return;
      if (oldest.body.expiresAt > now) break;
      await this.#close(oldest);
    }
    throw new ApprovalQuotaError(
      `${requester} already has ${max} approval requests waiting for officers (the most auth.dualControl.maxPendingPerIdentity allows); ` +
        'retry when officers have decided some of them or they have expired',
    );
  }

  /** Marks an open request past its expiry 'expired' (out of the open index); best effort. */
  async #close(s: Stored<ApprovalRequest>): Promise<void> {
    try {
      await this.#write(s.id, s.version, { ...s.body, status: 'expired' });
    } catch (e: unknown) {
      if (!(e instanceof RecordConflictError)) throw e;
    }
  }

  #write(id: string, version: number, body: ApprovalRequest): Promise<Stored<ApprovalRequest>> {
    return this.#o.records.update<ApprovalRequest>('approval', id, version, body, approvalIndex(body));
  }

  /**
   * Approval records written before they had index fields get them, once
   * per process; afterwards two counts tell that nothing is left to do.
   */
  #indexed(): Promise<void> {
    this.#indexing ??= (async () => {
      const records = this.#o.records;
      const all = await records.count('approval', {});
      if ((await records.count('approval', { [INDEXED_FIELD]: INDEX_VERSION })) >= all) return;
      for (const s of await records.list<ApprovalRequest>('approval')) {
        if (sameIndex(s.index, approvalIndex(s.body))) continue;
        try {
          await this.#write(s.id, s.version, s.body);
        } catch (e: unknown) {
          if (!(e instanceof RecordConflictError)) throw e;
          // changed meanwhile, by a writer that indexes it
        }
      }
    })().catch((e: unknown) => {
      this.#indexing = undefined;
      throw e;
    });
    return this.#indexing;
  }

  /** Puts `before` back if the request is still as this process marked it used (version `usedVersion`). */
  async #release(before: Stored<ApprovalRequest>, usedVersion: number): Promise<void> {
    const current = await this.#o.records.get<ApprovalRequest>('approval', before.id);
    if (current?.version !== usedVersion || current.body.status !== 'used') return;
    try {
      await this.#write(before.id, usedVersion, before.body);
    } catch (e: unknown) {
      if (!(e instanceof RecordConflictError)) throw e;
      // changed meanwhile (decided, or given back by another node): leave it
    }
  }

  async list(): Promise<ApprovalRequest[]> {
    return (await this.#o.records.list<ApprovalRequest>('approval')).map((r) => r.body);
  }

  async get(id: string): Promise<Stored<ApprovalRequest> | undefined> {
    return this.#o.records.get<ApprovalRequest>('approval', id);
  }

  /**
   * Records an officer's signed decision. The requester cannot decide on
   * its own request, an officer decides once, and a deny is final.
   */
  async decide(
    id: string,
    officer: { identity: string; certificatePem: string; sign(message: Uint8Array): string },
    decision: 'approve' | 'deny',
  ): Promise<{ request: ApprovalRequest; approvals: number }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const stored = await this.get(id);
      if (stored === undefined) throw new DualControlError(`no approval request ${id}`);
      const req = stored.body;
      if (!(await this.#o.isOfficer(officer.identity, req.tenant))) {
        throw new DualControlError(
          req.tenant === ''
            ? `${officer.identity} is not a security officer for service-wide changes`
            : `${officer.identity} is not a security officer for tenant ${req.tenant}`,
        );
      }
      const now = this.#clock().getTime();
      if (req.status !== 'pending' && req.status !== 'approved')
        throw new DualControlError(`approval request ${id} is ${req.status}`);
      if (req.expiresAt <= now) throw new DualControlError(`approval request ${id} has expired`);
      if (req.requester === officer.identity)
        throw new DualControlError(`${officer.identity} requested ${id} and cannot decide on it`);
      if (req.decisions.some((d) => d.officer === officer.identity))
        throw new DualControlError(`${officer.identity} has already decided on ${id}`);
      const d: Decision = {
        officer: officer.identity,
        decision,
        at: now,
        certificate: officer.certificatePem,
        signature: officer.sign(decisionMessage(req, officer.identity, decision, now)),
      };
      let next: ApprovalRequest = { ...req, decisions: [...req.decisions, d] };
      const approvals = (await this.validApprovals(next)).length;
      if (decision === 'deny') next = { ...next, status: 'denied' };
      else if (approvals >= this.#o.config.approvals) next = { ...next, status: 'approved' };
      try {
        await this.#write(id, stored.version, next);
        return { request: next, approvals };
      } catch (e: unknown) {
        if (!(e instanceof RecordConflictError)) throw e;
      }
    }
    throw new DualControlError(`approval request ${id} keeps changing; try again`);
  }
}
