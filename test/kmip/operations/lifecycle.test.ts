import { expect } from 'chai';
import {
  findAll,
  findDate,
  findEnum,
  findValue,
  type ModelAttribute,
  standardKey,
} from '../../../src/kmip/model/attributes.js';
import { linkedId } from '../../../src/kmip/operations/support/replacement.js';
import {
  CryptographicAlgorithm,
  KeyFormatType,
  type KmipVersion,
  LinkType,
  ObjectType,
  Operation,
  ResultReason,
  RevocationReasonCode,
  SecretDataType,
  State,
  Tag,
  tagExistsIn,
} from '../../../src/kmip/spec/index.js';
import { childText, longInteger } from '../../../src/kmip/ttlv/build.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import { assertNoKeyMaterial } from '../../helpers/no-key-material.js';
import { attr, attrs, createAes, isV2, nameItem, uid } from './fixtures.js';
import {
  allTags,
  B,
  D,
  E,
  type Harness,
  I,
  kid,
  kids,
  members,
  openHarness,
  S,
  T,
  text,
  useHarness,
} from './harness.js';

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
    const got = await h.ok('1.0', Operation.GetAttributes, [
      T(Tag.UniqueIdentifier, id),
      T(Tag.AttributeName, 'x-Count'),
    ]);
    expect(
      returned('1.0', got)
        .get('x-Count')
        ?.map((x) => x.value),
    ).to.deep.equal([9, 8]);
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
    const got = await h.ok('1.4', Operation.GetAttributes, [
      T(Tag.UniqueIdentifier, id),
      T(Tag.AttributeName, 'x-n'),
    ]);
    expect(
      returned('1.4', got)
        .get('x-n')
        ?.map((x) => x.value)
        .sort(),
    ).to.have.length(12);
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

const FAILED = 1;

function secretData(v: KmipVersion, template: TtlvItem[]): TtlvItem[] {
  return [
    E(Tag.ObjectType, ObjectType.SecretData),
    S(isV2(v) ? Tag.Attributes : Tag.TemplateAttribute, template),
    S(Tag.SecretData, [
      E(Tag.SecretDataType, SecretDataType.Password),
      S(Tag.KeyBlock, [
        E(Tag.KeyFormatType, 2),
        S(Tag.KeyValue, [B(Tag.KeyMaterial, new Uint8Array(16).fill(0x2a))]),
      ]),
    ]),
  ];
}

function nameValues(list: readonly ModelAttribute[]): string[] {
  return findAll(list, standardKey(Tag.Name)).map((a) => childText(a.value, Tag.NameValue) ?? '');
}

describe('symmetric lifecycle: Re-key, Check, leases, archive, templates, dates', () => {
  let h: Harness;
  let now = new Date('2026-01-01T00:00:00Z');
  const secs = () => Math.floor(now.getTime() / 1000);

  before(async () => {
    h = await openHarness({ clock: () => now });
  });
  after(async () => {
    await h.close();
  });

  async function create(v: KmipVersion, extra: TtlvItem[] = []): Promise<string> {
    const p = await h.ok(v, Operation.Create, createAes(v, 128, 12, extra));
    return text(p, Tag.UniqueIdentifier) ?? '';
  }

  async function attrsOf(id: string): Promise<readonly ModelAttribute[]> {
    const o = await h.objects.get(id);
    if (o === undefined) throw new Error(`no object ${id}`);
    return o.attributes;
  }

  for (const v of ['1.0', '1.4', '2.1'] as const) {
    it(`Re-key moves the Names, links both keys and sets the ID Placeholder (${v})`, async () => {
      const activation = D(Tag.ActivationDate, secs() - 3600);
      const old = await create(v, [
        attr(v, 'Activation Date', activation),
        attr(v, 'Name', nameItem(`rk-${v}-orig`)),
      ]);
      const results = await h.send(v, [
        {
          op: Operation.ReKey,
          payload: [uid(old), attrs(v, [attr(v, 'Name', nameItem(`rk-${v}-first`))])],
        },
        { op: Operation.ReKey, payload: [] },
      ]);
      expect(results.map((r) => r.status)).to.deep.equal([0, 0]);
      const first = text(results[0]?.payload, Tag.UniqueIdentifier) ?? '';
      const second = text(results[1]?.payload, Tag.UniqueIdentifier) ?? '';
      expect(first).to.not.equal(old);
      expect(second).to.not.equal(first);

      const o = await attrsOf(old);
      const n1 = await attrsOf(first);
      const n2 = await attrsOf(second);
      expect(nameValues(o)).to.deep.equal([]);
      expect(nameValues(n1)).to.deep.equal([]);
      expect(nameValues(n2)).to.deep.equal([`rk-${v}-orig`, `rk-${v}-first`]);
      expect(linkedId(o, LinkType.ReplacementObjectLink)).to.equal(first);
      expect(linkedId(n1, LinkType.ReplacedObjectLink)).to.equal(old);
      expect(linkedId(n1, LinkType.ReplacementObjectLink)).to.equal(second);
      expect(findEnum(n2, Tag.State)).to.equal(State.Active);
      expect(findEnum(o, Tag.State)).to.equal(State.Active);
      expect(findDate(n2, Tag.ActivationDate)).to.equal(BigInt(secs() - 3600));
      expect(findEnum(n2, Tag.CryptographicAlgorithm)).to.equal(CryptographicAlgorithm.AES);
      const key = await h.ok(v, Operation.Get, [uid(second)]);
      expect(kid(key, Tag.SymmetricKey)).to.not.equal(undefined);
    });
  }

  it('Re-key with an Offset moves the dates by the Activation Date shift', async () => {
    const base = secs();
    const old = await create('2.1', [
      D(Tag.ActivationDate, base - 100),
      D(Tag.ProcessStartDate, base - 50),
      D(Tag.DeactivationDate, base + 1000),
    ]);
    const p = await h.ok('2.1', Operation.ReKey, [
      uid(old),
      { tag: Tag.Offset, type: 'Interval', value: 60 },
    ]);
    const n = await attrsOf(text(p, Tag.UniqueIdentifier) ?? '');
    expect(findDate(n, Tag.ActivationDate)).to.equal(BigInt(base + 60));
    expect(findDate(n, Tag.ProcessStartDate)).to.equal(BigInt(base + 110));
    expect(findDate(n, Tag.DeactivationDate)).to.equal(BigInt(base + 1160));
    expect(findEnum(n, Tag.State)).to.equal(State.PreActive);
  });

  it('Re-key refuses objects other than symmetric keys', async () => {
    const p14 = await h.ok('1.4', Operation.Register, secretData('1.4', []));
    const [r14] = await h.send('1.4', [
      { op: Operation.ReKey, payload: [uid(text(p14, Tag.UniqueIdentifier) ?? '')] },
    ]);
    expect(r14?.reason).to.equal(ResultReason.IllegalOperation);
    const p21 = await h.ok('2.1', Operation.Register, secretData('2.1', []));
    const [r21] = await h.send('2.1', [
      { op: Operation.ReKey, payload: [uid(text(p21, Tag.UniqueIdentifier) ?? '')] },
    ]);
    expect(r21?.reason).to.equal(ResultReason.InvalidObjectType);
  });

  it('Check compares the usage mask (BL-M-3-21) and the usage limits', async () => {
    const id = await create('2.1', [
      S(Tag.UsageLimits, [
        longInteger(Tag.UsageLimitsTotal, 10n),
        longInteger(Tag.UsageLimitsCount, 10n),
        E(Tag.UsageLimitsUnit, 2),
      ]),
    ]);
    const ok = await h.ok('2.1', Operation.Check, [uid(id), I(Tag.CryptographicUsageMask, 8)]);
    expect(text(ok, Tag.UniqueIdentifier)).to.equal(id);
    const [bad] = await h.send('2.1', [
      { op: Operation.Check, payload: [uid(id), I(Tag.CryptographicUsageMask, 1)] },
    ]);
    expect(bad?.status).to.equal(FAILED);
    expect(bad?.reason).to.equal(ResultReason.IncompatibleCryptographicUsageMask);
    const [bad14] = await h.send('1.4', [
      { op: Operation.Check, payload: [uid(id), I(Tag.CryptographicUsageMask, 1)] },
    ]);
    expect(bad14?.reason).to.equal(ResultReason.PermissionDenied);
    const [tooMany] = await h.send('2.1', [
      { op: Operation.Check, payload: [uid(id), longInteger(Tag.UsageLimitsCount, 11n)] },
    ]);
    expect(tooMany?.reason).to.equal(ResultReason.PermissionDenied);
  });

  it('Get Usage Allocation lowers the Usage Limits Count of an Active key', async () => {
    const id = await create('1.4', [
      attr('1.4', 'Activation Date', D(Tag.ActivationDate, secs() - 1)),
      attr(
        '1.4',
        'Usage Limits',
        S(Tag.UsageLimits, [
          longInteger(Tag.UsageLimitsTotal, 10n),
          longInteger(Tag.UsageLimitsCount, 10n),
          E(Tag.UsageLimitsUnit, 2),
        ]),
      ),
    ]);
    await h.ok('1.4', Operation.GetUsageAllocation, [uid(id), longInteger(Tag.UsageLimitsCount, 4n)]);
    const limits = findValue(await attrsOf(id), Tag.UsageLimits);
    expect(kid(limits, Tag.UsageLimitsCount)).to.deep.include({ value: 6n });
    const [over] = await h.send('1.4', [
      { op: Operation.GetUsageAllocation, payload: [uid(id), longInteger(Tag.UsageLimitsCount, 7n)] },
    ]);
    expect(over?.reason).to.equal(ResultReason.PermissionDenied);
  });

  it('Obtain Lease grants leases on Active keys only (TC-95)', async () => {
    const pre = await create('1.0');
    const [r] = await h.send('1.0', [{ op: Operation.ObtainLease, payload: [uid(pre)] }]);
    expect(r?.reason).to.equal(ResultReason.PermissionDenied);
    await h.ok('1.0', Operation.Activate, [uid(pre)]);
    const p = await h.ok('1.0', Operation.ObtainLease, [uid(pre)]);
    expect(kid(p, Tag.LeaseTime)).to.deep.include({ type: 'Interval', value: 3600 });
    expect(kid(p, Tag.LastChangeDate)?.type).to.equal('DateTime');
  });

  it('Archive sets the Archive Date, Recover removes it', async () => {
    const id = await create('1.4');
    await h.ok('1.4', Operation.Archive, [uid(id)]);
    expect(findDate(await attrsOf(id), Tag.ArchiveDate)).to.equal(BigInt(secs()));
    const [again] = await h.send('1.4', [{ op: Operation.Archive, payload: [uid(id)] }]);
    expect(again?.reason).to.equal(ResultReason.ObjectArchived);
    const [chk] = await h.send('1.4', [{ op: Operation.Check, payload: [uid(id)] }]);
    expect(chk?.reason).to.equal(ResultReason.ObjectArchived);
    await h.ok('1.4', Operation.Recover, [uid(id)]);
    expect(findDate(await attrsOf(id), Tag.ArchiveDate)).to.equal(undefined);
  });

  it('Log accepts a Log Message in 2.x only (BL-M-1-21)', async () => {
    const p = await h.ok('2.1', Operation.Log, [T(Tag.LogMessage, 'Registered a symmetric key.')]);
    expect(p.value).to.deep.equal([]);
    const [r] = await h.send('1.4', [{ op: Operation.Log, payload: [T(Tag.LogMessage, 'x')] }]);
    expect(r?.reason).to.equal(ResultReason.OperationNotSupported);
  });

  it('Poll, Cancel, Notify and Put are refused by name', async () => {
    for (const [op, name] of [
      [Operation.Poll, 'Poll'],
      [Operation.Cancel, 'Cancel'],
      [Operation.Notify, 'Notify'],
      [Operation.Put, 'Put'],
    ] as const) {
      const [r] = await h.send('1.4', [{ op, payload: [] }]);
      expect(r?.reason).to.equal(ResultReason.OperationNotSupported);
      expect(r?.message).to.contain(name);
    }
  });

  it('Activation and Deactivation Dates change the state when they come', async () => {
    const id = await create('1.4', [
      attr('1.4', 'Activation Date', D(Tag.ActivationDate, secs() + 60)),
      attr('1.4', 'Deactivation Date', D(Tag.DeactivationDate, secs() + 120)),
    ]);
    expect(findEnum(await attrsOf(id), Tag.State)).to.equal(State.PreActive);
    now = new Date(now.getTime() + 61_000);
    expect(findEnum(await attrsOf(id), Tag.State)).to.equal(State.Active);
    // A change of the object stores the state reached.
    await h.ok('1.4', Operation.AddAttribute, [uid(id), attr('1.4', 'x-Note', T(Tag.AttributeValue, 'due'))]);
    const stored = await h.store.get(id);
    expect(stored?.state).to.equal('Active');
    now = new Date(now.getTime() + 60_000);
    expect(findEnum(await attrsOf(id), Tag.State)).to.equal(State.Deactivated);
  });

  it('1.x Templates are registered and applied under explicit attributes (SASED-M-2)', async () => {
    const tpl = await h.ok('1.3', Operation.Register, [
      E(Tag.ObjectType, ObjectType.Template),
      S(Tag.TemplateAttribute, [attr('1.3', 'Name', nameItem('tpl-1'))]),
      S(Tag.Template, [
        attr('1.3', 'Object Group', T(Tag.ObjectGroup, 'group-from-template')),
        attr('1.3', 'x-FromTemplate', T(Tag.AttributeValue, 't')),
        attr('1.3', 'Cryptographic Usage Mask', I(Tag.CryptographicUsageMask, 4)),
      ]),
    ]);
    expect(text(tpl, Tag.UniqueIdentifier)).to.be.a('string');
    const p = await h.ok(
      '1.3',
      Operation.Register,
      secretData('1.3', [
        nameItem('tpl-1'),
        attr('1.3', 'Cryptographic Usage Mask', I(Tag.CryptographicUsageMask, 8)),
      ]),
    );
    const a = await attrsOf(text(p, Tag.UniqueIdentifier) ?? '');
    expect(findValue(a, Tag.ObjectGroup)).to.deep.include({ value: 'group-from-template' });
    expect(a.some((x) => x.key.kind === 'custom' && x.key.name === 'FromTemplate')).to.equal(true);
    expect(findAll(a, standardKey(Tag.CryptographicUsageMask)).map((x) => x.value)).to.deep.equal([
      I(Tag.CryptographicUsageMask, 8),
    ]);
    const c = await h.ok(
      '1.3',
      Operation.Create,
      createAes('1.3', 128, 12).map((x) =>
        x.tag === Tag.TemplateAttribute && x.type === 'Structure'
          ? S(x.tag, [nameItem('tpl-1'), ...x.value])
          : x,
      ),
    );
    const ca = await attrsOf(text(c, Tag.UniqueIdentifier) ?? '');
    expect(findValue(ca, Tag.ObjectGroup)).to.deep.include({ value: 'group-from-template' });

    const [unknown] = await h.send('1.3', [
      { op: Operation.Register, payload: secretData('1.3', [nameItem('no-such-template')]) },
    ]);
    expect(unknown?.reason).to.equal(ResultReason.ItemNotFound);
    const [v2] = await h.send('2.1', [
      {
        op: Operation.Register,
        payload: [E(Tag.ObjectType, ObjectType.Template), S(Tag.Attributes, []), S(Tag.Template, [])],
      },
    ]);
    expect(v2?.status).to.equal(FAILED);
  });
});
