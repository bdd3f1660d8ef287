/**
 * Import (KMIP 1.4, 2.0 §6.1.26, 2.1 §6.1.27): stores an object, typically
 * one Exported by another server, under the Unique Identifier the client
 * gives and with all of its attributes set to the supplied values: the
 * "Initially set by" / "When implicitly set" rules are not enforced, so
 * State, the dates, Digest and Fresh are kept as given. Attributes the
 * request leaves out that every object has (State, Initial Date...) get the
 * values Register would give. Replace Existing true replaces an object with
 * that identifier (TC-IMPEXP-4: a destroyed key re-imported); absent or
 * false, an existing one is an error. A replacement keeps the replaced
 * object's owner (tenant): with access control on it is authorised as a
 * Destroy of that object plus a Register (src/auth/access.ts, dual control
 * included; an approval used for it is given back when the Import fails).
 * The server's own objects (owner kmip-server:…) are never replaced, and
 * identifiers starting with kmip-server: (its records) are refused. Key Wrap Type Not Wrapped unwraps a
 * wrapped Key Block before storing it (wrapping.ts unwrapKeyBlock); As
 * Registered or absent stores the object as given. The ID Placeholder
 * becomes the identifier.
 *
 * Errors (spec table): an object with that identifier and Replace Existing
 * not true → Object Already Exists; Object Type missing or not matching the
 * object → Invalid Message / Invalid Field; unsupported type → Invalid
 * Field; the wrapping key missing or unusable → the errors of unwrapping
 * (Wrapping Object Not Found / Destroyed / Archived, Wrong Key Lifecycle
 * State, Incompatible Cryptographic Usage Mask).
 */
import { KmipError } from '../errors.js';
import { keysEqual, type ModelAttribute, setStandard } from '../model/attributes.js';
import { newObjectAttributes } from '../model/lifecycle.js';
import { contentTagOf, keyBlockOf, SUPPORTED_OBJECT_TYPES } from '../model/object.js';
import { SYSTEM_OWNER_PREFIX } from '../model/service.js';
import { ImportRequest, ImportResponse } from '../payloads/misc.js';
import { enumNameOf, KeyWrapType, Operation, Tag } from '../spec/index.js';
import { childEnum, childInteger, enumeration } from '../ttlv/build.js';
import type { TtlvStructure } from '../ttlv/types.js';
import { checkNameUnique, uidItem } from './support/common.js';
import { defineOperation } from './support/define.js';
import { isWrappedBlock, unwrapKeyBlock } from './support/wrapping.js';
import { verifyWrappedBlock } from './support/wrapping-macs.js';
import type { OperationContext } from './types.js';

/** Attribute Index 0, 1, ... per attribute, in the order given (2.x lists carry no index). */
function numbered(attrs: readonly ModelAttribute[]): ModelAttribute[] {
  const out: ModelAttribute[] = [];
  for (const a of attrs) {
    const index = out.filter((o) => keysEqual(o.key, a.key)).length;
    out.push({ ...a, index });
  }
  return out;
}

/**
 * The attributes every object of its type has (KMIP 2.0 §4 "always
 * present"); only these are filled in when an Import leaves them out.
 */
const REQUIRED: ReadonlySet<number> = new Set([
  Tag.State,
  Tag.InitialDate,
  Tag.LastChangeDate,
  Tag.CryptographicAlgorithm,
  Tag.CryptographicLength,
  Tag.Digest,
]);

/** The supplied attributes, then the required ones of `defaults` they lack. */
export function importedAttributes(
  supplied: readonly ModelAttribute[],
  defaults: readonly ModelAttribute[],
): ModelAttribute[] {
  const out = numbered(supplied);
  for (const d of defaults) {
    if (d.key.kind !== 'standard' || !REQUIRED.has(d.key.tag)) continue;
    if (!out.some((a) => keysEqual(a.key, d.key))) out.push(d);
  }
  return out;
}

async function importedContent(
  ctx: OperationContext,
  req: ImportRequest,
  objectType: number,
): Promise<TtlvStructure> {
  const tag = contentTagOf(objectType);
  const name = enumNameOf('ObjectType', objectType) ?? String(objectType);
  if (tag === undefined || !SUPPORTED_OBJECT_TYPES.includes(objectType)) {
    throw new KmipError('InvalidField', `objects of type ${name} cannot be imported`);
  }
  const given = req.object;
  if (given?.tag !== tag || given.type !== 'Structure') {
    throw new KmipError('InvalidMessage', `Import of a ${name} needs that object`);
  }
  const block = keyBlockOf(given);
  if (req.keyWrapType !== KeyWrapType.NotWrapped || !isWrappedBlock(block)) {
    // Stored as registered: a MAC/Signature must still verify.
    await verifyWrappedBlock(ctx, block);
    return given;
  }
  if (block === undefined) return given;
  const plain = await unwrapKeyBlock(ctx, block);
  return { ...given, value: given.value.map((c) => (c.tag === Tag.KeyBlock ? plain : c)) };
}

export const importOperation = defineOperation({
  operation: Operation.Import,
  since: '1.4',
  mutates: true,
  request: ImportRequest,
  response: ImportResponse,
  // A dual-control approval used for a replacement goes back if the Import then fails
  // (common.ts givingApprovalBack, in operations/index.ts).
  handle: importObject,
});

async function importObject(
  req: ImportRequest,
  ctx: OperationContext,
): Promise<{ uniqueIdentifier: string }> {
  const id = req.uniqueIdentifier;
  if (id === undefined || id === '') {
    throw new KmipError('InvalidMessage', 'Import needs the Unique Identifier of the object');
  }
  if (id.trim().toLowerCase().startsWith(SYSTEM_OWNER_PREFIX)) {
    // The server's records live there (src/auth/records.ts): a client must not take their identifiers.
    throw new KmipError(
      'PermissionDenied',
      `Unique Identifier ${id}: identifiers starting with ${SYSTEM_OWNER_PREFIX} are reserved for the server`,
    );
  }
  const replace = req.replaceExisting === true;
  if (replace) {
    const existing = await ctx.services.objects.get(id);
    if (existing?.owner?.startsWith(SYSTEM_OWNER_PREFIX)) {
      throw new KmipError(
        'PermissionDenied',
        `object ${id} is the server's own and is never replaced by Import`,
      );
    }
  }
  const objectType = req.objectType;
  if (objectType === undefined) throw new KmipError('InvalidMessage', 'Object Type is required');
  const content = await importedContent(ctx, req, objectType);
  let supplied = [...(req.attributes ?? [])];
  supplied = setStandard(supplied, uidItem(id));
  supplied = setStandard(supplied, enumeration(Tag.ObjectType, objectType));
  await checkNameUnique(ctx, supplied, id);
  const kb = keyBlockOf(content);
  const defaults = newObjectAttributes({
    objectType,
    attributes: [],
    content,
    now: ctx.services.clock(),
    algorithm: childEnum(kb, Tag.CryptographicAlgorithm),
    length: childInteger(kb, Tag.CryptographicLength),
  });
  const obj = await ctx.services.objects.createWithId(
    id,
    {
      objectType,
      attributes: importedAttributes(supplied, defaults),
      content,
      owner: ctx.client.commonName,
    },
    replace,
  );
  ctx.idPlaceholder = obj.id;
  return { uniqueIdentifier: obj.id };
}
