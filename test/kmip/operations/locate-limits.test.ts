/**
 * Locate's bounds: a default Maximum Items (limits.locateMaxItems) applied
 * when the client gives none or a larger one, with Located Items (1.3+) still
 * the whole count; a budget of objects loaded per Locate (limits.locateMaxScan);
 * a payload of fields Locate does not have is refused, not read as "all".
 */
import { expect } from 'chai';
import { OPTIONS } from '../../../src/config/index.js';
import { DEFAULT_LOCATE_MAX_ITEMS, DEFAULT_LOCATE_MAX_SCAN } from '../../../src/kmip/operations/locate.js';
import {
  CryptographicAlgorithm,
  type KmipVersion,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  Tag,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import { E, type Harness, I, kid, kids, openHarness, S, T } from './harness.js';

const isV2 = (v: KmipVersion) => v.startsWith('2.');

function attr(v: KmipVersion, name: string, value: TtlvItem): TtlvItem {
  if (isV2(v)) return value;
  return S(Tag.Attribute, [T(Tag.AttributeName, name), { ...value, tag: Tag.AttributeValue } as TtlvItem]);
}

function createItem(length: number) {
  return {
    op: Operation.Create,
    payload: [
      E(Tag.ObjectType, ObjectType.SymmetricKey),
      S(Tag.TemplateAttribute, [
        attr('1.4', 'Cryptographic Algorithm', E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES)),
        attr('1.4', 'Cryptographic Length', I(Tag.CryptographicLength, length)),
        attr('1.4', 'Cryptographic Usage Mask', I(Tag.CryptographicUsageMask, 12)),
      ]),
    ],
  };
}

/** Creates `count` AES keys, `perMessage` per message; returns their ids oldest first. */
async function createMany(h: Harness, count: number, length: number, perMessage = 150): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < count) {
    const n = Math.min(perMessage, count - ids.length);
    const rs = await h.send(
      '1.4',
      Array.from({ length: n }, () => createItem(length)),
    );
    for (const r of rs) {
      expect(r.status, r.message).to.equal(ResultStatus.Success);
      ids.push(kid(r.payload, Tag.UniqueIdentifier)?.value as string);
    }
  }
  return ids;
}

const idsOf = (p: TtlvItem | undefined) => kids(p, Tag.UniqueIdentifier).map((u) => u.value as string);
const locatedItems = (p: TtlvItem | undefined) => kid(p, Tag.LocatedItems)?.value as number | undefined;

function locatePayload(v: KmipVersion, attrs: TtlvItem[], head: TtlvItem[] = []): TtlvItem[] {
  return [...head, ...(isV2(v) ? [S(Tag.Attributes, attrs)] : attrs)];
}

describe('Locate: default Maximum Items, scan budget, fields', function () {
  this.timeout(120_000);

  it('the defaults are the configuration defaults', () => {
    const option = (key: string) => OPTIONS.find((o) => o.key === key)?.default;
    expect(option('limits.locateMaxItems')).to.equal(DEFAULT_LOCATE_MAX_ITEMS);
    expect(option('limits.locateMaxScan')).to.equal(DEFAULT_LOCATE_MAX_SCAN);
    expect(DEFAULT_LOCATE_MAX_ITEMS).to.equal(1000);
  });

  describe(`more objects than the default maximum (${DEFAULT_LOCATE_MAX_ITEMS})`, () => {
    let h: Harness;
    let ids: string[];
    const total = DEFAULT_LOCATE_MAX_ITEMS + 50;

    before(async () => {
      h = await openHarness({ maxBatchItems: 200 });
      ids = await createMany(h, total, 128);
    });
    after(async () => {
      await h.close();
    });

    const newest = (n: number, from = 0) => [...ids].reverse().slice(from, from + n);

    for (const v of ['1.3', '1.4', '2.0', '2.1'] as const) {
      it(`${v}: no Maximum Items answers the default count, newest first, and Located Items counts all`, async () => {
        const p = await h.ok(v, Operation.Locate, locatePayload(v, []));
        expect(idsOf(p)).to.deep.equal(newest(DEFAULT_LOCATE_MAX_ITEMS));
        expect(locatedItems(p)).to.equal(total);
      });
    }

    for (const v of ['1.0', '1.1', '1.2'] as const) {
      it(`${v}: the default count, without Located Items (1.3+)`, async () => {
        const p = await h.ok(v, Operation.Locate, []);
        expect(idsOf(p)).to.have.length(DEFAULT_LOCATE_MAX_ITEMS);
        expect(locatedItems(p)).to.equal(undefined);
      });
    }

    it('a larger Maximum Items is capped; a smaller one and Offset Items page as before', async () => {
      const big = await h.ok('1.4', Operation.Locate, [I(Tag.MaximumItems, 5000)]);
      expect(idsOf(big)).to.have.length(DEFAULT_LOCATE_MAX_ITEMS);
      expect(locatedItems(big)).to.equal(total);
      const rest = await h.ok('1.4', Operation.Locate, [I(Tag.OffsetItems, DEFAULT_LOCATE_MAX_ITEMS)]);
      expect(idsOf(rest)).to.deep.equal(newest(50, DEFAULT_LOCATE_MAX_ITEMS));
      const few = await h.ok('2.1', Operation.Locate, [
        I(Tag.MaximumItems, 7),
        I(Tag.OffsetItems, 3),
        S(Tag.Attributes, []),
      ]);
      expect(idsOf(few)).to.deep.equal(newest(7, 3));
      expect(locatedItems(few)).to.equal(total);
    });

    it('a filter the store cannot index is capped too, Located Items exact within the scan budget', async () => {
      const mask = attr('1.4', 'Cryptographic Usage Mask', I(Tag.CryptographicUsageMask, 4));
      const p = await h.ok('1.4', Operation.Locate, [mask]);
      expect(idsOf(p)).to.deep.equal(newest(DEFAULT_LOCATE_MAX_ITEMS));
      expect(locatedItems(p)).to.equal(total);
    });

    it('a message of bare Attribute Name items is refused, not read as an unfiltered Locate', async () => {
      for (const v of ['1.4', '2.1'] as const) {
        const names = Array.from({ length: 5000 }, () => T(Tag.AttributeName, ''));
        const [r] = await h.send(v, [
          { op: Operation.Locate, payload: isV2(v) ? [S(Tag.Attributes, []), ...names] : names },
        ]);
        expect(r?.status, v).to.equal(ResultStatus.OperationFailed);
        expect(r?.reason, v).to.equal(ResultReason.InvalidField);
        expect(r?.message, v).to.equal('AttributeName is not a field of a Locate request');
      }
    });

    it('an archived object among them: still the default count, Located Items exact, nothing loaded', async () => {
      const archived = ids[ids.length - 2] as string;
      await h.ok('1.4', Operation.Archive, [T(Tag.UniqueIdentifier, archived)]);
      const visible = [...ids].reverse().filter((id) => id !== archived);
      const p = await h.ok('1.4', Operation.Locate, []);
      expect(idsOf(p)).to.deep.equal(visible.slice(0, DEFAULT_LOCATE_MAX_ITEMS));
      expect(locatedItems(p)).to.equal(total - 1);
      const rest = await h.ok('1.4', Operation.Locate, [I(Tag.OffsetItems, DEFAULT_LOCATE_MAX_ITEMS)]);
      expect(idsOf(rest)).to.deep.equal(visible.slice(DEFAULT_LOCATE_MAX_ITEMS));
      const only = await h.ok('1.4', Operation.Locate, [I(Tag.StorageStatusMask, 2)]);
      expect(idsOf(only)).to.deep.equal([archived]);
    });
  });

  describe('configured limits: at most 10 identifiers, 20 objects loaded', () => {
    let h: Harness;
    let ids: string[];
    let long: string[];

    before(async () => {
      h = await openHarness({ maxBatchItems: 200, limits: { locateMaxItems: 10, locateMaxScan: 20 } });
      ids = await createMany(h, 60, 128);
      long = await createMany(h, 5, 256);
    });
    after(async () => {
      await h.close();
    });

    const mask = (v: KmipVersion) => attr(v, 'Cryptographic Usage Mask', I(Tag.CryptographicUsageMask, 12));

    it('an unfiltered Locate is answered by the store: 10 identifiers, Located Items exact', async () => {
      const p = await h.ok('1.4', Operation.Locate, []);
      expect(idsOf(p)).to.deep.equal([...ids, ...long].reverse().slice(0, 10));
      expect(locatedItems(p)).to.equal(65);
    });

    it('past the budget: the page once full, without Located Items (unknown)', async () => {
      const p = await h.ok('1.4', Operation.Locate, [mask('1.4')]);
      expect(idsOf(p)).to.deep.equal([...ids, ...long].reverse().slice(0, 10));
      expect(locatedItems(p)).to.equal(undefined);
    });

    it('a page the budget cannot fill fails instead of pretending the list ends', async () => {
      for (const [v, reason] of [
        ['1.4', ResultReason.GeneralFailure],
        ['2.1', ResultReason.ServerLimitExceeded],
      ] as const) {
        const [r] = await h.send(v, [
          { op: Operation.Locate, payload: locatePayload(v, [mask(v)], [I(Tag.OffsetItems, 15)]) },
        ]);
        expect(r?.status, v).to.equal(ResultStatus.OperationFailed);
        expect(r?.reason, v).to.equal(reason);
        expect(r?.message, v).to.match(/more than 20 candidate objects \(limits\.locateMaxScan\)/);
      }
    });

    it('within the budget: every match examined, Located Items exact', async () => {
      const p = await h.ok('1.4', Operation.Locate, [
        mask('1.4'),
        attr('1.4', 'Cryptographic Length', I(Tag.CryptographicLength, 256)),
      ]);
      expect(idsOf(p)).to.deep.equal([...long].reverse());
      expect(locatedItems(p)).to.equal(5);
    });
  });
});
