/**
 * Join Split Key (KMIP 1.2 §4.39, 2.0 §6.1.31): recombines Split Key objects
 * (Create Split Key's or registered ones) into a new Symmetric Key or Secret
 * Data with the client's attributes; the Cryptographic Algorithm and Length
 * default to those of the parts' Key Blocks.
 *
 * Errors (spec table): fewer parts than the Split Key Threshold, or parts of
 * different splits → Cryptographic Failure (TC-SJ-1/3); an identifier that is
 * not a Split Key, or an Object Type other than Symmetric Key / Secret Data →
 * Invalid Field; an unknown identifier → Item / Object Not Found.
 */
import { KmipError } from '../errors.js';
import { findEnum, findInteger } from '../model/attributes.js';
import { newObjectAttributes } from '../model/lifecycle.js';
import { keyBlockOf } from '../model/object.js';
import { CreatedObjectId, JoinSplitKeyRequest } from '../payloads/create.js';
import { ObjectType, Operation, SecretDataType, Tag } from '../spec/index.js';
import { byteString, childEnum, childInteger, enumeration, structure } from '../ttlv/build.js';
import { checkNameUnique, isDestroyed, notFound, requestedAttributes, stateOf } from './support/common.js';
import { secretBytes } from './support/crypto-common.js';
import { defineOperation } from './support/define.js';
import { joinSecret, type KeyPart, type SplitParameters } from './support/secret-sharing.js';
import { primeOf } from './support/split-keys.js';
import { symmetricKeyContent } from './support/symmetric-keys.js';
import type { OperationContext } from './types.js';

interface LoadedPart extends KeyPart {
  readonly params: SplitParameters;
  readonly algorithm: number | undefined;
  readonly length: number | undefined;
}

async function loadPart(ctx: OperationContext, id: string): Promise<LoadedPart> {
  const obj = await ctx.services.objects.get(id);
  if (obj === undefined || obj.tombstoned) throw notFound(ctx, id);
  if (obj.objectType !== ObjectType.SplitKey)
    throw new KmipError('InvalidField', `object ${id} is not a Split Key`);
  if (isDestroyed(stateOf(obj)) || obj.sealed === undefined) {
    throw new KmipError('ObjectDestroyed', `object ${id} has no key material`);
  }
  const content = await ctx.services.objects.content(obj);
  const parts = childInteger(content, Tag.SplitKeyParts);
  const partId = childInteger(content, Tag.KeyPartIdentifier);
  const threshold = childInteger(content, Tag.SplitKeyThreshold);
  const method = childEnum(content, Tag.SplitKeyMethod);
  if (
    content === undefined ||
    parts === undefined ||
    partId === undefined ||
    threshold === undefined ||
    method === undefined
  ) {
    throw new KmipError('InvalidField', `Split Key ${id} lacks its split parameters`);
  }
  const prime = primeOf(content);
  const block = keyBlockOf(content);
  return {
    id: partId,
    bytes: secretBytes({ obj, content }),
    params: prime === undefined ? { parts, threshold, method } : { parts, threshold, method, prime },
    algorithm:
      childEnum(block, Tag.CryptographicAlgorithm) ?? findEnum(obj.attributes, Tag.CryptographicAlgorithm),
    length:
      childInteger(block, Tag.CryptographicLength) ?? findInteger(obj.attributes, Tag.CryptographicLength),
  };
}

function sameSplit(a: SplitParameters, b: SplitParameters): boolean {
  return a.parts === b.parts && a.threshold === b.threshold && a.method === b.method && a.prime === b.prime;
}

export const joinSplitKey = defineOperation({
  operation: Operation.JoinSplitKey,
  since: '1.2',
  mutates: true,
  request: JoinSplitKeyRequest,
  response: CreatedObjectId,
  async handle(req, ctx) {
    const objectType = req.objectType;
    if (objectType !== ObjectType.SymmetricKey && objectType !== ObjectType.SecretData) {
      throw new KmipError('InvalidField', 'Join Split Key makes a Symmetric Key or Secret Data');
    }
    const ids = [...(req.uniqueIdentifiers ?? [])];
    if (ids.length === 0 && ctx.idPlaceholder !== undefined) ids.push(ctx.idPlaceholder);
    if (ids.length === 0)
      throw new KmipError('InvalidMessage', 'Join Split Key needs the Unique Identifiers of the parts');
    const parts: LoadedPart[] = [];
    for (const id of ids) parts.push(await loadPart(ctx, id));
    const first = parts[0] as LoadedPart;
    if (parts.some((p) => !sameSplit(p.params, first.params))) {
      throw new KmipError('CryptographicFailure', 'the parts come from different splits');
    }
    const attrs = await requestedAttributes(ctx, req);
    await checkNameUnique(ctx, attrs, undefined);
    const algorithm = findEnum(attrs, Tag.CryptographicAlgorithm) ?? first.algorithm;
    const length = findInteger(attrs, Tag.CryptographicLength) ?? first.length;
    const byteLength =
      length !== undefined && objectType === ObjectType.SymmetricKey
        ? Math.ceil(length / 8)
        : first.bytes.length;
    const secret = joinSecret(parts, first.params, byteLength);
    try {
      const content =
        objectType === ObjectType.SymmetricKey
          ? symmetricKeyContent(secret, algorithm ?? 0, length ?? secret.length * 8)
          : structure(Tag.SecretData, [
              enumeration(Tag.SecretDataType, req.secretDataType ?? SecretDataType.Seed),
              structure(Tag.KeyBlock, [
                enumeration(Tag.KeyFormatType, 0x00000002), // Opaque
                structure(Tag.KeyValue, [byteString(Tag.KeyMaterial, secret)]),
              ]),
            ]);
      const obj = await ctx.services.objects.create({
        objectType,
        attributes: newObjectAttributes({
          objectType,
          attributes: attrs,
          content,
          now: ctx.services.clock(),
          algorithm,
          length,
        }),
        content,
        owner: ctx.client.commonName,
      });
      ctx.idPlaceholder = obj.id;
      return { uniqueIdentifier: obj.id };
    } finally {
      secret.fill(0);
    }
  },
});
