/**
 * The lifecycle functions of the object model: due date transitions and the
 * attributes a Re-key gives the new key.
 */
import { expect } from 'chai';
import { findEnum, findValue, type ModelAttribute, standardKey } from '../../../src/kmip/model/attributes.js';
import { applyDueTransitions, rekeyedAttributes } from '../../../src/kmip/model/lifecycle.js';
import { State, Tag } from '../../../src/kmip/spec/index.js';
import { dateTime, enumeration, longInteger } from '../../../src/kmip/ttlv/build.js';
import { kid, S, T } from '../operations/harness.js';

describe('kmip/model/lifecycle', () => {
  it('applyDueTransitions leaves Compromised objects and undue dates alone', () => {
    const at = new Date(1_000_000);
    const base: ModelAttribute[] = [
      { key: standardKey(Tag.State), index: 0, value: enumeration(Tag.State, State.Compromised) },
      { key: standardKey(Tag.DeactivationDate), index: 0, value: dateTime(Tag.DeactivationDate, 1n) },
    ];
    expect(applyDueTransitions(base, at)).to.equal(undefined);
    const pre: ModelAttribute[] = [
      { key: standardKey(Tag.State), index: 0, value: enumeration(Tag.State, State.PreActive) },
      { key: standardKey(Tag.ActivationDate), index: 0, value: dateTime(Tag.ActivationDate, 5000n) },
    ];
    expect(applyDueTransitions(pre, at)).to.equal(undefined);
  });

  it('rekeyedAttributes resets the usage count and drops per-object attributes', () => {
    const old: ModelAttribute[] = [
      { key: standardKey(Tag.State), index: 0, value: enumeration(Tag.State, State.Active) },
      {
        key: standardKey(Tag.UsageLimits),
        index: 0,
        value: S(Tag.UsageLimits, [
          longInteger(Tag.UsageLimitsTotal, 9n),
          longInteger(Tag.UsageLimitsCount, 2n),
        ]),
      },
      { key: { kind: 'custom', vendor: 'x', name: 'Keep' }, index: 0, value: T(Tag.AttributeValue, 'k') },
    ];
    const n = rekeyedAttributes(old, undefined, new Date());
    expect(findEnum(n, Tag.State)).to.equal(undefined);
    expect(kid(findValue(n, Tag.UsageLimits), Tag.UsageLimitsCount)).to.deep.include({ value: 9n });
    expect(n.some((a) => a.key.kind === 'custom')).to.equal(true);
  });
});
