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
 * Only (2.x).
 */
import { certificateAttributes } from '../../crypto/x509-attributes.js';
import { KmipError } from '../errors.js';
import { readRequestAttributes } from '../messages/attributes.js';
import { findValue, type ModelAttribute, setStandard } from '../model/attributes.js';
import { checkClientAttributes, newObjectAttributes } from '../model/lifecycle.js';
import { contentTagOf, keyBlockOf, SUPPORTED_OBJECT_TYPES } from '../model/object.js';
import { withTemplates } from '../model/templates.js';
import { CertificateType, enumNameOf, ObjectType, Operation, Tag } from '../spec/index.js';
import { childBytes, childEnum, childInteger } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { checkNameUnique, isV2, uidItem } from './common.js';
import type { OperationContext, OperationDefinition } from './types.js';

export const register: OperationDefinition = {
  operation: Operation.Register,
  since: '1.0',
  mutates: true,
  needsObject: false,
  async handle(payload: TtlvStructure, ctx: OperationContext): Promise<TtlvItem[]> {
    const objectType = childEnum(payload, Tag.ObjectType);
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
    const given = payload.value.find((c) => c.tag === tag);
    if (given === undefined || given.type !== 'Structure') {
      throw new KmipError(
        'InvalidMessage',
        `Register of a ${enumNameOf('ObjectType', objectType)} needs that object`,
      );
    }
    const content = objectType === ObjectType.SymmetricKey ? withoutKeyCompression(given) : given;
    const own = readRequestAttributes(payload, [Tag.TemplateAttribute, Tag.Attributes]);
    checkClientAttributes(own, isV2(ctx.version));
    const clientAttrs = await withTemplates(ctx.services.objects, payload, [Tag.TemplateAttribute], own);
    await checkNameUnique(ctx, clientAttrs, undefined);
    const derived = objectType === ObjectType.Certificate ? x509Derived(content) : undefined;
    const attrs = derived === undefined ? clientAttrs : withDerived(clientAttrs, derived.attributes);
    const kb = keyBlockOf(content);
    const obj = await ctx.services.objects.create({
      objectType,
      attributes: newObjectAttributes({
        objectType,
        attributes: attrs,
        content,
        now: ctx.services.clock(),
        algorithm: childEnum(kb, Tag.CryptographicAlgorithm) ?? derived?.algorithm,
        length: childInteger(kb, Tag.CryptographicLength) ?? derived?.length,
      }),
      content,
      owner: ctx.client.commonName,
    });
    ctx.idPlaceholder = obj.id;
    return [uidItem(obj.id)];
  },
};

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
