/**
 * audit.durability: sync (default) answers an item once its record is
 * durable; batched answers at once and the record follows in the next group
 * commit, chained and sealed like any other.
 */
import { expect } from 'chai';
import { AuditKind, verifyAuditTrail } from '../../src/audit/index.js';
import { Operation } from '../../src/kmip/spec/index.js';
import type { AuditRecord } from '../../src/store/types.js';
import { type AuditEnv, openAuditEnv } from './env.js';

const items = (rs: readonly AuditRecord[]) => rs.filter((r) => r.detail.kind === AuditKind.Item);

describe('audit durability', () => {
  let env: AuditEnv | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it('sync: the record is in the store when the answer arrives', async () => {
    env = await openAuditEnv();
    for (let i = 0; i < 5; i++) {
      await env.send('1.4', [{ op: Operation.Query, payload: [] }]);
      expect(items(await env.records())).to.have.length(i + 1);
    }
  });

  it('batched: every answered item is recorded, chained and sealed', async () => {
    env = await openAuditEnv({ durability: 'batched' });
    const e = env;
    await Promise.all(
      Array.from({ length: 20 }, () => e.send('1.4', [{ op: Operation.Query, payload: [] }])),
    );
    await e.audit.trail.seal();
    const recorded = items(await e.records());
    expect(recorded).to.have.length(20);
    for (const r of recorded) expect(r).to.include({ operation: 'Query', outcome: 'Success' });
    const report = await verifyAuditTrail(e.store, { sealer: e.sealer });
    expect(report.errors).to.deep.equal([]);
    expect(report.unsealed).to.equal(0);
  });
});
