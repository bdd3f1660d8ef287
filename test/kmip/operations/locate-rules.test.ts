import { expect } from 'chai';
import {
  CryptographicAlgorithm,
  type KmipVersion,
  NameType,
  ObjectGroupMember,
  ObjectType,
  Operation,
  ResultReason,
  State,
  Tag,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import { D, E, type Harness, I, kid, kids, openHarness, S, T } from './harness.js';

const isV2 = (v: KmipVersion) => v.startsWith('2.');
const BOOL = (tag: number, value: boolean): TtlvItem => ({ tag, type: 'Boolean', value });

/** A standard attribute as the version carries it. */
function attr(v: KmipVersion, name: string, value: TtlvItem, index?: number): TtlvItem {
  if (isV2(v)) return value;
  return S(Tag.Attribute, [
    T(Tag.AttributeName, name),
    ...(index === undefined ? [] : [I(Tag.AttributeIndex, index)]),
    { ...value, tag: Tag.AttributeValue } as TtlvItem,
  ]);
}

/** A custom attribute: 1.x "x-Name", 2.x Vendor Attribute of vendor "x". */
function custom(v: KmipVersion, name: string, value: TtlvItem): TtlvItem {
  const val = { ...value, tag: Tag.AttributeValue } as TtlvItem;
  if (isV2(v)) {
    return S(Tag.Attribute, [T(Tag.VendorIdentification, 'x'), T(Tag.AttributeName, name), val]);
  }
  return S(Tag.Attribute, [T(Tag.AttributeName, `x-${name}`), val]);
}

const nameOf = (n: string) =>
  S(Tag.Name, [T(Tag.NameValue, n), E(Tag.NameType, NameType.UninterpretedTextString)]);

function createPayload(v: KmipVersion, length: number, extra: TtlvItem[]): TtlvItem[] {
  return [
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    S(isV2(v) ? Tag.Attributes : Tag.TemplateAttribute, [
      attr(v, 'Cryptographic Algorithm', E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES)),
      attr(v, 'Cryptographic Length', I(Tag.CryptographicLength, length)),
      attr(v, 'Cryptographic Usage Mask', I(Tag.CryptographicUsageMask, 12)),
      ...extra,
    ]),
  ];
}

function locatePayload(v: KmipVersion, attrs: TtlvItem[], head: TtlvItem[] = []): TtlvItem[] {
  return [...head, ...(isV2(v) ? [S(Tag.Attributes, attrs)] : attrs)];
}

const idsOf = (p: TtlvItem | undefined) => kids(p, Tag.UniqueIdentifier).map((u) => u.value as string);

describe('Locate filters and attribute rules (K8)', () => {
  let h: Harness;
  let now = 1_800_000_000;
  beforeEach(async () => {
    now = 1_800_000_000;
    h = await openHarness({ clock: () => new Date(now * 1000) });
  });
  afterEach(async () => {
    await h.close();
  });

  async function create(v: KmipVersion, length: number, extra: TtlvItem[] = []): Promise<string> {
    now += 1;
    const p = await h.ok(v, Operation.Create, createPayload(v, length, extra));
    return kid(p, Tag.UniqueIdentifier)?.value as string;
  }

  async function locate(v: KmipVersion, attrs: TtlvItem[], head: TtlvItem[] = []): Promise<string[]> {
    return idsOf(await h.ok(v, Operation.Locate, locatePayload(v, attrs, head)));
  }

  for (const v of ['1.4', '2.1'] as const) {
    describe(`Locate (${v})`, () => {
      it('matches custom attributes of any TTLV type exactly', async () => {
        const a = await create(v, 128, [custom(v, 'Num', I(Tag.AttributeValue, 7))]);
        const b = await create(v, 128, [custom(v, 'Num', I(Tag.AttributeValue, 8))]);
        const c = await create(v, 128, [custom(v, 'Flag', BOOL(Tag.AttributeValue, true))]);
        expect(await locate(v, [custom(v, 'Num', I(Tag.AttributeValue, 7))])).to.deep.equal([a]);
        expect(await locate(v, [custom(v, 'Num', I(Tag.AttributeValue, 8))])).to.deep.equal([b]);
        expect(await locate(v, [custom(v, 'Flag', BOOL(Tag.AttributeValue, true))])).to.deep.equal([c]);
        expect(await locate(v, [custom(v, 'Flag', BOOL(Tag.AttributeValue, false))])).to.deep.equal([]);
      });

      it('hides archived objects unless the Storage Status Mask asks for them', async () => {
        const named = [custom(v, 'Pool', T(Tag.AttributeValue, 'p1'))];
        const online = await create(v, 128, named);
        const archived = await create(v, 128, named);
        const other = await create(v, 128, [attr(v, 'Name', nameOf('elsewhere'))]);
        expect(await locate(v, named)).to.deep.equal([archived, online]);
        await h.ok(v, Operation.Archive, [T(Tag.UniqueIdentifier, archived)]);
        expect(await locate(v, named)).to.deep.equal([online]);
        expect(await locate(v, named, [I(Tag.StorageStatusMask, 2)])).to.deep.equal([archived]);
        expect(await locate(v, named, [I(Tag.StorageStatusMask, 3)])).to.deep.equal([archived, online]);
        // an archived object elsewhere does not change what a Locate for others finds
        expect(await locate(v, [attr(v, 'Name', nameOf('elsewhere'))])).to.deep.equal([other]);
        // by Name (checked object by object, not by the store alone)
        await h.ok(v, Operation.Archive, [T(Tag.UniqueIdentifier, other)]);
        expect(await locate(v, [attr(v, 'Name', nameOf('elsewhere'))])).to.deep.equal([]);
        expect(
          await locate(v, [attr(v, 'Name', nameOf('elsewhere'))], [I(Tag.StorageStatusMask, 2)]),
        ).to.deep.equal([other]);
      });

      it('several values of a single-instance attribute: any; of a multi-instance one: all', async () => {
        const k128 = await create(v, 128, [attr(v, 'Name', nameOf('n1')), attr(v, 'Name', nameOf('n2'))]);
        await create(v, 192, [attr(v, 'Name', nameOf('n3'))]);
        const k256 = await create(v, 256);
        const lengths = [
          attr(v, 'Cryptographic Length', I(Tag.CryptographicLength, 128)),
          attr(v, 'Cryptographic Length', I(Tag.CryptographicLength, 256)),
        ];
        expect(await locate(v, lengths)).to.deep.equal([k256, k128]);
        const both = [attr(v, 'Name', nameOf('n1')), attr(v, 'Name', nameOf('n2'))];
        expect(await locate(v, both)).to.deep.equal([k128]);
        const mixed = [attr(v, 'Name', nameOf('n1')), attr(v, 'Name', nameOf('n3'))];
        expect(await locate(v, mixed)).to.deep.equal([]);
      });

      it('two instances of a date attribute give a range; Usage Mask matches by bits', async () => {
        const first = await create(v, 128);
        const second = await create(v, 128);
        const range = (from: number, to: number) => [
          attr(v, 'Initial Date', D(Tag.InitialDate, from)),
          attr(v, 'Initial Date', D(Tag.InitialDate, to)),
        ];
        expect(await locate(v, range(now - 60, now + 60))).to.deep.equal([second, first]);
        expect(await locate(v, range(now, now + 60))).to.deep.equal([second]);
        expect(await locate(v, range(now + 1, now + 60))).to.deep.equal([]);
        const mask = (m: number) => [attr(v, 'Cryptographic Usage Mask', I(Tag.CryptographicUsageMask, m))];
        expect(await locate(v, mask(4))).to.deep.equal([second, first]);
        expect(await locate(v, mask(16))).to.deep.equal([]);
      });

      it('answers newest first, paged by Offset Items and Maximum Items', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push(await create(v, 128));
        const all = [attr(v, 'Object Type', E(Tag.ObjectType, ObjectType.SymmetricKey))];
        expect(await locate(v, all)).to.deep.equal([...ids].reverse());
        const page = await h.ok(
          v,
          Operation.Locate,
          locatePayload(v, all, [I(Tag.MaximumItems, 2), I(Tag.OffsetItems, 1)]),
        );
        expect(idsOf(page)).to.deep.equal([ids[3], ids[2]]);
        expect(kid(page, Tag.LocatedItems)?.value).to.equal(5);
      });
    });
  }

  describe('Object Group Member (1.1)', () => {
    const v = '1.1';
    const group = (g: string) => attr(v, 'Object Group', T(Tag.ObjectGroup, g));
    const get = (id: string) => h.ok(v, Operation.Get, [T(Tag.UniqueIdentifier, id)]);

    it('Group Member Default hands out the oldest fresh member, then the oldest (TC-153)', async () => {
      const a = await create(v, 256, [group('rr')]);
      const b = await create(v, 256, [group('rr')]);
      await create(v, 256, [group('other')]);
      const head = [I(Tag.MaximumItems, 1), E(Tag.ObjectGroupMember, ObjectGroupMember.GroupMemberDefault)];
      const served: string[] = [];
      for (let i = 0; i < 3; i++) {
        const [id] = await locate(v, [group('rr')], head);
        expect(id).to.be.a('string');
        served.push(id as string);
        await get(id as string);
      }
      expect(served).to.deep.equal([a, b, a]);
    });

    it('Group Member Fresh finds fresh members only, oldest first; a client may register Fresh (TC-152)', async () => {
      const a = await create(v, 256, [group('g'), attr(v, 'Fresh', BOOL(Tag.Fresh, true))]);
      const b = await create(v, 256, [group('g')]);
      const head = [E(Tag.ObjectGroupMember, ObjectGroupMember.GroupMemberFresh)];
      expect(await locate(v, [group('g')], head)).to.deep.equal([a, b]);
      await get(a);
      expect(await locate(v, [group('g')], head)).to.deep.equal([b]);
      await get(b);
      expect(await locate(v, [group('g')], head)).to.deep.equal([]);
    });
  });

  describe('attribute rules', () => {
    async function fails(v: KmipVersion, op: number, payload: TtlvItem[]): Promise<number | undefined> {
      const [r] = await h.send(v, [{ op, payload }]);
      expect(r?.status, `${op} should fail`).to.equal(1);
      return r?.reason;
    }

    for (const v of ['1.4', '2.1'] as const) {
      const v2 = isV2(v);
      it(`Modify / Delete of an unset attribute → ${v2 ? 'Attribute Not Found' : 'Item Not Found'} (${v})`, async () => {
        const id = await create(v, 128);
        const uid = T(Tag.UniqueIdentifier, id);
        const contact = attr(v, 'Contact Information', T(Tag.ContactInformation, 'me'));
        const want = v2 ? ResultReason.AttributeNotFound : ResultReason.ItemNotFound;
        const modify = v2 ? [uid, S(Tag.NewAttribute, [contact])] : [uid, contact];
        expect(await fails(v, Operation.ModifyAttribute, modify)).to.equal(want);
        const del = v2
          ? [uid, S(Tag.CurrentAttribute, [contact])]
          : [uid, T(Tag.AttributeName, 'Contact Information')];
        expect(await fails(v, Operation.DeleteAttribute, del)).to.equal(want);
      });

      it(`a missing instance of a set attribute → ${v2 ? 'Attribute Instance Not Found' : 'Index Out of Bounds'} (${v})`, async () => {
        const id = await create(v, 128, [attr(v, 'Name', nameOf('i0')), attr(v, 'Name', nameOf('i1'))]);
        const uid = T(Tag.UniqueIdentifier, id);
        const want = v2 ? ResultReason.AttributeInstanceNotFound : ResultReason.IndexOutOfBounds;
        if (v2) {
          const current = S(Tag.CurrentAttribute, [nameOf('nope')]);
          expect(
            await fails(v, Operation.ModifyAttribute, [uid, current, S(Tag.NewAttribute, [nameOf('i9')])]),
          ).to.equal(want);
          expect(await fails(v, Operation.DeleteAttribute, [uid, current])).to.equal(want);
        } else {
          expect(await fails(v, Operation.ModifyAttribute, [uid, attr(v, 'Name', nameOf('i9'), 2)])).to.equal(
            want,
          );
          expect(
            await fails(v, Operation.DeleteAttribute, [
              uid,
              T(Tag.AttributeName, 'Name'),
              I(Tag.AttributeIndex, 2),
            ]),
          ).to.equal(want);
          // Index 1 exists: deleting it works.
          await h.ok(v, Operation.DeleteAttribute, [
            uid,
            T(Tag.AttributeName, 'Name'),
            I(Tag.AttributeIndex, 1),
          ]);
        }
      });

      it(`Add Attribute: second instance of a single-instance attribute, server-only attribute (${v})`, async () => {
        const id = await create(v, 128, [attr(v, 'Contact Information', T(Tag.ContactInformation, 'a'))]);
        const uid = T(Tag.UniqueIdentifier, id);
        const wrap = (a: TtlvItem) => (v2 ? [uid, S(Tag.NewAttribute, [a])] : [uid, a]);
        const second = attr(v, 'Contact Information', T(Tag.ContactInformation, 'b'));
        expect(await fails(v, Operation.AddAttribute, wrap(second))).to.equal(
          v2 ? ResultReason.AttributeSingleValued : ResultReason.PermissionDenied,
        );
        const state = attr(v, 'State', E(Tag.State, State.Active));
        expect(await fails(v, Operation.AddAttribute, wrap(state))).to.equal(
          v2 ? ResultReason.AttributeReadOnly : ResultReason.PermissionDenied,
        );
        const fresh = attr(v, 'Fresh', BOOL(Tag.Fresh, false));
        expect(await fails(v, Operation.ModifyAttribute, wrap(fresh))).to.equal(
          v2 ? ResultReason.AttributeReadOnly : ResultReason.PermissionDenied,
        );
      });
    }

    it('Set Attribute (2.1) of a custom attribute held twice → Multi Valued Attribute (TC-SETATTR-3)', async () => {
      const v = '2.1';
      const id = await create(v, 128);
      const uid = T(Tag.UniqueIdentifier, id);
      const val = (s: string) => custom(v, 'Set', T(Tag.AttributeValue, s));
      await h.ok(v, Operation.SetAttribute, [uid, S(Tag.NewAttribute, [val('one')])]);
      await h.ok(v, Operation.AddAttribute, [uid, S(Tag.NewAttribute, [val('two')])]);
      expect(await fails(v, Operation.SetAttribute, [uid, S(Tag.NewAttribute, [val('three')])])).to.equal(
        ResultReason.MultiValuedAttribute,
      );
    });
  });
});
