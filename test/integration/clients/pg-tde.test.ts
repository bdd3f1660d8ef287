/**
 * PostgreSQL pg_tde (libkmip), CLIENTS.md: Register at 1.4 an AES key with a
 * Name and a Key Compression Type inside the symmetric key block (to be
 * ignored), never Activated; Locate (Object Type + Name) and Get at 1.0 with
 * Maximum Response Size 8192. Locate must return exactly one id.
 */

import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Operation, ResultReason, ResultStatus, State, Tag } from '../../../src/kmip/spec/index.js';
import {
  attr,
  attrName,
  enumeration,
  expectRawSymmetricKey,
  expectSuccess,
  type FlowConnection,
  stateOf,
  symmetricKey,
  template,
  uid,
  uidOf,
  useFlowServer,
  v,
} from './flow.js';

const MAX = { maximumResponseSize: 8192 };

describe('client flow: PostgreSQL pg_tde', function () {
  this.timeout(30_000);
  let conn: FlowConnection;
  const key = randomBytes(32);
  let id = '';

  useFlowServer((_s, c) => {
    conn = c;
  });

  async function register(name: string, material: Buffer): Promise<string> {
    return uidOf(
      await conn.ok('1.4', {
        op: Operation.Register,
        payload: [
          enumeration(Tag.ObjectType, 2),
          template(attr('Name', v.name(name)), attr('Cryptographic Usage Mask', v.int(0x04 | 0x08))),
          // libkmip always writes a Key Compression Type; meaningless for a symmetric key (behaviour 7)
          symmetricKey(material, [
            enumeration(Tag.KeyCompressionType, 1 /* EC Public Key Type Uncompressed */),
          ]),
        ],
      }),
    );
  }

  it('Register AES with Name and Key Compression Type in the key block (1.4); not Activated', async () => {
    id = await register('pg_tde_principal_key_1', key);
    // near-miss names must not match the exact Name filter
    await register('pg_tde_principal_key_10', randomBytes(32));
    await register('pg_tde_principal_key', randomBytes(32));
    expect(await stateOf(conn, '1.4', id)).to.equal(State.PreActive);
  });

  it('Locate Object Type + Name (1.0, Maximum Response Size 8192) returns exactly that one id', async () => {
    const r = await conn.send(
      '1.0',
      [
        {
          op: Operation.Locate,
          payload: [attr('Object Type', v.enum(2)), attr('Name', v.name('pg_tde_principal_key_1'))],
        },
      ],
      MAX,
    );
    const ids = expectSuccess(r.items[0], 'Locate')
      .value.filter((c) => c.tag === Tag.UniqueIdentifier)
      .map((c) => c.value);
    expect(ids).to.deep.equal([id]);
  });

  it('Get (1.0, 8192) of the Pre-Active key: Raw, the registered bytes, no Key Compression Type', async () => {
    const r = await conn.send('1.0', [{ op: Operation.Get, payload: [uid(id)] }], MAX);
    expect(Buffer.from(expectRawSymmetricKey(expectSuccess(r.items[0], 'Get'))).equals(key)).to.equal(true);
  });

  it('Response Too Large when the answer would exceed Maximum Response Size 8192', async () => {
    for (let i = 0; i < 3; i++)
      await conn.ok('1.4', {
        op: Operation.AddAttribute,
        payload: [uid(id), attr(`x-Big${i}`, v.text('x'.repeat(3000)))],
      });
    const r = await conn.send(
      '1.0',
      [
        {
          op: Operation.GetAttributes,
          payload: [uid(id), attrName('x-Big0'), attrName('x-Big1'), attrName('x-Big2')],
        },
      ],
      MAX,
    );
    expect(r.size).to.be.at.most(8192);
    expect(r.items[0]?.status).to.equal(ResultStatus.OperationFailed);
    expect(r.items[0]?.reason).to.equal(ResultReason.ResponseTooLarge);
    // without the limit the same request succeeds
    const ok = await conn.send('1.0', [
      {
        op: Operation.GetAttributes,
        payload: [uid(id), attrName('x-Big0'), attrName('x-Big1'), attrName('x-Big2')],
      },
    ]);
    expectSuccess(ok.items[0], 'Get Attributes without limit');
    expect(ok.size).to.be.above(8192);
  });
});
