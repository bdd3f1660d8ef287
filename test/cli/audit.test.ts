import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { ObjectType, Operation, Tag } from '../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../src/kmip/ttlv/types.js';
import { runCliCaptured } from '../helpers/cli.js';
import { TestKmipClient } from '../helpers/kmip-client.js';
import { symmetricKey } from '../helpers/requests.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { E, I, S, T } from '../kmip/operations/harness.js';

const cli = runCliCaptured;

function registerPayload(key: Uint8Array): TtlvItem[] {
  return [
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    S(Tag.TemplateAttribute, [
      S(Tag.Attribute, [T(Tag.AttributeName, 'Cryptographic Usage Mask'), I(Tag.AttributeValue, 12)]),
    ]),
    symmetricKey(key),
  ];
}

interface Line {
  time: string;
  identity: string;
  tenant: string;
  operation: string;
  uniqueIdentifier: string | null;
  result: string;
  purpose: string | null;
  clientAddress: string;
  kind: string;
}

describe('kmip-server audit verify | export', function () {
  this.timeout(60_000);
  let server: TestServer;
  let syslog: ReturnType<typeof createSocket>;
  const datagrams: string[] = [];
  let id = '';

  before(async () => {
    syslog = createSocket('udp4');
    syslog.on('message', (m) => datagrams.push(m.toString('utf8')));
    await new Promise<void>((r) => syslog.bind(0, '127.0.0.1', () => r()));
    const port = syslog.address().port;
    server = await startTestServer({
      keepDataDir: true,
      overrides: {
        audit: {
          sealEveryRecords: 3,
          file: 'audit.jsonl',
          syslog: `udp://127.0.0.1:${port}`,
          defaultPurpose: { '*': 'unspecified' },
        },
      },
    });
    const client = await TestKmipClient.connect(server);
    try {
      const reg = await client.ok(Operation.Register, registerPayload(new Uint8Array(randomBytes(32))));
      id = TestKmipClient.uid(reg);
      await client.ok(Operation.Get, [T(Tag.UniqueIdentifier, id)]);
      await new Promise((r) => setTimeout(r, 30));
      await client.call(Operation.Get, [T(Tag.UniqueIdentifier, 'missing')]);
      await client.ok(Operation.GetAttributes, [T(Tag.UniqueIdentifier, id)]);
    } finally {
      client.close();
    }
    await server.close();
  });

  after(async () => {
    syslog.close();
    await rm(server.dataDir, { recursive: true, force: true });
  });

  const dataDir = () => ['--data-dir', server.dataDir];

  it('export prints JSON lines with the SIEM fields, filtered by --since/--until', async () => {
    const all = await cli(['audit', 'export', ...dataDir()]);
    expect(all.code, all.err).to.equal(0);
    const lines = all.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    const items = lines.filter((l) => l.kind === 'item');
    expect(items.map((l) => [l.operation, l.result])).to.deep.equal([
      ['Register', 'Success'],
      ['Get', 'Success'],
      ['Get', 'OperationFailed'],
      ['GetAttributes', 'Success'],
    ]);
    expect(items[1]).to.include({
      identity: 'admin',
      tenant: 'default',
      uniqueIdentifier: id,
      purpose: 'unspecified',
      clientAddress: '127.0.0.1',
    });
    const missing = items[2] as Line;
    const since = await cli(['audit', 'export', ...dataDir(), '--since', missing.time]);
    const sinceOps = since.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line)
      .filter((l) => l.kind === 'item')
      .map((l) => l.uniqueIdentifier);
    expect(sinceOps).to.deep.equal(['missing', id]);
    const until = await cli([
      'audit',
      'export',
      ...dataDir(),
      '--until',
      new Date(Date.parse(missing.time) - 1).toISOString(),
    ]);
    expect(
      until.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Line)
        .filter((l) => l.kind === 'item')
        .map((l) => l.operation),
    ).to.deep.equal(['Register', 'Get']);
    const bad = await cli(['audit', 'export', ...dataDir(), '--since', 'yesterday-ish']);
    expect(bad.code).to.equal(2);
  });

  it('the file and syslog sinks received every record', async () => {
    const file = (await readFile(path.join(server.dataDir, 'audit.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    expect(file.filter((l) => l.kind === 'item').map((l) => l.operation)).to.deep.equal([
      'Register',
      'Get',
      'Get',
      'GetAttributes',
    ]);
    const deadline = Date.now() + 2000;
    while (datagrams.length < file.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(datagrams).to.have.length(file.length);
    const get = datagrams.find((d) => d.includes(' Get - '));
    // RFC 5424: <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG; facility 13 (log audit), info = 110
    expect(get).to.match(/^<110>1 \d{4}-\d\d-\d\dT[\d:.]+Z \S+ kmip-server \d+ Get - \{/);
    const failed = datagrams.find((d) => d.includes('"OperationFailed"'));
    expect(failed?.startsWith('<108>1 ')).to.equal(true);
  });

  it('verify --strict fails when the newest records and the anchor file are deleted together', async () => {
    const copy = await mkdtemp(path.join(tmpdir(), 'kmip-audit-anchor-'));
    try {
      await cp(server.dataDir, copy, { recursive: true });
      const db = new Database(path.join(copy, 'kmip-audit.db'));
      try {
        const last = db.prepare('SELECT max(seq) AS s FROM audit').get() as { s: number };
        db.prepare('DELETE FROM audit WHERE seq >= ?').run(last.s - 1);
      } finally {
        db.close();
      }
      await rm(path.join(copy, 'audit-anchor.json'));
      const strict = await cli(['audit', 'verify', '--data-dir', copy, '--strict']);
      expect(strict.code, strict.out + strict.err).to.equal(1);
      expect(strict.out).to.match(/anchor file .* is missing although the trail has seals/);
      const lax = await cli(['audit', 'verify', '--data-dir', copy]);
      expect(lax.err).to.match(/no anchor file/);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });

  it('verify passes on the untouched trail, then names the first bad record after an edit', async () => {
    const ok = await cli(['audit', 'verify', ...dataDir(), '--strict']);
    expect(ok.code, ok.out + ok.err).to.equal(0);
    expect(ok.out).to.match(
      /audit trail OK: \d+ record\(s\) in 1 segment\(s\); 0 record\(s\) after the last seal/,
    );
    // the audit trail's own file (src/store/sqlite/schema.ts, auditFileFor)
    const db = new Database(path.join(server.dataDir, 'kmip-audit.db'));
    try {
      db.prepare("UPDATE audit SET actor = 'nobody' WHERE operation = 'GetAttributes'").run();
    } finally {
      db.close();
    }
    const seq = (() => {
      const d = new Database(path.join(server.dataDir, 'kmip-audit.db'), { readonly: true });
      try {
        return (d.prepare("SELECT seq FROM audit WHERE operation = 'GetAttributes'").get() as { seq: number })
          .seq;
      } finally {
        d.close();
      }
    })();
    const bad = await cli(['audit', 'verify', ...dataDir()]);
    expect(bad.code).to.equal(1);
    expect(bad.out).to.contain(`first bad record: record seq ${seq} `);
    expect(bad.out).to.match(/was altered/);
  });
});
