/**
 * Key wrapping of Key Blocks (KMIP 1.0 §2.1.5, 1.4 §2.1.5, 2.1 §2.1.5) for
 * Get/Export with a Key Wrapping Specification, and unwrapping of stored
 * wrapped Key Blocks (Get with Key Wrap Type Not Wrapped, Import).
 *
 * Wrapping Methods Encrypt, MAC/sign and Encrypt then MAC/sign (the
 * MAC/Signature over the clear Key Value as the Encoding Option encodes it,
 * or over the wrapped bytes; macSignerFor says which keys do what; checked
 * on unwrap and by verifyWrappedBlock on Register/Import; both in
 * wrapping-macs.ts). MAC/sign then Encrypt and TR-31 are Feature Not
 * Supported. The wrapping key and its cipher: wrapping-keys.ts.
 * Encoding Option (1.1+): TTLV Encoding (the default) wraps the TTLV
 * encoding of the Key Value structure (in 1.x with the attributes the
 * specification names by Attribute Name added to it); No Encoding wraps only
 * the Key Material bytes. The wrapped Key Value is a Byte String (1.4 §2.1.3
 * "Byte String: for wrapped Key Value"; TC-SENSITIVE-1-14, TC_141, TC-WRAP-*-20).
 * The TC-WRAP-2/3-14 clients instead register a No Encoding key as a Key
 * Value structure holding the wrapped Key Material and expect that form back
 * when the key is re-wrapped, so a caller may ask to keep it
 * (`keyValueStructure`); both forms are read back.
 */
import { KmipError } from '../../errors.js';
import { attributeToWire, keyFromV1Name, type ModelAttribute } from '../../messages/attributes.js';
import { findAll } from '../../model/attributes.js';
import { EncodingOption, Tag, WrappingMethod } from '../../spec/index.js';
import { decodeTtlv, encodeTtlv } from '../../ttlv/binary.js';
import {
  byteString,
  child,
  childBytes,
  childEnum,
  childStruct,
  enumeration,
  structure,
} from '../../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../../ttlv/types.js';
import type { OperationContext } from '../types.js';
import { isV2 } from './common.js';
import { cipherFor, loadWrappingKey } from './wrapping-keys.js';
import { macSignerFor, SUPPORTED_METHODS, verifyWrappedBlock } from './wrapping-macs.js';

/** A Key Block carries Key Wrapping Data exactly when its Key Value is wrapped. */
export function isWrappedBlock(block: TtlvStructure | undefined): boolean {
  return block?.value.some((c) => c.tag === Tag.KeyWrappingData) ?? false;
}

/**
 * `block` wrapped as `spec` (a Key Wrapping Specification) asks; the result
 * ends with Key Wrapping Data naming the key, parameters, IV and encoding.
 */
export interface WrapOptions {
  /** 1.x attributes (wire form) to add to the Key Value before TTLV encoding */
  readonly attributes?: readonly TtlvItem[];
  /** No Encoding: keep the Key Value structure with the wrapped Key Material in it */
  readonly keyValueStructure?: boolean;
}

export async function wrapKeyBlock(
  ctx: OperationContext,
  block: TtlvStructure,
  spec: TtlvStructure,
  options: WrapOptions = {},
): Promise<TtlvStructure> {
  const method = childEnum(spec, Tag.WrappingMethod) ?? WrappingMethod.Encrypt;
  if (!SUPPORTED_METHODS.has(method)) {
    throw new KmipError(
      'FeatureNotSupported',
      'the Wrapping Methods supported are Encrypt, MAC/sign and Encrypt then MAC/sign',
    );
  }
  const encrypts = method !== WrappingMethod.MACSign;
  const info = childStruct(spec, Tag.EncryptionKeyInformation);
  const macInfo = childStruct(spec, Tag.MACSignatureKeyInformation);
  const macer = method === WrappingMethod.Encrypt ? undefined : await macSignerFor(ctx, macInfo, 'wrap');
  const encoding = childEnum(spec, Tag.EncodingOption) ?? EncodingOption.TTLVEncoding;
  const kv = child(block, Tag.KeyValue);
  if (kv?.type !== 'Structure') throw new KmipError('InvalidField', 'the key is already wrapped');
  const material = child(kv, Tag.KeyMaterial);
  let plain: Uint8Array;
  if (encoding === EncodingOption.NoEncoding) {
    // No Encoding applies only to Key Material that is a Byte String (1.4 §2.1.5).
    if (material?.type !== 'ByteString') {
      throw new KmipError(
        'EncodingOptionError',
        'No Encoding needs a Key Material byte string (use TTLV Encoding)',
      );
    }
    plain = material.value;
  } else if (encoding === EncodingOption.TTLVEncoding) {
    const extra = options.attributes ?? [];
    plain = new Uint8Array(
      encodeTtlv(extra.length === 0 ? kv : structure(Tag.KeyValue, [...kv.value, ...extra])),
    );
  } else {
    throw new KmipError('EncodingOptionError', 'unknown Encoding Option');
  }
  if (!encrypts) {
    // MAC/sign (1.4 §2.1.5): the Key Value stays in the clear and the
    // MAC/Signature covers exactly the bytes the Encoding Option names.
    const extra = options.attributes ?? [];
    const clearKv =
      encoding === EncodingOption.TTLVEncoding && extra.length > 0
        ? structure(Tag.KeyValue, [...kv.value, ...extra])
        : kv;
    return withWrappingData(block, clearKv, [
      enumeration(Tag.WrappingMethod, method),
      ...(macInfo === undefined ? [] : [macInfo]),
      byteString(Tag.MACSignature, macer?.produce(plain) ?? new Uint8Array()),
      ...echoedEncoding(spec),
    ]);
  }
  const { obj, params } = await loadWrappingKey(ctx, info, 'wrap');
  const cipher = await cipherFor(ctx, obj, params, undefined, 'wrap');
  const wrapped = cipher.run(plain);
  let newKv: TtlvItem;
  if (encoding === EncodingOption.NoEncoding && options.keyValueStructure === true) {
    newKv = structure(
      Tag.KeyValue,
      kv.value.map((c) => (c.tag === Tag.KeyMaterial ? byteString(Tag.KeyMaterial, wrapped) : c)),
    );
  } else {
    newKv = byteString(Tag.KeyValue, wrapped);
  }
  const eki = info === undefined ? [] : [info];
  const data: TtlvItem[] = [enumeration(Tag.WrappingMethod, method), ...eki];
  if (macer !== undefined) {
    // Encrypt-then-MAC/sign: over the wrapped bytes, as they travel.
    if (macInfo !== undefined) data.push(macInfo);
    data.push(byteString(Tag.MACSignature, macer.produce(wrapped)));
  }
  if (cipher.iv !== undefined) data.push(byteString(Tag.IVCounterNonce, cipher.iv));
  data.push(...echoedEncoding(spec));
  return withWrappingData(block, newKv, data);
}

function echoedEncoding(spec: TtlvStructure): TtlvItem[] {
  const e = childEnum(spec, Tag.EncodingOption);
  return e === undefined ? [] : [enumeration(Tag.EncodingOption, e)];
}

function withWrappingData(block: TtlvStructure, kv: TtlvItem, data: TtlvItem[]): TtlvStructure {
  return structure(Tag.KeyBlock, [
    ...block.value.filter((c) => c.tag !== Tag.KeyWrappingData).map((c) => (c.tag === Tag.KeyValue ? kv : c)),
    structure(Tag.KeyWrappingData, data),
  ]);
}

/** The plaintext Key Block of a wrapped one (its Key Wrapping Data removed). */
export async function unwrapKeyBlock(ctx: OperationContext, block: TtlvStructure): Promise<TtlvStructure> {
  const wd = childStruct(block, Tag.KeyWrappingData);
  if (wd === undefined) return block;
  const method = childEnum(wd, Tag.WrappingMethod) ?? WrappingMethod.Encrypt;
  await verifyWrappedBlock(ctx, block);
  if (method === WrappingMethod.MACSign) {
    return structure(
      Tag.KeyBlock,
      block.value.filter((c) => c.tag !== Tag.KeyWrappingData),
    );
  }
  const { obj, params } = await loadWrappingKey(ctx, childStruct(wd, Tag.EncryptionKeyInformation), 'unwrap');
  const encoding = childEnum(wd, Tag.EncodingOption) ?? EncodingOption.TTLVEncoding;
  const kv = child(block, Tag.KeyValue);
  const wrapped =
    kv?.type === 'ByteString'
      ? kv.value
      : kv?.type === 'Structure'
        ? childBytes(kv, Tag.KeyMaterial)
        : undefined;
  if (wrapped === undefined) throw new KmipError('InvalidField', 'the wrapped Key Value is missing');
  const cipher = await cipherFor(ctx, obj, params, childBytes(wd, Tag.IVCounterNonce), 'unwrap');
  const plain = cipher.run(wrapped);
  let newKv: TtlvItem;
  if (encoding === EncodingOption.TTLVEncoding) {
    let decoded: TtlvItem;
    try {
      decoded = decodeTtlv(plain);
    } catch {
      throw new KmipError('EncodingOptionError', 'the unwrapped Key Value is not TTLV');
    }
    if (decoded.tag !== Tag.KeyValue || decoded.type !== 'Structure') {
      throw new KmipError('EncodingOptionError', 'the unwrapped data is not a Key Value structure');
    }
    newKv = decoded;
  } else {
    const rest = kv?.type === 'Structure' ? kv.value.filter((c) => c.tag !== Tag.KeyMaterial) : [];
    newKv = structure(Tag.KeyValue, [byteString(Tag.KeyMaterial, plain), ...rest]);
  }
  return structure(
    Tag.KeyBlock,
    block.value.filter((c) => c.tag !== Tag.KeyWrappingData).map((c) => (c.tag === Tag.KeyValue ? newKv : c)),
  );
}

/**
 * 1.x: the object's attributes a Key Wrapping Specification names by
 * Attribute Name, in wire form, to be wrapped inside the Key Value
 * (1.4 §2.1.5). 2.x Key Values carry no attributes: none.
 */
export function namedAttributes(
  ctx: OperationContext,
  attrs: readonly ModelAttribute[],
  spec: TtlvStructure,
): TtlvItem[] {
  if (isV2(ctx.version)) return [];
  const out: TtlvItem[] = [];
  for (const n of spec.value) {
    if (n.tag !== Tag.AttributeName || n.type !== 'TextString') continue;
    for (const a of findAll(attrs, keyFromV1Name(n.value))) {
      const w = attributeToWire(a, ctx.version);
      if (w !== undefined) out.push(w);
    }
  }
  return out;
}
