/**
 * Reads the listener's certificate, key, CA and CRL files, and reloads them
 * into the live listener on SIGHUP without a restart (issue 7, TLS point).
 */

import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ServerConfig } from '../../config/index.js';
import type { Logger } from '../../log.js';
import { parseCrls, type RevocationList } from '../../pki/crl.js';
import type { KmipListener, TlsMaterial } from './listener-types.js';

export interface LoadedTls {
  material: TlsMaterial;
  /** the parsed tls.crl, when set */
  revocations: RevocationList | undefined;
}

type TlsFiles = Pick<ServerConfig['tls'], 'cert' | 'key' | 'ca' | 'crl'>;

/** Reads the files named by tls.*; throws when one is missing or the CRL file holds no CRL. */
export async function readTlsMaterial(files: TlsFiles, log: Logger, now = new Date()): Promise<LoadedTls> {
  const [cert, key, ca, crl] = await Promise.all([
    readFile(files.cert),
    readFile(files.key),
    readFile(files.ca),
    files.crl !== undefined ? readFile(files.crl) : Promise.resolve(undefined),
  ]);
  let revocations: RevocationList | undefined;
  if (crl !== undefined) {
    revocations = parseCrls(crl);
    const expired = revocations.expired(now);
    if (expired.length > 0) {
      // OpenSSL refuses every client of a CA whose CRL is past its nextUpdate.
      log.warn(
        'a CRL in tls.crl is past its next update: clients of its CA are refused until it is renewed',
        {
          file: files.crl,
          issuers: expired,
        },
      );
    }
  }
  warnIfNotValidNow(cert, files.cert, now, log);
  return { material: { cert, key, ca, ...(crl !== undefined ? { crl } : {}) }, revocations };
}

/**
 * A server certificate outside its validity (or a clock that is wrong) makes
 * every client refuse every handshake, and the server only sees them hang up:
 * say so at start and at each reload.
 */
function warnIfNotValidNow(pem: Buffer, file: string, now: Date, log: Logger): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return; // the TLS layer reports an unreadable certificate itself
  }
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (now < from || now > to) {
    log.warn(
      "the server certificate is not valid at this server's current time: clients will refuse every handshake; renew it or check the clock",
      { file, validFrom: from.toISOString(), validTo: to.toISOString(), now: now.toISOString() },
    );
  }
}

export interface TlsReloader {
  /** Rereads the files and applies them; rejects (keeping the old ones in service) when they are unusable. */
  reload(): Promise<void>;
  /** Stops listening for SIGHUP. */
  close(): void;
}

/**
 * Reloads on SIGHUP (`kill -HUP PID`). Open connections stay up, except those
 * whose certificate the new CRL revokes: they are closed, since OpenSSL checked
 * them only at their handshake.
 */
export function tlsReloader(
  listener: KmipListener,
  files: TlsFiles,
  log: Logger,
  opts: { signal?: NodeJS.Signals | false } = {},
): TlsReloader {
  let reloading = false;
  const reload = async (): Promise<void> => {
    const { material, revocations } = await readTlsMaterial(files, log);
    listener.reloadTls(material);
    if (revocations) {
      const closed = listener.closeWhere((conn) => {
        const raw = conn.peerCertificate?.raw;
        return raw !== undefined && revocations.isRevoked(raw);
      });
      if (closed > 0) log.warn('closed connections whose client certificate is now revoked', { closed });
    }
  };
  const signal = opts.signal ?? 'SIGHUP';
  const onSignal = () => {
    // One reload at a time; a signal during a reload is served by it.
    if (reloading) return;
    reloading = true;
    void reload()
      .catch((e: unknown) => {
        log.error('TLS reload failed; the previous certificates stay in service', {
          error: e instanceof Error ? e.message : String(e),
        });
      })
      .finally(() => {
        reloading = false;
      });
  };
  if (signal) process.on(signal, onSignal);
  return {
    reload,
    close() {
      if (signal) process.off(signal, onSignal);
    },
  };
}
