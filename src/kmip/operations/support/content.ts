/**
 * An object's content as a Get or Export asks for it: format conversion,
 * wrapping and unwrapping, PKCS#12 (operations/get.ts documents the rules).
 */
import { KmipError } from '../../errors.js';
import { findEnum, findInteger, findValue } from '../../model/attributes.js';
import { convertAsymmetricBlock } from '../../model/key-formats.js';
import { keyBlockOf, type ManagedObject } from '../../model/object.js';
import type { GetRequest } from '../../payloads/objects.js';
import { KeyFormatType, KeyWrapType, ObjectType, Tag } from '../../spec/index.js';
import { child, childBytes, childEnum, enumeration, integer, structure } from '../../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../../ttlv/types.js';
import type { OperationContext } from '../types.js';
import { pkcs12Block } from './pkcs12.js';
import { isWrappedBlock, namedAttributes, unwrapKeyBlock, wrapKeyBlock } from './wrapping.js';

/** Key Block types that carry Cryptographic Algorithm and Length (not Secret Data, 1.0 §2.1.3). */
const ALG_LEN_TYPES: ReadonlySet<number> = new Set([
  ObjectType.SymmetricKey,
  ObjectType.PublicKey,
  ObjectType.PrivateKey,
  ObjectType.SplitKey,
]);

const ASYMMETRIC_TYPES: ReadonlySet<number> = new Set([ObjectType.PublicKey, ObjectType.PrivateKey]);

function withBlock(content: TtlvStructure, block: TtlvStructure): TtlvStructure {
  return { ...content, value: content.value.map((c) => (c.tag === Tag.KeyBlock ? block : c)) };
}

function convertSymmetric(block: TtlvStructure, from: number, to: number): TtlvStructure | undefined {
  const kv = block.value.find((c) => c.tag === Tag.KeyValue);
  if (kv?.type !== 'Structure') return undefined;
  const km = kv.value.find((c) => c.tag === Tag.KeyMaterial);
  if (km === undefined) return undefined;
  let material: TtlvItem | undefined;
  if (
    from === KeyFormatType.Raw &&
    to === KeyFormatType.TransparentSymmetricKey &&
    km.type === 'ByteString'
  ) {
    material = structure(Tag.KeyMaterial, [{ tag: Tag.Key, type: 'ByteString', value: km.value }]);
  } else if (
    from === KeyFormatType.TransparentSymmetricKey &&
    to === KeyFormatType.Raw &&
    km.type === 'Structure'
  ) {
    const key = km.value.find((c) => c.tag === Tag.Key);
    if (key?.type === 'ByteString') material = { tag: Tag.KeyMaterial, type: 'ByteString', value: key.value };
  }
  if (material === undefined) return undefined;
  const newKv = structure(
    Tag.KeyValue,
    kv.value.map((c) => (c.tag === Tag.KeyMaterial ? (material as TtlvItem) : c)),
  );
  return structure(
    Tag.KeyBlock,
    block.value.map((c) => {
      if (c.tag === Tag.KeyFormatType) return enumeration(Tag.KeyFormatType, to);
      return c.tag === Tag.KeyValue ? newKv : c;
    }),
  );
}

/**
 * The content of `obj` (loaded and checked on-line by the pipeline) as the
 * request asks for it (format conversion, wrapping, unwrapping); no side effects.
 */
export async function retrieveContent(
  ctx: OperationContext,
  obj: ManagedObject,
  req: GetRequest,
): Promise<TtlvStructure> {
  const wrapSpec = req.keyWrappingSpecification;
  const wrapType = req.keyWrapType;
  const objects = ctx.services.objects;
  const sensitive = findValue(obj.attributes, Tag.Sensitive);
  if (sensitive?.type === 'Boolean' && sensitive.value && wrapSpec === undefined) {
    // Sensitive (1.4 §3.47): the key material may not leave the server unwrapped.
    throw new KmipError('Sensitive', `object ${obj.id} is Sensitive and cannot be returned in the clear`);
  }
  const extractable = findValue(obj.attributes, Tag.Extractable);
  if (extractable?.type === 'Boolean' && !extractable.value) {
    // Extractable False (1.4 §3.48): not even wrapped (TC-EXTRACTABLE-1).
    throw new KmipError('NotExtractable', `object ${obj.id} is not Extractable`);
  }
  if (obj.sealed === undefined) {
    throw new KmipError('ObjectDestroyed', `object ${obj.id} has no key material`);
  }
  let content = await objects.content(obj);
  if (content === undefined) throw new KmipError('ItemNotFound', `object ${obj.id} has no content`);
  let block = keyBlockOf(content);
  if (block === undefined && wrapSpec !== undefined) {
    throw new KmipError('InvalidField', `object ${obj.id} has no Key Block to wrap`);
  }
  if (block !== undefined) {
    const registeredForm = isWrappedBlock(block) && child(block, Tag.KeyValue)?.type === 'Structure';
    if (isWrappedBlock(block) && (wrapType === KeyWrapType.NotWrapped || wrapSpec !== undefined)) {
      block = await unwrapKeyBlock(ctx, block);
    }
    const wanted = req.keyFormatType;
    const stored = childEnum(block, Tag.KeyFormatType);
    if (wanted === KeyFormatType.PKCS_12 && stored !== KeyFormatType.PKCS_12) {
      if (obj.objectType !== ObjectType.PrivateKey || isWrappedBlock(block) || wrapSpec !== undefined) {
        throw new KmipError(
          'KeyFormatTypeNotSupported',
          'only an unwrapped Private Key can be given as PKCS_12',
        );
      }
      // A key registered from a PFX keeps its PKCS#8 bytes as given.
      const pkcs8 =
        stored === KeyFormatType.PKCS_8
          ? block
          : convertAsymmetricBlock(obj.objectType, block, KeyFormatType.PKCS_8);
      const kv = child(pkcs8, Tag.KeyValue);
      const der = kv?.type === 'Structure' ? childBytes(kv, Tag.KeyMaterial) : undefined;
      if (der === undefined) throw new KmipError('KeyFormatTypeNotSupported', 'the key has no PKCS#8 form');
      return withBlock(content, await pkcs12Block(ctx, obj, der));
    }
    if (wanted !== undefined && stored !== undefined && wanted !== stored) {
      if (isWrappedBlock(block)) {
        throw new KmipError(
          'KeyFormatTypeNotSupported',
          'a key returned as registered (wrapped) cannot be converted',
        );
      }
      const converted =
        obj.objectType === ObjectType.SymmetricKey
          ? convertSymmetric(block, stored, wanted)
          : ASYMMETRIC_TYPES.has(obj.objectType)
            ? convertAsymmetricBlock(obj.objectType, block, wanted)
            : undefined;
      if (converted === undefined) {
        throw new KmipError(
          'KeyFormatTypeNotSupported',
          'the key cannot be returned in that Key Format Type',
        );
      }
      block = converted;
    }
    // Clients expect Algorithm and Length after the Key Value (CLIENTS.md 9).
    if (ALG_LEN_TYPES.has(obj.objectType) && !block.value.some((c) => c.tag === Tag.CryptographicAlgorithm)) {
      const alg = findEnum(obj.attributes, Tag.CryptographicAlgorithm);
      const len = findInteger(obj.attributes, Tag.CryptographicLength);
      const extra: TtlvItem[] = [];
      if (alg !== undefined) extra.push(enumeration(Tag.CryptographicAlgorithm, alg));
      if (len !== undefined) extra.push(integer(Tag.CryptographicLength, len));
      const at = block.value.findIndex((c) => c.tag === Tag.KeyValue) + 1;
      block = structure(Tag.KeyBlock, [...block.value.slice(0, at), ...extra, ...block.value.slice(at)]);
    }
    if (wrapSpec !== undefined) {
      block = await wrapKeyBlock(ctx, block, wrapSpec, {
        attributes: namedAttributes(ctx, obj.attributes, wrapSpec),
        keyValueStructure: registeredForm,
      });
    }
    content = withBlock(content, block);
  }
  return content;
}
