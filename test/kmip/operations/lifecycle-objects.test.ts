import { expect } from 'chai';
import {
  CryptographicAlgorithm,
  KeyFormatType,
  type KmipVersion,
  ObjectType,
  Operation,
  ResultReason,
  RevocationReasonCode,
  SecretDataType,
  State,
  Tag,
  tagExistsIn,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import { assertNoKeyMaterial } from '../../helpers/no-key-material.js';
import { attr, attrs, isV2, nameItem } from './fixtures.js';
import { allTags, B, E, I, kid, kids, members, S, T, text, useHarness } from './harness.js';

/** Create payload of an AES-256 key (Encrypt and Decrypt), named `name` when given. */
function aesTemplate(v: KmipVersion, name?: string): TtlvItem[] {
  const list = [
    attr(v, 'Cryptographic Algorithm', E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES)),
    attr(v, 'Cryptographic Length', I(Tag.CryptographicLength, 256)),
    attr(v, 'Cryptographic Usage Mask', I(Tag.CryptographicUsageMask, 12)),
  ];
  if (name !== undefined) list.push(attr(v, 'Name', nameItem(name)));
  return [E(Tag.ObjectType, ObjectType.SymmetricKey), attrs(v, list)];
}

function attrRef(v: KmipVersion, name: string, tag: number): TtlvItem {
  return isV2(v) ? E(Tag.AttributeReference, tag) : T(Tag.AttributeName, name);
}

/** Values of the returned attributes by tag (2.x) or Attribute Name (1.x). */
function returned(v: KmipVersion, payload: TtlvItem): Map<string, TtlvItem[]> {
  const out = new Map<string, TtlvItem[]>();
  const add = (k: string, val: TtlvItem) => out.set(k, [...(out.get(k) ?? []), val]);
  if (isV2(v)) {
    for (const a of members(kid(payload, Tag.Attributes))) {
      if (a.tag === Tag.Attribute) {
        add(
          `${text(a, Tag.VendorIdentification)}-${text(a, Tag.AttributeName)}`,
          kid(a, Tag.AttributeValue) as TtlvItem,
        );
      } else add(String(a.tag), a);
    }
  } else {
    for (const a of kids(payload, Tag.Attribute)) {
      add(text(a, Tag.AttributeName) ?? '?', kid(a, Tag.AttributeValue) as TtlvItem);
    }
  }
  return out;
}

function expectVersionClean(v: KmipVersion, item: TtlvItem): void {
  for (const t of allTags(item)) {
    if (t >>> 16 === 0x42) expect(tagExistsIn(t, v), `tag 0x${t.toString(16)} in ${v}`).to.equal(true);
  }
}

describe('object operations over a real store (Create, Get, attributes, Locate, lifecycle)', function () {
  this.timeout(20000);
  const h = useHarness();

  /** Values of the attribute `name` of object `id`, as Get Attributes returns them. */
  async function namedValues(v: KmipVersion, id: string, name: string): Promise<unknown[] | undefined> {
    const got = await h.ok(v, Operation.GetAttributes, [
      T(Tag.UniqueIdentifier, id),
      T(Tag.AttributeName, name),
    ]);
    return returned(v, got)
      .get(name)
      ?.map((x) => x.value);
  }

  for (const v of ['1.0', '1.4', '2.1'] as const) {
    it(`create → get → attributes → locate → activate → revoke → destroy in KMIP ${v}`, async () => {
      const name = `key-${v}-${Math.random()}`;
      const created = await h.ok(v, Operation.Create, aesTemplate(v, name));
      const id = text(created, Tag.UniqueIdentifier) as string;
      expect(kid(created, Tag.ObjectType)?.value).to.equal(ObjectType.SymmetricKey);

      // Get works on a Pre-Active key; Raw by default, Algorithm and Length after the Key Value.
      const got = await h.ok(v, Operation.Get, [T(Tag.UniqueIdentifier, id)]);
      const block = kid(kid(got, Tag.SymmetricKey), Tag.KeyBlock);
      expect(kid(block, Tag.KeyFormatType)?.value).to.equal(KeyFormatType.Raw);
      const material = kid(kid(block, Tag.KeyValue), Tag.KeyMaterial);
      expect(material?.type).to.equal('ByteString');
      expect(material?.type === 'ByteString' && material.value.length).to.equal(32);
      expect(members(block).map((c) => c.tag)).to.deep.equal([
        Tag.KeyFormatType,
        Tag.KeyValue,
        Tag.CryptographicAlgorithm,
        Tag.CryptographicLength,
      ]);
      expectVersionClean(v, got);

      const ga = await h.ok(v, Operation.GetAttributes, [
        T(Tag.UniqueIdentifier, id),
        attrRef(v, 'State', Tag.State),
        attrRef(v, 'Cryptographic Length', Tag.CryptographicLength),
        attrRef(v, 'Digest', Tag.Digest),
        attrRef(v, 'Activation Date', Tag.ActivationDate),
      ]);
      const r = returned(v, ga);
      const key = (n: string, t: number) => (isV2(v) ? String(t) : n);
      expect(r.get(key('State', Tag.State))?.[0]?.value).to.equal(State.PreActive);
      expect(r.get(key('State', Tag.State))?.[0]?.type).to.equal('Enumeration');
      expect(r.get(key('Cryptographic Length', Tag.CryptographicLength))?.[0]?.value).to.equal(256);
      const digest = r.get(key('Digest', Tag.Digest))?.[0];
      expect(kid(digest, Tag.DigestValue)?.type).to.equal('ByteString');
      // Digest's Key Format Type appeared in 1.1.
      expect(kid(digest, Tag.KeyFormatType) === undefined).to.equal(v === '1.0');
      expect(r.has(key('Activation Date', Tag.ActivationDate))).to.equal(false);

      const located = await h.ok(v, Operation.Locate, [
        ...(isV2(v)
          ? [
              S(Tag.Attributes, [
                E(Tag.ObjectType, ObjectType.SymmetricKey),
                kid(S(0, [attr(v, 'Name', nameItem(name))]), Tag.Name) as TtlvItem,
              ]),
            ]
          : [
              attr(v, 'Object Type', E(Tag.ObjectType, ObjectType.SymmetricKey)),
              attr(v, 'Name', nameItem(name)),
            ]),
      ]);
      expect(kids(located, Tag.UniqueIdentifier).map((u) => u.value)).to.deep.equal([id]);

      await h.ok(v, Operation.Activate, [T(Tag.UniqueIdentifier, id)]);
      const [denied] = await h.send(v, [{ op: Operation.Destroy, payload: [T(Tag.UniqueIdentifier, id)] }]);
      expect(denied?.reason).to.equal(
        v === '2.1' ? ResultReason.WrongKeyLifecycleState : ResultReason.PermissionDenied,
      );
      expect(denied?.message).to.be.a('string');

      await h.ok(v, Operation.Revoke, [
        T(Tag.UniqueIdentifier, id),
        S(Tag.RevocationReason, [E(Tag.RevocationReasonCode, RevocationReasonCode.KeyCompromise)]),
        { tag: Tag.CompromiseOccurrenceDate, type: 'DateTime', value: 6n },
      ]);
      await h.ok(v, Operation.Destroy, [T(Tag.UniqueIdentifier, id)]);
      const st = await h.ok(v, Operation.GetAttributes, [
        T(Tag.UniqueIdentifier, id),
        attrRef(v, 'State', Tag.State),
      ]);
      expect(returned(v, st).get(key('State', Tag.State))?.[0]?.value).to.equal(State.DestroyedCompromised);
      const [gone] = await h.send(v, [{ op: Operation.Get, payload: [T(Tag.UniqueIdentifier, id)] }]);
      expect(gone?.status).to.equal(1);
      expect(gone?.reason).to.equal(isV2(v) ? ResultReason.ObjectDestroyed : ResultReason.ItemNotFound);
      const record = await h.store.get(id);
      expect(record?.sealed).to.equal(undefined);
    });
  }

  it('never returns Fresh (or any 1.1+ tag) to a 1.0 client; Fresh is cleared by the first Get', async () => {
    const id = text(await h.ok('1.4', Operation.Create, aesTemplate('1.4')), Tag.UniqueIdentifier) as string;
    const all10 = await h.ok('1.0', Operation.GetAttributes, [T(Tag.UniqueIdentifier, id)]);
    expect([...returned('1.0', all10).keys()]).not.to.include('Fresh');
    expect([...returned('1.0', all10).keys()]).not.to.include('Original Creation Date');
    expectVersionClean('1.0', all10);
    const list10 = await h.ok('1.0', Operation.GetAttributeList, [T(Tag.UniqueIdentifier, id)]);
    expect(kids(list10, Tag.AttributeName).map((n) => n.value)).not.to.include('Fresh');
    const before = await h.ok('1.4', Operation.GetAttributes, [
      T(Tag.UniqueIdentifier, id),
      T(Tag.AttributeName, 'Fresh'),
    ]);
    expect(returned('1.4', before).get('Fresh')?.[0]?.value).to.equal(true);
    await h.ok('1.4', Operation.Get, [T(Tag.UniqueIdentifier, id)]);
    const after = await h.ok('1.4', Operation.GetAttributes, [
      T(Tag.UniqueIdentifier, id),
      T(Tag.AttributeName, 'Fresh'),
    ]);
    expect(returned('1.4', after).get('Fresh')?.[0]?.value).to.equal(false);
  });

  it('vSphere (1.1): unset custom attributes read as Success without a value; three AddAttribute in one message', async () => {
    const id = text(await h.ok('1.1', Operation.Create, aesTemplate('1.1')), Tag.UniqueIdentifier) as string;
    const names = ['x-Vendor', 'x-Product', 'x-Product_Version'];
    const [unset] = await h.send('1.1', [
      {
        op: Operation.GetAttributes,
        payload: [T(Tag.UniqueIdentifier, id), ...names.map((n) => T(Tag.AttributeName, n))],
      },
    ]);
    expect(unset?.status).to.equal(0);
    expect(kids(unset?.payload, Tag.Attribute)).to.have.length(0);
    const batchIds = [1, 2, 3].map((n) => new Uint8Array(8).fill(n));
    const added = await h.send(
      '1.1',
      names.map((n, i) => ({
        op: Operation.AddAttribute,
        id: batchIds[i] as Uint8Array,
        payload: [
          T(Tag.UniqueIdentifier, id),
          S(Tag.Attribute, [T(Tag.AttributeName, n), T(Tag.AttributeValue, `v${i}`)]),
        ],
      })),
    );
    expect(added.map((a) => a.status)).to.deep.equal([0, 0, 0]);
    expect(added.map((a) => kid(a.item, Tag.UniqueBatchItemID)?.value)).to.deep.equal(batchIds);
    const after = await h.ok('1.1', Operation.GetAttributes, [
      T(Tag.UniqueIdentifier, id),
      ...names.map((n) => T(Tag.AttributeName, n)),
    ]);
    const r = returned('1.1', after);
    expect(names.map((n) => r.get(n)?.[0]?.value)).to.deep.equal(['v0', 'v1', 'v2']);
  });

  it('1.x custom attributes keep non-text types (Integer) through add, modify, delete and Locate', async () => {
    const id = text(await h.ok('1.0', Operation.Create, aesTemplate('1.0')), Tag.UniqueIdentifier) as string;
    const xCount = (n: number) =>
      S(Tag.Attribute, [T(Tag.AttributeName, 'x-Count'), I(Tag.AttributeValue, n)]);
    const add = await h.ok('1.0', Operation.AddAttribute, [T(Tag.UniqueIdentifier, id), xCount(7)]);
    expect(kid(kid(add, Tag.Attribute), Tag.AttributeValue)).to.deep.include({ type: 'Integer', value: 7 });
    const second = await h.ok('1.0', Operation.AddAttribute, [T(Tag.UniqueIdentifier, id), xCount(8)]);
    expect(kid(kid(second, Tag.Attribute), Tag.AttributeIndex)?.value).to.equal(1);
    const found = await h.ok('1.0', Operation.Locate, [xCount(8)]);
    expect(kids(found, Tag.UniqueIdentifier).map((u) => u.value)).to.deep.equal([id]);
    await h.ok('1.0', Operation.ModifyAttribute, [T(Tag.UniqueIdentifier, id), xCount(9)]);
    expect(await namedValues('1.0', id, 'x-Count')).to.deep.equal([9, 8]);
    const del = await h.ok('1.0', Operation.DeleteAttribute, [
      T(Tag.UniqueIdentifier, id),
      T(Tag.AttributeName, 'x-Count'),
    ]);
    expect(kid(kid(del, Tag.Attribute), Tag.AttributeValue)?.value).to.equal(9);
    const [missing] = await h.send('1.0', [
      {
        op: Operation.DeleteAttribute,
        payload: [T(Tag.UniqueIdentifier, id), T(Tag.AttributeName, 'x-Nothing')],
      },
    ]);
    expect(missing?.reason).to.equal(ResultReason.ItemNotFound);
  });

  it('2.1 vendor attributes: Add, Set, Modify with Current Attribute, Delete by reference; read-only refused', async () => {
    const v = '2.1';
    const id = text(await h.ok(v, Operation.Create, aesTemplate(v)), Tag.UniqueIdentifier) as string;
    const vendor = (val: string) =>
      S(Tag.Attribute, [
        T(Tag.VendorIdentification, 'x'),
        T(Tag.AttributeName, 'ID'),
        T(Tag.AttributeValue, val),
      ]);
    await h.ok(v, Operation.AddAttribute, [T(Tag.UniqueIdentifier, id), S(Tag.NewAttribute, [vendor('a')])]);
    await h.ok(v, Operation.ModifyAttribute, [
      T(Tag.UniqueIdentifier, id),
      S(Tag.CurrentAttribute, [vendor('a')]),
      S(Tag.NewAttribute, [vendor('b')]),
    ]);
    await h.ok(v, Operation.SetAttribute, [
      T(Tag.UniqueIdentifier, id),
      S(Tag.NewAttribute, [T(Tag.Description, 'd')]),
    ]);
    const got = await h.ok(v, Operation.GetAttributes, [T(Tag.UniqueIdentifier, id)]);
    const r = returned(v, got);
    expect(r.get('x-ID')?.[0]?.value).to.equal('b');
    expect(r.get(String(Tag.Description))?.[0]?.value).to.equal('d');
    await h.ok(v, Operation.DeleteAttribute, [
      T(Tag.UniqueIdentifier, id),
      S(Tag.AttributeReference, [T(Tag.VendorIdentification, 'x'), T(Tag.AttributeName, 'ID')]),
    ]);
    const [ro] = await h.send(v, [
      {
        op: Operation.ModifyAttribute,
        payload: [T(Tag.UniqueIdentifier, id), S(Tag.NewAttribute, [E(Tag.State, State.Compromised)])],
      },
    ]);
    expect(ro?.reason).to.equal(ResultReason.AttributeReadOnly);
    const [nf] = await h.send(v, [{ op: Operation.Get, payload: [T(Tag.UniqueIdentifier, 'no-such-id')] }]);
    expect(nf?.reason).to.equal(ResultReason.ObjectNotFound);
  });

  it('Locate pages newest first with Maximum and Offset Items; a page past the end is empty', async () => {
    const group = `g-${Math.random()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const p = await h.ok('1.4', Operation.Create, [
        E(Tag.ObjectType, ObjectType.SymmetricKey),
        S(Tag.TemplateAttribute, [
          ...members(aesTemplate('1.4')[1]),
          S(Tag.Attribute, [T(Tag.AttributeName, 'Object Group'), T(Tag.AttributeValue, group)]),
        ]),
      ]);
      ids.push(text(p, Tag.UniqueIdentifier) as string);
    }
    const filter = S(Tag.Attribute, [T(Tag.AttributeName, 'Object Group'), T(Tag.AttributeValue, group)]);
    const page = async (max: number, offset: number) => {
      const p = await h.ok('1.4', Operation.Locate, [
        I(Tag.MaximumItems, max),
        I(Tag.OffsetItems, offset),
        filter,
      ]);
      return {
        total: kid(p, Tag.LocatedItems)?.value,
        ids: kids(p, Tag.UniqueIdentifier).map((u) => u.value),
      };
    };
    const newest = [...ids].reverse();
    expect(await page(2, 0)).to.deep.equal({ total: 5, ids: newest.slice(0, 2) });
    expect(await page(2, 2)).to.deep.equal({ total: 5, ids: newest.slice(2, 4) });
    expect(await page(2, 4)).to.deep.equal({ total: 5, ids: newest.slice(4) });
    expect(await page(2, 6)).to.deep.equal({ total: 5, ids: [] });
    const all = await h.ok('1.0', Operation.Locate, [filter]);
    expect(kids(all, Tag.UniqueIdentifier).map((u) => u.value)).to.deep.equal(newest);
    expect(kid(all, Tag.LocatedItems)).to.equal(undefined);
  });

  it('the ID Placeholder carries a created object to later items of the batch', async () => {
    const [c, a, g] = await h.send('1.2', [
      { op: Operation.Create, payload: aesTemplate('1.2') },
      { op: Operation.Activate, payload: [] },
      { op: Operation.GetAttributes, payload: [T(Tag.AttributeName, 'State')] },
    ]);
    const id = text(c?.payload, Tag.UniqueIdentifier);
    expect(text(a?.payload, Tag.UniqueIdentifier)).to.equal(id);
    expect(returned('1.2', g?.payload as TtlvItem).get('State')?.[0]?.value).to.equal(State.Active);
  });

  it('Register stores Secret Data and Opaque Objects as given; no key bytes reach the data directory', async () => {
    const secret = new Uint8Array(96).map((_, i) => (i * 37 + 11) & 0xff);
    const opaque = new Uint8Array(40).map((_, i) => (i * 53 + 7) & 0xff);
    const sd = await h.ok('1.4', Operation.Register, [
      E(Tag.ObjectType, ObjectType.SecretData),
      S(Tag.TemplateAttribute, [
        S(Tag.Attribute, [T(Tag.AttributeName, 'Cryptographic Usage Mask'), I(Tag.AttributeValue, 12)]),
      ]),
      S(Tag.SecretData, [
        E(Tag.SecretDataType, SecretDataType.Password),
        S(Tag.KeyBlock, [
          E(Tag.KeyFormatType, KeyFormatType.Raw),
          S(Tag.KeyValue, [B(Tag.KeyMaterial, secret)]),
        ]),
      ]),
    ]);
    const sdId = text(sd, Tag.UniqueIdentifier) as string;
    const op = await h.ok('2.1', Operation.Register, [
      E(Tag.ObjectType, ObjectType.OpaqueObject),
      S(Tag.Attributes, []),
      S(Tag.OpaqueObject, [E(Tag.OpaqueDataType, 0x80000001), B(Tag.OpaqueDataValue, opaque)]),
    ]);
    const opId = text(op, Tag.UniqueIdentifier) as string;
    await h.ok('1.4', Operation.Activate, [T(Tag.UniqueIdentifier, sdId)]);
    const got = await h.ok('1.4', Operation.Get, [T(Tag.UniqueIdentifier, sdId)]);
    const km = kid(kid(kid(kid(got, Tag.SecretData), Tag.KeyBlock), Tag.KeyValue), Tag.KeyMaterial);
    expect(Buffer.from(km?.value as Uint8Array).equals(Buffer.from(secret))).to.equal(true);
    // Secret Data carries no Algorithm / Length in its Key Block (1.0 §2.1.3).
    expect(kid(kid(kid(got, Tag.SecretData), Tag.KeyBlock), Tag.CryptographicAlgorithm)).to.equal(undefined);
    const gotOp = await h.ok('2.1', Operation.Get, [T(Tag.UniqueIdentifier, opId)]);
    const val = kid(kid(gotOp, Tag.OpaqueObject), Tag.OpaqueDataValue);
    expect(Buffer.from(val?.value as Uint8Array).equals(Buffer.from(opaque))).to.equal(true);
    await assertNoKeyMaterial(h.dataDir, [secret, opaque], { exclude: ['master.key'] });
  });

  it('concurrent attribute changes through two services on one store lose nothing', async () => {
    const id = text(await h.ok('1.4', Operation.Create, aesTemplate('1.4')), Tag.UniqueIdentifier) as string;
    const { addInstance } = await import('../../../src/kmip/model/attributes.js');
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        h.objects.update(id, (obj) => ({
          attributes: addInstance(obj.attributes, {
            key: { kind: 'custom', vendor: 'x', name: 'n' },
            index: undefined,
            value: T(Tag.AttributeValue, String(i)),
          }).attrs,
        })),
      ),
    );
    expect((await namedValues('1.4', id, 'x-n'))?.sort()).to.have.length(12);
    // The key still unseals after twelve re-seals under new versions.
    await h.ok('1.4', Operation.Get, [T(Tag.UniqueIdentifier, id)]);
  });

  it('refuses Template names and key wrapping with clear reasons', async () => {
    const [tmpl] = await h.send('1.2', [
      {
        op: Operation.Create,
        payload: [
          E(Tag.ObjectType, ObjectType.SymmetricKey),
          S(Tag.TemplateAttribute, [S(Tag.Name, [T(Tag.NameValue, 't'), E(Tag.NameType, 1)])]),
        ],
      },
    ]);
    // Templates are applied now (model/templates.ts); an unknown one is not found.
    expect(tmpl?.reason).to.equal(ResultReason.ItemNotFound);
    const id = text(await h.ok('1.2', Operation.Create, aesTemplate('1.2')), Tag.UniqueIdentifier) as string;
    const [fmt] = await h.send('1.2', [
      {
        op: Operation.Get,
        payload: [T(Tag.UniqueIdentifier, id), E(Tag.KeyFormatType, KeyFormatType.PKCS_8)],
      },
    ]);
    expect(fmt?.reason).to.equal(ResultReason.KeyFormatTypeNotSupported);
    const tsk = await h.ok('1.2', Operation.Get, [
      T(Tag.UniqueIdentifier, id),
      E(Tag.KeyFormatType, KeyFormatType.TransparentSymmetricKey),
    ]);
    const material = kid(kid(kid(kid(tsk, Tag.SymmetricKey), Tag.KeyBlock), Tag.KeyValue), Tag.KeyMaterial);
    expect(kid(material, Tag.Key)?.type).to.equal('ByteString');
  });
});
