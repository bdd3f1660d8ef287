/**
 * Property: over random sequences of operations by tenant hr (a crypto
 * user, a key administrator, an identity with both roles), in KMIP 1.2 to
 * 2.1, with well-formed and malformed payloads (fields dropped, retyped,
 * added, the identifier moved or preceded by one of hr's own), tenant
 * payments' objects give no signal:
 *
 * - existence: an operation naming one of payments' objects answers with
 *   exactly the Result Status, Reason and Message of the same request
 *   naming an identifier no object has (also as a second identifier, and
 *   through the ID Placeholder after a Locate by one of its Names);
 * - read: no answer to hr carries a payments identifier or key material,
 *   and Locate never lists one;
 * - write: payments' objects keep their store version, and payments gets no
 *   new object.
 *
 * hr also acts on its own objects meanwhile, so that its state (and the
 * dual-control queue) changes as the sequence runs. The real access layer
 * and executor over a real store, in process (test/auth/harness.ts): many
 * items per message, at least 10,000 operations, bounded in runs and time.
 * KMIP_FC_SEED and KMIP_FC_RUNS replay or widen a run.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  type KmipVersion,
  NameType,
  ObjectType,
  Operation,
  ResultStatus,
  Tag,
} from '../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../src/kmip/ttlv/types.js';
import {
  type AccessHarness,
  B,
  E,
  I,
  type Item,
  type ItemResult,
  openAccessHarness,
  S,
  T,
  textOf,
} from './harness.js';
import {
  IDENTITIES,
  missingId,
  neutral,
  PROBERS,
  SECONDARY_TEMPLATES,
  SEEDERS,
  seedTenant,
  TEMPLATES,
  type TenantObjects,
} from './tenant-fixtures.js';

const VERSIONS: readonly KmipVersion[] = ['1.2', '1.4', '2.0', '2.1'];
const RUNS = Number(process.env.KMIP_FC_RUNS ?? 120);
const MIN_OPERATIONS = 10_000;
/** every run sends at least 2 items per step */
const STEPS = { minLength: 45, maxLength: 60 };
const TIME_LIMIT_MS = 100_000;

/** Stands for the probed identifier while a request is built and mutated; replaced last. */
const SENTINEL = '\u0000probe\u0000';

/** Tags a mutation adds (with any type): real request fields, a few of them identifiers. */
const JUNK_TAGS = [
  Tag.Data,
  Tag.AttributeName,
  Tag.CryptographicParameters,
  Tag.Offset,
  Tag.ObjectType,
  Tag.Attributes,
  Tag.RevocationReason,
  Tag.ReplaceExisting,
  Tag.UniqueIdentifier,
  Tag.KeyFormatType,
  Tag.UsageLimitsCount,
  Tag.Attribute,
];

interface Mutation {
  /** per field (after the probed identifier): true drops it */
  readonly drop: readonly boolean[];
  /** per field: 0 keeps its type, 1..5 changes it */
  readonly retype: readonly number[];
  /** fields added at the end: [tag index, type] */
  readonly extra: readonly (readonly [number, number])[];
  /** where the probed identifier goes among the fields */
  readonly uidAt: number;
  /** one of the caller's own identifiers goes first (the probed one is then a second identifier) */
  readonly ownFirst: boolean;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ drop: [], retype: [], extra: [], uidAt: 0, ownFirst: false }) },
  {
    weight: 5,
    arbitrary: fc.record({
      drop: fc.array(fc.boolean(), { maxLength: 6 }),
      retype: fc.array(fc.nat(5), { maxLength: 6 }),
      extra: fc.array(fc.tuple(fc.nat(JUNK_TAGS.length - 1), fc.nat(5)), { maxLength: 3 }),
      uidAt: fc.nat(4),
      ownFirst: fc.boolean(),
    }),
  },
);

function retyped(item: TtlvItem, how: number, own: string): TtlvItem {
  switch (how) {
    case 1:
      return I(item.tag, 7);
    case 2:
      return T(item.tag, item.tag === Tag.UniqueIdentifier ? own : 'wrong');
    case 3:
      return B(item.tag, new Uint8Array([1, 2, 3]));
    case 4:
      return S(item.tag, []);
    case 5:
      return E(item.tag, 1);
    default:
      return item;
  }
}

/** The request built around SENTINEL, mutated; the probed identifier's item itself is never retyped. */
function mutate(items: readonly TtlvItem[], m: Mutation, own: string): TtlvItem[] {
  const at = items.findIndex((c) => c.type === 'TextString' && c.value === SENTINEL);
  const probe = items[at];
  const rest = items.filter((_, i) => i !== at);
  const kept = rest
    .filter((_, i) => m.drop[i] !== true)
    .map((c, i) => retyped(c, m.retype[i] ?? 0, own))
    .concat(m.extra.map(([t, how]) => retyped(T(JUNK_TAGS[t] ?? Tag.Data, own), how, own)));
  if (probe === undefined) return kept;
  const pos = Math.min(m.uidAt, kept.length);
  const out = [...kept.slice(0, pos), probe, ...kept.slice(pos)];
  return m.ownFirst ? [T(Tag.UniqueIdentifier, own), ...out] : out;
}

function substitute(items: readonly TtlvItem[], id: string): TtlvItem[] {
  return items.map((c) => {
    if (c.type === 'TextString' && c.value === SENTINEL) return { ...c, value: id };
    if (c.type === 'Structure') return { ...c, value: substitute(c.value, id) };
    return c;
  });
}

function nameItem(v2: boolean, value: string): TtlvItem {
  const name = [T(Tag.NameValue, value), E(Tag.NameType, NameType.UninterpretedTextString)];
  return v2
    ? S(Tag.Name, name)
    : S(Tag.Attribute, [T(Tag.AttributeName, 'Name'), S(Tag.AttributeValue, name)]);
}

function locatePayload(
  v2: boolean,
  f: { name?: string; group?: string; symmetric?: boolean; max?: number; offset?: number },
): TtlvItem[] {
  const attrs: TtlvItem[] = [];
  if (f.name !== undefined) attrs.push(nameItem(v2, f.name));
  if (f.group !== undefined) {
    attrs.push(
      v2
        ? T(Tag.ObjectGroup, f.group)
        : S(Tag.Attribute, [T(Tag.AttributeName, 'Object Group'), T(Tag.AttributeValue, f.group)]),
    );
  }
  if (f.symmetric === true) {
    attrs.push(
      v2
        ? E(Tag.ObjectType, ObjectType.SymmetricKey)
        : S(Tag.Attribute, [
            T(Tag.AttributeName, 'Object Type'),
            E(Tag.AttributeValue, ObjectType.SymmetricKey),
          ]),
    );
  }
  return [
    ...(f.max === undefined ? [] : [I(Tag.MaximumItems, f.max)]),
    ...(f.offset === undefined ? [] : [I(Tag.OffsetItems, f.offset)]),
    ...(v2 ? [S(Tag.Attributes, attrs)] : attrs),
  ];
}

/** Items to send in one message, and what to check of their results. */
interface Batch {
  readonly items: Item[];
  readonly checks: ((rs: ItemResult[]) => void)[];
}

/** A new AES key of hr's, always alike: Create, which sets the ID Placeholder. */
function freshKey(v2: boolean): TtlvItem[] {
  const attrs: [string, TtlvItem][] = [
    ['Cryptographic Algorithm', E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES)],
    ['Cryptographic Length', I(Tag.CryptographicLength, 256)],
    [
      'Cryptographic Usage Mask',
      I(
        Tag.CryptographicUsageMask,
        CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt | CryptographicUsageMask.DeriveKey,
      ),
    ],
    ['Object Group', T(Tag.ObjectGroup, 'fresh')],
  ];
  return [
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    v2
      ? S(
          Tag.Attributes,
          attrs.map(([, a]) => a),
        )
      : S(
          Tag.TemplateAttribute,
          attrs.map(([n, a]) =>
            S(Tag.Attribute, [T(Tag.AttributeName, n), { ...a, tag: Tag.AttributeValue }]),
          ),
        ),
  ];
}

type Step =
  | { kind: 'probe'; who: string; version: KmipVersion; template: number; target: number; m: Mutation }
  | { kind: 'secondary'; who: string; version: KmipVersion; template: number; target: number }
  | { kind: 'placeholder'; who: string; version: KmipVersion; template: number; target: number }
  | {
      kind: 'locate';
      who: string;
      version: KmipVersion;
      target: number;
      group: boolean;
      symmetric: boolean;
      max: number | undefined;
      offset: number | undefined;
    }
  | {
      kind: 'own';
      who: string;
      version: KmipVersion;
      template: number;
      targets: [number, number];
      m: Mutation;
    };

const who = fc.constantFrom(...PROBERS);
const version = fc.constantFrom(...VERSIONS);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('probe' as const),
      who,
      version,
      template: fc.nat(TEMPLATES.length - 1),
      target: fc.nat(),
      m: mutationArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('secondary' as const),
      who,
      version,
      template: fc.nat(SECONDARY_TEMPLATES.length - 1),
      target: fc.nat(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('placeholder' as const),
      who,
      version,
      template: fc.nat(TEMPLATES.length - 1),
      target: fc.nat(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('locate' as const),
      who,
      version,
      target: fc.nat(),
      group: fc.boolean(),
      symmetric: fc.boolean(),
      max: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
      offset: fc.option(fc.nat(5), { nil: undefined }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('own' as const),
      who,
      version,
      template: fc.nat(TEMPLATES.length - 1),
      targets: fc.tuple(fc.nat(), fc.nat()),
      m: mutationArb,
    }),
  },
);

describe('tenant isolation (property): no cross-tenant read, write or existence signal', function () {
  this.timeout(TIME_LIMIT_MS + 60_000);
  let h: AccessHarness;
  let payments: TenantObjects;
  let hr: TenantObjects;
  let foreignIds: Set<string>;
  let versions: Map<string, number>;
  let paymentsCount: number;

  before(async () => {
    h = await openAccessHarness({
      identities: IDENTITIES,
      // the quota is not what this test is about: each probe files its own request
      dualControl: {
        approvals: 2,
        operations: ['destroy', 'revoke-compromise'],
        maxPendingPerIdentity: 1_000_000,
      },
    });
    const seeder = h.server({ identities: SEEDERS });
    payments = await seedTenant(seeder, 'payseed', 'pay');
    hr = await seedTenant(seeder, 'hrseed', 'hr');
    foreignIds = new Set(payments.all);
    versions = new Map();
    for (const id of payments.all) versions.set(id, (await h.store.get(id))?.version ?? -1);
    paymentsCount = await h.store.count({ owner: 'payments', includeTombstoned: true });
  });

  after(async () => {
    await h?.close();
  });

  it(`holds over ${RUNS} random sequences (at least ${MIN_OPERATIONS} operations)`, async () => {
    let operations = 0;
    const started = Date.now();
    const materials = payments.materials.map((b) => Buffer.from(b).toString('hex'));

    /** no payments identifier (but the one the request named) or key material anywhere in an answer to hr */
    const noLeak = (r: ItemResult, what: string, named = '') => {
      const walk = (item: TtlvItem) => {
        if (item.type === 'TextString') {
          expect(
            foreignIds.has(item.value),
            `${what}: answer carries payments object ${item.value}`,
          ).to.equal(false);
        } else if (item.type === 'ByteString') {
          const hex = Buffer.from(item.value).toString('hex');
          expect(
            materials.some((m) => hex.includes(m)),
            `${what}: answer carries payments key material`,
          ).to.equal(false);
        } else if (item.type === 'Structure') {
          for (const c of item.value) walk(c);
        }
      };
      if (r.payload !== undefined) walk(r.payload);
      for (const id of foreignIds) {
        if (id === named) continue;
        expect(r.message?.includes(id) ?? false, `${what}: message names payments object ${id}`).to.equal(
          false,
        );
      }
    };

    const send = async (identity: string, v: KmipVersion, items: Item[]) => {
      operations += items.length;
      return h.send(identity, v, items);
    };

    const same = (
      a: ItemResult | undefined,
      b: ItemResult | undefined,
      foreign: string,
      missing: string,
      what: string,
    ) => {
      const fa = { status: a?.status, reason: a?.reason, message: neutral(a?.message, foreign) };
      const fb = { status: b?.status, reason: b?.reason, message: neutral(b?.message, missing) };
      expect(fa, `${what}: another tenant's object is told from a missing one`).to.deep.equal(fb);
    };

    const runSteps = async (steps: readonly Step[]) => {
      // Pairs of items (foreign, missing) that need no ID Placeholder share one message per identity and version.
      const batches = new Map<string, Batch>();
      const batch = (identity: string, v: KmipVersion) => {
        const key = `${identity} ${v}`;
        let b = batches.get(key);
        if (b === undefined) {
          b = { items: [], checks: [] };
          batches.set(key, b);
        }
        return b;
      };
      /**
       * The request naming payments' object, then the same naming an
       * identifier no object has: the same answer. `fresh`: the request acts
       * on one of hr's objects first (its first Unique Identifier is not the
       * probed one; payments' is a second identifier): each copy then acts
       * on a fresh key of its own, made just before it in the same state
       * (through the ID Placeholder), so that the first cannot change what
       * the second finds.
       */
      const probe = (
        b: Batch,
        v2: boolean,
        op: number,
        build: (id: string) => TtlvItem[],
        foreign: string,
        what: string,
        fresh: boolean,
      ) => {
        const missing = missingId();
        const at = b.items.length;
        for (const x of [foreign, missing]) {
          if (fresh) b.items.push({ op: Operation.Create, payload: freshKey(v2) });
          b.items.push({ op, payload: build(x) });
        }
        b.checks.push((rs) => {
          const step = fresh ? 2 : 1;
          const [fa, ma] = [rs[at + step - 1], rs[at + 2 * step - 1]];
          let [foreignText, missingText] = [fa?.message, ma?.message];
          if (fresh) {
            // each copy's own fresh key: named alike
            const ownA = textOf(rs[at]?.payload, Tag.UniqueIdentifier) ?? '';
            const ownB = textOf(rs[at + 2]?.payload, Tag.UniqueIdentifier) ?? '';
            expect(ownA, `${what}: fresh key`).to.not.equal('');
            foreignText = neutral(foreignText, ownA);
            missingText = neutral(missingText, ownB);
          }
          // payments' object named first is never acted on
          if (!fresh) expect(fa?.status, `${what}: ${fa?.message}`).to.not.equal(ResultStatus.Success);
          same(
            { ...fa, message: foreignText } as ItemResult,
            { ...ma, message: missingText } as ItemResult,
            foreign,
            missing,
            what,
          );
          if (fa !== undefined) noLeak(fa, what, foreign);
        });
      };
      for (const s of steps) {
        const v2 = s.version.startsWith('2');
        const ownId = (n: number) => hr.all[n % hr.all.length] ?? '';
        if (s.kind === 'probe' || s.kind === 'own') {
          const t = TEMPLATES[s.template] ?? TEMPLATES[0];
          if (t === undefined) continue;
          const own = ownId(s.kind === 'own' ? s.targets[1] : s.target);
          const shaped = mutate(t.build(SENTINEL, v2), s.m, own);
          const b = batch(s.who, s.version);
          if (s.kind === 'own') {
            // hr's own objects: changes hr's state; only checked for leaks
            for (const n of s.targets) {
              const at = b.items.length;
              b.items.push({ op: t.op, payload: substitute(shaped, ownId(n)) });
              b.checks.push((rs) => {
                const r = rs[at];
                if (r !== undefined) noLeak(r, `${s.who} ${s.version} ${t.name} on its own object`);
              });
            }
            continue;
          }
          const foreign = payments.all[s.target % payments.all.length] ?? '';
          const what = `${s.who} ${s.version} ${t.name} ${JSON.stringify(s.m)}`;
          // the identifier the operation acts on: the first Unique Identifier (one that is no text
          // becomes the ID Placeholder, one of hr's objects, as the executor does)
          const first = shaped.findIndex((c) => c.tag === Tag.UniqueIdentifier);
          const probed = shaped[first];
          const fresh = !(probed?.type === 'TextString' && probed.value === SENTINEL);
          // acting on hr's own object first: on the fresh key the item before made (the ID Placeholder)
          const request = fresh
            ? shaped.map((c, i) => (i === first ? I(Tag.UniqueIdentifier, 0) : c))
            : shaped;
          probe(b, v2, t.op, (x) => substitute(request, x), foreign, what, fresh);
        } else if (s.kind === 'secondary') {
          const t = SECONDARY_TEMPLATES[s.template] ?? SECONDARY_TEMPLATES[0];
          if (t === undefined) continue;
          const own = hr.ids[t.own] ?? '';
          const foreign = payments.all[s.target % payments.all.length] ?? '';
          probe(
            batch(s.who, s.version),
            v2,
            t.op,
            (x) => t.build(own, x),
            foreign,
            `${s.who} ${s.version} ${t.name}`,
            false,
          );
        } else if (s.kind === 'placeholder') {
          // Locate by one of payments' Names, then the operation on the ID Placeholder; vs a Name nobody has.
          const t = TEMPLATES[s.template] ?? TEMPLATES[0];
          if (t === undefined) continue;
          const foreignName = payments.names[s.target % payments.names.length] ?? '';
          const shaped = t
            .build(SENTINEL, v2)
            .filter((c) => !(c.type === 'TextString' && c.value === SENTINEL));
          const run = (n: string) =>
            send(s.who, s.version, [
              { op: Operation.Locate, payload: locatePayload(v2, { name: n }) },
              { op: t.op, payload: shaped },
            ]);
          const [fa, fb] = await run(foreignName);
          const [ma, mb] = await run(`nobody-${missingId()}`);
          const what = `${s.who} ${s.version} Locate + ${t.name} on the ID Placeholder`;
          same(fa, ma, '', '', what);
          same(fb, mb, '', '', what);
          for (const r of [fa, fb]) if (r !== undefined) noLeak(r, what);
          expect(JSON.stringify(fa?.payload)).to.equal(JSON.stringify(ma?.payload));
        } else {
          // Locate: by one of payments' Names or its Object Group vs by ones nobody has; never lists payments' objects
          const foreignName = payments.names[s.target % payments.names.length] ?? '';
          const f = {
            symmetric: s.symmetric,
            ...(s.max === undefined ? {} : { max: s.max }),
            ...(s.offset === undefined ? {} : { offset: s.offset }),
          };
          const b = batch(s.who, s.version);
          const at = b.items.length;
          const nobody = `nobody-${missingId()}`;
          b.items.push({
            op: Operation.Locate,
            payload: locatePayload(v2, s.group ? { ...f, group: 'pay-group' } : { ...f, name: foreignName }),
          });
          b.items.push({
            op: Operation.Locate,
            payload: locatePayload(v2, s.group ? { ...f, group: nobody } : { ...f, name: nobody }),
          });
          // and by hr's own Object Group (its fixture objects: a Locate of everything would scan all that the run made)
          b.items.push({ op: Operation.Locate, payload: locatePayload(v2, { ...f, group: 'hr-group' }) });
          const what = `${s.who} ${s.version} Locate ${JSON.stringify(s)}`;
          b.checks.push((rs) => {
            same(rs[at], rs[at + 1], '', '', what);
            expect(JSON.stringify(rs[at]?.payload), what).to.equal(JSON.stringify(rs[at + 1]?.payload));
            for (const r of rs.slice(at, at + 3)) noLeak(r, what);
          });
        }
      }
      for (const [key, b] of batches) {
        const [identity = '', v = '2.1'] = key.split(' ');
        const results = await send(identity, v as KmipVersion, b.items);
        expect(results).to.have.length(b.items.length);
        for (const check of b.checks) check(results);
      }
      // no write: payments' objects are as they were, and it has no new ones
      for (const [id, version] of versions) {
        expect((await h.store.get(id))?.version, `payments object ${id} changed`).to.equal(version);
      }
      expect(await h.store.count({ owner: 'payments', includeTombstoned: true })).to.equal(paymentsCount);
    };

    await fc.assert(fc.asyncProperty(fc.array(stepArb, STEPS), runSteps), {
      numRuns: RUNS,
      ...(process.env.KMIP_FC_SEED === undefined ? {} : { seed: Number(process.env.KMIP_FC_SEED) }),
      interruptAfterTimeLimit: TIME_LIMIT_MS,
      markInterruptAsFailure: false,
      // the server's state moves on with every run: shrinking would replay on another state; report the failure as found
      endOnFailure: true,
    });
    const seconds = (Date.now() - started) / 1000;
    if (process.env.KMIP_FC_REPORT) process.stderr.write(`${operations} operations in ${seconds} s\n`);
    expect(operations, `operations run in ${seconds} s`).to.be.at.least(MIN_OPERATIONS);
    // and dual control filed no request about payments' objects (nor one payments' officers decide)
    const filed = await h.access.dualControl.list();
    expect(filed.length, 'hr filed requests about its own objects').to.be.greaterThan(0);
    expect(filed.filter((r) => r.tenant === 'payments' || foreignIds.has(r.objectId ?? ''))).to.deep.equal(
      [],
    );
  });
});
