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
import {
  aesTemplate,
  attr,
  byteString,
  bytesOf,
  enumeration,
  expectSuccess,
  type FlowConnection,
  stateOf,
  structure,
  template,
  uid,
  uidOf,
  useFlowServer,
  v,
} from './flow.js';

const VERSION = '1.4';
const ID = 'A';

describe('client flow: libmongocrypt (CSFLE)', function () {
  this.timeout(30_000);
  let conn: FlowConnection;

  useFlowServer((_s, c) => {
    conn = c;
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

  // Delegated mode: the key never leaves the server; libmongocrypt sends
  // Encrypt/Decrypt with only Unique Identifier, Data (and the IV back).
  it('delegated mode: Create AES, Encrypt 96 bytes, Decrypt round-trips, id "A" echoed', async () => {
    const c = await conn.send(VERSION, [
      { op: Operation.Create, id: ID, payload: [enumeration(Tag.ObjectType, 2), aesTemplate()] },
    ]);
    const id = uidOf(expectSuccess(c.items[0], 'Create'));
    await conn.ok(VERSION, { op: Operation.Activate, id: ID, payload: [uid(id)] });
    const plain = randomBytes(96);
    const enc = await conn.send(VERSION, [
      { op: Operation.Encrypt, id: ID, payload: [uid(id), byteString(Tag.Data, plain)] },
    ]);
    const encrypted = expectSuccess(enc.items[0], 'Encrypt');
    const data = bytesOf(encrypted, Tag.Data);
    const iv = bytesOf(encrypted, Tag.IVCounterNonce);
    expect(Buffer.from(data).equals(plain)).to.equal(false);
    const dec = await conn.send(VERSION, [
      {
        op: Operation.Decrypt,
        id: ID,
        payload: [uid(id), byteString(Tag.Data, data), byteString(Tag.IVCounterNonce, iv)],
      },
    ]);
    expect(Buffer.from(bytesOf(expectSuccess(dec.items[0], 'Decrypt'), Tag.Data)).equals(plain)).to.equal(
      true,
    );
    // A wrong IV does not give the plaintext back (and never crashes the server).
    const wrong = await conn.send(VERSION, [
      {
        op: Operation.Decrypt,
        id: ID,
        payload: [uid(id), byteString(Tag.Data, data), byteString(Tag.IVCounterNonce, randomBytes(16))],
      },
    ]);
    const w = wrong.items[0];
    if (w?.status === 0) expect(Buffer.from(bytesOf(w.payload, Tag.Data)).equals(plain)).to.equal(false);
  });
});
