/**
 * The identity the listener's per-identity limits (connections, request
 * rate) count against: the same name the access layer derives
 * (auth.identityFrom: subject CN or a SAN), so that one client cannot
 * escape its limits with certificates that share a SAN but differ in CN,
 * and two clients whose CNs collide but identities differ are not lumped
 * together.
 */
import type { AuthConfig } from '../config/auth.js';
import type { ConnectionInfo } from '../kmip/server/listener.js';
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
