import type { DetailedPeerCertificate } from 'node:tls';
import { expect } from 'chai';
import {
  isReservedName,
  listenerIdentityOf,
  reservedNameOf,
  unscopedPrincipal,
} from '../../src/auth/identity.js';
import { administeredTenants, administers, isGlobalOfficer, officerActsFor } from '../../src/auth/tenancy.js';
import { parseIdentities } from '../../src/config/auth.js';
import { KmipError } from '../../src/kmip/errors.js';
import type { Logger } from '../../src/log.js';

function conn(cn: string | undefined, san?: string) {
  const peerCertificate = {
    subject: cn === undefined ? {} : { CN: cn },
    ...(san === undefined ? {} : { subjectaltname: san }),
    fingerprint256: 'AA:BB',
  } as unknown as DetailedPeerCertificate;
  return {
    id: 1,
    remoteAddress: '192.0.2.1',
    remotePort: 1,
    peerCertificate,
    tlsProtocol: 'TLSv1.3',
    sessionReused: false,
  };
}

describe('auth: listener identity', () => {
  it('counts by the CN with auth off or identityFrom cn', () => {
    expect(
      listenerIdentityOf({ enabled: false, identityFrom: 'san-dns' })(conn('app', 'DNS:a.example')),
    ).to.equal('app');
    expect(listenerIdentityOf({ enabled: true, identityFrom: 'cn' })(conn('app'))).to.equal('app');
  });

  it('counts by the SAN the access layer uses, kept apart from CN names', () => {
    const of = listenerIdentityOf({ enabled: true, identityFrom: 'san-dns' });
    expect(of(conn('x', 'email:a@b.example, DNS:host.example'))).to.equal('san-dns:host.example');
    // two certificates with one SAN and different CNs are one client
    expect(of(conn('y', 'DNS:host.example'))).to.equal(of(conn('x', 'DNS:host.example')));
    // no such SAN: the listener's default applies
    expect(of(conn('x', 'email:a@b.example'))).to.equal(undefined);
    expect(of({ ...conn('x'), peerCertificate: undefined })).to.equal(undefined);
  });
});

describe('auth: tenancy of administrators and officers', () => {
  it('parses auth.identities.X.tenants, for administrative roles only', () => {
    const problems: string[] = [];
    const ids = parseIdentities(
      {
        carl: { tenant: 'a', roles: ['key-administrator'], tenants: ['b', 'c'] },
        root: { tenant: 'ops', roles: ['key-administrator'], tenants: ['*'] },
        app: { tenant: 'a', roles: ['crypto-user'], tenants: ['b'] },
      },
      problems,
    );
    expect(ids.carl?.tenants).to.deep.equal(['b', 'c']);
    expect(ids.root?.tenants).to.deep.equal(['*']);
    expect(problems).to.deep.equal([
      'auth.identities.app.tenants: only for a key-administrator or security-officer',
    ]);
  });

  it('decides who administers and who officiates where', () => {
    const carl = { tenant: 'a', roles: ['key-administrator' as const], tenants: ['b'] };
    expect(administers(carl, 'a')).to.equal(true);
    expect(administers(carl, 'b')).to.equal(true);
    expect(administers(carl, 'c')).to.equal(false);
    expect(administers(carl, 'kmip-server:ca')).to.equal(false);
    expect(administers({ ...carl, roles: ['crypto-user'] }, 'b')).to.equal(false);
    expect(administeredTenants({ ...carl, tenants: ['*'] }, ['a', 'b', 'c'])).to.deep.equal(['b', 'c']);

    const global = { tenant: 'ops', roles: ['security-officer' as const] };
    const local = { tenant: 'a', roles: ['security-officer' as const], tenants: [] };
    expect(isGlobalOfficer(global)).to.equal(true);
    expect(officerActsFor(global, '')).to.equal(true);
    expect(officerActsFor(global, 'anything')).to.equal(true);
    expect(isGlobalOfficer(local)).to.equal(false);
    expect(officerActsFor(local, 'a')).to.equal(true);
    expect(officerActsFor(local, 'b')).to.equal(false);
    expect(officerActsFor(local, '')).to.equal(false);
    expect(officerActsFor({ tenant: 'a', roles: ['key-administrator'] }, 'a')).to.equal(false);
  });
});

describe('auth: the server’s reserved namespace', () => {
  const client = (commonName: string | undefined, subjectAltNames?: string[]) => ({
    commonName,
    remoteAddress: '192.0.2.1',
    ...(subjectAltNames === undefined ? {} : { subjectAltNames }),
  });

  it('finds a kmip-server: name in the CN, any SAN or the identity, whatever its case', () => {
    expect(isReservedName('kmip-server:issuing-ca')).to.equal(true);
    expect(isReservedName(' KMIP-Server:x')).to.equal(true);
    expect(isReservedName('kmip-server')).to.equal(false);
    expect(isReservedName('app.kmip-server:x')).to.equal(false);
    expect(isReservedName(undefined)).to.equal(false);
    expect(reservedNameOf(client('kmip-server:issuing-ca', ['DNS:app']))).to.equal('kmip-server:issuing-ca');
    expect(reservedNameOf(client('app', ['DNS:app', 'URI:kmip-server:access']))).to.equal(
      'kmip-server:access',
    );
    expect(reservedNameOf(client('app', ['DNS:"kmip-server:x,y"']))).to.equal('kmip-server:x,y');
    expect(reservedNameOf(client('app'), 'kmip-server:issuing-ca')).to.equal('kmip-server:issuing-ca');
    expect(reservedNameOf(client('app', ['DNS:app.example']), 'app.example')).to.equal(undefined);
  });

  it('refuses such a client with auth off, with a log line; others are the CN in tenant default', () => {
    const lines: string[] = [];
    const log: Logger = {
      error: () => undefined,
      warn: (m) => lines.push(m),
      info: () => undefined,
      debug: () => undefined,
    };
    const resolve = unscopedPrincipal(log);
    expect(resolve(client('app'))).to.deep.equal({
      identity: 'app',
      tenant: 'default',
      roles: [],
      groups: [],
    });
    let error: unknown;
    try {
      resolve(client('kmip-server:issuing-ca'));
    } catch (e: unknown) {
      error = e;
    }
    expect(error).to.be.instanceOf(KmipError);
    expect((error as KmipError).reason).to.equal('AuthenticationNotSuccessful');
    expect((error as KmipError).message).to.contain('reserved');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.contain('reserved namespace');
  });
});
