/**
 * Batch Error Continuation Option Undo (KMIP 1.0 §6.7): when an item fails,
 * the writes of the items before it are put back and those items answer
 * Operation Undone — as OASIS BL-M-2 expects (Activate, Check, failing Check).
 */
import { expect } from 'chai';
import {
  BatchErrorContinuationOption,
  Operation,
  ResultReason,
  ResultStatus,
  State,
  Tag,
} from '../../../src/kmip/spec/index.js';
import { E, type Harness, I, kid, openHarness, S, T, text } from '../operations/harness.js';

const undo = [E(Tag.BatchErrorContinuationOption, BatchErrorContinuationOption.Undo)];

async function createAes(h: Harness, mask: number): Promise<string> {
  const p = await h.ok('2.1', Operation.Create, [
    E(Tag.ObjectType, 2),
    S(Tag.Attributes, [
      E(Tag.CryptographicAlgorithm, 3),
      I(Tag.CryptographicLength, 256),
      I(Tag.CryptographicUsageMask, mask),
    ]),
  ]);
  const id = text(p, Tag.UniqueIdentifier);
  if (id === undefined) throw new Error('no id');
  return id;
}

async function stateOf(h: Harness, id: string): Promise<unknown> {
  const p = await h.ok('2.1', Operation.GetAttributes, [
    T(Tag.UniqueIdentifier, id),
    E(Tag.AttributeReference, Tag.State),
  ]);
  return kid(kid(p, Tag.Attributes), Tag.State)?.value;
}

describe('batch executor: Undo', () => {
  let h: Harness;
  before(async () => {
    h = await openHarness();
  });
  after(async () => h.close());

  it('puts back an Activate when a later item fails; earlier items answer Operation Undone', async () => {
    const id = await createAes(h, 0x04 /* Encrypt */);
    const results = await h.send(
      '2.1',
      [
        { op: Operation.Activate, payload: [T(Tag.UniqueIdentifier, id)] },
        { op: Operation.Check, payload: [T(Tag.UniqueIdentifier, id), I(Tag.CryptographicUsageMask, 0x04)] },
        { op: Operation.Check, payload: [T(Tag.UniqueIdentifier, id), I(Tag.CryptographicUsageMask, 0x08)] },
      ],
      undo,
    );
    expect(results.map((r) => r.status)).to.deep.equal([
      ResultStatus.OperationUndone,
      ResultStatus.OperationUndone,
      ResultStatus.OperationFailed,
    ]);
    expect(results[2]?.reason).to.equal(ResultReason.IncompatibleCryptographicUsageMask);
    expect(await stateOf(h, id)).to.equal(State.PreActive);
    // The key is intact and usable after the undo.
    const got = await h.ok('2.1', Operation.Get, [T(Tag.UniqueIdentifier, id)]);
    expect(kid(got, Tag.SymmetricKey)).to.not.equal(undefined);
  });

  it('removes an object the batch created', async () => {
    const results = await h.send(
      '2.1',
      [
        {
          op: Operation.Create,
          payload: [
            E(Tag.ObjectType, 2),
            S(Tag.Attributes, [E(Tag.CryptographicAlgorithm, 3), I(Tag.CryptographicLength, 128)]),
          ],
        },
        { op: Operation.Destroy, payload: [T(Tag.UniqueIdentifier, 'no-such-object')] },
      ],
      undo,
    );
    expect(results[0]?.status).to.equal(ResultStatus.OperationUndone);
    const created = text(results[0]?.payload, Tag.UniqueIdentifier);
    expect(created).to.be.a('string');
    const [get] = await h.send('2.1', [
      { op: Operation.Get, payload: [T(Tag.UniqueIdentifier, created ?? '')] },
    ]);
    expect(get?.status).to.equal(ResultStatus.OperationFailed);
    const located = await h.ok('2.1', Operation.Locate, []);
    expect(located.value.some((c) => c.tag === Tag.UniqueIdentifier && c.value === created)).to.equal(false);
  });

  it('changes nothing when every item succeeds', async () => {
    const id = await createAes(h, 0x04);
    const results = await h.send(
      '2.1',
      [{ op: Operation.Activate, payload: [T(Tag.UniqueIdentifier, id)] }],
      undo,
    );
    expect(results[0]?.status).to.equal(ResultStatus.Success);
    expect(await stateOf(h, id)).to.equal(State.Active);
  });
});
