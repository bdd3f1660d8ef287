/**
 * Percona Server for MySQL keyring_kmip (libkmip), CLIENTS.md: 1.0 and 1.4
 * mixed on one connection; Register (AES or Secret Data) with Name and Object
 * Group -> Activate; load: Locate (Object Type + Object Group), 16 per page
 * with Offset Items -> Get + Get Attributes Name for each id; delete: Revoke
 * -> Destroy. No host name check on the server certificate.
 */

import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Operation, ResultReason, ResultStatus, Tag } from '../../../src/kmip/spec/index.js';
import { childInteger } from '../../../src/kmip/ttlv/build.js';
import {
  attr,
  attributesOf,
  attrName,
  byteString,
  enumeration,
  expectRawSymmetricKey,
  expectSuccess,
  type FlowConnection,
  integer,
  structure,
  symmetricKey,
  template,
  uid,
  uidOf,
  useFlowServer,
  v,
} from './flow.js';

const GROUP = 'percona-keyring';
const PAGE = 16;
const KEYS = 20;

function locatePayload(offset: number, withGroup: boolean) {
  return [
    integer(Tag.MaximumItems, PAGE),
    integer(Tag.OffsetItems, offset),
    attr('Object Type', v.enum(2)),
    ...(withGroup ? [attr('Object Group', v.text(GROUP))] : []),
  ];
}

describe('client flow: Percona Server for MySQL keyring_kmip (1.0 + 1.4)', function () {
  this.timeout(60_000);
  let conn: FlowConnection;
  const registered = new Map<string, { name: string; key: Buffer }>();

  useFlowServer(
    (_s, c) => {
      conn = c;
    },
    { host: 'localhost', checkServerIdentity: false },
  );

  it(`Register ${KEYS} AES keys (1.0) and a Secret Data (1.4) with Name + Object Group, Activate each`, async () => {
    for (let i = 0; i < KEYS; i++) {
      const key = randomBytes(32);
      const name = `percona-key-${i}`;
      const version = i % 2 === 0 ? '1.0' : '1.4';
      const id = uidOf(
        await conn.ok(version, {
          op: Operation.Register,
          payload: [
            enumeration(Tag.ObjectType, 2),
            template(attr('Name', v.name(name)), attr('Object Group', v.text(GROUP))),
            symmetricKey(key),
          ],
        }),
      );
      await conn.ok(version === '1.0' ? '1.4' : '1.0', { op: Operation.Activate, payload: [uid(id)] });
      registered.set(id, { name, key });
    }
    const secret = await conn.ok('1.4', {
      op: Operation.Register,
      payload: [
        enumeration(Tag.ObjectType, 7),
        template(attr('Name', v.name('percona-secret')), attr('Object Group', v.text(GROUP))),
        structure(Tag.SecretData, [
          enumeration(Tag.SecretDataType, 1 /* Password */),
          structure(Tag.KeyBlock, [
            enumeration(Tag.KeyFormatType, 2 /* Opaque */),
            structure(Tag.KeyValue, [byteString(Tag.KeyMaterial, randomBytes(24))]),
          ]),
        ]),
      ],
    });
    await conn.ok('1.0', { op: Operation.Activate, payload: [uid(uidOf(secret))] });
  });

  it('load: Locate 16 per page with Offset Items (1.4), then Get (1.0) + Get Attributes Name (1.4) for each', async () => {
    const found: string[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const r = await conn.send('1.4', [{ op: Operation.Locate, payload: locatePayload(offset, true) }]);
      const p = expectSuccess(r.items[0], 'Locate');
      // Located Items is 1.3+: always present, the total count (behaviour 10)
      expect(childInteger(p, Tag.LocatedItems), 'Located Items').to.equal(KEYS);
      const ids = p.value.filter((c) => c.tag === Tag.UniqueIdentifier).map((c) => String(c.value));
      expect(ids.length).to.be.at.most(PAGE);
      found.push(...ids);
      if (ids.length < PAGE) break;
    }
    expect([...found].sort()).to.deep.equal([...registered.keys()].sort());
    for (const id of found) {
      const g = await conn.send('1.0', [{ op: Operation.Get, payload: [uid(id)] }]);
      const want = registered.get(id);
      const key = expectRawSymmetricKey(expectSuccess(g.items[0], 'Get'));
      expect(Buffer.from(key).equals(want?.key ?? Buffer.alloc(0))).to.equal(true);
      const n = await conn.send('1.4', [
        { op: Operation.GetAttributes, payload: [uid(id), attrName('Name')] },
      ]);
      const names = attributesOf(expectSuccess(n.items[0], 'Get Attributes Name')).get('Name') ?? [];
      expect(names).to.have.length(1);
      const nv =
        names[0]?.type === 'Structure' ? names[0].value.find((c) => c.tag === Tag.NameValue) : undefined;
      expect(nv?.value).to.equal(want?.name);
    }
  });

  it('a page past the end is empty', async () => {
    const r = await conn.send('1.4', [{ op: Operation.Locate, payload: locatePayload(64, true) }]);
    const p = expectSuccess(r.items[0], 'Locate past the end');
    expect(p.value.filter((c) => c.tag === Tag.UniqueIdentifier)).to.deep.equal([]);
    expect(childInteger(p, Tag.LocatedItems)).to.equal(KEYS);
  });

  it('Locate by Object Type only at 1.0 with Maximum Items (no Offset Items in 1.0)', async () => {
    const r = await conn.send('1.0', [
      { op: Operation.Locate, payload: [integer(Tag.MaximumItems, PAGE), attr('Object Type', v.enum(2))] },
    ]);
    const p = expectSuccess(r.items[0], 'Locate 1.0');
    expect(p.value.filter((c) => c.tag === Tag.UniqueIdentifier)).to.have.length(PAGE);
  });

  it('delete: Revoke -> Destroy, then the key is gone', async () => {
    const [id] = registered.keys();
    if (!id) throw new Error('nothing registered');
    const rv = await conn.send('1.0', [
      {
        op: Operation.Revoke,
        payload: [
          uid(id),
          structure(Tag.RevocationReason, [enumeration(Tag.RevocationReasonCode, 6 /* Cessation */)]),
        ],
      },
    ]);
    expectSuccess(rv.items[0], 'Revoke');
    const d = await conn.send('1.4', [{ op: Operation.Destroy, payload: [uid(id)] }]);
    expectSuccess(d.items[0], 'Destroy');
    const g = await conn.send('1.0', [{ op: Operation.Get, payload: [uid(id)] }]);
    expect(g.items[0]?.status).to.equal(ResultStatus.OperationFailed);
    expect(g.items[0]?.reason).to.be.oneOf([ResultReason.ItemNotFound, ResultReason.PermissionDenied]);
    const r = await conn.send('1.4', [{ op: Operation.Locate, payload: locatePayload(0, true) }]);
    expect(childInteger(expectSuccess(r.items[0], 'Locate'), Tag.LocatedItems)).to.equal(KEYS - 1);
  });
});
