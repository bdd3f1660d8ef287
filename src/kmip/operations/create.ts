/**
 * Create (KMIP 1.0 §4.1, 1.4 §4.1, 2.1 §6.1.7): the server generates a
 * Symmetric Key (AES 128/192/256, 3DES 168, HMAC keys) with the attributes
 * the client gives (1.x Template-Attribute, 2.x Attributes), under the
 * attributes of the 1.x Template objects the Template-Attribute names.
 * From 1.4 on it also generates Secret Data ("a new symmetric key or
 * Secret Data", 1.4 §4.1): Cryptographic Length random bits, served as an
 * Opaque Password (TC-CREATE-SD-1-14/20).
 *
 * Errors (spec table): Object Type neither Symmetric Key nor (1.4+) Secret
 * Data → Invalid Field; a Secret Data length not a positive multiple of 8;
 * missing or unsupported algorithm/length → Invalid Field; a server-managed
 * attribute supplied → Invalid Field (1.x) / Attribute Read Only (2.x);
 * an unknown Template name → Item Not Found.
 */
import { randomBytes } from 'node:crypto';
import { KmipError } from '../errors.js';
import type { ModelAttribute } from '../messages/attributes.js';
import { findEnum, findInteger, setStandard } from '../model/attributes.js';
import { newObjectAttributes } from '../model/lifecycle.js';
import { checkQuantumSafe } from '../model/quantum-safe.js';
import { serverRngAttribute } from '../model/rng-attribute.js';
import { CreatedObject, CreateRequest } from '../payloads/create.js';
import { compareVersions, KeyFormatType, ObjectType, Operation, SecretDataType, Tag } from '../spec/index.js';
import { byteString, enumeration, structure } from '../ttlv/build.js';
import type { TtlvStructure } from '../ttlv/types.js';
import { checkNameUnique, requestedAttributes } from './support/common.js';
import { defineOperation } from './support/define.js';
import { createResidentSymmetricKey, residentRequested } from './support/hsm-resident.js';
import { generateSymmetricKey, symmetricKeyContent } from './support/symmetric-keys.js';
import type { OperationContext } from './types.js';
export const create = defineOperation({
  operation: Operation.Create,
  since: '1.0',
  mutates: true,
  request: CreateRequest,
  response: CreatedObject,
  async handle(req, ctx) {
    const objectType = req.objectType;
    const secretData = objectType === ObjectType.SecretData && compareVersions(ctx.version, '1.4') >= 0;
    if (objectType !== ObjectType.SymmetricKey && !secretData) {
      throw new KmipError(
        'InvalidField',
        'Create makes Symmetric Keys (and from KMIP 1.4 Secret Data) only; use Create Key Pair or Register',
      );
    }
    const attrs = await requestedAttributes(ctx, req);
    await checkNameUnique(ctx, attrs, undefined);
    const algorithm = findEnum(attrs, Tag.CryptographicAlgorithm);
    const length = findInteger(attrs, Tag.CryptographicLength);
    if (secretData) return createSecretData(ctx, attrs, length);
    checkQuantumSafe(attrs, algorithm, length);
    if (residentRequested(attrs)) {
      const obj = await createResidentSymmetricKey(ctx, attrs, algorithm, length);
      ctx.idPlaceholder = obj.id;
      return { objectType, uniqueIdentifier: obj.id };
    }
    const key = generateSymmetricKey(algorithm, length);
    try {
      const content = symmetricKeyContent(key, algorithm ?? 0, length ?? 0);
      const obj = await ctx.services.objects.create({
        objectType,
        attributes: setStandard(
          setStandard(
            newObjectAttributes({
              objectType,
              attributes: attrs,
              content,
              now: ctx.services.clock(),
              generated: true,
            }),
            serverRngAttribute(),
          ),
          enumeration(Tag.KeyFormatType, KeyFormatType.Raw),
        ),
        content,
        owner: ctx.client.commonName,
      });
      ctx.idPlaceholder = obj.id;
      return { objectType, uniqueIdentifier: obj.id };
    } finally {
      key.fill(0);
    }
  },
});

/** Generated Secret Data: no Secret Data Type is requested, the server serves it as an Opaque Password. */
export function secretDataContent(secret: Uint8Array): TtlvStructure {
  return structure(Tag.SecretData, [
    enumeration(Tag.SecretDataType, SecretDataType.Password),
    structure(Tag.KeyBlock, [
      enumeration(Tag.KeyFormatType, KeyFormatType.Opaque),
      structure(Tag.KeyValue, [byteString(Tag.KeyMaterial, secret)]),
    ]),
  ]);
}

/** Secret Data of Cryptographic Length random bits (at most 64 KiB). */
async function createSecretData(
  ctx: OperationContext,
  attrs: readonly ModelAttribute[],
  length: number | undefined,
): Promise<CreatedObject> {
  if (length === undefined || length <= 0 || length % 8 !== 0 || length > 524_288) {
    throw new KmipError(
      'InvalidField',
      'Secret Data needs a Cryptographic Length that is a positive multiple of 8',
    );
  }
  const secret = randomBytes(length / 8);
  try {
    const content = secretDataContent(secret);
    const objectType = ObjectType.SecretData;
    const obj = await ctx.services.objects.create({
      objectType,
      attributes: setStandard(
        newObjectAttributes({
          objectType,
          attributes: attrs,
          content,
          now: ctx.services.clock(),
          generated: true,
        }),
        serverRngAttribute(),
      ),
      content,
      owner: ctx.client.commonName,
    });
    ctx.idPlaceholder = obj.id;
    return { objectType, uniqueIdentifier: obj.id };
  } finally {
    secret.fill(0);
  }
}
