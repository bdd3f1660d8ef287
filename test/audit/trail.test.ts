import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import {
  type AuditAnchor,
  AuditKind,
  AuditTrail,
  exportRecord,
  macMatches,
  recordHash,
  verifyAuditTrail,
} from '../../src/audit/index.js';
import {
  BatchErrorContinuationOption,
  type KmipVersion,
  ObjectType,
  Operation,
  ResultReason,
  Tag,
} from '../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../src/kmip/ttlv/types.js';
import { auditFileFor } from '../../src/store/sqlite/schema.js';
import type { AuditRecord } from '../../src/store/types.js';
import { symmetricKey } from '../helpers/requests.js';
import { E, I, S, T, text } from '../kmip/operations/harness.js';
import type { RawAudit } from '../store/sqlite-fixtures.js';
import { type AuditEnv, CLIENT, openAuditEnv } from './env.js';

const SUCCESS = 0;
const FAILED = 1;

function registerPayload(version: KmipVersion, key: Uint8Array): TtlvItem[] {
  const mask = I(Tag.CryptographicUsageMask, 12);
  return [
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    version.startsWith('2')
      ? S(Tag.Attributes, [mask])
      : S(Tag.TemplateAttribute, [
          S(Tag.Attribute, [
            T(Tag.AttributeName, 'Cryptographic Usage Mask'),
            { ...mask, tag: Tag.AttributeValue },
          ]),
        ]),
    symmetricKey(key),
  ];
}

const ccv = (v: string): TtlvItem => T(Tag.ClientCorrelationValue, v);
const uid = (id: string): TtlvItem => T(Tag.UniqueIdentifier, id);
const items = (rs: readonly AuditRecord[]) => rs.filter((r) => r.detail.kind === AuditKind.Item);

async function register(env: AuditEnv, version: KmipVersion = '1.4'): Promise<string> {
  const [r] = await env.send(version, [
    { op: Operation.Register, payload: registerPayload(version, new Uint8Array(randomBytes(32))) },
  ]);
  expect(r?.status, r?.message).to.equal(SUCCESS);
  return text(r?.payload, Tag.UniqueIdentifier) ?? '';
}

/** Runs SQL on the closed store file directly, as an attacker with file access would. */
function tamper(env: AuditEnv, fn: (db: Database.Database) => void): void {
  const db = new Database(env.dbFile);
  // the trail is in the audit file: attached, `audit` names its table
  db.prepare('ATTACH DATABASE ? AS audit').run(auditFileFor(env.dbFile));
  try {
    fn(db);
  } finally {
    db.close();
  }
}

async function readAnchor(env: AuditEnv): Promise<AuditAnchor> {
  return JSON.parse(await readFile(env.anchorFile, 'utf8')) as AuditAnchor;
}

describe('audit trail', () => {
  let env: AuditEnv;
  afterEach(async () => {
    await env?.close();
  });

  describe('records', () => {
    beforeEach(async () => {
      env = await openAuditEnv({ defaultPurpose: {} });
    });

    it('writes one record per batch item, failures included, with who, where, what and the result', async () => {
      const id = await register(env);
      const results = await env.send(
        '1.4',
        [
          { op: Operation.Get, payload: [uid(id)] },
          { op: Operation.Get, payload: [uid('no-such-object')] },
          { op: Operation.GetAttributes, payload: [uid(id)] },
        ],
        [E(Tag.BatchErrorContinuationOption, BatchErrorContinuationOption.Continue)],
      );
      expect(results.map((r) => r.status)).to.deep.equal([SUCCESS, FAILED, SUCCESS]);
      const recs = items(await env.records());
      expect(recs.map((r) => [r.operation, r.outcome, r.detail.index])).to.deep.equal([
        ['Register', 'Success', '0'],
        ['Get', 'Success', '0'],
        ['Get', 'OperationFailed', '1'],
        ['GetAttributes', 'Success', '2'],
      ]);
      const [reg, get, missing] = recs;
      expect(reg?.objectId).to.equal(id);
      expect(get?.objectId).to.equal(id);
      expect(get?.actor).to.equal('tester');
      expect(get?.detail).to.include({
        tenant: 'default',
        clientAddress: CLIENT.remoteAddress,
        fingerprint: CLIENT.certificateFingerprint,
        version: '1.4',
        commonName: 'tester',
      });
      expect(missing?.objectId).to.equal('no-such-object');
      expect(missing?.detail.reason).to.equal('ItemNotFound');
      expect(get?.detail.purpose).to.equal(undefined);
      const line = exportRecord(missing as AuditRecord & { seq: number });
      expect(line).to.include({
        identity: 'tester',
        tenant: 'default',
        operation: 'Get',
        uniqueIdentifier: 'no-such-object',
        result: 'OperationFailed',
        reason: 'ItemNotFound',
        clientAddress: CLIENT.remoteAddress,
        purpose: null,
      });
      expect(Date.parse(line.time)).to.be.closeTo(Date.now(), 60_000);
    });

    it('records a malformed item and an unsupported operation', async () => {
      const [r] = await env.send('1.0', [{ op: Operation.Encrypt, payload: [] }]);
      expect(r?.reason).to.equal(ResultReason.OperationNotSupported);
      const [rec] = items(await env.records());
      expect(rec).to.include({ operation: 'Encrypt', outcome: 'OperationFailed' });
      expect(rec?.detail.reason).to.equal('OperationNotSupported');
    });
  });

  describe('purpose codes', () => {
    it('takes the Client Correlation Value as sent, else the default purpose of the identity, its group or *', async () => {
      env = await openAuditEnv(
        {
          defaultPurpose: {
            tester: 'nightly backup',
            'group:storage': 'disk encryption',
            '*': 'unspecified',
          },
        },
        { groups: ['storage'] },
      );
      const id = await register(env);
      await env.send('1.4', [{ op: Operation.Get, payload: [uid(id)] }], [ccv('ticket CHG-1234: restore')]);
      await env.send('1.4', [{ op: Operation.Get, payload: [uid(id)] }]);
      await env.send('1.4', [{ op: Operation.Get, payload: [uid(id)] }], [], {
        ...CLIENT,
        commonName: 'array-7',
      });
      const gets = items(await env.records()).filter((r) => r.operation === 'Get');
      expect(gets.map((r) => [r.detail.purpose, r.detail.purposeSource])).to.deep.equal([
        ['ticket CHG-1234: restore', 'header'],
        ['nightly backup', 'default'],
        ['disk encryption', 'default'],
      ]);
    });

    it('refuses an operation that needs a purpose without one: Permission Denied, recorded', async () => {
      env = await openAuditEnv({
        requirePurpose: ['Destroy', 'Get'],
        defaultPurpose: { 'ops-bot': 'rotation' },
      });
      const id = await register(env);
      const [refused] = await env.send('1.4', [{ op: Operation.Get, payload: [uid(id)] }]);
      expect(refused?.status).to.equal(FAILED);
      expect(refused?.reason).to.equal(ResultReason.PermissionDenied);
      expect(refused?.message).to.match(
        /requires a purpose for Get: send it as the Client Correlation Value/,
      );
      const [old] = await env.send('1.2', [{ op: Operation.Get, payload: [uid(id)] }]);
      expect(old?.reason).to.equal(ResultReason.PermissionDenied);
      expect(old?.message).to.match(/KMIP 1\.2 has no Client Correlation Value/);
      const [withHeader] = await env.send(
        '1.4',
        [{ op: Operation.Get, payload: [uid(id)] }],
        [ccv('audit #7')],
      );
      expect(withHeader?.status).to.equal(SUCCESS);
      const [withDefault] = await env.send('1.2', [{ op: Operation.Get, payload: [uid(id)] }], [], {
        ...CLIENT,
        commonName: 'ops-bot',
      });
      expect(withDefault?.status).to.equal(SUCCESS);
      const gets = items(await env.records()).filter((r) => r.operation === 'Get');
      expect(gets.map((r) => [r.outcome, r.detail.reason ?? null, r.detail.purpose ?? null])).to.deep.equal([
        ['OperationFailed', 'PermissionDenied', null],
        ['OperationFailed', 'PermissionDenied', null],
        ['Success', null, 'audit #7'],
        ['Success', null, 'rotation'],
      ]);
      // Register needs none
      expect(items(await env.records())[0]?.outcome).to.equal('Success');
    });

    it('cuts an overlong Client Correlation Value and says so', async () => {
      env = await openAuditEnv();
      await env.send('1.4', [{ op: Operation.DiscoverVersions, payload: [] }], [ccv('x'.repeat(5000))]);
      const [rec] = items(await env.records());
      expect(rec?.detail.purpose).to.have.length(1024);
      expect(rec?.detail.purposeTruncated).to.equal('5000');
    });
  });

  describe('chain, seals and verify', () => {
    async function populated(over = {}): Promise<AuditEnv> {
      const e = await openAuditEnv({ sealEveryRecords: 4, ...over });
      const id = await register(e);
      for (let i = 0; i < 9; i++)
        await e.send('1.4', [{ op: Operation.Get, payload: [uid(i === 4 ? 'nope' : id)] }]);
      await e.reopenStore(); // final seal at close, as a clean shutdown leaves it
      return e;
    }

    async function verify(e: AuditEnv, opts: { strict?: boolean; anchor?: boolean } = {}) {
      const anchor = opts.anchor === false ? undefined : await readAnchor(e);
      return verifyAuditTrail(e.store, {
        sealer: e.sealer,
        strict: opts.strict ?? true,
        ...(anchor ? { anchor } : {}),
      });
    }

    it('hash-chains every record and seals every N records with a valid HMAC', async () => {
      env = await populated();
      const all = await env.records();
      expect(all[0]?.detail.kind).to.equal(AuditKind.Open);
      for (const [i, r] of all.entries()) {
        expect(r.detail.hash).to.equal(recordHash(r));
        expect(r.detail.n).to.equal(String(i));
        if (i > 0) expect(r.detail.prev).to.equal(all[i - 1]?.detail.hash);
      }
      const seals = all.filter((r) => r.detail.kind === AuditKind.Seal);
      // 10 items, a seal after every 4, and a final one
      expect(seals.map((s) => s.detail.records)).to.deep.equal(['4', '4', '2']);
      expect(seals.at(-1)?.detail.final).to.equal('true');
      const report = await verify(env);
      expect(report.errors).to.deep.equal([]);
      expect(report).to.include({ ok: true, records: all.length, unsealed: 0 });
      expect(report.segments).to.have.length(1);
      // the key never appears in clear: only sealed in the opening record
      const open = all[0];
      expect(open?.detail.sealedKey).to.be.a('string');
      expect(open?.detail.kekId).to.equal(env.sealer.activeKekId);
    });

    it('the seal HMAC is keyed: a recomputed chain with a forged seal fails', async () => {
      env = await populated();
      const all = await env.records();
      const seal = all.find((r) => r.detail.kind === AuditKind.Seal);
      expect(seal).to.not.equal(undefined);
      const key = await env.sealer.unseal(`audit-hmac-key:${all[0]?.detail.chain}`, 1, {
        kekId: all[0]?.detail.kekId ?? '',
        nonce: Buffer.from(all[0]?.detail.nonce ?? '', 'base64'),
        ciphertext: Buffer.from(all[0]?.detail.sealedKey ?? '', 'base64'),
      });
      expect(macMatches(seal as AuditRecord, key)).to.equal(true);
      expect(macMatches(seal as AuditRecord, new Uint8Array(32))).to.equal(false);
      // an attacker edits record #2 and recomputes every hash after it, but cannot redo the HMAC
      tamper(env, (db) => {
        const rows = db
          .prepare('SELECT seq, at, actor, operation, object_id, outcome, detail FROM audit ORDER BY seq')
          .all() as (RawAudit & { seq: number })[];
        let prev: string | undefined;
        for (const row of rows) {
          const detail = JSON.parse(row.detail) as Record<string, string>;
          if (detail.n === '2') row.actor = 'someone-else';
          if (prev !== undefined) detail.prev = prev;
          const rec: AuditRecord = {
            at: row.at,
            actor: row.actor ?? undefined,
            operation: row.operation,
            objectId: row.object_id ?? undefined,
            outcome: row.outcome,
            detail,
          };
          detail.hash = recordHash(rec);
          prev = detail.hash;
          db.prepare('UPDATE audit SET actor = ?, detail = ? WHERE seq = ?').run(
            row.actor,
            JSON.stringify(detail),
            row.seq,
          );
        }
      });
      const report = await verify(env, { anchor: false });
      expect(report.ok).to.equal(false);
      expect(report.errors[0]?.message).to.match(/seal's HMAC does not verify/);
      expect(report.errors[0]?.n).to.equal(5);
    });

    it('fails naming the edited record when a stored field is changed', async () => {
      env = await populated();
      const victim = (await env.records())[3];
      tamper(env, (db) =>
        db.prepare("UPDATE audit SET outcome = 'OperationFailed' WHERE seq = ?").run(victim?.seq),
      );
      const report = await verify(env);
      expect(report.ok).to.equal(false);
      expect(report.errors[0]?.seq).to.equal(victim?.seq);
      expect(report.errors[0]?.message).to.match(/was altered/);
    });

    it('fails naming the record after a deleted one', async () => {
      env = await populated();
      const all = await env.records();
      tamper(env, (db) => db.prepare('DELETE FROM audit WHERE seq = ?').run(all[5]?.seq));
      const report = await verify(env);
      expect(report.errors[0]?.seq).to.equal(all[6]?.seq);
      expect(report.errors[0]?.message).to.match(/1 record\(s\) before it were deleted or moved/);
    });

    it('fails naming the first of two swapped records', async () => {
      env = await populated();
      const all = await env.records();
      const [a, b] = [all[2], all[3]];
      tamper(env, (db) => {
        const row = db.prepare(
          'SELECT at, actor, operation, object_id, outcome, detail FROM audit WHERE seq = ?',
        );
        const ra = row.get(a?.seq) as Record<string, unknown>;
        const rb = row.get(b?.seq) as Record<string, unknown>;
        const put = db.prepare(
          'UPDATE audit SET at = @at, actor = @actor, operation = @operation, object_id = @object_id, outcome = @outcome, detail = @detail WHERE seq = @seq',
        );
        put.run({ ...rb, seq: a?.seq });
        put.run({ ...ra, seq: b?.seq });
      });
      const report = await verify(env);
      expect(report.errors[0]?.seq).to.equal(a?.seq);
      expect(report.errors[0]?.message).to.match(/deleted or moved/);
    });

    it('fails on an inserted copy of a record', async () => {
      env = await populated();
      const all = await env.records();
      tamper(env, (db) =>
        db
          .prepare(
            'INSERT INTO audit (at, actor, operation, object_id, outcome, detail) SELECT at, actor, operation, object_id, outcome, detail FROM audit WHERE seq = ?',
          )
          .run(all[2]?.seq),
      );
      const report = await verify(env);
      expect(report.errors[0]?.seq).to.equal((all.at(-1)?.seq ?? 0) + 1);
      expect(report.errors[0]?.message).to.match(/inserted, duplicated or reordered/);
    });

    it('fails on a record written outside the chain', async () => {
      env = await populated();
      await env.store.appendAudit({
        at: Date.now(),
        actor: 'x',
        operation: 'Get',
        objectId: 'k',
        outcome: 'Success',
        detail: {},
      });
      const report = await verify(env);
      expect(report.errors[0]?.message).to.match(/not part of the hash chain/);
    });

    it('truncation of the end: caught by the anchor; without it the unsealed tail is reported', async () => {
      env = await populated();
      const all = await env.records();
      tamper(env, (db) => db.prepare('DELETE FROM audit WHERE seq >= ?').run(all.at(-2)?.seq));
      const withAnchor = await verify(env, { strict: false });
      expect(withAnchor.ok).to.equal(false);
      expect(withAnchor.errors[0]?.message).to.match(/ends before the last seal recorded in the anchor/);
      const noAnchor = await verify(env, { strict: false, anchor: false });
      expect(noAnchor.ok).to.equal(true);
      expect(noAnchor.unsealed).to.equal(1);
      expect(noAnchor.warnings[0]?.message).to.match(/after its last seal/);
      const strict = await verify(env, { strict: true, anchor: false });
      expect(strict.ok).to.equal(false);
      expect(strict.errors[0]?.seq).to.equal(all.at(-3)?.seq);
    });

    it('a deleted segment is caught by the next segment, which links to the record before it', async () => {
      env = await populated();
      const firstSegment = (await env.records()).length;
      const trail = await AuditTrail.open({ store: env.store, sealer: env.sealer, sealEveryRecords: 2 });
      await trail.append({
        at: Date.now(),
        actor: 'cli:root',
        operation: 'KekRotate',
        objectId: undefined,
        outcome: 'Success',
        detail: { kind: 'admin' },
      });
      await trail.close();
      const ok = await verify(env, { anchor: false });
      expect(ok.ok).to.equal(true);
      expect(ok.segments).to.have.length(2);
      tamper(env, (db) => db.prepare('DELETE FROM audit WHERE seq > 1 AND seq <= ?').run(firstSegment));
      const report = await verify(env, { anchor: false });
      expect(report.errors[0]?.message).to.match(/links to a record that is not in the trail/);
    });

    it('a store write failure opens a new segment linked to the last durable record: no gap', async () => {
      env = await openAuditEnv({ sealEveryRecords: 3 });
      const store = env.store;
      const original = store.atomic.bind(store);
      let fail = true;
      store.atomic = (ops) => (fail ? Promise.reject(new Error('disk full')) : original(ops));
      await env.send('1.4', [{ op: Operation.DiscoverVersions, payload: [] }]);
      fail = false;
      for (let i = 0; i < 4; i++) await env.send('1.4', [{ op: Operation.DiscoverVersions, payload: [] }]);
      await env.reopenStore();
      const report = await verify(env);
      expect(report.errors).to.deep.equal([]);
      expect(items(await env.records())).to.have.length(4);
    });

    it('seals on the interval when records trickle in', async () => {
      env = await openAuditEnv({ sealEveryRecords: 1000, sealIntervalSeconds: 1 });
      await env.send('1.4', [{ op: Operation.DiscoverVersions, payload: [] }]);
      await new Promise((r) => setTimeout(r, 1600));
      const seals = (await env.records()).filter((r) => r.detail.kind === AuditKind.Seal);
      expect(seals).to.have.length(1);
      expect((await readAnchor(env)).n).to.equal(2);
    });

    it('concurrent items keep one unbroken chain', async () => {
      env = await openAuditEnv({ sealEveryRecords: 7 });
      await Promise.all(
        Array.from({ length: 60 }, () => env.send('1.4', [{ op: Operation.DiscoverVersions, payload: [] }])),
      );
      await env.reopenStore();
      const report = await verify(env);
      expect(report.errors).to.deep.equal([]);
      expect(items(await env.records())).to.have.length(60);
    });
  });
});
