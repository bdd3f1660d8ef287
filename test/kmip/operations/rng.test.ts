import { expect } from 'chai';
import { MAX_RNG_BYTES } from '../../../src/kmip/operations/rng-retrieve.js';
import { Operation, ResultReason, Tag } from '../../../src/kmip/spec/index.js';
import { B, I, useHarness } from './harness.js';
import { bytesOf, failing, toHex, V14, V21 } from './mac-hash-rng-fixtures.js';

describe('operations: RNG Retrieve and RNG Seed', () => {
  const h = useHarness();
  const fails = failing(h);

  describe('RNG Retrieve and RNG Seed', () => {
    for (const version of [V14, V21]) {
      it(`${version}: RNG Retrieve returns Data Length fresh random bytes (CS-RNG-M-1)`, async () => {
        const a = await h.ok(version, Operation.RNGRetrieve, [I(Tag.DataLength, 32)]);
        const b = await h.ok(version, Operation.RNGRetrieve, [I(Tag.DataLength, 32)]);
        expect(a.value.map((c) => c.tag)).to.deep.equal([Tag.Data]);
        expect(bytesOf(a, Tag.Data)?.length).to.equal(32);
        expect(toHex(bytesOf(a, Tag.Data))).to.not.equal(toHex(bytesOf(b, Tag.Data)));
      });

      it(`${version}: RNG Seed accepts the seed and says how much (CS-RNG-O-1)`, async () => {
        const p = await h.ok(version, Operation.RNGSeed, [B(Tag.Data, new Uint8Array(32).fill(7))]);
        expect(p.value).to.deep.equal([{ tag: Tag.DataLength, type: 'Integer', value: 32 }]);
      });
    }

    it('bounds Data Length and requires the fields', async () => {
      expect(await fails(V21, Operation.RNGRetrieve, [I(Tag.DataLength, 0)])).to.equal(
        ResultReason.InvalidField,
      );
      expect(await fails(V21, Operation.RNGRetrieve, [I(Tag.DataLength, -5)])).to.equal(
        ResultReason.InvalidField,
      );
      expect(await fails(V21, Operation.RNGRetrieve, [I(Tag.DataLength, MAX_RNG_BYTES + 1)])).to.equal(
        ResultReason.InvalidField,
      );
      expect(await fails(V21, Operation.RNGRetrieve, [])).to.equal(ResultReason.InvalidMessage);
      expect(await fails(V21, Operation.RNGSeed, [])).to.equal(ResultReason.InvalidMessage);
    });
  });
});
