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
import { type AccessRecords, RecordConflictError, type Stored } from './records.js';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'used';

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

  constructor(opts: DualControlOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? (() => new Date());
  }

  #crl(): string | undefined {
    const c = this.#o.crlPem;
    return typeof c === 'function' ? c() : c;
  }

  get approvalsNeeded(): number {
    return this.#o.config.approvals;
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
   * otherwise records a pending request, or finds the one already pending.
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
    const now = this.#clock().getTime();
    const all = await this.#o.records.list<ApprovalRequest>('approval');
    const same = all.filter(
      ({ body: r }) =>
        r.requester === a.requester &&
        r.action === a.action &&
        r.rule === a.rule &&
        (r.objectId ?? '') === (a.objectId ?? '') &&
        r.digest === a.digest &&
        r.expiresAt > now &&
        (r.status === 'pending' || r.status === 'approved'),
    );
    for (const s of same) {
      const approvals = await this.validApprovals(s.body);
      if (approvals.length >= this.#o.config.approvals) {
        try {
          const used = await this.#o.records.update<ApprovalRequest>('approval', s.id, s.version, {
            ...s.body,
            status: 'used',
          });
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
    await this.#o.records.create('approval', id, request);
    return { allowed: false, request, created: true, approvals: 0 };
  }

  /** Puts `before` back if the request is still as this process marked it used (version `usedVersion`). */
  async #release(before: Stored<ApprovalRequest>, usedVersion: number): Promise<void> {
    const current = await this.#o.records.get<ApprovalRequest>('approval', before.id);
    if (current?.version !== usedVersion || current.body.status !== 'used') return;
    try {
      await this.#o.records.update<ApprovalRequest>('approval', before.id, usedVersion, before.body);
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
        await this.#o.records.update('approval', id, stored.version, next);
        return { request: next, approvals };
      } catch (e: unknown) {
        if (!(e instanceof RecordConflictError)) throw e;
      }
    }
    throw new DualControlError(`approval request ${id} keeps changing; try again`);
  }
}
