/**
 * Storage unavailable (issue 3): while the database is down, requests that
 * need it fail with General Failure "storage unavailable" (nothing that is not
 * durable is acknowledged), and the server recovers on its own when it returns.
 */
import { expect } from 'chai';
import { Operation, ResultReason, ResultStatus } from '../../src/kmip/spec/index.js';
import { startFerretDb } from '../helpers/ferretdb.js';
import { TestKmipClient } from '../helpers/kmip-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('storage unavailable (integration)', function () {
  this.timeout(120_000);
  let ferret: Awaited<ReturnType<typeof startFerretDb>>;
  let server: TestServer;

  before(async () => {
    ferret = await startFerretDb();
    server = await startTestServer({ overrides: { store: { uri: ferret.uri, database: 'down' } } });
  });
  after(async () => {
    await server?.close();
    await ferret?.stop();
  });

  it('fails clearly while MongoDB is down and recovers by itself', async () => {
    const c = await TestKmipClient.connect(server);
    try {
      const before = await c.createAes();
      ferret.kill();
      const started = Date.now();
      const r = await c.call(Operation.Create, c.createAesRequest().payload);
      expect(r.status).to.equal(ResultStatus.OperationFailed);
      expect(r.reason).to.equal(ResultReason.GeneralFailure);
      expect(r.message).to.match(/storage unavailable/i);
      expect(Date.now() - started, 'fails fast rather than hanging').to.be.below(15_000);
      const g = await c.call(Operation.Get, [c.uidItem(before)]);
      expect(g.status).to.equal(ResultStatus.OperationFailed);

      await ferret.restart();
      let created: string | undefined;
      for (let i = 0; i < 30 && created === undefined; i++) {
        const again = await c.call(Operation.Create, c.createAesRequest().payload);
        if (again.status === ResultStatus.Success && again.payload)
          created = TestKmipClient.uid(again.payload);
        else await new Promise((res) => setTimeout(res, 500));
      }
      expect(created, 'a Create succeeds once the database is back').to.be.a('string');
      const old = await c.ok(Operation.Get, [c.uidItem(before)]);
      expect(TestKmipClient.keyMaterial(old)?.length).to.equal(32);
    } finally {
      c.close();
    }
  });
});
