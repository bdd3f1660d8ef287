/**
 * Register (KMIP 1.0 §4.3, 1.4 §4.3, 2.1 §6.1.42): stores an object the
 * client supplies — Symmetric Key, Secret Data, Opaque Object, Public and
 * Private Key, Certificate, Split Key, PGP Key — as given (no format
 * conversion), with its attributes.
 *
 * Errors (spec table): Object Type and object structure disagree or the
 * object is missing → Invalid Field / Missing Data; Template names → Feature
 * Not Supported; a server-managed attribute supplied → Invalid Field (1.x) /
 * Attribute Read Only (2.x).
 */
import { KmipError } from '../errors.js';
import { readRequestAttributes } from '../messages/attributes.js';
import { checkClientAttributes, newObjectAttributes } from '../model/lifecycle.js';
import { contentTagOf, keyBlockOf, SUPPORTED_OBJECT_TYPES } from '../model/object.js';
import { enumNameOf, ObjectType, Operation, Tag } from '../spec/index.js';
import { childEnum, childInteger } from '../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../ttlv/types.js';
import { checkNameUnique, isV2, uidItem } from './common.js';
import { refuseTemplateNames } from './create.js';
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
    if (tag === undefined || !SUPPORTED_OBJECT_TYPES.includes(objectType)) {
      const name = enumNameOf('ObjectType', objectType) ?? String(objectType);
      throw new KmipError(
        objectType === ObjectType.Template ? 'FeatureNotSupported' : 'InvalidField',
        `objects of type ${name} cannot be registered`,
      );
    }
    const content = payload.value.find((c) => c.tag === tag);
    if (content === undefined || content.type !== 'Structure') {
      throw new KmipError(
        'InvalidMessage',
        `Register of a ${enumNameOf('ObjectType', objectType)} needs that object`,
      );
    }
    refuseTemplateNames(payload, [Tag.TemplateAttribute]);
    const attrs = readRequestAttributes(payload, [Tag.TemplateAttribute, Tag.Attributes]);
    checkClientAttributes(attrs, isV2(ctx.version));
    await checkNameUnique(ctx, attrs, undefined);
    const kb = keyBlockOf(content);
    const obj = await ctx.services.objects.create({
      objectType,
      attributes: newObjectAttributes({
        objectType,
        attributes: attrs,
        content,
        now: ctx.services.clock(),
        algorithm: childEnum(kb, Tag.CryptographicAlgorithm),
        length: childInteger(kb, Tag.CryptographicLength),
      }),
      content,
      owner: ctx.client.commonName,
    });
    ctx.idPlaceholder = obj.id;
    return [uidItem(obj.id)];
  },
};
