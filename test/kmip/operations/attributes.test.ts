/**
 * Attribute operations over a real store: Get Attributes, Get Attribute
 * List and Add Attribute, with the attributes the server sets and those a
 * client may give (Fresh).
 */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import {
  type KmipVersion,
  Operation,
  ResultReason,
  RNGAlgorithm,
  Tag,
  UsageLimitsUnit,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import { attr, bool, createAes, nameItem, registerAes, tagsOf } from './fixtures.js';
import { E, kid, kids, members, S, T, text, useHarness } from './harness.js';

/** Create payload of a named AES-256 key (Encrypt and Decrypt) in version `v`. */
const aes = (v: KmipVersion, name: string) => createAes(v, 256, 12, [attr(v, 'Name', nameItem(name))]);

describe('attribute operations', () => {
  const h = useHarness({}, { each: true });

  describe('Get Attributes, Get Attribute List, Add Attribute (K5)', () => {
    it('Get Attributes without names (1.4): spec order, Lease Time, generated-key defaults, honest RNG', async () => {
      const c = await h.ok('1.4', Operation.Create, aes('1.4', 'k5-a'));
      const id = kid(c, Tag.UniqueIdentifier)?.value as string;
      const p = await h.ok('1.4', Operation.GetAttributes, [T(Tag.UniqueIdentifier, id)]);
      const names = kids(p, Tag.Attribute).map((a) => kid(a, Tag.AttributeName)?.value);
      expect(names.slice(0, 5)).to.deep.equal([
        'Unique Identifier',
        'Object Type',
        'Cryptographic Algorithm',
        'Cryptographic Length',
        'Always Sensitive',
      ]);
      expect(names).to.include.members(['Lease Time', 'Extractable', 'Sensitive', 'Never Extractable']);
      expect(names).not.to.include('Short Unique Identifier');
      const rest = names.slice(4) as string[];
      expect(rest).to.deep.equal([...rest].sort());
      const rng = kids(p, Tag.Attribute).find(
        (a) => kid(a, Tag.AttributeName)?.value === 'Random Number Generator',
      );
      expect(kid(kid(rng, Tag.AttributeValue), Tag.RNGAlgorithm)?.value).to.equal(RNGAlgorithm.DRBG);
    });

    it('Get Attribute List (2.1): Short Unique Identifier second, derived from the id', async () => {
      const c = await h.ok('2.1', Operation.Create, aes('2.1', 'k5-b'));
      const id = kid(c, Tag.UniqueIdentifier)?.value as string;
      const list = await h.ok('2.1', Operation.GetAttributeList, [T(Tag.UniqueIdentifier, id)]);
      const refs = kids(list, Tag.AttributeReference).map((r) => r.value);
      expect(refs.slice(0, 5)).to.deep.equal([
        Tag.UniqueIdentifier,
        Tag.ShortUniqueIdentifier,
        Tag.ObjectType,
        Tag.CryptographicAlgorithm,
        Tag.CryptographicLength,
      ]);
      expect(refs).to.include.members([Tag.LeaseTime, Tag.KeyFormatType, Tag.ProtectionStorageMask]);
      const got = await h.ok('2.1', Operation.GetAttributes, [
        T(Tag.UniqueIdentifier, id),
        E(Tag.AttributeReference, Tag.ShortUniqueIdentifier),
      ]);
      const sui = kid(kid(got, Tag.Attributes), Tag.ShortUniqueIdentifier);
      const expected = new Uint8Array(createHash('sha256').update(id).digest());
      expect(sui?.value).to.deep.equal(expected);
    });

    it('Add Attribute (1.0): Usage Limits without a Count gets Count = Total', async () => {
      const c = await h.ok('1.0', Operation.Create, aes('1.0', 'k5-c'));
      const id = kid(c, Tag.UniqueIdentifier)?.value as string;
      const p = await h.ok('1.0', Operation.AddAttribute, [
        T(Tag.UniqueIdentifier, id),
        attr(
          '1.0',
          'Usage Limits',
          S(Tag.UsageLimits, [
            { tag: Tag.UsageLimitsTotal, type: 'LongInteger', value: 1000n },
            E(Tag.UsageLimitsUnit, UsageLimitsUnit.Byte),
          ]),
        ),
      ]);
      const v = kid(kid(p, Tag.Attribute), Tag.AttributeValue);
      expect(kid(v, Tag.UsageLimitsCount)?.value).to.equal(1000n);
    });
  });

  describe('Fresh given by the client (KMIP 1.1 §3.34 "Initially set by: Server or Client")', () => {
    it('keeps Fresh false on Register instead of setting it true', async () => {
      const reg = await h.ok('2.0', Operation.Register, registerAes('2.0', 4, [bool(Tag.Fresh, false)]));
      const id = text(reg, Tag.UniqueIdentifier) ?? '';
      const got = await h.ok('2.0', Operation.GetAttributes, [
        T(Tag.UniqueIdentifier, id),
        E(Tag.AttributeReference, Tag.Fresh),
      ]);
      const fresh = members(kid(got, Tag.Attributes)).filter((c) => c.tag === Tag.Fresh);
      expect(fresh).to.deep.equal([bool(Tag.Fresh, false)]);
    });

    it('still sets Fresh true when the client says nothing', async () => {
      const reg = await h.ok('2.0', Operation.Register, registerAes('2.0', 4));
      const got = await h.ok('2.0', Operation.GetAttributes, [
        T(Tag.UniqueIdentifier, text(reg, Tag.UniqueIdentifier) ?? ''),
        E(Tag.AttributeReference, Tag.Fresh),
      ]);
      expect(kid(kid(got, Tag.Attributes), Tag.Fresh)).to.deep.equal(bool(Tag.Fresh, true));
    });
  });

  describe('Get Attributes naming an attribute twice (1.1 §4.11, TC-171-11/12)', () => {
    /** Get Attributes on a new AES key, naming `named` twice. */
    async function namingTwice(v: KmipVersion, named: TtlvItem) {
      const reg = await h.ok(v, Operation.Register, registerAes(v, 4));
      const [r] = await h.send(v, [
        {
          op: Operation.GetAttributes,
          payload: [T(Tag.UniqueIdentifier, text(reg, Tag.UniqueIdentifier) ?? ''), named, named],
        },
      ]);
      return r;
    }

    it('fails with Invalid Message in 1.x', async () => {
      const r = await namingTwice('1.1', T(Tag.AttributeName, 'Object Type'));
      expect(r?.reason).to.equal(ResultReason.InvalidMessage);
      expect(r?.message).to.contain('Object Type');
    });

    it('fails with Invalid Message for a repeated 2.x Attribute Reference', async () => {
      const r = await namingTwice('2.0', E(Tag.AttributeReference, Tag.State));
      expect(r?.reason).to.equal(ResultReason.InvalidMessage);
    });

    it('still answers distinct names', async () => {
      const reg = await h.ok('2.0', Operation.Register, registerAes('2.0', 4));
      const got = await h.ok('2.0', Operation.GetAttributes, [
        T(Tag.UniqueIdentifier, text(reg, Tag.UniqueIdentifier) ?? ''),
        E(Tag.AttributeReference, Tag.State),
        E(Tag.AttributeReference, Tag.ObjectType),
      ]);
      expect(tagsOf(kid(got, Tag.Attributes))).to.deep.equal([Tag.State, Tag.ObjectType]);
    });
  });
});
