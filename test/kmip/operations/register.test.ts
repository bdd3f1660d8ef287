import { expect } from 'chai';
import {
  CryptographicAlgorithm,
  KeyFormatType,
  type KmipVersion,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  Tag,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import { B, E, type Harness, I, openHarness, S } from './harness.js';

function registerAes(
  v: KmipVersion,
  bytes: number,
  length: number,
  format: number = KeyFormatType.Raw,
): TtlvItem[] {
  const material =
    format === KeyFormatType.Raw
      ? B(Tag.KeyMaterial, new Uint8Array(bytes).fill(7))
      : S(Tag.KeyMaterial, [B(Tag.Key, new Uint8Array(bytes).fill(7))]);
  return [
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    S(v.startsWith('2.') ? Tag.Attributes : Tag.TemplateAttribute, []),
    S(Tag.SymmetricKey, [
      S(Tag.KeyBlock, [
        E(Tag.KeyFormatType, format),
        S(Tag.KeyValue, [material]),
        E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
        I(Tag.CryptographicLength, length),
      ]),
    ]),
  ];
}

describe('Register: symmetric key material matches its algorithm and length', () => {
  let h: Harness;
  before(async () => {
    h = await openHarness();
  });
  after(async () => {
    await h.close();
  });

  for (const v of ['1.4', '2.1'] as const) {
    for (const [bytes, length] of [
      [0, 256],
      [1, 256],
      [31, 256],
      [32, 128],
    ] as const) {
      it(`${v}: refuses a ${bytes}-byte AES key said to be ${length} bits with Invalid Field`, async () => {
        const before = await h.store.count({});
        const [r] = await h.send(v, [{ op: Operation.Register, payload: registerAes(v, bytes, length) }]);
        expect(r?.status).to.equal(ResultStatus.OperationFailed);
        expect(r?.reason).to.equal(ResultReason.InvalidField);
        expect(await h.store.count({})).to.equal(before);
      });
    }
    for (const bytes of [16, 24, 32]) {
      it(`${v}: accepts a ${bytes * 8}-bit AES key (Raw and Transparent Symmetric Key)`, async () => {
        await h.ok(v, Operation.Register, registerAes(v, bytes, bytes * 8));
        await h.ok(
          v,
          Operation.Register,
          registerAes(v, bytes, bytes * 8, KeyFormatType.TransparentSymmetricKey),
        );
      });
    }
  }
});
