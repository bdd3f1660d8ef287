/**
 * What the server layers (listener, batch executor) hand to the access layer
 * and the audit trail, and what those hand back to the operations. It sits
 * below auth/, audit/ and the operations so that each of them imports it
 * downward; kmip/server re-exports it.
 */

import type tls from 'node:tls';
import { KmipError } from './errors.js';
import type { ClientIdentity, OperationContext, Principal } from './operations/types.js';
import { compareVersions, type KmipVersion } from './spec/index.js';
import type { TtlvStructure } from './ttlv/types.js';

/**
 * What a connection keeps of the client certificate. Not the whole
 * getPeerCertificate() object: with its issuer chain it costs ~2.5 KB of heap
 * per connection, and thousands of idle connections hold one each (issue 8).
 */
export type PeerCertificate = Pick<
  tls.PeerCertificate,
  'subject' | 'subjectaltname' | 'fingerprint256' | 'serialNumber' | 'raw'
>;

export interface ConnectionInfo {
  id: number;
  remoteAddress: string;
  remotePort: number;
  peerCertificate: PeerCertificate | undefined;
  tlsProtocol: string | null;
  sessionReused: boolean;
  /** whom the per-identity limits count this connection against (see ListenerOptions.identityOf) */
  identity: string;
}

export interface ItemCheck {
  readonly operation: number;
  /** the payload as the operation will see it (ID Placeholder filled in) */
  readonly payload: TtlvStructure;
  readonly ctx: OperationContext;
  readonly clientCorrelationValue: string | undefined;
}

export type ItemGuard = (check: ItemCheck) => void | Promise<void>;

export function defaultPrincipal(client: ClientIdentity): Principal {
  return { identity: client.commonName ?? client.remoteAddress, tenant: 'default', roles: [], groups: [] };
}

/** One executed batch item, as the audit trail records it. */
export interface ItemEvent {
  readonly at: Date;
  readonly client: ClientIdentity;
  readonly principal: Principal;
  readonly version: KmipVersion;
  /** Operation enumeration value; undefined for a malformed item */
  readonly operation: number | undefined;
  /** the request header's Client Correlation Value (KMIP 1.4+), as sent: the purpose code */
  readonly clientCorrelationValue: string | undefined;
  /** Unique Identifiers named by the request and returned by the response, in that order, without repeats */
  readonly objectIds: readonly string[];
  readonly resultStatus: number;
  /** Result Reason enumeration value of a failure */
  readonly resultReason: number | undefined;
  /** 0-based position in the batch */
  readonly index: number;
}

/**
 * Item/Object Not Found for `id`, as an operation or the access layer's guard
 * answers it: one text, so a guard's refusal of an object the caller may not
 * see reads like the absence of that object.
 */
export function notFound(ctx: OperationContext, id: string): KmipError {
  const v2 = compareVersions(ctx.version, '2.0') >= 0;
  return new KmipError(v2 ? 'ObjectNotFound' : 'ItemNotFound', `object ${id} does not exist`);
}

/**
 * A dual-control approval the access layer (src/auth/access.ts) used for
 * an item, and how to give it back: the item's operation calls it when it
 * then fails (givingApprovalBack, applied to every operation), so that an
 * approval is only spent on an operation that succeeded. Keyed by the
 * payload object the guards and the handler share.
 */
const approvalReleases = new WeakMap<TtlvStructure, () => Promise<void>>();

export function holdApprovalRelease(payload: TtlvStructure, release: () => Promise<void>): void {
  approvalReleases.set(payload, release);
}

/** The release of the approval used for this item (once), if any. */
export function takeApprovalRelease(payload: TtlvStructure): (() => Promise<void>) | undefined {
  const release = approvalReleases.get(payload);
  approvalReleases.delete(payload);
  return release;
}
