/**
 * Interoperability with PyKMIP (Debian's python3-pykmip 0.10), an independent
 * KMIP client: Discover Versions and Query at every protocol version PyKMIP
 * speaks, against a real server over mutual TLS. .ci/run installs PyKMIP;
 * elsewhere the suite is skipped when it is missing (but fails under CI=true).
 */

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { startTestServer, type TestServer } from '../helpers/server.js';

const PYTHON = process.env.PYKMIP_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./pykmip_client.py', import.meta.url));

/** What the server advertises, newest first (DESIGN.md: every version 1.0 to 2.1). */
const SERVER_VERSIONS = ['2.1', '2.0', '1.4', '1.3', '1.2', '1.1', '1.0'];

interface StepResult {
  step: 'discover' | 'query';
  requestVersion: string;
  responseVersion: string;
  batchCount: number;
  operation: string | null;
  status: string;
  reason: string | null;
  message: string | null;
  versions?: string[];
  operations?: string[];
  objectTypes?: string[];
  vendorIdentification?: string | null;
  serverInformation?: string | null;
  extensions?: string[];
  profiles?: number;
  capabilities?: number;
}

interface ClientResult {
  ok: boolean;
  requestVersion: string;
  tlsVersion?: string;
  steps: StepResult[];
  error?: { kind: 'connection' | 'protocol'; type: string; message: string };
}

type StepName = 'discover' | 'query';

interface RunOptions {
  version: string;
  /** 'query' or 'query@2.0' to send that message at another version */
  steps?: Array<StepName | `${StepName}@${string}`>;
  tls?: '1.2';
  offer?: string[];
  queryFunctions?: string[];
  withCert?: boolean;
  checkHostname?: boolean;
}

function runPython(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [SCRIPT, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(err);
        return;
      }
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

async function pykmipVersions(): Promise<string[] | undefined> {
  try {
    const { code, stdout } = await runPython(['--list-versions']);
    if (code !== 0) return undefined;
    return (JSON.parse(stdout) as { versions: string[] }).versions;
  } catch {
    return undefined;
  }
}

describe('PyKMIP interop (integration)', function () {
  this.timeout(120_000);

  let server: TestServer | undefined;
  let versions: string[] = [];

  before(async function () {
    const found = await pykmipVersions();
    if (!found) {
      if (process.env.CI)
        throw new Error(`PyKMIP is not importable by ${PYTHON}; .ci/run installs python3-pykmip`);
      console.warn(`skipping PyKMIP interop: ${PYTHON} cannot import kmip (apt-get install python3-pykmip)`);
      this.skip();
    }
    versions = found ?? [];
    server = await startTestServer();
  });

  after(async () => {
    await server?.close();
  });

  async function run(opts: RunOptions): Promise<ClientResult> {
    if (!server) throw new Error('server not started');
    const args = ['--host', server.host, '--port', String(server.port), '--ca', server.pki.ca];
    args.push('--version', opts.version);
    if (opts.withCert !== false) args.push('--cert', server.pki.adminCert, '--key', server.pki.adminKey);
    for (const step of opts.steps ?? ['discover', 'query']) args.push('--step', step);
    if (opts.offer) args.push('--offer', opts.offer.length ? opts.offer.join(',') : 'none');
    if (opts.queryFunctions) args.push('--query-functions', opts.queryFunctions.join(','));
    if (opts.checkHostname) args.push('--check-hostname');
    if (opts.tls) args.push('--tls', opts.tls);
    const { stdout, stderr } = await runPython(args);
    let result: ClientResult;
    try {
      result = JSON.parse(stdout) as ClientResult;
    } catch {
      throw new Error(`pykmip_client.py printed no JSON\nstdout: ${stdout}\nstderr: ${stderr}`);
    }
    return result;
  }

  /** Runs the client, requires every step to have run, and returns the steps. */
  async function steps(opts: RunOptions): Promise<StepResult[]> {
    return (await session(opts)).steps;
  }

  async function session(opts: RunOptions): Promise<ClientResult> {
    const result = await run(opts);
    expect(result.error, `PyKMIP ${opts.version}: ${JSON.stringify(result.error)}`).to.equal(undefined);
    expect(result.ok).to.equal(true);
    for (const step of result.steps) {
      expect(step.responseVersion, `${step.step} response version`).to.equal(step.requestVersion);
      expect(step.batchCount).to.equal(1);
      expect(step.status, `${step.step}: ${step.reason ?? ''} ${step.message ?? ''}`).to.equal('SUCCESS');
    }
    return result;
  }

  function one(list: StepResult[], index = 0): StepResult {
    const step = list[index];
    if (!step) throw new Error(`no step ${index} in ${JSON.stringify(list)}`);
    return step;
  }

  it('PyKMIP speaks KMIP 1.0 to 2.0', () => {
    expect(versions).to.include.members(['1.0', '1.1', '1.2', '1.3', '1.4', '2.0']);
  });

  // PyKMIP 0.10 speaks 1.0-1.4 and 2.0; mocha builds the cases before `before` runs, so the list is fixed here.
  for (const version of ['1.0', '1.1', '1.2', '1.3', '1.4', '2.0']) {
    describe(`KMIP ${version}`, () => {
      it("Discover Versions with no list returns the server's versions, newest first", async () => {
        const step = one(await steps({ version, steps: ['discover'] }));
        expect(step.operation).to.equal('DISCOVER_VERSIONS');
        expect(step.versions).to.deep.equal(SERVER_VERSIONS);
      });

      it("Discover Versions honours the client's list", async () => {
        const offered = one(await steps({ version, steps: ['discover'], offer: ['1.2', '1.0'] }));
        expect(offered.versions).to.deep.equal(['1.2', '1.0']);
        const mixed = one(await steps({ version, steps: ['discover'], offer: ['2.0', '1.9', '1.4'] }));
        expect(mixed.versions).to.deep.equal(['2.0', '1.4']);
        const unknown = one(await steps({ version, steps: ['discover'], offer: ['3.0'] }));
        expect(unknown.versions).to.deep.equal([]);
      });

      it('Query returns operations, object types and server information', async () => {
        const step = one(await steps({ version, steps: ['query'] }));
        expect(step.operation).to.equal('QUERY');
        // Discover Versions is a KMIP 1.1 operation: a 1.0 response must not name it.
        const expected = version === '1.0' ? ['QUERY'] : ['QUERY', 'DISCOVER_VERSIONS'];
        expect(step.operations).to.include.members(expected);
        if (version === '1.0') expect(step.operations).not.to.include('DISCOVER_VERSIONS');
        expect(step.objectTypes).to.be.an('array');
        expect(step.vendorIdentification).to.be.a('string').and.not.equal('');
      });

      it('Discover Versions then Query on one connection (vSphere order)', async () => {
        const [discover, query] = await steps({ version, steps: ['discover', 'query'] });
        expect(discover?.versions).to.deep.equal(SERVER_VERSIONS);
        expect(query?.operations).to.include('QUERY');
      });

      if (version !== '1.0') {
        it('Query of the extension list and map succeeds', async () => {
          const step = one(
            await steps({
              version,
              steps: ['query'],
              queryFunctions: ['QUERY_OPERATIONS', 'QUERY_EXTENSION_LIST', 'QUERY_EXTENSION_MAP'],
            }),
          );
          expect(step.operations).to.include('QUERY');
          expect(step.extensions).to.be.an('array');
        });
      }

      if (version >= '1.3') {
        it('Query of profiles and capabilities decodes in PyKMIP', async () => {
          const step = one(
            await steps({
              version,
              steps: ['query'],
              queryFunctions: ['QUERY_OPERATIONS', 'QUERY_PROFILES', 'QUERY_CAPABILITIES'],
            }),
          );
          expect(step.operations).to.include('QUERY');
        });
      }
    });
  }

  it('answers each message on one connection in its own version', async () => {
    const list = await steps({
      version: '1.2',
      steps: ['discover@1.0', 'query@2.0', 'query@1.0', 'discover@1.4', 'query@1.1'],
    });
    expect(list.map((s) => s.responseVersion)).to.deep.equal(['1.0', '2.0', '1.0', '1.4', '1.1']);
    expect(one(list, 1).operations).to.include('DISCOVER_VERSIONS');
    expect(one(list, 2).operations).not.to.include('DISCOVER_VERSIONS');
    expect(one(list, 4).operations).to.include('DISCOVER_VERSIONS');
  });

  it('negotiates TLS 1.3 by default and accepts TLS 1.2 (vSphere, MySQL)', async () => {
    const modern = await session({ version: '1.4', steps: ['discover'] });
    expect(modern.tlsVersion).to.equal('TLSv1.3');
    const pinned = await session({ version: '1.1', steps: ['discover', 'query'], tls: '1.2' });
    expect(pinned.tlsVersion).to.equal('TLSv1.2');
    expect(one(pinned.steps).versions).to.deep.equal(SERVER_VERSIONS);
  });

  it('the server certificate matches the address PyKMIP dials (SAN 127.0.0.1)', async () => {
    const step = one(await steps({ version: '1.4', steps: ['discover'], checkHostname: true }));
    expect(step.versions).to.deep.equal(SERVER_VERSIONS);
  });

  it('PyKMIP without a client certificate is refused', async () => {
    const result = await run({ version: '1.2', steps: ['discover'], withCert: false });
    expect(result.ok).to.equal(false);
    expect(result.steps).to.deep.equal([]);
    expect(result.error?.kind, JSON.stringify(result.error)).to.equal('connection');
  });
});
