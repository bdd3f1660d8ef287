/**
 * Create Split Key (KMIP 1.2 §4.38, 2.0 §6.1.9): splits the key material of
 * an existing Symmetric Key or Secret Data into Split Key Parts Split Key
 * objects, any Split Key Threshold of which Join Split Key recombines
 * (secret-sharing.ts). Each part keeps the key's Cryptographic Algorithm and
 * Length in its Key Block and attributes, takes the client's attributes, and
 * is generated material: its bytes are random.
 *
 * Errors (spec table): Object Type not Split Key, Threshold above Parts, an
 * unknown method or a missing Prime Field Size → Invalid Field; the key does
 * not exist → Item / Object Not Found; it has no key material (destroyed,
 * or not a symmetric key / secret) → Item Not Found / Invalid Field.
 */
import { KmipError } from '../errors.js';
import { readRequestAttributes } from '../messages/attributes.js';
import { findEnum, findInteger } from '../model/attributes.js';
import { checkClientAttributes, newObjectAttributes } from '../model/lifecycle.js';
import { keyBlockOf } from '../model/object.js';
import { withTemplates } from '../model/templates.js';
import { ObjectType, Operation, Tag } from '../spec/index.js';
import {
  byteString,
  child,
  childEnum,
  childInteger,
  enumeration,
  integer,
  structure,
} from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { isDestroyed, isV2, loadTarget, notFound, reason, stateOf, uidItem } from './common.js';
import { secretBytes } from './crypto-common.js';
import { type SplitParameters, splitSecret } from './secret-sharing.js';
import type { OperationContext, OperationDefinition } from './types.js';

/** The Split Key content structure (KMIP 1.0 §2.2.5) of one part. */
export function splitKeyContent(
  p: SplitParameters,
  partId: number,
  bytes: Uint8Array,
  algorithm: number | undefined,
  length: number | undefined,
): TtlvStructure {
  const block: TtlvItem[] = [
    enumeration(Tag.KeyFormatType, 0x00000001), // Raw
    structure(Tag.KeyValue, [byteString(Tag.KeyMaterial, bytes)]),
  ];
  if (algorithm !== undefined) block.push(enumeration(Tag.CryptographicAlgorithm, algorithm));
  if (length !== undefined) block.push(integer(Tag.CryptographicLength, length));
  const items: TtlvItem[] = [
    integer(Tag.SplitKeyParts, p.parts),
    integer(Tag.KeyPartIdentifier, partId),
    integer(Tag.SplitKeyThreshold, p.threshold),
    enumeration(Tag.SplitKeyMethod, p.method),
  ];
  if (p.prime !== undefined) items.push(bigIntegerItem(Tag.PrimeFieldSize, p.prime));
  items.push(structure(Tag.KeyBlock, block));
  return structure(Tag.SplitKey, items);
}

function bigIntegerItem(tag: number, n: bigint): TtlvItem {
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  // Two's complement, big-endian: a leading 0x00 keeps a positive value positive.
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  return { tag, type: 'BigInteger', value: Buffer.from(hex, 'hex') };
}

/** Prime Field Size as a bigint (BigInteger item, or Integer / Long Integer from lenient clients). */
export function primeOf(payload: TtlvStructure): bigint | undefined {
  const item = child(payload, Tag.PrimeFieldSize);
  if (item === undefined) return undefined;
  if (item.type === 'BigInteger') {
    return item.value.length === 0 ? 0n : BigInt(`0x${Buffer.from(item.value).toString('hex')}`);
  }
  if (item.type === 'Integer') return BigInt(item.value);
  if (item.type === 'LongInteger') return item.value;
  throw new KmipError('InvalidField', 'Prime Field Size must be a Big Integer');
}

export const createSplitKey: OperationDefinition = {
  operation: Operation.CreateSplitKey,
  since: '1.2',
  mutates: true,
  needsObject: true,
  async handle(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
    if (childEnum(payload, Tag.ObjectType) !== ObjectType.SplitKey) {
      throw new KmipError(
        'InvalidField',
        'Create Split Key makes Split Key objects: Object Type must be Split Key',
      );
    }
    const parts = childInteger(payload, Tag.SplitKeyParts);
    const threshold = childInteger(payload, Tag.SplitKeyThreshold);
    const method = childEnum(payload, Tag.SplitKeyMethod);
    if (parts === undefined || threshold === undefined || method === undefined) {
      throw new KmipError(
        'InvalidMessage',
        'Split Key Parts, Split Key Threshold and Split Key Method are required',
      );
    }
    const prime = primeOf(payload);
    const params: SplitParameters =
      prime === undefined ? { parts, threshold, method } : { parts, threshold, method, prime };
    const base = await loadTarget(payload, ctx);
    if (base.tombstoned) throw notFound(ctx, base.id);
    if (isDestroyed(stateOf(base)) || base.sealed === undefined) {
      throw new KmipError(
        reason(ctx, 'ObjectDestroyed', 'ItemNotFound'),
        `object ${base.id} has no key material`,
      );
    }
    if (base.objectType !== ObjectType.SymmetricKey && base.objectType !== ObjectType.SecretData) {
      throw new KmipError('InvalidField', 'only Symmetric Keys and Secret Data can be split');
    }
    const content = await ctx.services.objects.content(base);
    if (content === undefined) throw notFound(ctx, base.id);
    const secret = secretBytes({ obj: base, content });
    const block = keyBlockOf(content);
    const algorithm =
      childEnum(block, Tag.CryptographicAlgorithm) ?? findEnum(base.attributes, Tag.CryptographicAlgorithm);
    const length =
      childInteger(block, Tag.CryptographicLength) ?? findInteger(base.attributes, Tag.CryptographicLength);

    const own = readRequestAttributes(payload, [Tag.TemplateAttribute, Tag.Attributes]);
    checkClientAttributes(own, isV2(ctx.version));
    const attrs = await withTemplates(ctx.services.objects, payload, [Tag.TemplateAttribute], own);
    const shares = splitSecret(secret, params);
    const ids: string[] = [];
    try {
      for (const share of shares) {
        const partContent = splitKeyContent(params, share.id, share.bytes, algorithm, length);
        const obj = await ctx.services.objects.create({
          objectType: ObjectType.SplitKey,
          attributes: newObjectAttributes({
            objectType: ObjectType.SplitKey,
            attributes: attrs,
            content: partContent,
            now: ctx.services.clock(),
            algorithm,
            length,
            generated: true,
          }),
          content: partContent,
          owner: ctx.client.commonName,
        });
        ids.push(obj.id);
      }
    } finally {
      for (const s of shares) s.bytes.fill(0);
    }
    ctx.idPlaceholder = ids[0];
    return ids.map(uidItem);
  },
};
