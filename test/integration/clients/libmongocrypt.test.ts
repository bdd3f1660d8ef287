/**
 * MongoDB client-side field level encryption (libmongocrypt / kms-message),
 * CLIENTS.md: KMIP 1.4, every batch item with Unique Batch Item ID "A";
 * Register Secret Data (96 bytes, Raw) with a Cryptographic Usage Mask ->
 * Activate -> Get. Delegated mode: Create AES + Encrypt/Decrypt.
 */

import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Operation, State, Tag } from '../../../src/kmip/spec/index.js';
import { childEnum, childStruct } from '../../../src/kmip/ttlv/build.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import {
  aesTemplate,
  attr,
  byteString,
  enumeration,
  expectNotSupported,
  expectSuccess,
  FlowConnection,
  stateOf,
  structure,
  template,
  uid,
  uidOf,
  v,
} from './flow.js';

const VERSION = '1.4';
const ID = 'A';

describe('client flow: libmongocrypt (CSFLE)', function () {
  this.timeout(30_000);
  let server: TestServer;
  let conn: FlowConnection;

  before(async () => {
    server = await startTestServer();
    conn = await FlowConnection.open(server);
  });
  after(async () => {
    conn.close();
    await server.close();
  });

  it('Register 96-byte Secret Data -> Activate -> Get returns the same Raw bytes', async () => {
    const secret = randomBytes(96);
    const reg = await conn.send(VERSION, [
      {
        op: Operation.Register,
        id: ID,
        payload: [
          enumeration(Tag.ObjectType, 7 /* Secret Data */),
          template(attr('Cryptographic Usage Mask', v.int(0x04 | 0x08))),
          structure(Tag.SecretData, [
            enumeration(Tag.SecretDataType, 2 /* Seed */),
            structure(Tag.KeyBlock, [
              enumeration(Tag.KeyFormatType, 1 /* Raw */),
              structure(Tag.KeyValue, [byteString(Tag.KeyMaterial, secret)]),
            ]),
          ]),
        ],
      },
    ]);
    const id = uidOf(expectSuccess(reg.items[0], 'Register'));
    const act = await conn.send(VERSION, [{ op: Operation.Activate, id: ID, payload: [uid(id)] }]);
    expectSuccess(act.items[0], 'Activate');
    expect(await stateOf(conn, VERSION, id, ID)).to.equal(State.Active);
    const got = await conn.send(VERSION, [{ op: Operation.Get, id: ID, payload: [uid(id)] }]);
    const p = expectSuccess(got.items[0], 'Get');
    expect(childEnum(p, Tag.ObjectType)).to.equal(7);
    const block = childStruct(childStruct(p, Tag.SecretData), Tag.KeyBlock);
    expect(childEnum(block, Tag.KeyFormatType)).to.equal(1 /* Raw */);
    const material = childStruct(block, Tag.KeyValue)?.value.find((c) => c.tag === Tag.KeyMaterial);
    expect(material?.type).to.equal('ByteString');
    expect(Buffer.from(material?.value as Uint8Array).equals(secret)).to.equal(true);
  });

  // Delegated mode: the key never leaves the server. CURRENT behaviour until the
  // crypto issue lands; that issue flips Encrypt/Decrypt to Success.
  describe('delegated mode Create AES + Encrypt/Decrypt (current: not supported until the crypto issue)', () => {
    it('Create succeeds; Encrypt and Decrypt answer Operation Not Supported with a message, id "A" echoed', async () => {
      const c = await conn.send(VERSION, [
        { op: Operation.Create, id: ID, payload: [enumeration(Tag.ObjectType, 2), aesTemplate()] },
      ]);
      const id = uidOf(expectSuccess(c.items[0], 'Create'));
      await conn.ok(VERSION, { op: Operation.Activate, id: ID, payload: [uid(id)] });
      const enc = await conn.send(VERSION, [
        { op: Operation.Encrypt, id: ID, payload: [uid(id), byteString(Tag.Data, randomBytes(96))] },
      ]);
      expectNotSupported(enc.items[0]);
      const dec = await conn.send(VERSION, [
        {
          op: Operation.Decrypt,
          id: ID,
          payload: [
            uid(id),
            byteString(Tag.Data, randomBytes(112)),
            byteString(Tag.IVCounterNonce, randomBytes(16)),
          ],
        },
      ]);
      expectNotSupported(dec.items[0]);
    });
  });
});
