/**
 * No existence oracle (security review): for every operation that names an
 * object, another tenant's object and an identifier no object has get the
 * same Result Reason and the same Result Message, in 1.x and 2.x, for a
 * crypto user, a key administrator and an identity with both roles, with a
 * well-formed request and with malformed ones (the tenant check comes before
 * any look at the payload); and dual control files no request for either.
 * The real access layer and executor over a real store (test/auth/harness.ts).
 */
import { expect } from 'chai';
import { type KmipVersion, Operation, ResultReason, ResultStatus, Tag } from '../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../src/kmip/ttlv/types.js';
import { openHarness } from '../kmip/operations/harness.js';
import { type AccessHarness, I, type ItemResult, openAccessHarness, T } from './harness.js';
import {
  IDENTITIES,
  missingId,
  neutral,
  PROBERS,
  SEEDERS,
  seedTenant,
  TEMPLATES,
  type TenantObjects,
} from './tenant-fixtures.js';

const VERSIONS: readonly KmipVersion[] = ['1.4', '2.0', '2.1'];

/** The request's Unique Identifier kept; everything else left out. */
const onlyFirst = (items: TtlvItem[]) => items.slice(0, 1);
/** Every text item but the first identifier becomes an Integer, every byte string a text: wrong types. */
const wrongTypes = (items: TtlvItem[]): TtlvItem[] =>
  items.map((it, i) =>
    i === 0 && it.type === 'TextString'
      ? it
      : it.type === 'ByteString'
        ? T(it.tag, 'not bytes')
        : it.type === 'Structure'
          ? I(it.tag, 7)
          : T(it.tag, 'wrong'),
  );

describe('access control: no existence oracle', function () {
  this.timeout(60_000);
  let h: AccessHarness;
  let payments: TenantObjects;

  before(async () => {
    h = await openAccessHarness({
      identities: IDENTITIES,
      dualControl: { approvals: 2, operations: ['destroy', 'revoke-compromise'] },
    });
    payments = await seedTenant(h.server({ identities: SEEDERS }), 'payseed', 'pay');
  });

  after(async () => {
    await h?.close();
  });

  const answer = (r: ItemResult | undefined, id: string) => ({
    status: r?.status,
    reason: r?.reason,
    message: neutral(r?.message, id),
  });

  it('answers another tenant’s object exactly as a missing one, for every operation and payload', async () => {
    const differences: string[] = [];
    let compared = 0;
    for (const who of PROBERS) {
      for (const version of VERSIONS) {
        const v2 = version.startsWith('2');
        for (const t of TEMPLATES) {
          for (const [shape, shaped] of [
            ['well-formed', (x: TtlvItem[]) => x],
            ['identifier only', onlyFirst],
            ['wrong types', wrongTypes],
          ] as const) {
            for (const foreign of payments.all) {
              const missing = missingId();
              const [a, b] = await h.send(who, version, [
                { op: t.op, payload: shaped(t.build(foreign, v2)) },
                { op: t.op, payload: shaped(t.build(missing, v2)) },
              ]);
              compared++;
              const fa = answer(a, foreign);
              const fb = answer(b, missing);
              expect(a?.status, `${who} ${version} ${t.name}`).to.equal(ResultStatus.OperationFailed);
              if (JSON.stringify(fa) !== JSON.stringify(fb)) {
                differences.push(
                  `${who} ${version} ${t.name} (${shape}): foreign ${fa.reason} "${fa.message}" / missing ${fb.reason} "${fb.message}"`,
                );
              }
            }
          }
        }
      }
    }
    expect(differences.slice(0, 20), `${differences.length} of ${compared} differ`).to.deep.equal([]);
  });

  it('answers Object Not Found in 2.x and Item Not Found in 1.x, naming only the identifier', async () => {
    const foreign = payments.ids.active ?? '';
    for (const [version, reason] of [
      ['1.4', ResultReason.ItemNotFound],
      ['2.0', ResultReason.ObjectNotFound],
      ['2.1', ResultReason.ObjectNotFound],
    ] as const) {
      const [r] = await h.send('hradmin', version, [
        { op: Operation.ModifyAttribute, payload: [T(Tag.UniqueIdentifier, foreign)] },
      ]);
      expect(r?.reason, r?.message).to.equal(reason);
      expect(r?.message).to.equal(`object ${foreign} does not exist`);
    }
  });

  it('files no dual-control request for an object the caller cannot see or that does not exist', async () => {
    const before = (await h.access.dualControl.list()).length;
    for (const version of VERSIONS) {
      for (const who of ['hradmin', 'hrboth']) {
        const missing = missingId();
        const results = await h.send(who, version, [
          { op: Operation.Destroy, payload: [T(Tag.UniqueIdentifier, payments.ids.preActive ?? '')] },
          { op: Operation.Destroy, payload: [T(Tag.UniqueIdentifier, missing)] },
        ]);
        for (const r of results) {
          expect(r.reason, r.message).to.equal(
            version === '1.4' ? ResultReason.ItemNotFound : ResultReason.ObjectNotFound,
          );
          expect(r.message).to.not.contain('dual control');
        }
      }
    }
    expect((await h.access.dualControl.list()).length).to.equal(before);
  });

  it('with auth off too: one answer for a missing object, from every operation that names one', async () => {
    const off = await openHarness();
    try {
      const wrong: string[] = [];
      for (const version of VERSIONS) {
        for (const t of TEMPLATES) {
          const missing = missingId();
          const [r] = await off.send(version, [
            { op: t.op, payload: t.build(missing, version.startsWith('2')) },
          ]);
          if (r?.reason === ResultReason.OperationNotSupported) continue; // not in this version
          const reason = version === '1.4' ? ResultReason.ItemNotFound : ResultReason.ObjectNotFound;
          if (r?.reason !== reason || r.message !== `object ${missing} does not exist`) {
            wrong.push(`${version} ${t.name}: ${r?.reason} ${r?.message}`);
          }
        }
      }
      expect(wrong).to.deep.equal([]);
    } finally {
      await off.close();
    }
  });

  it('still asks for approval of a Destroy of the caller’s own key', async () => {
    const hr = await seedTenant(h.server({ identities: SEEDERS }), 'hrseed', 'hr');
    const [r] = await h.send('hradmin', '1.4', [
      { op: Operation.Destroy, payload: [T(Tag.UniqueIdentifier, hr.ids.preActive ?? '')] },
    ]);
    expect(r?.reason).to.equal(ResultReason.PermissionDenied);
    expect(r?.message).to.match(/^dual control: Destroy needs 2 officer approvals; pending approval id \w+/);
  });
});
