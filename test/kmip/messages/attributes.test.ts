import path from 'node:path';
import { expect } from 'chai';
import { KmipError } from '../../../src/kmip/errors.js';
import {
  attributeReferenceToWire,
  attributesForResponse,
  type ModelAttribute,
  readAttributeReferences,
  readRequestAttributes,
} from '../../../src/kmip/messages/attributes.js';
import { specDictionary } from '../../../src/kmip/spec/dictionary.js';
import { Tag } from '../../../src/kmip/spec/index.js';
import type { TtlvItem, TtlvStructure } from '../../../src/kmip/ttlv/types.js';
import { readVectorFile } from '../../../src/kmip/ttlv/vectors.js';
import { xmlElementToTtlv } from '../../../src/kmip/ttlv/xml.js';
import { VECTORS_ROOT } from '../../helpers/vectors.js';

const VECTORS = path.join(VECTORS_ROOT, 'oasis-kmip-cosmian-mirror');

/** The Request Payload of the first batch item of step `n` of a vector file. */
function requestPayload(file: string, n: number): TtlvStructure {
  const step = readVectorFile(path.join(VECTORS, file)).steps[n];
  if (!step) throw new Error(`no step ${n} in ${file}`);
  const msg = xmlElementToTtlv(step.request, specDictionary, { placeholder: () => undefined });
  const find = (s: TtlvItem, tag: number): TtlvItem => {
    if (s.type !== 'Structure') throw new Error('not a structure');
    const c = s.value.find((x) => x.tag === tag);
    if (!c) throw new Error(`no 0x${tag.toString(16)}`);
    return c;
  };
  return find(find(msg, Tag.BatchItem), Tag.RequestPayload) as TtlvStructure;
}

const CONTAINERS = [Tag.TemplateAttribute, Tag.Attributes];

describe('messages/attributes', () => {
  it('reads the 1.4 Template-Attribute and the 2.1 Attributes of the same OASIS test into one model', () => {
    const v14 = readRequestAttributes(requestPayload('v1.4/XML/mandatory/SKLC-M-1-14.xml', 0), CONTAINERS);
    const v21 = readRequestAttributes(requestPayload('v2.1/XML/mandatory/SKLC-M-1-21.xml', 0), CONTAINERS);
    const strip = (a: readonly ModelAttribute[]) =>
      a.map((x) => ({
        key: x.key,
        value: JSON.stringify(x.value, (_k, v) => (typeof v === 'bigint' ? `${v}` : v)),
      }));
    // The vectors differ only in the Name value (the test case id).
    const rename = (s: string) => s.replace(/SKLC-M-1-(14|21)/, 'SKLC');
    expect(strip(v14).map((a) => ({ ...a, value: rename(a.value) }))).to.deep.equal(
      strip(v21).map((a) => ({ ...a, value: rename(a.value) })),
    );
    expect(v14.map((a) => a.key)).to.deep.equal([
      { kind: 'standard', tag: Tag.CryptographicAlgorithm },
      { kind: 'standard', tag: Tag.CryptographicLength },
      { kind: 'standard', tag: Tag.CryptographicUsageMask },
      { kind: 'standard', tag: Tag.Name },
    ]);
  });

  it('maps 1.x x- custom attributes to 2.x vendor attributes and back', () => {
    const attr: ModelAttribute = {
      key: { kind: 'custom', vendor: 'x', name: 'ID' },
      index: undefined,
      value: { tag: Tag.AttributeValue, type: 'TextString', value: 'abc' },
    };
    const [v1] = attributesForResponse([attr], '1.1');
    expect(v1).to.deep.equal({
      tag: Tag.Attribute,
      type: 'Structure',
      value: [
        { tag: Tag.AttributeName, type: 'TextString', value: 'x-ID' },
        { tag: Tag.AttributeValue, type: 'TextString', value: 'abc' },
      ],
    });
    const [v2] = attributesForResponse([attr], '2.1');
    expect(v2?.tag).to.equal(Tag.Attributes);
    const back = readRequestAttributes({ tag: 0, type: 'Structure', value: [v2 as TtlvItem] }, [
      Tag.Attributes,
    ]);
    expect(back).to.deep.equal([attr]);
    const again = readRequestAttributes(
      {
        tag: 0,
        type: 'Structure',
        value: [{ tag: Tag.TemplateAttribute, type: 'Structure', value: [v1 as TtlvItem] }],
      },
      CONTAINERS,
    );
    expect(again).to.deep.equal([attr]);
  });

  it('keeps custom attribute values of any TTLV type (storage arrays send Integers)', () => {
    const attr: ModelAttribute = {
      key: { kind: 'custom', vendor: 'x', name: 'Slot' },
      index: 2,
      value: { tag: Tag.AttributeValue, type: 'Integer', value: 7 },
    };
    const [w] = attributesForResponse([attr], '1.0');
    const back = readRequestAttributes(
      {
        tag: 0,
        type: 'Structure',
        value: [{ tag: Tag.TemplateAttribute, type: 'Structure', value: [w as TtlvItem] }],
      },
      CONTAINERS,
    );
    expect(back).to.deep.equal([attr]);
  });

  it('leaves out attributes that the response version does not define', () => {
    const fresh: ModelAttribute = {
      key: { kind: 'standard', tag: Tag.Fresh },
      index: undefined,
      value: { tag: Tag.Fresh, type: 'Boolean', value: true },
    };
    expect(attributesForResponse([fresh], '1.0')).to.deep.equal([]);
    expect(attributesForResponse([fresh], '1.1')).to.have.length(1);
  });

  it('reads attribute references of both generations', () => {
    const v1 = readAttributeReferences({
      tag: Tag.RequestPayload,
      type: 'Structure',
      value: [
        { tag: Tag.AttributeName, type: 'TextString', value: 'State' },
        { tag: Tag.AttributeName, type: 'TextString', value: 'x-Vendor' },
      ],
    });
    expect(v1).to.deep.equal([
      { kind: 'standard', tag: Tag.State },
      { kind: 'custom', vendor: 'x', name: 'Vendor' },
    ]);
    const wire = v1.map((k) => attributeReferenceToWire(k, '2.0'));
    expect(
      readAttributeReferences({ tag: Tag.RequestPayload, type: 'Structure', value: wire }),
    ).to.deep.equal(v1);
    expect(attributeReferenceToWire({ kind: 'standard', tag: Tag.State }, '1.2')).to.deep.equal({
      tag: Tag.AttributeName,
      type: 'TextString',
      value: 'State',
    });
  });

  it('refuses an unknown 1.x attribute name with Invalid Field', () => {
    expect(() =>
      readAttributeReferences({
        tag: Tag.RequestPayload,
        type: 'Structure',
        value: [{ tag: Tag.AttributeName, type: 'TextString', value: 'No Such Attribute' }],
      }),
    )
      .to.throw(KmipError)
      .with.property('reason', 'InvalidField');
  });
});
