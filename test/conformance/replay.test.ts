import path from 'node:path';
import { expect } from 'chai';
import { echoExchange } from '../../conformance-tests/lib/mock.js';
import { replaySteps } from '../../conformance-tests/lib/replay.js';
import { roundTripMessages } from '../../conformance-tests/lib/roundtrip.js';
import { systemClock } from '../../conformance-tests/lib/state.js';
import { specDictionary as dict } from '../../src/kmip/spec/dictionary.js';
import { listVectorFiles, readVectorFile } from '../../src/kmip/ttlv/vectors.js';
import { VECTORS_ROOT } from '../helpers/vectors.js';

const vectors = path.join(VECTORS_ROOT, 'oasis-kmip-cosmian-mirror');
// Profile sets of three generations: 1.x attributes, 1.4, 2.1 Attributes.
const DIRS = ['v1.0/XML/mandatory', 'v1.4/XML/mandatory', 'v2.1/XML/mandatory'];

describe('conformance runner self-check (vectors answered by their own responses)', () => {
  for (const dir of DIRS) {
    it(`every step of ${dir} passes and every file round-trips`, async () => {
      const failures: string[] = [];
      const files = listVectorFiles(path.join(vectors, dir));
      expect(files.length).to.be.greaterThan(50);
      for (const file of files) {
        const vf = readVectorFile(file);
        const messages = vf.steps.flatMap((s) => (s.response ? [s.request, s.response] : [s.request]));
        const rt = roundTripMessages(messages, dict);
        if (!rt.ok) failures.push(`${path.basename(file)} round trip: ${rt.error}`);
        const results = await replaySteps(vf.steps, echoExchange(vf.steps, dict, systemClock), { dict });
        for (const r of results) {
          if (r.outcome !== 'pass') {
            failures.push(`${path.basename(file)} step ${r.index}: ${r.error ?? JSON.stringify(r.diff)}`);
          }
        }
      }
      expect(failures).to.deep.equal([]);
    });
  }
});
