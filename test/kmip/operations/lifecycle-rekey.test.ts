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
  type KmipVersion,
  LinkType,
  ObjectType,
  Operation,
  ResultReason,
  SecretDataType,
  State,
  Tag,
} from '../../../src/kmip/spec/index.js';
import { childText, longInteger } from '../../../src/kmip/ttlv/build.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import { attr, attrs, createAes, isV2, nameItem, uid } from './fixtures.js';
import { B, D, E, type Harness, I, kid, openHarness, S, T, text } from './harness.js';

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
