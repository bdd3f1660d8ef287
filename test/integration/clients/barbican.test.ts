/**
 * OpenStack Barbican's KMIP secret store, CLIENTS.md, replayed with PyKMIP's
 * own ProxyKmipClient (barbican_client.py): KMIP 1.2, username/password
 * Credential in every header plus the client certificate; Create,
 * Create Key Pair, Register of every object type Barbican stores, Get, Destroy;
 * names are random UUIDs, Operation Policy Name is set, nothing is Activated.
 * Skipped when PyKMIP is missing, except under CI.
 */

import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Operation, Tag } from '../../../src/kmip/spec/index.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import {
  aesTemplate,
  attr,
  attributesOf,
  enumeration,
  expectRawSymmetricKey,
  expectSuccess,
  type FlowConnection,
  uid,
  uidOf,
  useFlowServer,
  v,
} from './flow.js';

const PYTHON = process.env.PYKMIP_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./barbican_client.py', import.meta.url));

interface Step {
  step: string;
  ok: boolean;
  error?: string;
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(PYTHON, [SCRIPT, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

function hasPyKmip(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(PYTHON, ['-c', 'import kmip.pie.client, cryptography'], (err) => resolve(!err));
  });
}

describe('client flow: OpenStack Barbican (PyKMIP ProxyKmipClient, 1.2)', function () {
  this.timeout(90_000);
  let server: TestServer;
  let steps: Step[] = [];

  before(async function () {
    if (!(await hasPyKmip())) {
      if (process.env.CI) throw new Error(`${PYTHON} cannot import kmip (apt-get install python3-pykmip)`);
      this.skip();
    }
    server = await startTestServer();
    const { code, stdout, stderr } = await run([
      '--host',
      server.host,
      '--port',
      String(server.port),
      '--cert',
      server.pki.adminCert,
      '--key',
      server.pki.adminKey,
      '--ca',
      server.pki.ca,
    ]);
    if (code !== 0) throw new Error(`barbican_client.py exited ${code}: ${stderr}`);
    steps = (JSON.parse(stdout) as { steps: Step[] }).steps;
  });
  after(async () => {
    await server?.close();
  });

  const expectStep = (name: string) => {
    const s = steps.find((x) => x.step === name);
    expect(s, `step ${name} ran`).to.not.equal(undefined);
    expect(s?.error, name).to.equal(undefined);
    expect(s?.ok, name).to.equal(true);
  };

  it('Create AES-256 with a UUID Name and Operation Policy Name', () => expectStep('create'));
  it('Create Key Pair RSA-2048', () => expectStep('create_key_pair'));
  for (const kind of ['symmetric', 'private', 'public', 'certificate', 'secret', 'opaque']) {
    it(`Register ${kind} with Operation Policy Name`, () => expectStep(`register_${kind}`));
  }
  it('Get every object while Pre-Active, values equal to what was registered', () => {
    const gets = steps.filter((s) => s.step.startsWith('get_'));
    expect(gets.length).to.equal(9);
    expect(gets.filter((s) => !s.ok)).to.deep.equal([]);
  });
  it('Destroy every object', () => {
    const destroys = steps.filter((s) => s.step.startsWith('destroy_'));
    expect(destroys.length).to.equal(9);
    expect(destroys.filter((s) => !s.ok)).to.deep.equal([]);
  });
});

describe('client flow: Barbican headers, raw (1.2, Credential in every header)', function () {
  this.timeout(30_000);
  let conn: FlowConnection;
  const credential = { username: 'barbican', password: 'barbican-password' };

  useFlowServer((_s, c) => {
    conn = c;
  });

  it('Create with Name = UUID and Operation Policy Name, Get while Pre-Active, Destroy', async () => {
    const name = randomUUID();
    const c = await conn.send(
      '1.2',
      [
        {
          op: Operation.Create,
          payload: [
            enumeration(Tag.ObjectType, 2),
            aesTemplate(
              0x04 | 0x08,
              attr('Name', v.name(name)),
              attr('Operation Policy Name', v.text('default')),
            ),
          ],
        },
      ],
      { credential },
    );
    const id = uidOf(expectSuccess(c.items[0], 'Create'));
    const g = await conn.send('1.2', [{ op: Operation.Get, payload: [uid(id)] }], { credential });
    expectRawSymmetricKey(expectSuccess(g.items[0], 'Get'));
    const a = await conn.send('1.2', [{ op: Operation.GetAttributes, payload: [uid(id)] }], { credential });
    expect(attributesOf(expectSuccess(a.items[0], 'Get Attributes')).get('State')?.[0]?.value).to.equal(1);
    const d = await conn.send('1.2', [{ op: Operation.Destroy, payload: [uid(id)] }], { credential });
    expectSuccess(d.items[0], 'Destroy');
  });
});
