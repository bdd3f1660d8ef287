/**
 * The canonical form is built by hand for speed (issue 8); every stored hash
 * and MAC depends on it, so it must stay the exact text of the JSON.stringify
 * form it replaced, kept here as the oracle. The trail's stored detail (key
 * order included) must stay that of the spreads it replaced.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  type AuditKeySealer,
  AuditKind,
  AuditTrail,
  canonicalForm,
  copyDetail,
  GENESIS,
  recordHash,
  sealMac,
  verifyAuditTrail,
  withHash,
} from '../../src/audit/index.js';
import type { AuditRecord, ObjectStore, WriteOp } from '../../src/store/types.js';

const TAG = 'kmip-server audit/1';

/** The canonical form as first written (and as every stored hash was computed). */
function oracleCanonicalForm(record: AuditRecord, omit: readonly string[]): string {
  const detail = Object.entries(record.detail)
    .filter(([k]) => !omit.includes(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([
    TAG,
    record.at,
    record.actor ?? null,
    record.operation,
    record.objectId ?? null,
    record.outcome,
    detail,
  ]);
}

function oracleHash(record: AuditRecord): string {
  return createHash('sha256')
    .update(oracleCanonicalForm(record, ['hash']), 'utf8')
    .digest('hex');
}

/** Any UTF-16 code unit: lone surrogates, control characters, quotes, backslashes. */
const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: anyUnit }),
  fc.constantFrom('', '"', '\\', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', '\udc00', '\ud83d\udd11'),
);
const KEYS = [
  'kind',
  'tenant',
  'clientAddress',
  'version',
  'index',
  'commonName',
  'fingerprint',
  'reason',
  'objectIds',
  'purpose',
  'chain',
  'n',
  'prev',
  'hash',
  'mac',
  'final',
  '__proto__',
  '0',
  '1',
  '10',
  '2',
  'a',
  'B',
  'é',
];
const key = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: text });
/** what a damaged store could hand back in place of a string */
const odd = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(undefined, null, Number.NaN, Number.POSITIVE_INFINITY, -0, 1e21, 5e-7, true),
);
const value = fc.oneof({ weight: 12, arbitrary: text }, { weight: 1, arbitrary: odd });
const detail = fc
  .array(fc.tuple(key, value), { maxLength: 14 })
  .map((entries) => Object.fromEntries(entries) as Record<string, string>);
const number = fc.oneof(
  fc.integer(),
  fc.nat({ max: 4_102_444_800_000 }),
  fc.double(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 1e21, 2 ** 53),
);
const record: fc.Arbitrary<AuditRecord> = fc
  .record({
    at: fc.oneof({ weight: 10, arbitrary: number }, { weight: 1, arbitrary: odd }),
    actor: fc.oneof(text, fc.constantFrom(undefined, null), odd),
    operation: fc.oneof({ weight: 10, arbitrary: text }, { weight: 1, arbitrary: odd }),
    objectId: fc.oneof(text, fc.constantFrom(undefined, null), odd),
    outcome: fc.oneof({ weight: 10, arbitrary: text }, { weight: 1, arbitrary: odd }),
    detail,
  })
  .map((r) => r as unknown as AuditRecord);
const omit = fc.oneof(
  fc.constantFrom<readonly string[]>([], ['hash'], ['hash', 'mac']),
  fc.array(fc.constantFrom(...KEYS)),
);

describe('audit chain: canonical form', () => {
  it('is the text of the JSON.stringify form for any record (fast-check)', () => {
    fc.assert(
      fc.property(record, omit, (r, o) => {
        expect(canonicalForm(r, o)).to.equal(oracleCanonicalForm(r, o));
      }),
      { numRuns: 3000 },
    );
  });

  it('stays exact across runs of records sharing, reordering or changing their keys', () => {
    const shaped = fc
      .tuple(
        fc.uniqueArray(key, { maxLength: 12 }),
        fc.array(fc.array(text, { minLength: 12, maxLength: 12 })),
      )
      .map(([keys, rows]) =>
        rows.map((vals, i) => {
          // every other record lists the same keys in reverse insertion order
          const order = i % 2 === 0 ? keys : [...keys].reverse();
          return {
            at: i,
            actor: 'a',
            operation: 'Get',
            objectId: undefined,
            outcome: 'Success',
            detail: Object.fromEntries(order.map((k, j) => [k, vals[j] ?? ''])),
          };
        }),
      );
    fc.assert(
      fc.property(fc.array(shaped, { maxLength: 4 }), (runs) => {
        for (const r of runs.flat())
          expect(canonicalForm(r, ['hash'])).to.equal(oracleCanonicalForm(r, ['hash']));
      }),
      { numRuns: 300 },
    );
  });

  it('recordHash and sealMac equal the Hash/Hmac of the oracle text (fast-check)', () => {
    const k = randomBytes(32);
    fc.assert(
      fc.property(record, (r) => {
        expect(recordHash(r)).to.equal(oracleHash(r));
        expect(sealMac(r, k)).to.equal(
          createHmac('sha256', k)
            .update(oracleCanonicalForm(r, ['hash', 'mac']), 'utf8')
            .digest('hex'),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps the hashes and MACs of records written before (golden values)', () => {
    const k = Buffer.alloc(32, 7);
    const item: AuditRecord = {
      at: 1764370000123,
      actor: 'client.example.com',
      operation: 'Get',
      objectId: '8f14e45f-ceea-467e-a8f6-3c2b0b9d6a11',
      outcome: 'Success',
      detail: {
        kind: 'item',
        tenant: 'default',
        clientAddress: '192.0.2.7',
        version: '1.4',
        index: '0',
        commonName: 'client.example.com',
        fingerprint: 'AB:CD:EF:01',
        chain: 'b7e4c8a2-5f0d-4c4e-9a57-3d1f6e2b9c80',
        n: '7',
        prev: 'ab'.repeat(32),
        hash: 'cd'.repeat(32),
      },
    };
    const odd: AuditRecord = {
      at: 1764370000456,
      actor: undefined,
      operation: 'Unknown',
      objectId: undefined,
      outcome: 'OperationFailed',
      detail: {
        kind: 'item',
        tenant: 't"1\\',
        reason: 'Invalid_Message',
        purpose: 'résumé \u2028 \u0001 \ud83d\udd11 é',
        purposeSource: 'client',
        chain: 'c',
        n: '8',
        prev: '00',
        '10': 'x',
        '2': 'y',
      },
    };
    // computed by the code as it was before issue 8
    expect(recordHash(item)).to.equal('48ea371ed1e0647dffbf89d4c87196b634275dcede77b47ac8e8b2360a65523a');
    expect(sealMac(item, k)).to.equal('821c49c1dc4201fd727895413feae7c5cef0e96f757198e5b8ada0f6434193c7');
    expect(recordHash(odd)).to.equal('34c936acb2094ccade064053bef54d0fd5b057bd8be04f7d304ab4ab9fe7e48f');
    expect(sealMac(odd, k)).to.equal('d488a8b2242ba2f659a07ab845e82067e6eb339fc9f2d51c0bc0c3df46d4b639');
  });
});

describe('audit chain: record copies', () => {
  it('copyDetail, then the chain keys, is the spread it replaced, key order and __proto__ included (fast-check)', () => {
    fc.assert(
      fc.property(
        detail,
        // what the trail adds
        fc.array(fc.tuple(fc.constantFrom('chain', 'n', 'prev', 'hash', 'kind', '10'), text), {
          maxLength: 4,
        }),
        (d, more) => {
          const copy = copyDetail(d);
          let spread: Record<string, string> = { ...d };
          for (const [k, v] of more) {
            copy[k] = v;
            spread = { ...spread, [k]: v };
          }
          expect(JSON.stringify(copy)).to.equal(JSON.stringify(spread));
          expect(Object.keys(copy)).to.deep.equal(Object.keys(spread));
          expect(Object.getPrototypeOf(copy)).to.equal(Object.prototype);
        },
      ),
      { numRuns: 1000 },
    );
    const parsed = JSON.parse('{"kind":"item","__proto__":"x","2":"y"}') as Record<string, string>;
    expect(JSON.stringify(copyDetail(parsed))).to.equal('{"2":"y","kind":"item","__proto__":"x"}');
  });

  it('withHash adds hash last, as the spread it replaced', () => {
    fc.assert(
      fc.property(record, (r) => {
        const old = { ...r, detail: { ...r.detail, hash: oracleHash(r) } };
        const h = withHash(r);
        expect(JSON.stringify(h.detail)).to.equal(JSON.stringify(old.detail));
        expect(h).to.deep.equal(old);
      }),
      { numRuns: 500 },
    );
  });
});

/** A store that keeps what it is given, as given (the writer thread JSON.stringify's `detail`). */
function captureStore(kind: ObjectStore['kind']): ObjectStore & { readonly written: AuditRecord[] } {
  const written: AuditRecord[] = [];
  const store = {
    kind,
    written,
    appendAudit(r: AuditRecord) {
      written.push(r);
      return Promise.resolve();
    },
    atomic(ops: readonly WriteOp[]) {
      for (const op of ops) if (op.kind === 'audit') written.push(op.record);
      return Promise.resolve();
    },
    async *readAudit() {
      for (const [i, r] of written.entries())
        yield { ...r, detail: JSON.parse(JSON.stringify(r.detail)), seq: i + 1 };
    },
    lastAudit: () => Promise.resolve(undefined),
  };
  return store as unknown as ObjectStore & { readonly written: AuditRecord[] };
}

const sealer: AuditKeySealer = {
  seal: (_id, _v, plaintext) =>
    Promise.resolve({ kekId: 'k', nonce: randomBytes(12), ciphertext: Buffer.from(plaintext) }),
  unseal: (_id, _v, blob) => Promise.resolve(Buffer.from(blob.ciphertext)),
};

describe('audit chain: stored records', () => {
  for (const kind of ['sqlite', 'mongodb'] as const) {
    it(`${kind}: the trail stores the detail text and hash the spreads it replaced gave`, async () => {
      const store = captureStore(kind);
      const trail = await AuditTrail.open({ store, sealer, sealEveryRecords: 7 });
      const inputs: AuditRecord[] = fc.sample(record, { numRuns: 60, seed: 8 }).map((r, i) => ({
        at: 1764370000000 + i,
        actor: typeof r.actor === 'string' ? r.actor : undefined,
        operation: `Op${i}`,
        objectId: i % 3 === 0 ? undefined : `id-${i}`,
        outcome: 'Success',
        detail: Object.fromEntries(
          Object.entries(r.detail)
            .filter(([k, v]) => typeof v === 'string' && !['chain', 'n', 'prev', 'hash'].includes(k))
            .concat([['kind', AuditKind.Item]]),
        ),
      }));
      // records submitted in one turn share a write, and a promise
      await Promise.all(inputs.slice(0, 25).map((r) => trail.append(r)));
      for (const r of inputs.slice(25)) await trail.append(r);
      await trail.close();

      const items = store.written.filter((r) => r.detail.kind === AuditKind.Item);
      expect(items).to.have.length(inputs.length);
      let prev = store.written[0]?.detail.hash ?? GENESIS;
      let n = 0;
      let i = 0;
      for (const stored of store.written.slice(1)) {
        n++;
        const input = stored.detail.kind === AuditKind.Item ? inputs[i++] : undefined;
        if (input !== undefined) {
          const body = { ...input, detail: { ...input.detail, chain: trail.chain, n: String(n), prev } };
          const expected = { ...body, detail: { ...body.detail, hash: oracleHash(body) } };
          expect(JSON.stringify(stored.detail)).to.equal(JSON.stringify(expected.detail));
          expect(stored).to.deep.equal(expected);
        } else {
          expect(stored.detail.kind).to.equal(AuditKind.Seal);
          expect(stored.detail.hash).to.equal(oracleHash(stored));
          expect(Object.keys(stored.detail).slice(-2)).to.deep.equal(['mac', 'hash']);
        }
        prev = stored.detail.hash ?? '';
      }
      const report = await verifyAuditTrail(store, { sealer, strict: true });
      expect(report.errors).to.deep.equal([]);
      expect(report.records).to.equal(store.written.length);
    });
  }

  it('records submitted together fail together; appends after close are refused', async () => {
    const store = captureStore('sqlite');
    let fail = false;
    const atomic = store.atomic.bind(store);
    store.atomic = (ops) => (fail ? Promise.reject(new Error('disk full')) : atomic(ops));
    const trail = await AuditTrail.open({ store, sealer });
    const base: AuditRecord = {
      at: 1,
      actor: 'a',
      operation: 'Get',
      objectId: undefined,
      outcome: 'Success',
      detail: { kind: AuditKind.Item },
    };
    fail = true;
    const results = await Promise.allSettled([trail.append(base), trail.append(base), trail.append(base)]);
    expect(results.map((r) => r.status)).to.deep.equal(['rejected', 'rejected', 'rejected']);
    fail = false;
    await Promise.all([trail.append(base), trail.append(base)]);
    await trail.close();
    let closed: unknown;
    await trail.append(base).catch((e: unknown) => {
      closed = e;
    });
    expect(closed).to.be.instanceOf(Error);
    const report = await verifyAuditTrail(store, { sealer, strict: true });
    expect(report.errors).to.deep.equal([]);
    expect(report.segments).to.have.length(2);
  });
});
