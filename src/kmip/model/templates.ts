/**
 * KMIP 1.x Template objects (1.0 §2.2.6, deprecated in 1.3, gone in 2.0):
 * a named set of attributes registered once and applied to Create,
 * Create Key Pair, Register and Re-key requests whose Template-Attribute
 * names it with a Name item. The Template object's content is the Template
 * structure of the Register request (its Attribute items).
 */
import { KmipError } from '../errors.js';
import { attributeFromV1 } from '../messages/attributes.js';
import { enumNameOf, ObjectType, Tag } from '../spec/index.js';
import { childText } from '../ttlv/build.js';
import { addInstance, isMultiInstance, keysEqual, type ModelAttribute, removeAll } from './attributes.js';
import type { ManagedObject } from './object.js';
import type { ObjectService } from './service.js';

/** The attributes of the Template objects named, in the order named; Item Not Found for an unknown name. */
export async function templateAttributes(
  objects: ObjectService,
  names: readonly string[],
): Promise<ModelAttribute[]> {
  const out: ModelAttribute[] = [];
  const typeName = enumNameOf('ObjectType', ObjectType.Template) ?? 'Template';
  for (const name of names) {
    const found = await findTemplate(objects, name, typeName);
    if (found === undefined) throw new KmipError('ItemNotFound', `no Template named "${name}"`);
    for (const a of found) {
      // A Name inside the Template names the Template itself (1.0 style): not applied to the new object.
      if (nameValue(a) === name) continue;
      out.push(a);
    }
  }
  return out;
}

/** The attributes inside the Template object called `name` (its Name attribute, see lifecycle.ts). */
async function findTemplate(
  objects: ObjectService,
  name: string,
  typeName: string,
): Promise<ModelAttribute[] | undefined> {
  const [id] = await objects.locate({ name, objectType: typeName }, { limit: 1 });
  const obj = id === undefined ? undefined : await objects.get(id);
  return obj === undefined ? undefined : contentAttributes(objects, obj);
}

async function contentAttributes(objects: ObjectService, obj: ManagedObject): Promise<ModelAttribute[]> {
  const content = await objects.content(obj);
  const out: ModelAttribute[] = [];
  for (const a of content?.value ?? []) {
    if (a.tag === Tag.Attribute && a.type === 'Structure') out.push(attributeFromV1(a));
  }
  return out;
}

function nameValue(a: ModelAttribute): string | undefined {
  if (a.key.kind !== 'standard' || a.key.tag !== Tag.Name || a.value.type !== 'Structure') return undefined;
  return childText(a.value, Tag.NameValue);
}

/**
 * `over` applied on `base`: a single-instance attribute of `over` replaces
 * the base's, multi-instance ones (Name, Link, custom) are added. This is
 * the precedence of explicit attributes over template ones (1.0 §2.1.8) and
 * of Re-key's client attributes over the inherited ones.
 */
export function overlayAttributes(
  base: readonly ModelAttribute[],
  over: readonly ModelAttribute[],
): ModelAttribute[] {
  let attrs = [...base];
  const seen: ModelAttribute[] = [];
  for (const a of over) {
    if (!isMultiInstance(a.key) && !seen.some((s) => keysEqual(s.key, a.key))) {
      attrs = removeAll(attrs, a.key);
      seen.push(a);
    }
    attrs = addInstance(attrs, a).attrs;
  }
  return attrs;
}

/**
 * A request's own attributes with those of the Templates it names under
 * them (none named: the request's attributes unchanged).
 */
export async function withTemplates(
  objects: ObjectService,
  names: readonly string[],
  own: readonly ModelAttribute[],
): Promise<ModelAttribute[]> {
  if (names.length === 0) return [...own];
  return overlayAttributes(await templateAttributes(objects, names), own);
}
