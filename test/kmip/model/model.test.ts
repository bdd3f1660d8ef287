import { expect } from 'chai';
import type { ModelAttribute } from '../../../src/kmip/messages/attributes.js';
import { addInstance, setStandard, shapeForVersion } from '../../../src/kmip/model/attributes.js';
import { digestOf, newObjectAttributes } from '../../../src/kmip/model/lifecycle.js';
import type { ManagedObject } from '../../../src/kmip/model/object.js';
import { decodeAttributes, encodeAttributes, fromRecord, toRecord } from '../../../src/kmip/model/record.js';
import {
  CryptographicAlgorithm,
  KeyFormatType,
  NameType,
  ObjectType,
  State,
  Tag,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import { VersionConflictError } from '../../../src/store/types.js';
import { E } from '../../helpers/requests.js';
import { I, openHarness, S, T } from '../operations/harness.js';

const std = (value: TtlvItem): ModelAttribute => ({
  key: { kind: 'standard', tag: value.tag },
  index: 0,
  value,
});

function sampleObject(): ManagedObject {
  let attrs = newObjectAttributes({
    objectType: ObjectType.SymmetricKey,
    attributes: [
      std(E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES)),
      std(I(Tag.CryptographicLength, 128)),
      std(S(Tag.Name, [T(Tag.NameValue, 'k1'), E(Tag.NameType, NameType.UninterpretedTextString)])),
      std(T(Tag.ObjectGroup, 'g')),
      {
        key: { kind: 'custom', vendor: 'x', name: 'Count' },
        index: undefined,
        value: I(Tag.AttributeValue, 5),
      },
    ],
    content: undefined,
    now: new Date('2026-01-01T00:00:00Z'),
  });
  attrs = setStandard(attrs, T(Tag.UniqueIdentifier, 'id-1'));
  return {
    id: 'id-1',
    version: 1,
    objectType: ObjectType.SymmetricKey,
    owner: 'alice',
    attributes: attrs,
    sealed: undefined,
    tombstoned: false,
    createdAt: 0,
  };
}

describe('managed object model', () => {
  it('derives the store index fields and round-trips attributes through a record', () => {
    const obj = sampleObject();
    const rec = toRecord(obj, undefined, { createdAt: 1, updatedAt: 2 });
    expect(rec.objectType).to.equal('SymmetricKey');
    expect(rec.state).to.equal('PreActive');
    expect(rec.names).to.deep.equal(['k1']);
    expect(rec.objectGroups).to.deep.equal(['g']);
    expect(rec.algorithm).to.equal('AES');
    expect(rec.length).to.equal(128);
    expect(rec.owner).to.equal('alice');
    expect(rec.dates.InitialDate).to.equal(Date.parse('2026-01-01T00:00:00Z') / 1000);
    expect(rec.custom).to.deep.equal({ 'x-Count': ['5'] });
    const back = fromRecord(rec);
    expect(back.objectType).to.equal(ObjectType.SymmetricKey);
    expect(back.attributes.map((a) => a.value)).to.deep.equal(obj.attributes.map((a) => a.value));
  });

  it('numbers the instances of a multi-instance attribute as 1.x Attribute Index', () => {
    let attrs: ModelAttribute[] = [];
    for (const n of ['a', 'b', 'c']) {
      attrs = addInstance(attrs, std(S(Tag.Name, [T(Tag.NameValue, n), E(Tag.NameType, 1)]))).attrs;
    }
    expect(attrs.map((a) => a.index)).to.deep.equal([0, 1, 2]);
    expect(decodeAttributes(encodeAttributes(attrs)).map((a) => a.index)).to.deep.equal([0, 1, 2]);
  });

  it('shapes values for a version: enumeration values it lacks are dropped, Digest loses Key Format Type in 1.0', () => {
    const ed = std(E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.Ed25519));
    expect(shapeForVersion(ed, '1.0')).to.equal(undefined);
    expect(shapeForVersion(ed, '2.1')).to.not.equal(undefined);
    const digest = digestOf(
      ObjectType.SymmetricKey,
      S(Tag.SymmetricKey, [
        S(Tag.KeyBlock, [
          E(Tag.KeyFormatType, KeyFormatType.Raw),
          S(Tag.KeyValue, [{ tag: Tag.KeyMaterial, type: 'ByteString', value: new Uint8Array(16).fill(1) }]),
        ]),
      ]),
    );
    expect(digest?.type).to.equal('Structure');
    const d = std(digest as TtlvItem);
    const v10 = shapeForVersion(d, '1.0')?.value;
    const v14 = shapeForVersion(d, '1.4')?.value;
    expect(v10?.type === 'Structure' && v10.value.map((c) => c.tag)).to.deep.equal([
      Tag.HashingAlgorithm,
      Tag.DigestValue,
    ]);
    expect(v14?.type === 'Structure' && v14.value.length).to.equal(3);
  });

  it('makes a new object Active when its Activation Date has passed', () => {
    const attrs = newObjectAttributes({
      objectType: ObjectType.SecretData,
      attributes: [std({ tag: Tag.ActivationDate, type: 'DateTime', value: 1000n })],
      content: undefined,
      now: new Date(),
    });
    const state = attrs.find((a) => a.value.tag === Tag.State)?.value;
    expect(state?.value).to.equal(State.Active);
  });
});

describe('object service', function () {
  this.timeout(20000);

  it('retries an update after a version conflict and keeps both changes', async () => {
    const h = await openHarness();
    try {
      const obj = await h.objects.create({
        objectType: ObjectType.OpaqueObject,
        attributes: [std(E(Tag.ObjectType, ObjectType.OpaqueObject)), std(E(Tag.State, State.PreActive))],
        content: S(Tag.OpaqueObject, [
          { tag: Tag.OpaqueDataValue, type: 'ByteString', value: new Uint8Array(24).fill(9) },
        ]),
        owner: undefined,
      });
      let first = true;
      await h.objects.update(obj.id, async (cur) => {
        if (first) {
          first = false;
          // Another node changes the object between our read and our write.
          await h.objects.update(obj.id, (o) => ({
            attributes: setStandard(o.attributes, T(Tag.Description, 'other')),
          }));
        }
        return { attributes: setStandard(cur.attributes, T(Tag.Comment, 'mine')) };
      });
      const after = await h.objects.require(obj.id);
      expect(after.version).to.equal(3);
      const tags = after.attributes.map((a) => a.value.tag);
      expect(tags).to.include(Tag.Description);
      expect(tags).to.include(Tag.Comment);
      const content = await h.objects.content(after);
      expect(content?.tag).to.equal(Tag.OpaqueObject);
    } finally {
      await h.close();
    }
  });

  it('gives up with storage unavailable after bounded attempts', async () => {
    const h = await openHarness();
    try {
      const obj = await h.objects.create({
        objectType: ObjectType.OpaqueObject,
        attributes: [std(E(Tag.ObjectType, ObjectType.OpaqueObject))],
        content: undefined,
        owner: undefined,
      });
      const store = h.store;
      const original = store.update.bind(store);
      (store as { update: typeof store.update }).update = () =>
        Promise.reject(new VersionConflictError('busy'));
      try {
        await h.objects.update(obj.id, (o) => ({ attributes: [...o.attributes] }));
        expect.fail('should have given up');
      } catch (e: unknown) {
        expect((e as { code?: string }).code).to.equal('ERR_STORE_UNAVAILABLE');
      } finally {
        (store as { update: typeof store.update }).update = original;
      }
    } finally {
      await h.close();
    }
  });
});
