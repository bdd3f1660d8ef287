/**
 * Veeam Backup & Replication, CLIENTS.md: KMIP 1.4; Locate -> Get public key
 * -> Create Key Pair RSA-2048 -> Activate -> Get private key -> Destroy;
 * relies on TLS session resumption.
 */

import { expect } from 'chai';
import { Operation, ResultReason, ResultStatus, State, Tag } from '../../../src/kmip/spec/index.js';
import { childEnum, childStruct } from '../../../src/kmip/ttlv/build.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { attr, enumeration, expectSuccess, FlowConnection, stateOf, structure, uid, v } from './flow.js';

const VERSION = '1.4';

describe('client flow: Veeam Backup & Replication (1.4)', function () {
  this.timeout(60_000);
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  for (const tls of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`${tls} session resumption on the next connection`, async () => {
      const first = await FlowConnection.open(server, { maxVersion: tls });
      await first.ok(VERSION, { op: Operation.DiscoverVersions, payload: [] });
      const session = await first.session();
      first.close();
      const second = await FlowConnection.open(server, { maxVersion: tls, session });
      try {
        expect(second.sessionReused, 'session reused').to.equal(true);
        await second.ok(VERSION, { op: Operation.DiscoverVersions, payload: [] });
      } finally {
        second.close();
      }
    });
  }

  it('Locate -> Get public key -> Activate -> Get private key -> Destroy, over resumed sessions', async () => {
    let conn = await FlowConnection.open(server, { maxVersion: 'TLSv1.2' });
    const next = async () => {
      const session = await conn.session();
      conn.close();
      conn = await FlowConnection.open(server, { maxVersion: 'TLSv1.2', session });
      expect(conn.sessionReused).to.equal(true);
    };
    try {
      const empty = await conn.send(VERSION, [
        { op: Operation.Locate, payload: [attr('Name', v.name('veeam-kms-pair-pub'))] },
      ]);
      expect(
        expectSuccess(empty.items[0], 'Locate').value.filter((c) => c.tag === Tag.UniqueIdentifier),
      ).to.have.length(0);

      const created = await conn.send(VERSION, [
        {
          op: Operation.CreateKeyPair,
          payload: [
            structure(Tag.CommonTemplateAttribute, [
              attr('Cryptographic Algorithm', v.enum(4 /* RSA */)),
              attr('Cryptographic Length', v.int(2048)),
            ]),
            structure(Tag.PrivateKeyTemplateAttribute, [
              attr('Name', v.name('veeam-kms-pair-priv')),
              attr('Cryptographic Usage Mask', v.int(0x08 /* Decrypt */)),
            ]),
            structure(Tag.PublicKeyTemplateAttribute, [
              attr('Name', v.name('veeam-kms-pair-pub')),
              attr('Cryptographic Usage Mask', v.int(0x04 /* Encrypt */)),
            ]),
          ],
        },
      ]);
      const kp = expectSuccess(created.items[0], 'Create Key Pair');
      const privId = String(kp.value.find((c) => c.tag === Tag.PrivateKeyUniqueIdentifier)?.value);
      const pubId = String(kp.value.find((c) => c.tag === Tag.PublicKeyUniqueIdentifier)?.value);
      await next();
      const loc = await conn.send(VERSION, [
        { op: Operation.Locate, payload: [attr('Name', v.name('veeam-kms-pair-pub'))] },
      ]);
      const ids = expectSuccess(loc.items[0], 'Locate')
        .value.filter((c) => c.tag === Tag.UniqueIdentifier)
        .map((c) => c.value);
      expect(ids).to.deep.equal([pubId]);

      const pub = expectSuccess(
        (await conn.send(VERSION, [{ op: Operation.Get, payload: [uid(pubId)] }])).items[0],
        'Get public',
      );
      const pubBlock = childStruct(childStruct(pub, Tag.PublicKey), Tag.KeyBlock);
      expect(childEnum(pubBlock, Tag.KeyFormatType)).to.be.a('number');
      // behaviour 9: no attributes inside Key Value for asymmetric keys in 1.x
      expect(childStruct(pubBlock, Tag.KeyValue)?.value.map((c) => c.tag)).to.deep.equal([Tag.KeyMaterial]);

      await next();
      await conn.ok(VERSION, { op: Operation.Activate, payload: [uid(privId)] });
      expect(await stateOf(conn, VERSION, privId)).to.equal(State.Active);
      const priv = expectSuccess(
        (await conn.send(VERSION, [{ op: Operation.Get, payload: [uid(privId)] }])).items[0],
        'Get private',
      );
      const privBlock = childStruct(childStruct(priv, Tag.PrivateKey), Tag.KeyBlock);
      expect(childStruct(privBlock, Tag.KeyValue)?.value.map((c) => c.tag)).to.deep.equal([Tag.KeyMaterial]);

      await next();
      // Destroy of the Pre-Active public key succeeds; of the Active private key it must be refused
      // until revoked (KMIP 1.4 §4.21: only Pre-Active or Deactivated objects may be destroyed).
      expectSuccess(
        (await conn.send(VERSION, [{ op: Operation.Destroy, payload: [uid(pubId)] }])).items[0],
        'Destroy public',
      );
      const refused = await conn.send(VERSION, [{ op: Operation.Destroy, payload: [uid(privId)] }]);
      expect(refused.items[0]?.status).to.equal(ResultStatus.OperationFailed);
      await conn.ok(VERSION, {
        op: Operation.Revoke,
        payload: [uid(privId), structure(Tag.RevocationReason, [enumeration(Tag.RevocationReasonCode, 6)])],
      });
      expectSuccess(
        (await conn.send(VERSION, [{ op: Operation.Destroy, payload: [uid(privId)] }])).items[0],
        'Destroy private',
      );
      const gone = await conn.send(VERSION, [{ op: Operation.Get, payload: [uid(privId)] }]);
      expect(gone.items[0]?.reason).to.equal(ResultReason.ItemNotFound);
    } finally {
      conn.close();
    }
  });
});
