/**
 * Codec fuzzing over mutated OASIS vector requests: the binary decoder either
 * returns an item that encodes back to exactly the input (the encoding is
 * canonical) or throws TtlvDecodeError, never anything else, never slowly.
 * Random trees and random bytes are covered by test/kmip/ttlv/binary-property.test.ts.
 */

import { expect } from 'chai';
import fc from 'fast-check';
import { TtlvDecodeError } from '../../src/kmip/errors.js';
import { decodeTtlv, encodeTtlv } from '../../src/kmip/ttlv/binary.js';
import { loadRequestCorpus, mutate, mutationArb } from './corpus.js';

const RUNS = 20_000;

describe('fuzz: TTLV codec over mutated OASIS vector requests', function () {
  this.timeout(60_000);
  let corpus: Buffer[];

  before(() => {
    corpus = loadRequestCorpus();
  });

  it('reads a corpus of real request messages', () => {
    expect(corpus.length).to.be.above(100);
    for (const m of corpus) expect(encodeTtlv(decodeTtlv(m))).to.deep.equal(m);
  });

  it(`decodes ${RUNS} mutations canonically or throws TtlvDecodeError`, () => {
    let decoded = 0;
    fc.assert(
      fc.property(mutationArb(corpus.length), ({ base, mutations }) => {
        const bytes = mutate(corpus, base, mutations);
        let item: ReturnType<typeof decodeTtlv>;
        try {
          item = decodeTtlv(bytes);
        } catch (e) {
          if (e instanceof TtlvDecodeError) return;
          throw e;
        }
        decoded++;
        expect(Buffer.from(encodeTtlv(item)).equals(bytes)).to.equal(true);
      }),
      { numRuns: RUNS, seed: 0x6b6d6970 },
    );
    // the mutations must not all be trivially rejected
    expect(decoded).to.be.above(RUNS / 50);
  });
});
