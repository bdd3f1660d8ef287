import type { HsmKeyService } from '../../hsm/types.js';
import type { ObjectService } from '../model/service.js';
import type { Schema } from '../payloads/schema.js';
import type { KmipVersion } from '../spec/index.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import type { StreamRegistry } from './support/streams.js';

/** Who is calling, as the connection layer established it. */
export interface ClientIdentity {
  /** verified client certificate subject CN, undefined for in-process callers */
  readonly commonName: string | undefined;
  readonly remoteAddress: string;
  /** SHA-256 fingerprint of the verified client certificate (colon-separated hex), undefined in-process */
  readonly certificateFingerprint?: string;
  /** subject alternative names of the verified client certificate ("DNS:a, IP Address:…" entries split) */
  readonly subjectAltNames?: readonly string[];
}

/**
 * Who the request acts for, as the access layer resolved it from the client
 * identity (and any KMIP Credential). Without an access layer: the
 * certificate CN in the "default" tenant with no roles.
 */
export interface Principal {
  readonly identity: string;
  readonly tenant: string;
  readonly roles: readonly string[];
  readonly groups: readonly string[];
}

/** Per-request state shared by the batch items of one message. */
export interface OperationContext {
  /** protocol version of the request; the response must only use what it defines */
  readonly version: KmipVersion;
  readonly client: ClientIdentity;
  readonly principal: Principal;
  /**
   * The ID Placeholder (KMIP 1.0 §3.1, 2.0 §6.1): set by operations that create
   * or locate an object, used when a later batch item omits Unique Identifier.
   */
  idPlaceholder: string | undefined;
  /**
   * Bytes the response message may still grow by before this item's answer
   * is refused as Response Too Large (the batch executor sets it before each
   * item; absent: no bound). An operation whose output size it knows up front
   * (RNG Retrieve) refuses early instead of producing what would be dropped.
   */
  responseBytesLeft?: number;
  readonly signal: AbortSignal;
  readonly server: ServerDescription;
  readonly services: OperationServices;
}

/** What operations act on: the managed objects, the server's clock, open multi-part streams. */
export interface OperationServices {
  readonly objects: ObjectService;
  readonly clock: () => Date;
  readonly streams: StreamRegistry;
  /** what the server's configuration allows of the cryptographic operations; absent: the defaults */
  readonly policy?: CryptoPolicy;
  /** keys kept inside the HSM (pkcs11 provider only; docs/hsm.md); absent: the option is refused */
  readonly hsm?: HsmKeyService;
  /** what one Locate may return and examine (config limits.locate*); absent: the defaults in locate.ts */
  readonly limits?: OperationLimits;
}

/** Configurable bounds on what one operation may cost (config section `limits`). */
export interface OperationLimits {
  /** Locate answers at most this many identifiers (limits.locateMaxItems) */
  readonly locateMaxItems: number;
  /** Locate loads and matches at most this many candidate objects (limits.locateMaxScan) */
  readonly locateMaxScan: number;
}

/** Configurable limits on cryptography (config section `crypto`). */
export interface CryptoPolicy {
  /** Triple DES for Encrypt/Decrypt (crypto.allowTripleDes); off by default, NIST SP 800-131A disallows it */
  readonly allowTripleDes: boolean;
}

/** What the server is and can do, as Query reports it. */
export interface ServerDescription {
  readonly vendorIdentification: string;
  readonly productName: string;
  readonly productVersion: string;
  /** the registered operations, so that Query reports exactly what is implemented */
  readonly operations: readonly Pick<OperationDefinition, 'operation' | 'since'>[];
  /** Object Type enumeration values the server can store */
  readonly objectTypes: readonly number[];
}

/**
 * One KMIP operation: its capabilities as data and its handler.
 * The batch executor owns everything around the handler (ID placeholder
 * bookkeeping, error continuation, batch item IDs, size limits, auth, audit).
 */
export interface OperationDefinition {
  /** Operation enumeration value (KMIP 1.0 §9.1.3.2.26, 2.0 §11.26) */
  readonly operation: number;
  /** first protocol version in which a client may send it */
  readonly since: KmipVersion;
  /** writes to the store */
  readonly mutates: boolean;
  /** acts on a managed object named by Unique Identifier or the ID Placeholder */
  readonly needsObject: boolean;
  /**
   * States (State enumeration names) in which the operation may act on its
   * object; absent: any. Enforced by the pipeline (support/define.ts).
   */
  readonly allowedStates?: readonly string[];
  /** the request and response payloads as data (payloads/), for the JSON/REST surfaces and documentation */
  readonly request?: Schema;
  readonly response?: Schema;
  /** returns the contents of the Response Payload, in spec order */
  handle(payload: TtlvStructure, ctx: OperationContext): Promise<readonly TtlvItem[]> | readonly TtlvItem[];
}
