/**
 * Percona Server for MongoDB, CLIENTS.md: KMIP 1.0; Register an AES key with
 * Algorithm, Length and Usage Mask -> Activate; at start-up Get Attributes
 * State, and Get only if Active. Host name and SNI are checked. A 1.1+
 * attribute in a 1.0 response (Fresh) broke it in the field (behaviour 13).
 */

import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Operation, State, Tag } from '../../../src/kmip/spec/index.js';
import {
  attr,
  attributesOf,
  enumeration,
  expectRawSymmetricKey,
  expectSuccess,
  type FlowConnection,
  outOfVersion,
  stateOf,
  symmetricKey,
  template,
  uid,
  uidOf,
  useFlowServer,
  v,
} from './flow.js';

const VERSION = '1.0';

describe('client flow: Percona Server for MongoDB (1.0)', function () {
  this.timeout(30_000);
  let conn: FlowConnection;
  let id = '';
  const key = randomBytes(32);

  useFlowServer(
    (_s, c) => {
      conn = c;
    },
    { servername: 'localhost' },
  );

  it('connects with SNI localhost and a verified server certificate', () => {
    expect(conn.socket.authorized).to.equal(true);
    expect((conn.socket as unknown as { servername?: string }).servername).to.equal('localhost');
  });

  it('Register AES-256 with Algorithm, Length, Usage Mask -> Activate', async () => {
    const p = await conn.ok(VERSION, {
      op: Operation.Register,
      payload: [
        enumeration(Tag.ObjectType, 2),
        template(
          attr('Cryptographic Algorithm', v.enum(3)),
          attr('Cryptographic Length', v.int(256)),
          attr('Cryptographic Usage Mask', v.int(0x04 | 0x08)),
        ),
        symmetricKey(key),
      ],
    });
    id = uidOf(p);
    await conn.ok(VERSION, { op: Operation.Activate, payload: [uid(id)] });
  });

  it('start-up: State is Active (Enumeration), then Get returns the registered key Raw', async () => {
    expect(await stateOf(conn, VERSION, id)).to.equal(State.Active);
    const r = await conn.send(VERSION, [{ op: Operation.Get, payload: [uid(id)] }]);
    expect(Buffer.from(expectRawSymmetricKey(expectSuccess(r.items[0], 'Get'))).equals(key)).to.equal(true);
  });

  it('Get Attributes with no names returns only 1.0 attributes (no Fresh)', async () => {
    const r = await conn.send(VERSION, [{ op: Operation.GetAttributes, payload: [uid(id)] }]);
    const attrs = attributesOf(expectSuccess(r.items[0], 'Get Attributes'));
    expect(attrs.has('Fresh')).to.equal(false);
    expect(attrs.get('State')?.[0]?.value).to.equal(State.Active);
    expect(outOfVersion(r, VERSION)).to.deep.equal([]);
  });

  it('Get Attribute List at 1.0 names no 1.1+ attribute', async () => {
    const r = await conn.send(VERSION, [{ op: Operation.GetAttributeList, payload: [uid(id)] }]);
    const names = expectSuccess(r.items[0], 'Get Attribute List')
      .value.filter((c) => c.tag === Tag.AttributeName)
      .map((c) => c.value);
    expect(names).to.include('State');
    expect(names).to.not.include('Fresh');
  });
});
