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
import { serverRngAttribute } from '../../crypto/rng.js';
import { KmipError } from '../errors.js';
import type { ModelAttribute } from '../messages/attributes.js';
import { readRequestAttributes } from '../messages/attributes.js';
import { findEnum, findInteger, setStandard } from '../model/attributes.js';
import { checkClientAttributes, newObjectAttributes } from '../model/lifecycle.js';
import { checkQuantumSafe } from '../model/quantum-safe.js';
import { withTemplates } from '../model/templates.js';
import {
  CryptographicAlgorithm,
  compareVersions,
  enumNameOf,
  KeyFormatType,
  ObjectType,
  Operation,
  SecretDataType,
  Tag,
} from '../spec/index.js';
import { byteString, childEnum, enumeration, integer, structure } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { checkNameUnique, isV2, uidItem } from './common.js';
import { createResidentSymmetricKey, residentRequested } from './hsm-resident.js';
import type { OperationContext, OperationDefinition } from './types.js';

const A = CryptographicAlgorithm;

/** Key sizes in bits per algorithm; bytes = bits / 8 except where noted. */
const FIXED: ReadonlyMap<number, readonly number[]> = new Map([
  [A.AES, [128, 192, 256]],
  [A.DES, [56, 64]],
  // 2-key (112) and 3-key (168) Triple DES; parity bits make them 16 and 24 bytes.
  [A.DES3, [112, 128, 168, 192]],
  [A.SKIPJACK, [80]],
  [A.ChaCha20, [256]],
  [A.ChaCha20Poly1305, [256]],
  [A.Camellia, [128, 192, 256]],
  [A.ARIA, [128, 192, 256]],
  [A.SM4, [128]],
  [A.SEED, [128]],
  [A.IDEA, [128]],
]);

/** Algorithms whose key may have any whole number of bytes in a range. */
const VARIABLE: ReadonlySet<number> = new Set([
  A.HMAC_SHA1,
  A.HMAC_SHA224,
  A.HMAC_SHA256,
  A.HMAC_SHA384,
  A.HMAC_SHA512,
  A.HMAC_MD5,
  A.HMAC_SHA3_224,
  A.HMAC_SHA3_256,
  A.HMAC_SHA3_384,
  A.HMAC_SHA3_512,
  A.Blowfish,
  A.CAST5,
  A.RC2,
  A.RC4,
  A.RC5,
  A.Twofish,
]);

function keyBytes(algorithm: number, bits: number): number | undefined {
  if (algorithm === A.DES && (bits === 56 || bits === 64)) return 8;
  if (algorithm === A.DES3)
    return bits === 112 || bits === 128 ? 16 : bits === 168 || bits === 192 ? 24 : undefined;
  if (FIXED.get(algorithm)?.includes(bits) === true) return bits / 8;
  if (VARIABLE.has(algorithm) && bits >= 40 && bits <= 4096 && bits % 8 === 0) return bits / 8;
  return undefined;
}

/** Key bytes for an algorithm and length in bits, or Invalid Field. */
export function generateSymmetricKey(algorithm: number | undefined, length: number | undefined): Buffer {
  if (algorithm === undefined) throw new KmipError('InvalidField', 'Cryptographic Algorithm is required');
  if (length === undefined) throw new KmipError('InvalidField', 'Cryptographic Length is required');
  const n = keyBytes(algorithm, length);
  if (n === undefined) {
    const name = enumNameOf('CryptographicAlgorithm', algorithm) ?? String(algorithm);
    throw new KmipError('InvalidField', `cannot generate a ${name} key of ${length} bits`);
  }
  return randomBytes(n);
}

export function symmetricKeyContent(key: Uint8Array, algorithm: number, length: number): TtlvStructure {
  const block: TtlvItem[] = [
    enumeration(Tag.KeyFormatType, KeyFormatType.Raw),
    structure(Tag.KeyValue, [byteString(Tag.KeyMaterial, key)]),
    enumeration(Tag.CryptographicAlgorithm, algorithm),
    integer(Tag.CryptographicLength, length),
  ];
  return structure(Tag.SymmetricKey, [structure(Tag.KeyBlock, block)]);
}

/** Refuses Template names where templates are not applied (model/templates.ts applies them elsewhere). */
export function refuseTemplateNames(payload: TtlvStructure, containers: readonly number[]): void {
  for (const c of payload.value) {
    if (containers.includes(c.tag) && c.type === 'Structure' && c.value.some((x) => x.tag === Tag.Name)) {
      throw new KmipError('FeatureNotSupported', 'Template objects are not supported; send the attributes');
    }
  }
}

export const create: OperationDefinition = {
  operation: Operation.Create,
  since: '1.0',
  mutates: true,
  needsObject: false,
  async handle(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
    const objectType = childEnum(payload, Tag.ObjectType);
    const secretData = objectType === ObjectType.SecretData && compareVersions(ctx.version, '1.4') >= 0;
    if (objectType !== ObjectType.SymmetricKey && !secretData) {
      throw new KmipError(
        'InvalidField',
        'Create makes Symmetric Keys (and from KMIP 1.4 Secret Data) only; use Create Key Pair or Register',
      );
    }
    const own = readRequestAttributes(payload, [Tag.TemplateAttribute, Tag.Attributes]);
    checkClientAttributes(own, isV2(ctx.version));
    const attrs = await withTemplates(ctx.services.objects, payload, [Tag.TemplateAttribute], own);
    await checkNameUnique(ctx, attrs, undefined);
    const algorithm = findEnum(attrs, Tag.CryptographicAlgorithm);
    const length = findInteger(attrs, Tag.CryptographicLength);
    if (secretData) return createSecretData(ctx, attrs, length);
    checkQuantumSafe(attrs, algorithm, length);
    if (residentRequested(attrs)) {
      const obj = await createResidentSymmetricKey(ctx, attrs, algorithm, length);
      ctx.idPlaceholder = obj.id;
      return [enumeration(Tag.ObjectType, objectType), uidItem(obj.id)];
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
      return [enumeration(Tag.ObjectType, objectType), uidItem(obj.id)];
    } finally {
      key.fill(0);
    }
  },
};

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
): Promise<TtlvItem[]> {
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
    return [enumeration(Tag.ObjectType, objectType), uidItem(obj.id)];
  } finally {
    secret.fill(0);
  }
}
