/**
 * MongoDB Enterprise encryption at rest, CLIENTS.md: KMIP 1.2 (1.0 with the
 * legacy option); Create AES-256 -> Activate -> Get Attributes "State" at
 * start-up and every 15 minutes (the key must be Active) -> Encrypt/Decrypt
 * (default) or Get (legacy). The server certificate is checked against the
 * host name it dials.
 */

import { createDecipheriv, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Operation, State, Tag } from '../../../src/kmip/spec/index.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import {
  aesTemplate,
  byteString,
  bytesOf,
  enumeration,
  expectRawSymmetricKey,
  expectSuccess,
  FlowConnection,
  stateOf,
  uid,
  uidOf,
} from './flow.js';

describe('client flow: MongoDB Enterprise encryption at rest', function () {
  this.timeout(30_000);
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  for (const version of ['1.2', '1.0'] as const) {
    it(`${version}: Create AES-256, Activate, State Active at start-up and at each check`, async () => {
      // Host name checked against the server certificate SAN (behaviour 14).
      const conn = await FlowConnection.open(server, { servername: 'localhost' });
      try {
        const created = await conn.ok(version, {
          op: Operation.Create,
          payload: [enumeration(Tag.ObjectType, 2), aesTemplate()],
        });
        const id = uidOf(created);
        expect(await stateOf(conn, version, id)).to.equal(State.PreActive);
        await conn.ok(version, { op: Operation.Activate, payload: [uid(id)] });
        for (let check = 0; check < 3; check++)
          expect(await stateOf(conn, version, id)).to.equal(State.Active);
        if (version === '1.0') {
          // legacy mode reads the key itself
          const r = await conn.send(version, [{ op: Operation.Get, payload: [uid(id)] }]);
          expectRawSymmetricKey(expectSuccess(r.items[0], 'Get'));
        }
      } finally {
        conn.close();
      }
    });
  }

  it('the server certificate matches the names MongoDB dials (localhost, 127.0.0.1)', async () => {
    for (const opts of [{ servername: 'localhost' }, {}]) {
      const conn = await FlowConnection.open(server, opts);
      expect(conn.socket.authorized).to.equal(true);
      conn.close();
    }
  });

  it('a certificate name mismatch is refused by the client', async () => {
    let error: unknown;
    try {
      (await FlowConnection.open(server, { servername: 'kms.example.invalid' })).close();
    } catch (e: unknown) {
      error = e;
    }
    expect(String(error)).to.match(/altnames|Hostname|IP/i);
  });

  // Default mode: Encrypt with only Unique Identifier + Data (behaviour 12).
  // The server documents AES-CBC with PKCS#5 padding and a random IV that it
  // returns; node:crypto, given the key (fetched by Get), must agree.
  // (1.0 is MongoDB's legacy mode, which uses Get: Encrypt arrived in KMIP 1.2.)
  describe('default mode Encrypt/Decrypt', () => {
    for (const version of ['1.2'] as const) {
      it(`${version}: Encrypt returns ciphertext and a 16-byte IV; Decrypt with that IV round-trips`, async () => {
        const conn = await FlowConnection.open(server, { servername: 'localhost' });
        try {
          const id = uidOf(
            await conn.ok(version, {
              op: Operation.Create,
              payload: [enumeration(Tag.ObjectType, 2), aesTemplate()],
            }),
          );
          await conn.ok(version, { op: Operation.Activate, payload: [uid(id)] });
          const plain = randomBytes(32);
          const enc = await conn.ok(version, {
            op: Operation.Encrypt,
            payload: [uid(id), byteString(Tag.Data, plain)],
          });
          const data = bytesOf(enc, Tag.Data);
          const iv = bytesOf(enc, Tag.IVCounterNonce);
          expect(iv).to.have.length(16);
          expect(data).to.have.length(48);
          const key = expectRawSymmetricKey(
            await conn.ok(version, { op: Operation.Get, payload: [uid(id)] }),
          );
          const local = createDecipheriv('aes-256-cbc', key, iv);
          expect(Buffer.concat([local.update(data), local.final()]).equals(plain)).to.equal(true);
          const dec = await conn.ok(version, {
            op: Operation.Decrypt,
            payload: [uid(id), byteString(Tag.Data, data), byteString(Tag.IVCounterNonce, iv)],
          });
          expect(Buffer.from(bytesOf(dec, Tag.Data)).equals(plain)).to.equal(true);
          // Two Encrypts of the same data differ: a fresh IV each time.
          const again = await conn.ok(version, {
            op: Operation.Encrypt,
            payload: [uid(id), byteString(Tag.Data, plain)],
          });
          expect(Buffer.from(bytesOf(again, Tag.IVCounterNonce)).equals(iv)).to.equal(false);
        } finally {
          conn.close();
        }
      });
    }
  });
});
