import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { HashingAlgorithm, Operation, ResultReason, Tag } from '../../../src/kmip/spec/index.js';
import { B, S, useHarness } from './harness.js';
import {
  A,
  Bool,
  bytesOf,
  failing,
  hashParams,
  hex,
  hmacParams,
  toHex,
  V14,
  V21,
  VDATA,
} from './mac-hash-rng-fixtures.js';

describe('operations: Hash', () => {
  const h = useHarness();
  const fails = failing(h);

  describe('Hash', () => {
    const data = hex(VDATA);
    for (const version of [V14, V21]) {
      it(`${version}: known answers (CS-AC-M-7) and node:crypto for every supported algorithm`, async () => {
        const p = await h.ok(version, Operation.Hash, [
          hashParams(HashingAlgorithm.SHA_256),
          B(Tag.Data, data),
        ]);
        expect(p.value.map((c) => c.tag)).to.deep.equal([Tag.Data]);
        expect(toHex(bytesOf(p, Tag.Data))).to.equal(
          'ad41233d22cf9322e3a7ff49a13da434797abed3bab80950a1a0d4e582b7ea72',
        );
        const cases: [number, string][] = [
          [HashingAlgorithm.MD5, 'md5'],
          [HashingAlgorithm.SHA_1, 'sha1'],
          [HashingAlgorithm.SHA_224, 'sha224'],
          [HashingAlgorithm.SHA_384, 'sha384'],
          [HashingAlgorithm.SHA_512, 'sha512'],
          [HashingAlgorithm.SHA_512_224, 'sha512-224'],
          [HashingAlgorithm.SHA_512_256, 'sha512-256'],
          [HashingAlgorithm.SHA_3_224, 'sha3-224'],
          [HashingAlgorithm.SHA_3_512, 'sha3-512'],
        ];
        for (const [alg, name] of cases) {
          const r = await h.ok(version, Operation.Hash, [hashParams(alg), B(Tag.Data, data)]);
          expect(toHex(bytesOf(r, Tag.Data)), name).to.equal(createHash(name).update(data).digest('hex'));
        }
      });
    }

    it('2.x: a SHA3 Cryptographic Algorithm names the hash', async () => {
      const r = await h.ok(V21, Operation.Hash, [hmacParams(A.SHA3_256), B(Tag.Data, data)]);
      expect(toHex(bytesOf(r, Tag.Data))).to.equal(createHash('sha3-256').update(data).digest('hex'));
    });

    it('streams: parts then Final (with or without Data) equal the one-shot hash (TC-STREAM-HASH)', async () => {
      for (const finalData of [hex('63'), undefined]) {
        const params = hashParams(HashingAlgorithm.SHA_256);
        const a = await h.ok(V14, Operation.Hash, [
          params,
          B(Tag.Data, hex('61')),
          Bool(Tag.InitIndicator, true),
        ]);
        expect(a.value.map((c) => c.tag)).to.deep.equal([Tag.CorrelationValue]);
        const cv = bytesOf(a, Tag.CorrelationValue) ?? new Uint8Array();
        const b = await h.ok(V14, Operation.Hash, [
          params,
          B(Tag.Data, hex('62')),
          B(Tag.CorrelationValue, cv),
        ]);
        expect(toHex(bytesOf(b, Tag.CorrelationValue))).to.equal(toHex(cv));
        if (finalData === undefined) {
          await h.ok(V14, Operation.Hash, [params, B(Tag.Data, hex('63')), B(Tag.CorrelationValue, cv)]);
        }
        const c = await h.ok(V14, Operation.Hash, [
          params,
          ...(finalData ? [B(Tag.Data, finalData)] : []),
          B(Tag.CorrelationValue, cv),
          Bool(Tag.FinalIndicator, true),
        ]);
        expect(c.value.map((x) => x.tag)).to.deep.equal([Tag.Data]);
        expect(toHex(bytesOf(c, Tag.Data))).to.equal(createHash('sha256').update('abc').digest('hex'));
      }
    });

    it('Init and Final together is a one-shot hash', async () => {
      const r = await h.ok(V21, Operation.Hash, [
        hashParams(HashingAlgorithm.SHA_1),
        B(Tag.Data, data),
        Bool(Tag.InitIndicator, true),
        Bool(Tag.FinalIndicator, true),
      ]);
      expect(r.value.map((c) => c.tag)).to.deep.equal([Tag.Data]);
      expect(toHex(bytesOf(r, Tag.Data))).to.equal(createHash('sha1').update(data).digest('hex'));
    });

    it('refuses missing parameters, unsupported algorithms and unknown Correlation Values', async () => {
      expect(await fails(V21, Operation.Hash, [B(Tag.Data, data)])).to.equal(ResultReason.InvalidMessage);
      expect(
        await fails(V21, Operation.Hash, [S(Tag.CryptographicParameters, []), B(Tag.Data, data)]),
      ).to.equal(ResultReason.InvalidMessage);
      expect(await fails(V21, Operation.Hash, [hashParams(HashingAlgorithm.SHA_256)])).to.equal(
        ResultReason.InvalidMessage,
      );
      expect(
        await fails(V21, Operation.Hash, [hashParams(HashingAlgorithm.MD2), B(Tag.Data, data)]),
      ).to.equal(ResultReason.UnsupportedCryptographicParameters);
      expect(
        await fails(V14, Operation.Hash, [hashParams(HashingAlgorithm.MD2), B(Tag.Data, data)]),
      ).to.equal(ResultReason.InvalidField);
      const unknown = [hashParams(HashingAlgorithm.SHA_256), B(Tag.CorrelationValue, hex('00112233'))];
      expect(await fails(V21, Operation.Hash, unknown)).to.equal(ResultReason.InvalidCorrelationValue);
      expect(await fails(V14, Operation.Hash, unknown)).to.equal(ResultReason.InvalidField);
    });

    it('is not offered to 1.1 clients', async () => {
      const [r] = await h.send('1.1', [
        { op: Operation.Hash, payload: [hashParams(HashingAlgorithm.SHA_256), B(Tag.Data, data)] },
      ]);
      expect(r?.status).to.equal(1);
      expect(r?.reason).to.equal(ResultReason.OperationNotSupported);
    });
  });
});
