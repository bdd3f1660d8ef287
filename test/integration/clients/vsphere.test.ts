/**
 * VMware vSphere (VM / vSAN encryption), CLIENTS.md: KMIP 1.1 over TLS 1.2,
 * a new connection per step, each starting with an empty Discover Versions,
 * 8-byte Unique Batch Item IDs on every item, custom x- text attributes.
 */

import { expect } from 'chai';
import { Operation, QueryFunction, ResultStatus, Tag } from '../../../src/kmip/spec/index.js';
import { childEnum } from '../../../src/kmip/ttlv/build.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import {
  aesTemplate,
  attr,
  attributesOf,
  attrName,
  eightByteId,
  enumeration,
  expectRawSymmetricKey,
  expectSuccess,
  FlowConnection,
  type RequestItem,
  type Response,
  uid,
  uidOf,
  v,
} from './flow.js';

const VERSION = '1.1';
const CUSTOM = ['x-Vendor', 'x-Product', 'x-Product_Version', 'x-Component', 'x-Name', 'x-Identifier'];

describe('client flow: VMware vSphere (1.1, connection per step)', function () {
  this.timeout(30_000);
  let server: TestServer;
  let nextId = 1;

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  /** One vSphere step: new TLS 1.2 connection, Discover Versions, then the step's message. */
  async function step(items: Omit<RequestItem, 'id'>[]): Promise<Response> {
    const conn = await FlowConnection.open(server, { maxVersion: 'TLSv1.2' });
    try {
      expect(conn.socket.getProtocol()).to.equal('TLSv1.2');
      const dv = await conn.send(VERSION, [
        { op: Operation.DiscoverVersions, payload: [], id: eightByteId(nextId++) },
      ]);
      expectSuccess(dv.items[0], 'Discover Versions');
      return await conn.send(
        VERSION,
        items.map((i) => ({ ...i, id: eightByteId(nextId++) })),
      );
    } finally {
      conn.close();
    }
  }

  let keyId = '';

  it('Query Operations, Objects and Server Information', async () => {
    const r = await step([
      {
        op: Operation.Query,
        payload: [
          enumeration(Tag.QueryFunction, QueryFunction.QueryOperations),
          enumeration(Tag.QueryFunction, QueryFunction.QueryObjects),
          enumeration(Tag.QueryFunction, QueryFunction.QueryServerInformation),
        ],
      },
    ]);
    const p = expectSuccess(r.items[0], 'Query');
    const ops = p.value.filter((c) => c.tag === Tag.Operation).map((c) => c.value);
    for (const op of [
      Operation.Create,
      Operation.Get,
      Operation.GetAttributes,
      Operation.AddAttribute,
      Operation.Activate,
    ])
      expect(ops).to.include(op);
    expect(p.value.filter((c) => c.tag === Tag.ObjectType).map((c) => c.value)).to.include(
      2 /* Symmetric Key */,
    );
  });

  it('Create AES-256 with Encrypt|Decrypt and no Name', async () => {
    const r = await step([
      { op: Operation.Create, payload: [enumeration(Tag.ObjectType, 2), aesTemplate()] },
    ]);
    keyId = uidOf(expectSuccess(r.items[0], 'Create'));
  });

  it('Get Attributes of custom attributes not yet set: Success without them', async () => {
    const r = await step([{ op: Operation.GetAttributes, payload: [uid(keyId), ...CUSTOM.map(attrName)] }]);
    const p = expectSuccess(r.items[0], 'Get Attributes');
    expect(uidOf(p)).to.equal(keyId);
    expect([...attributesOf(p).keys()]).to.deep.equal([]);
  });

  it('three Add Attribute items in one message', async () => {
    const r = await step(
      ['x-Vendor', 'x-Product', 'x-Product_Version'].map((name) => ({
        op: Operation.AddAttribute,
        payload: [uid(keyId), attr(name, v.text(`${name} value`))],
      })),
    );
    r.items.forEach((it, i) => {
      expectSuccess(it, `Add Attribute ${i}`);
    });
    const got = await step([{ op: Operation.GetAttributes, payload: [uid(keyId), ...CUSTOM.map(attrName)] }]);
    const attrs = attributesOf(expectSuccess(got.items[0], 'Get Attributes'));
    expect([...attrs.keys()].sort()).to.deep.equal(['x-Product', 'x-Product_Version', 'x-Vendor']);
    expect(attrs.get('x-Vendor')?.[0]?.value).to.equal('x-Vendor value');
  });

  it('Get returns the Raw key', async () => {
    const r = await step([{ op: Operation.Get, payload: [uid(keyId)] }]);
    expectRawSymmetricKey(expectSuccess(r.items[0], 'Get'));
  });

  it('Get Attributes State (Enumeration), Activate, State Active', async () => {
    const state = async () => {
      const r = await step([{ op: Operation.GetAttributes, payload: [uid(keyId), attrName('State')] }]);
      const values = attributesOf(expectSuccess(r.items[0], 'Get Attributes State')).get('State') ?? [];
      expect(values).to.have.length(1);
      expect(values[0]?.type).to.equal('Enumeration');
      return values[0]?.value;
    };
    expect(await state()).to.equal(1 /* Pre-Active */);
    const r = await step([{ op: Operation.Activate, payload: [uid(keyId)] }]);
    expectSuccess(r.items[0], 'Activate');
    expect(await state()).to.equal(2 /* Active */);
  });

  it('later, per host / VM: Add Attribute then Get Attributes', async () => {
    const add = await step([
      { op: Operation.AddAttribute, payload: [uid(keyId), attr('x-Name', v.text('vm-42'))] },
      { op: Operation.AddAttribute, payload: [uid(keyId), attr('x-Identifier', v.text('host-7'))] },
    ]);
    for (const it of add.items) expectSuccess(it, 'Add Attribute');
    const r = await step([{ op: Operation.GetAttributes, payload: [uid(keyId), ...CUSTOM.map(attrName)] }]);
    const attrs = attributesOf(expectSuccess(r.items[0], 'Get Attributes'));
    expect(attrs.get('x-Name')?.[0]?.value).to.equal('vm-42');
    expect(attrs.get('x-Identifier')?.[0]?.value).to.equal('host-7');
    expect(attrs.size).to.equal(5);
  });

  it('a failure in the batch carries Result Reason and Message and echoes the 8-byte id', async () => {
    const r = await step([{ op: Operation.Get, payload: [uid('no-such-key')] }]);
    expect(r.items[0]?.status).to.equal(ResultStatus.OperationFailed);
    expect(r.items[0]?.reason).to.equal(1 /* Item Not Found */);
    expect(childEnum(r.items[0]?.payload, Tag.ObjectType)).to.equal(undefined);
  });

  it('optional username/password Credential in the header is accepted', async () => {
    const conn = await FlowConnection.open(server, { maxVersion: 'TLSv1.2' });
    try {
      const r = await conn.send(
        VERSION,
        [{ op: Operation.GetAttributes, payload: [uid(keyId), attrName('State')], id: eightByteId(999) }],
        { credential: { username: 'vcenter', password: 'secret' } },
      );
      expectSuccess(r.items[0], 'Get Attributes with Credential');
    } finally {
      conn.close();
    }
  });
});
