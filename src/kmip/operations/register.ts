/**
 * Register (KMIP 1.0 §4.3, 1.4 §4.3, 2.1 §6.1.42): stores an object the
 * client supplies — Symmetric Key, Secret Data, Opaque Object, Public and
 * Private Key, Certificate, Split Key, PGP Key, and 1.x Templates — as
 * given (no format conversion), with its attributes and those of the
 * Templates its Template-Attribute names (model/templates.ts).
 *
 * Errors (spec table): Object Type and object structure disagree or the
 * object is missing → Invalid Field / Missing Data; an unknown Template
 * name → Item Not Found; a Template in 2.x → Feature Not Supported; a
 * server-managed attribute supplied → Invalid Field (1.x) / Attribute Read
 * Only (2.x); Quantum Safe True for a key that is not → General Failure
 * (model/quantum-safe.ts).
 */
import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { KmipError } from '../errors.js';
import {
  addInstance,
  findEnum,
  findInteger,
  findValue,
  type ModelAttribute,
  setStandard,
  standardKey,
} from '../model/attributes.js';
import { algorithmOf, keyFromBlock, materialFromKey } from '../model/key-formats.js';
import { newObjectAttributes } from '../model/lifecycle.js';
import { contentTagOf, keyBlockOf, SUPPORTED_OBJECT_TYPES } from '../model/object.js';
import { checkQuantumSafe } from '../model/quantum-safe.js';
import type { NewObject } from '../model/writes.js';
import { certificateAttributes } from '../model/x509-attributes.js';
import { RegisterRequest, RegisterResponse } from '../payloads/create.js';
import {
  CertificateType,
  CryptographicAlgorithm,
  enumNameOf,
  HashingAlgorithm,
  KeyFormatType,
  LinkType,
  ObjectType,
  Operation,
  Tag,
} from '../spec/index.js';
import {
  byteString,
  child,
  childBytes,
  childEnum,
  childInteger,
  enumeration,
  integer,
  structure,
  textString,
} from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { checkNameUnique, isV2, requestedAttributes } from './support/common.js';
import { defineOperation } from './support/define.js';
import { linkValue, openRegisteredPkcs12 } from './support/pkcs12.js';
import { isWrappedBlock } from './support/wrapping.js';
import { verifyWrappedBlock } from './support/wrapping-macs.js';
import type { OperationContext } from './types.js';

const AES_BYTES: ReadonlySet<number> = new Set([16, 24, 32]);

/**
 * The plaintext bytes of a Symmetric Key must be what its algorithm and
 * length say: a review registered 0-, 1- and 31-byte "AES-256" keys, stored
 * with Cryptographic Length 256, that every later Encrypt would reject or,
 * worse, a client would trust. Wrapped blocks are checked when unwrapped.
 */
function checkSymmetricMaterial(objectType: number, block: TtlvStructure | undefined): void {
  if (objectType !== ObjectType.SymmetricKey || block === undefined || isWrappedBlock(block)) return;
  const format = childEnum(block, Tag.KeyFormatType);
  if (format !== KeyFormatType.Raw && format !== KeyFormatType.TransparentSymmetricKey) return;
  const kv = child(block, Tag.KeyValue);
  const km = kv?.type === 'Structure' ? child(kv, Tag.KeyMaterial) : undefined;
  const bytes =
    km?.type === 'ByteString' ? km.value : km?.type === 'Structure' ? childBytes(km, Tag.Key) : undefined;
  if (bytes === undefined) return;
  if (bytes.length === 0) throw new KmipError('InvalidField', 'the Symmetric Key has no key material');
  const algorithm = childEnum(block, Tag.CryptographicAlgorithm);
  const length = childInteger(block, Tag.CryptographicLength);
  if (algorithm === CryptographicAlgorithm.AES && !AES_BYTES.has(bytes.length)) {
    throw new KmipError('InvalidField', `an AES key is 16, 24 or 32 bytes, not ${bytes.length}`);
  }
  // 3DES keys are 192 bits with parity and often said to be 168 or 112: only more than the bytes hold is wrong
  const exact = algorithm === CryptographicAlgorithm.AES;
  if (length !== undefined && (exact ? length !== bytes.length * 8 : length > bytes.length * 8)) {
    throw new KmipError(
      'InvalidField',
      `Cryptographic Length ${length} does not match the ${bytes.length * 8}-bit key material`,
    );
  }
}

export const register = defineOperation({
  operation: Operation.Register,
  since: '1.0',
  mutates: true,
  request: RegisterRequest,
  response: RegisterResponse,
  async handle(req, ctx) {
    const objectType = req.objectType;
    if (objectType === undefined) throw new KmipError('InvalidMessage', 'Object Type is required');
    const tag = contentTagOf(objectType);
    // 1.x Template objects (model/templates.ts) are stored and applied; 2.0 removed them.
    const template = objectType === ObjectType.Template && !isV2(ctx.version);
    if (tag === undefined || (!SUPPORTED_OBJECT_TYPES.includes(objectType) && !template)) {
      const name = enumNameOf('ObjectType', objectType) ?? String(objectType);
      throw new KmipError(
        objectType === ObjectType.Template ? 'FeatureNotSupported' : 'InvalidField',
        `objects of type ${name} cannot be registered`,
      );
    }
    const given = req.object;
    if (given?.tag !== tag || given.type !== 'Structure') {
      throw new KmipError(
        'InvalidMessage',
        `Register of a ${enumNameOf('ObjectType', objectType)} needs that object`,
      );
    }
    const content = objectType === ObjectType.SymmetricKey ? withoutKeyCompression(given) : given;
    const clientAttrs = await requestedAttributes(ctx, req);
    await checkNameUnique(ctx, clientAttrs, undefined);
    const block = keyBlockOf(content);
    if (
      objectType === ObjectType.PrivateKey &&
      block !== undefined &&
      childEnum(block, Tag.KeyFormatType) === KeyFormatType.PKCS_12
    ) {
      return registerPkcs12(ctx, block, clientAttrs);
    }
    // A MAC/signed wrapped key is stored as given once its MAC/Signature verifies.
    await verifyWrappedBlock(ctx, block);
    checkSymmetricMaterial(objectType, block);
    const derived = objectType === ObjectType.Certificate ? x509Derived(content) : undefined;
    const attrs = derived === undefined ? clientAttrs : withDerived(clientAttrs, derived.attributes);
    const initial = newObjectAttributes({
      objectType,
      attributes: attrs,
      content,
      now: ctx.services.clock(),
      algorithm: childEnum(block, Tag.CryptographicAlgorithm) ?? derived?.algorithm,
      length: childInteger(block, Tag.CryptographicLength) ?? derived?.length,
    });
    // A registered key is as quantum safe as its algorithm and length, as a created one (create.ts).
    checkQuantumSafe(
      initial,
      findEnum(initial, Tag.CryptographicAlgorithm),
      findInteger(initial, Tag.CryptographicLength),
    );
    const obj = await ctx.services.objects.create({
      objectType,
      attributes: isV2(ctx.version) ? withPkcs1Digest(initial, objectType, block) : initial,
      content,
      owner: ctx.client.commonName,
    });
    ctx.idPlaceholder = obj.id;
    return { uniqueIdentifier: obj.id };
  },
});

/**
 * A PKCS_12 Private Key (operations/pkcs12.ts): the key is stored as its
 * PKCS#8 bytes, exactly as the PFX holds them (its Digest is theirs,
 * TC-PKCS12-2-14), and each certificate as a Certificate object, the key's
 * PKCS#12 Certificate Link naming the first and each certificate's the
 * next. The response names the key.
 */
async function registerPkcs12(
  ctx: OperationContext,
  block: TtlvStructure,
  clientAttrs: readonly ModelAttribute[],
): Promise<{ uniqueIdentifier: string }> {
  const p12 = await openRegisteredPkcs12(ctx, block, clientAttrs);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(p12.privateKey), format: 'der', type: 'pkcs8' });
  } catch {
    throw new KmipError('InvalidField', 'the PKCS#12 private key cannot be read');
  }
  const alg = algorithmOf(key);
  checkQuantumSafe(clientAttrs, alg?.algorithm, alg?.length);
  const given = findValue(clientAttrs, Tag.PKCS_12FriendlyName);
  const name =
    given?.type === 'TextString'
      ? given
      : p12.friendlyName === undefined
        ? undefined
        : textString(Tag.PKCS_12FriendlyName, p12.friendlyName);
  const now = ctx.services.clock();
  const objects = ctx.services.objects;
  // The key and its chain in one atomic write: a crash never leaves certificates without their key.
  const creates: (NewObject & { readonly id: string })[] = [];
  let next: string | undefined;
  for (const der of [...p12.certificates].reverse()) {
    const content = structure(Tag.Certificate, [
      enumeration(Tag.CertificateType, CertificateType.X_509),
      byteString(Tag.CertificateValue, der),
    ]);
    const derived = x509Derived(content);
    let attrs: ModelAttribute[] = derived === undefined ? [] : withDerived([], derived.attributes);
    if (name !== undefined) attrs = setStandard(attrs, name);
    if (next !== undefined) {
      attrs = addInstance(attrs, {
        key: standardKey(Tag.Link),
        index: 0,
        value: linkValue(LinkType.PKCS_12CertificateLink, next),
      }).attrs;
    }
    const certId = objects.newId();
    creates.push({
      id: certId,
      objectType: ObjectType.Certificate,
      attributes: newObjectAttributes({
        objectType: ObjectType.Certificate,
        attributes: attrs,
        content,
        now,
        algorithm: derived?.algorithm,
        length: derived?.length,
      }),
      content,
      owner: ctx.client.commonName,
    });
    next = certId;
  }
  let attrs: ModelAttribute[] = [...clientAttrs];
  if (name !== undefined && given === undefined) attrs = setStandard(attrs, name);
  if (next !== undefined) {
    attrs = addInstance(attrs, {
      key: standardKey(Tag.Link),
      index: 0,
      value: linkValue(LinkType.PKCS_12CertificateLink, next),
    }).attrs;
  }
  const kbItems: TtlvItem[] = [
    enumeration(Tag.KeyFormatType, KeyFormatType.PKCS_8),
    structure(Tag.KeyValue, [byteString(Tag.KeyMaterial, p12.privateKey)]),
  ];
  if (alg !== undefined) {
    kbItems.push(
      enumeration(Tag.CryptographicAlgorithm, alg.algorithm),
      integer(Tag.CryptographicLength, alg.length),
    );
  }
  const content = structure(Tag.PrivateKey, [structure(Tag.KeyBlock, kbItems)]);
  const keyId = objects.newId();
  creates.push({
    id: keyId,
    objectType: ObjectType.PrivateKey,
    attributes: newObjectAttributes({
      objectType: ObjectType.PrivateKey,
      attributes: attrs,
      content,
      now,
      algorithm: alg?.algorithm,
      length: alg?.length,
    }),
    content,
    owner: ctx.client.commonName,
  });
  await objects.writeTogether(creates, []);
  ctx.idPlaceholder = keyId;
  return { uniqueIdentifier: keyId };
}

/**
 * 2.x: a Transparent RSA key registered also has the Digest of its PKCS#1
 * form, after the one of the registered format (TC-IMPEXP-4-20); 1.x
 * servers give only the latter (TC_182_11).
 */
function withPkcs1Digest(
  attrs: ModelAttribute[],
  objectType: number,
  block: TtlvStructure | undefined,
): ModelAttribute[] {
  const format = childEnum(block, Tag.KeyFormatType);
  if (
    block === undefined ||
    (format !== KeyFormatType.TransparentRSAPrivateKey && format !== KeyFormatType.TransparentRSAPublicKey) ||
    child(block, Tag.KeyWrappingData) !== undefined
  ) {
    return attrs;
  }
  let der: TtlvItem;
  try {
    der = materialFromKey(keyFromBlock(objectType, block), KeyFormatType.PKCS_1);
  } catch {
    return attrs;
  }
  if (der.type !== 'ByteString') return attrs;
  const digest = structure(Tag.Digest, [
    enumeration(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256),
    byteString(Tag.DigestValue, new Uint8Array(createHash('sha256').update(der.value).digest())),
    enumeration(Tag.KeyFormatType, KeyFormatType.PKCS_1),
  ]);
  let at = -1;
  attrs.forEach((a, i) => {
    if (a.key.kind === 'standard' && a.key.tag === Tag.Digest) at = i;
  });
  const added = addInstance(attrs, { key: standardKey(Tag.Digest), index: 0, value: digest }).added;
  return at < 0 ? [...attrs, added] : [...attrs.slice(0, at + 1), added, ...attrs.slice(at + 1)];
}

/** The attributes an X.509 certificate carries (crypto/x509-attributes.ts); other types give none. */
function x509Derived(content: TtlvStructure): ReturnType<typeof certificateAttributes> {
  if (childEnum(content, Tag.CertificateType) !== CertificateType.X_509) return undefined;
  const der = childBytes(content, Tag.CertificateValue);
  return der === undefined ? undefined : certificateAttributes(der);
}

/**
 * The certificate's own values replace any the client gave for these
 * attributes, except a client's Certificate Type (Register's 1.x vectors
 * send it in the Template-Attribute).
 */
function withDerived(attrs: readonly ModelAttribute[], derived: readonly TtlvItem[]): ModelAttribute[] {
  let out = [...attrs];
  for (const item of derived) {
    if (item.tag === Tag.CertificateType && findValue(out, Tag.CertificateType) !== undefined) continue;
    out = setStandard(out, item);
  }
  return out;
}

/**
 * Key Compression Type only means something for EC public keys (KMIP 1.0
 * §2.1.3); pg_tde sends one inside symmetric key blocks and expects it
 * ignored, so it is not stored (CLIENTS.md behaviour 7).
 */
function withoutKeyCompression(content: TtlvStructure): TtlvStructure {
  return {
    ...content,
    value: content.value.map((c) =>
      c.tag === Tag.KeyBlock && c.type === 'Structure'
        ? { ...c, value: c.value.filter((k) => k.tag !== Tag.KeyCompressionType) }
        : c,
    ),
  };
}
