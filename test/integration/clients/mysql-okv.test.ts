/**
 * MySQL Enterprise keyring_okv, CLIENTS.md: KMIP 1.1 with Maximum Response
 * Size 280000; Create AES with the server generating all material; an
 * Attribute Index before every Attribute Value; Storage Status Mask.
 */

import { expect } from 'chai';
import { Operation, StorageStatusMask, Tag } from '../../../src/kmip/spec/index.js';
import {
  attr,
  attributesOf,
  attrName,
  enumeration,
  expectRawSymmetricKey,
  expectSuccess,
  type FlowConnection,
  integer,
  template,
  uid,
  uidOf,
  useFlowServer,
  v,
} from './flow.js';

const VERSION = '1.1';
const MAX = { maximumResponseSize: 280_000 };

describe('client flow: MySQL Enterprise keyring_okv (1.1)', function () {
  this.timeout(30_000);
  let conn: FlowConnection;
  let id = '';

  useFlowServer((_s, c) => {
    conn = c;
  });

  it('Create AES-256 with Attribute Index 0 before every Attribute Value', async () => {
    const r = await conn.send(
      VERSION,
      [
        {
          op: Operation.Create,
          payload: [
            enumeration(Tag.ObjectType, 2),
            template(
              attr('Cryptographic Algorithm', v.enum(3), 0),
              attr('Cryptographic Length', v.int(256), 0),
              attr('Cryptographic Usage Mask', v.int(0x04 | 0x08), 0),
              attr('Name', v.name('mysql-okv-master-key-1'), 0),
            ),
          ],
        },
      ],
      MAX,
    );
    id = uidOf(expectSuccess(r.items[0], 'Create'));
  });

  it('Get Attributes shows what the server generated, each with its Attribute Index', async () => {
    const r = await conn.send(
      VERSION,
      [
        {
          op: Operation.GetAttributes,
          payload: [uid(id), attrName('Cryptographic Length'), attrName('Name'), attrName('State')],
        },
      ],
      MAX,
    );
    const p = expectSuccess(r.items[0], 'Get Attributes');
    const attrs = attributesOf(p);
    expect(attrs.get('Cryptographic Length')?.[0]?.value).to.equal(256);
    expect(attrs.get('State')?.[0]?.value).to.equal(1);
  });

  it('Locate by Name with Storage Status Mask On-line returns the key; Archival only returns none', async () => {
    const locate = async (mask: number) => {
      const r = await conn.send(
        VERSION,
        [
          {
            op: Operation.Locate,
            payload: [
              integer(Tag.StorageStatusMask, mask),
              attr('Name', v.name('mysql-okv-master-key-1'), 0),
            ],
          },
        ],
        MAX,
      );
      return expectSuccess(r.items[0], 'Locate')
        .value.filter((c) => c.tag === Tag.UniqueIdentifier)
        .map((c) => c.value);
    };
    expect(await locate(StorageStatusMask.OnLineStorage)).to.deep.equal([id]);
    expect(await locate(StorageStatusMask.ArchivalStorage)).to.deep.equal([]);
  });

  it('Activate then Get returns the server-generated key Raw', async () => {
    await conn.ok(VERSION, { op: Operation.Activate, payload: [uid(id)] }, MAX);
    const r = await conn.send(VERSION, [{ op: Operation.Get, payload: [uid(id)] }], MAX);
    expectRawSymmetricKey(expectSuccess(r.items[0], 'Get'));
  });

  it('Add Attribute with an Attribute Index is accepted', async () => {
    const r = await conn.send(
      VERSION,
      [{ op: Operation.AddAttribute, payload: [uid(id), attr('x-okv-endpoint', v.text('mysql-1'), 0)] }],
      MAX,
    );
    expectSuccess(r.items[0], 'Add Attribute');
  });
});
