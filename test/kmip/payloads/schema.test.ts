import { expect } from 'chai';
import { isKmipError } from '../../../src/kmip/errors.js';
import { DiscoverVersionsPayload, QueryResponse } from '../../../src/kmip/payloads/discovery.js';
import {
  attributeReferences,
  bigNumber,
  requestAttributes,
  responseAttributeList,
  templateNames,
} from '../../../src/kmip/payloads/fields.js';
import { LocateResponse } from '../../../src/kmip/payloads/locate.js';
import { decodePayload, encodePayload, many, text } from '../../../src/kmip/payloads/schema.js';
import { ObjectType, Operation, Tag } from '../../../src/kmip/spec/index.js';
import { enumeration, integer, structure, textString } from '../../../src/kmip/ttlv/build.js';
import type { TtlvStructure } from '../../../src/kmip/ttlv/types.js';

const payload = (...items: TtlvStructure['value']): TtlvStructure => structure(Tag.RequestPayload, items);

describe('payloads/schema: payloads declared as data', () => {
  it('reads nested and repeated fields and writes them back in declaration order', () => {
    const wire = payload(
      structure(Tag.ProtocolVersion, [
        integer(Tag.ProtocolVersionMajor, 2),
        integer(Tag.ProtocolVersionMinor, 1),
      ]),
      structure(Tag.ProtocolVersion, [
        integer(Tag.ProtocolVersionMajor, 1),
        integer(Tag.ProtocolVersionMinor, 4),
      ]),
    );
    const decoded = decodePayload(DiscoverVersionsPayload, wire, '2.1');
    expect(decoded.protocolVersions).to.deep.equal([
      { major: 2, minor: 1 },
      { major: 1, minor: 4 },
    ]);
    expect(encodePayload(DiscoverVersionsPayload, decoded, '2.1')).to.deep.equal(wire.value);
  });

  it('writes in spec order whatever order the object was built in', () => {
    const items = encodePayload(
      QueryResponse,
      { vendorIdentification: 'v', objectTypes: [ObjectType.SymmetricKey], operations: [Operation.Get] },
      '1.4',
    );
    expect(items.map((i) => i.tag)).to.deep.equal([Tag.Operation, Tag.ObjectType, Tag.VendorIdentification]);
  });

  it('writes a field only in the versions of its range (Located Items from 1.3)', () => {
    const value = { locatedItems: 3, uniqueIdentifiers: ['a'] };
    expect(encodePayload(LocateResponse, value, '1.2').map((i) => i.tag)).to.deep.equal([
      Tag.UniqueIdentifier,
    ]);
    expect(encodePayload(LocateResponse, value, '1.3').map((i) => i.tag)).to.deep.equal([
      Tag.LocatedItems,
      Tag.UniqueIdentifier,
    ]);
  });

  it('reads a wrong-typed field as absent, or refuses it with Invalid Message when it says so', () => {
    const lenient = { name: text(Tag.Name) };
    expect(decodePayload(lenient, payload(integer(Tag.Name, 1)), '1.4')).to.deep.equal({});
    const strict = {
      fns: many('Enumeration', Tag.QueryFunction, { wrongType: 'Query Function must be an Enumeration' }),
    };
    let error: unknown;
    try {
      decodePayload(strict, payload(textString(Tag.QueryFunction, 'x')), '1.4');
    } catch (e: unknown) {
      error = e;
    }
    expect(isKmipError(error) && error.reason).to.equal('InvalidMessage');
  });

  it('reads 1.x Template-Attribute and 2.x Attributes into the same model, and writes each shape back', () => {
    const field = requestAttributes([Tag.TemplateAttribute, Tag.Attributes]);
    const v1 = payload(
      structure(Tag.TemplateAttribute, [
        structure(Tag.Attribute, [
          textString(Tag.AttributeName, 'Cryptographic Length'),
          integer(Tag.AttributeValue, 256),
        ]),
      ]),
    );
    const v2 = payload(structure(Tag.Attributes, [integer(Tag.CryptographicLength, 256)]));
    const fromV1 = field.read(v1, '1.4');
    const fromV2 = field.read(v2, '2.1');
    expect(fromV1?.map((a) => a.value)).to.deep.equal(fromV2?.map((a) => a.value));
    expect(field.read(payload(), '2.1')).to.equal(undefined);
    expect(field.write(fromV2, '2.1')).to.deep.equal(v2.value);
    expect(field.write(fromV1, '1.4')).to.deep.equal(v1.value);
  });

  it('shapes response attribute lists and references for the request version', () => {
    const attrs = requestAttributes([Tag.Attributes]).read(
      payload(structure(Tag.Attributes, [enumeration(Tag.ObjectType, ObjectType.SymmetricKey)])),
      '2.1',
    );
    const v1 = responseAttributeList.write(attrs, '1.4');
    expect(v1.map((i) => i.tag)).to.deep.equal([Tag.Attribute]);
    const v2 = responseAttributeList.write(attrs, '2.1');
    expect(v2.map((i) => i.tag)).to.deep.equal([Tag.Attributes]);
    expect(responseAttributeList.read(payload(...v1), '1.4')).to.deep.equal(
      responseAttributeList.read(payload(...v2), '2.1')?.map((a) => ({ ...a, index: undefined })),
    );
    const keys = [{ kind: 'standard', tag: Tag.ObjectType } as const];
    expect(attributeReferences.write(keys, '1.4')).to.deep.equal([
      textString(Tag.AttributeName, 'Object Type'),
    ]);
    expect(attributeReferences.read(payload(...attributeReferences.write(keys, '2.1')), '2.1')).to.deep.equal(
      keys,
    );
  });

  it('reads Template names and Big Integers', () => {
    const names = templateNames([Tag.TemplateAttribute]).read(
      payload(structure(Tag.TemplateAttribute, [structure(Tag.Name, [textString(Tag.NameValue, 'T1')])])),
      '1.2',
    );
    expect(names).to.deep.equal(['T1']);
    const prime = bigNumber(Tag.PrimeFieldSize, 'Prime Field Size');
    const written = prime.write(0x80n, '1.2');
    expect(written[0]).to.deep.include({ type: 'BigInteger' });
    expect(prime.read(payload(...written), '1.2')).to.equal(0x80n);
    expect(prime.read(payload(integer(Tag.PrimeFieldSize, 7)), '1.2')).to.equal(7n);
  });
});
