/**
 * The identity the listener's per-identity limits (connections, request
 * rate) count against: the same name the access layer derives
 * (auth.identityFrom: subject CN or a SAN), so that one client cannot
 * escape its limits with certificates that share a SAN but differ in CN,
 * and two clients whose CNs collide but identities differ are not lumped
 * together. Also: the server's reserved namespace (kmip-server:…), which
 * no client identity may name.
 */
import type { AuthConfig } from '../config/auth.js';
import { KmipError } from '../kmip/errors.js';
import { type ConnectionInfo, defaultPrincipal } from '../kmip/hooks.js';
import { SYSTEM_OWNER_PREFIX } from '../kmip/model/service.js';
import type { ClientIdentity, Principal } from '../kmip/operations/types.js';
import type { Logger } from '../log.js';
import { identityFromNames } from './officer.js';

function firstText(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * ListenerOptions.identityOf for this configuration. With auth off the CN
 * names the client (what the owner of its objects records). Undefined when
 * the certificate has no such name: the listener then falls back to its
 * default (CN, else the certificate fingerprint).
 */
export function listenerIdentityOf(
  config: Pick<AuthConfig, 'enabled' | 'identityFrom'>,
): (conn: Omit<ConnectionInfo, 'identity'>) => string | undefined {
  const source = config.enabled ? config.identityFrom : 'cn';
  return (conn) => {
    const cert = conn.peerCertificate;
    if (cert === undefined) return undefined;
    const sans = cert.subjectaltname
      ?.split(', ')
      .map((n) => n.trim())
      .filter((n) => n !== '');
    const id = identityFromNames(source, firstText(cert.subject?.CN), sans);
    // A prefix keeps a SAN identity apart from the listener's fallback names.
    return id === undefined || source === 'cn' ? id : `${source}:${id}`;
  };
}

/**
 * Owners starting with `kmip-server:` are the server's own objects (its
 * issuing CA, the access records): no client may ever act under such a
 * name. Compared without case and surrounding blanks, so that look-alikes
 * are refused too.
 */
export const RESERVED_PREFIX = SYSTEM_OWNER_PREFIX;

export function isReservedName(name: string | undefined): boolean {
  return name?.trim().toLowerCase().startsWith(RESERVED_PREFIX) === true;
}

/** "DNS:a.example" → "a.example"; Node quotes a value with special characters as a JSON string. */
function sanValue(entry: string): string {
  const value = entry.slice(entry.indexOf(':') + 1).trim();
  if (!value.startsWith('"')) return value;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'string' ? parsed : value;
  } catch {
    return value;
  }
}

/**
 * The name in the reserved namespace a client presents, if any: its
 * certificate CN (the owner of what it creates with auth off, and passed
 * as the owner of new objects with auth on), any subject alternative name,
 * or the identity derived from them.
 */
export function reservedNameOf(client: ClientIdentity, identity?: string): string | undefined {
  const names = [client.commonName, identity, ...(client.subjectAltNames ?? []).map(sanValue)];
  return names.find(isReservedName);
}

/** Authentication Not Successful (and a log line) for a client presenting a reserved name. */
export function reservedNameRefusal(name: string, client: ClientIdentity, log: Logger): KmipError {
  log.warn('client refused: its certificate names the server’s reserved namespace', {
    name,
    commonName: client.commonName,
    remoteAddress: client.remoteAddress,
    fingerprint: client.certificateFingerprint,
  });
  return new KmipError(
    'AuthenticationNotSuccessful',
    `the client certificate names "${name}": names starting with ${RESERVED_PREFIX} are reserved for the server's own objects`,
  );
}

/**
 * ExecutorOptions.resolvePrincipal with access control off: the CN in the
 * implicit tenant (defaultPrincipal), refusing a certificate that names the
 * reserved namespace, since with auth off its CN becomes the owner of what
 * it creates.
 */
export function unscopedPrincipal(log: Logger): (client: ClientIdentity) => Principal {
  return (client) => {
    const reserved = reservedNameOf(client);
    if (reserved !== undefined) throw reservedNameRefusal(reserved, client, log);
    return defaultPrincipal(client);
  };
}
