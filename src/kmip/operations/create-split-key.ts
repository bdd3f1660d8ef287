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
import { findEnum, findInteger } from '../model/attributes.js';
import { newObjectAttributes } from '../model/lifecycle.js';
import { keyBlockOf } from '../model/object.js';
import { CreateSplitKeyRequest, CreateSplitKeyResponse } from '../payloads/create.js';
import { bigNumberItem } from '../payloads/fields.js';
import { ObjectType, Operation, Tag } from '../spec/index.js';
import { byteString, childEnum, childInteger, enumeration, integer, structure } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { isDestroyed, notFound, requestedAttributes, stateOf } from './support/common.js';
import { secretBytes } from './support/crypto-common.js';
import { defineObjectOperation } from './support/define.js';
import { type SplitParameters, splitSecret } from './support/secret-sharing.js';

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
  if (p.prime !== undefined) items.push(bigNumberItem(Tag.PrimeFieldSize, p.prime));
  items.push(structure(Tag.KeyBlock, block));
  return structure(Tag.SplitKey, items);
}

export const createSplitKey = defineObjectOperation({
  operation: Operation.CreateSplitKey,
  since: '1.2',
  mutates: true,
  request: CreateSplitKeyRequest,
  response: CreateSplitKeyResponse,
  object: {},
  async handle(req, ctx, { obj: base }) {
    if (req.objectType !== ObjectType.SplitKey) {
      throw new KmipError(
        'InvalidField',
        'Create Split Key makes Split Key objects: Object Type must be Split Key',
      );
    }
    const { splitKeyParts: parts, splitKeyThreshold: threshold, splitKeyMethod: method } = req;
    if (parts === undefined || threshold === undefined || method === undefined) {
      throw new KmipError(
        'InvalidMessage',
        'Split Key Parts, Split Key Threshold and Split Key Method are required',
      );
    }
    const prime = req.primeFieldSize;
    const params: SplitParameters =
      prime === undefined ? { parts, threshold, method } : { parts, threshold, method, prime };
    if (base.tombstoned) throw notFound(ctx, base.id);
    if (isDestroyed(stateOf(base)) || base.sealed === undefined) {
      throw new KmipError('ObjectDestroyed', `object ${base.id} has no key material`);
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
    const attrs = await requestedAttributes(ctx, req);
    const shares = splitSecret(secret, params);
    const now = ctx.services.clock();
    const newParts = shares.map((share) => {
      const partContent = splitKeyContent(params, share.id, share.bytes, algorithm, length);
      return {
        id: ctx.services.objects.newId(),
        objectType: ObjectType.SplitKey,
        attributes: newObjectAttributes({
          objectType: ObjectType.SplitKey,
          attributes: attrs,
          content: partContent,
          now,
          algorithm,
          length,
          generated: true,
        }),
        content: partContent,
        owner: ctx.client.commonName,
      };
    });
    try {
      // All parts or none: a crash between two parts must not leave a split that cannot be joined.
      await ctx.services.objects.writeTogether(newParts, []);
    } finally {
      for (const s of shares) s.bytes.fill(0);
    }
    const ids = newParts.map((p) => p.id);
    ctx.idPlaceholder = ids[0];
    return { uniqueIdentifiers: ids };
  },
});
