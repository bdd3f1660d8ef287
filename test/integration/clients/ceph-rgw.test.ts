/**
 * Ceph RGW SSE-KMS, CLIENTS.md: KMIP 1.0; Locate by Name must return exactly
 * one id -> Get, which must be Raw; may Create AES with a Name; optional
 * username/password Credential.
 */

import { expect } from 'chai';
import { Operation, Tag } from '../../../src/kmip/spec/index.js';
import {
  aesTemplate,
  attr,
  enumeration,
  expectRawSymmetricKey,
  expectSuccess,
  type FlowConnection,
  type RequestOptions,
  uid,
  uidOf,
  useFlowServer,
  v,
} from './flow.js';

const VERSION = '1.0';

describe('client flow: Ceph RGW SSE-KMS (1.0)', function () {
  this.timeout(30_000);
  let conn: FlowConnection;

  useFlowServer((_s, c) => {
    conn = c;
  });

  for (const [label, opts] of [
    ['without Credential', {}],
    ['with a username/password Credential', { credential: { username: 'rgw', password: 'pw' } }],
  ] as [string, RequestOptions][]) {
    it(`Create AES with Name, Locate by Name -> exactly one id, Get Raw (${label})`, async () => {
      const name = `ceph-bucket-key-${label.length}`;
      const created = await conn.send(
        VERSION,
        [
          {
            op: Operation.Create,
            payload: [enumeration(Tag.ObjectType, 2), aesTemplate(0x04 | 0x08, attr('Name', v.name(name)))],
          },
        ],
        opts,
      );
      const id = uidOf(expectSuccess(created.items[0], 'Create'));
      // a decoy whose name shares the prefix
      await conn.ok(VERSION, {
        op: Operation.Create,
        payload: [
          enumeration(Tag.ObjectType, 2),
          aesTemplate(0x04 | 0x08, attr('Name', v.name(`${name}-old`))),
        ],
      });
      const loc = await conn.send(
        VERSION,
        [{ op: Operation.Locate, payload: [attr('Name', v.name(name))] }],
        opts,
      );
      const ids = expectSuccess(loc.items[0], 'Locate')
        .value.filter((c) => c.tag === Tag.UniqueIdentifier)
        .map((c) => c.value);
      expect(ids).to.deep.equal([id]);
      const got = await conn.send(VERSION, [{ op: Operation.Get, payload: [uid(id)] }], opts);
      expectRawSymmetricKey(expectSuccess(got.items[0], 'Get'));
    });
  }

  it('Locate of an unknown Name succeeds with no id', async () => {
    const loc = await conn.send(VERSION, [
      { op: Operation.Locate, payload: [attr('Name', v.name('no-such'))] },
    ]);
    expect(
      expectSuccess(loc.items[0], 'Locate').value.filter((c) => c.tag === Tag.UniqueIdentifier),
    ).to.deep.equal([]);
  });
});
