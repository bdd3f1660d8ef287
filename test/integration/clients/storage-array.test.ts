/**
 * An unnamed storage array, CLIENTS.md: KMIP 1.0; Query + Locate + Get
 * (Opaque format) + Get Attributes in one message; custom x- attributes with
 * non-text values (Integer, etc.). Arrays also probe the port with TLS
 * sessions that send no message at all (behaviour 4).
 */

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:tls';
import { expect } from 'chai';
import { Operation, QueryFunction, Tag } from '../../../src/kmip/spec/index.js';
import { childEnum, childStruct } from '../../../src/kmip/ttlv/build.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import type { TestServer } from '../../helpers/server.js';
import {
  attr,
  attributesOf,
  attrName,
  byteString,
  enumeration,
  expectSuccess,
  type FlowConnection,
  structure,
  template,
  uid,
  uidOf,
  useFlowServer,
  v,
} from './flow.js';

const VERSION = '1.0';

const CUSTOM: [string, Omit<TtlvItem, 'tag'>][] = [
  ['x-ArraySerial', { type: 'Integer', value: 4242 }],
  ['x-LunCount', { type: 'LongInteger', value: 9_000_000_000n }],
  ['x-Encrypted', { type: 'Boolean', value: true }],
  ['x-ProvisionedAt', { type: 'DateTime', value: 1_700_000_000n }],
  ['x-Fingerprint', { type: 'ByteString', value: new Uint8Array([1, 2, 3, 4, 5]) }],
  ['x-Tier', { type: 'Enumeration', value: 3 }],
  ['x-RekeyEvery', { type: 'Interval', value: 86_400 }],
  ['x-Site', v.text('rack-12')],
];

describe('client flow: storage array (1.0, one message)', function () {
  this.timeout(30_000);
  let server: TestServer;
  let conn: FlowConnection;
  let id = '';
  const secret = randomBytes(48);

  useFlowServer((s, c) => {
    server = s;
    conn = c;
  });

  it('TLS sessions with no message at all do not disturb the server', async () => {
    const [ca, cert, key] = await Promise.all([
      readFile(server.pki.ca),
      readFile(server.pki.adminCert),
      readFile(server.pki.adminKey),
    ]);
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const s = connect({ host: server.host, port: server.port, ca, cert, key }, () => {
          s.end();
          resolve();
        });
        s.once('error', reject);
      });
    }
    await conn.ok(VERSION, { op: Operation.DiscoverVersions, payload: [] });
  });

  it('Register an Opaque Object with custom attributes of every TTLV type', async () => {
    id = uidOf(
      await conn.ok(VERSION, {
        op: Operation.Register,
        payload: [
          enumeration(Tag.ObjectType, 8 /* Opaque Object */),
          template(attr('Name', v.name('array-dek-0001')), ...CUSTOM.map(([n, val]) => attr(n, val))),
          structure(Tag.OpaqueObject, [
            enumeration(Tag.OpaqueDataType, 0x80000001 /* vendor extension */),
            byteString(Tag.OpaqueDataValue, secret),
          ]),
        ],
      }),
    );
  });

  it('Query + Locate + Get + Get Attributes in one message, each answered in order', async () => {
    const r = await conn.send(VERSION, [
      {
        op: Operation.Query,
        payload: [
          enumeration(Tag.QueryFunction, QueryFunction.QueryOperations),
          enumeration(Tag.QueryFunction, QueryFunction.QueryObjects),
        ],
      },
      { op: Operation.Locate, payload: [attr('Name', v.name('array-dek-0001'))] },
      { op: Operation.Get, payload: [uid(id)] },
      { op: Operation.GetAttributes, payload: [uid(id), ...CUSTOM.map(([n]) => attrName(n))] },
    ]);
    const q = expectSuccess(r.items[0], 'Query');
    expect(q.value.filter((c) => c.tag === Tag.ObjectType).map((c) => c.value)).to.include(8);
    const loc = expectSuccess(r.items[1], 'Locate');
    expect(loc.value.filter((c) => c.tag === Tag.UniqueIdentifier).map((c) => c.value)).to.deep.equal([id]);
    const got = expectSuccess(r.items[2], 'Get');
    expect(childEnum(got, Tag.ObjectType)).to.equal(8);
    const value = childStruct(got, Tag.OpaqueObject)?.value.find((c) => c.tag === Tag.OpaqueDataValue);
    expect(Buffer.from(value?.value as Uint8Array).equals(secret)).to.equal(true);
    const attrs = attributesOf(expectSuccess(r.items[3], 'Get Attributes'));
    for (const [name, val] of CUSTOM) {
      const got1 = attrs.get(name)?.[0];
      expect(got1?.type, name).to.equal(val.type);
      expect(got1?.value, name).to.deep.equal(val.value);
    }
  });

  it('a failing last item fails only itself (default Batch Error Continuation Option is Stop)', async () => {
    const r = await conn.send(VERSION, [
      { op: Operation.GetAttributes, payload: [uid(id), attrName('x-ArraySerial')] },
      { op: Operation.Get, payload: [uid('missing')] },
    ]);
    const first = attributesOf(expectSuccess(r.items[0], 'Get Attributes'));
    expect(first.get('x-ArraySerial')?.[0]?.value).to.equal(4242);
    expect(r.items[1]?.status).to.equal(1 /* Operation Failed */);
  });
});
