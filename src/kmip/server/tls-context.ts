import { constants as cryptoConstants, randomBytes } from 'node:crypto';
import type tls from 'node:tls';
import type { ListenerOptions, TlsMaterial } from './listener-types.js';

const SESSION_ID_CONTEXT = 'kmip-server';

/** The secure-context options of the listener: at start, and again at each TLS reload. */
export function secureContextOptions(opts: ListenerOptions, material: TlsMaterial): tls.TlsOptions {
  return {
    cert: material.cert,
    key: material.key,
    ca: material.ca,
    ...(material.crl !== undefined
      ? {
          crl:
            typeof material.crl === 'string' || Buffer.isBuffer(material.crl)
              ? material.crl
              : [...material.crl],
        }
      : {}),
    minVersion: opts.minVersion,
    maxVersion: 'TLSv1.3',
    ciphers: opts.ciphers,
    ...(opts.ciphersuites !== undefined ? { ciphersuites: opts.ciphersuites } : {}),
    honorCipherOrder: true,
    // Renegotiation is refused by OpenSSL here and by node per socket (disableRenegotiation):
    // a client-initiated renegotiation is a CPU-exhaustion lever and no KMIP client needs it.
    secureOptions:
      cryptoConstants.SSL_OP_NO_RENEGOTIATION |
      (opts.sessionTickets === false ? cryptoConstants.SSL_OP_NO_TICKET : 0),
    // Session resumption (Veeam and others rely on it): stateless tickets with a
    // per-process key, plus TLS 1.2 session IDs for clients that send no ticket.
    // The fixed session-id context keeps sessions from being resumed by another
    // service that shares the certificate.
    ticketKeys: randomBytes(48),
    sessionIdContext: SESSION_ID_CONTEXT,
    sessionTimeout: opts.sessionTimeoutSeconds,
  };
}
