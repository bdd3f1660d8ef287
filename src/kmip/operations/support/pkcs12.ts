/**
 * The PKCS_12 Key Format Type of a Private Key (KMIP 1.4 §2.1.3, §3.29
 * Link; 2.1 §2.1.3, §4.35): Register of a PFX stores its private key
 * (PKCS#8) and each certificate as its own Certificate object, linked by
 * PKCS#12 Certificate Links (key → its certificate → the issuer's ...);
 * Get in PKCS_12 builds a PFX from the key and that chain. Both use the
 * password held by the Secret Data the key's PKCS#12 Password Link names,
 * which must be Active (TC-PKCS12-2-14: Register with a Pre-Active
 * password is Permission Denied). The PKCS#12 Friendly Name attribute is
 * the bags' friendlyName.
 */
import { buildPkcs12, type Pkcs12Contents, parsePkcs12 } from '../../../crypto/pkcs12.js';
import { KmipError } from '../../errors.js';
import { findAll, findValue, type ModelAttribute, standardKey } from '../../model/attributes.js';
import { keyBlockOf, type ManagedObject } from '../../model/object.js';
import { KeyFormatType, LinkType, ObjectType, State, Tag } from '../../spec/index.js';
import {
  byteString,
  child,
  childBytes,
  childEnum,
  childText,
  enumeration,
  structure,
  textString,
} from '../../ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../../ttlv/types.js';
import type { OperationContext } from '../types.js';
import { isV2, stateOf, wrongState } from './common.js';

/** Longest certificate chain followed, a guard against Link cycles. */
const MAX_CHAIN = 10;

function linkTargets(attrs: readonly ModelAttribute[], type: number): string[] {
  const out: string[] = [];
  for (const link of findAll(attrs, standardKey(Tag.Link))) {
    if (link.value.type !== 'Structure' || childEnum(link.value, Tag.LinkType) !== type) continue;
    const id = childText(link.value, Tag.LinkedObjectIdentifier);
    if (id !== undefined) out.push(id);
  }
  return out;
}

/** A Link attribute value. */
export function linkValue(type: number, id: string): TtlvStructure {
  return structure(Tag.Link, [enumeration(Tag.LinkType, type), textString(Tag.LinkedObjectIdentifier, id)]);
}

/** The password bytes of the Active Secret Data named by the PKCS#12 Password Link in `attrs`. */
export async function pkcs12Password(
  ctx: OperationContext,
  attrs: readonly ModelAttribute[],
): Promise<Uint8Array> {
  const id = linkTargets(attrs, LinkType.PKCS_12PasswordLink)[0];
  if (id === undefined) {
    throw new KmipError('MissingData', 'the PKCS_12 format needs a PKCS#12 Password Link to a Secret Data');
  }
  const obj = await ctx.services.objects.get(id);
  if (obj === undefined || obj.tombstoned || obj.objectType !== ObjectType.SecretData) {
    throw new KmipError('ItemNotFound', `the PKCS#12 password ${id} is not a Secret Data of this server`);
  }
  if (stateOf(obj) !== State.Active || obj.sealed === undefined) {
    throw wrongState(ctx, `the PKCS#12 password ${id} is not Active`);
  }
  const content = await ctx.services.objects.content(obj);
  const kv = child(keyBlockOf(content), Tag.KeyValue);
  const bytes = kv?.type === 'Structure' ? childBytes(kv, Tag.KeyMaterial) : undefined;
  if (bytes === undefined)
    throw new KmipError('InvalidField', `the PKCS#12 password ${id} has no usable value`);
  return bytes;
}

/** The PFX of a Private Key Block given as PKCS_12 by a Register request. */
export async function openRegisteredPkcs12(
  ctx: OperationContext,
  block: TtlvStructure,
  attrs: readonly ModelAttribute[],
): Promise<Pkcs12Contents> {
  const kv = child(block, Tag.KeyValue);
  const der =
    kv?.type === 'ByteString'
      ? kv.value
      : kv?.type === 'Structure'
        ? childBytes(kv, Tag.KeyMaterial)
        : undefined;
  if (der === undefined) throw new KmipError('InvalidField', 'a PKCS_12 Key Value must be the PFX bytes');
  if (child(block, Tag.KeyWrappingData) !== undefined) {
    throw new KmipError('KeyFormatTypeNotSupported', 'a PKCS_12 key cannot be registered wrapped');
  }
  return parsePkcs12(der, await pkcs12Password(ctx, attrs));
}

async function certificateChain(ctx: OperationContext, key: ManagedObject): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  let attrs = key.attributes;
  while (out.length < MAX_CHAIN) {
    const id = linkTargets(attrs, LinkType.PKCS_12CertificateLink)[0];
    if (id === undefined || seen.has(id)) break;
    seen.add(id);
    const cert = await ctx.services.objects.get(id);
    if (cert === undefined || cert.tombstoned || cert.sealed === undefined) break;
    const content = await ctx.services.objects.content(cert);
    const der = childBytes(content, Tag.CertificateValue);
    if (der === undefined) break;
    out.push(der);
    attrs = cert.attributes;
  }
  return out;
}

/**
 * A Private Key's Key Block in the PKCS_12 format: Key Value the PFX
 * bytes, and no Cryptographic Algorithm or Length (TC-PKCS12-1/2).
 */
export async function pkcs12Block(
  ctx: OperationContext,
  obj: ManagedObject,
  privateKeyPkcs8: Uint8Array,
): Promise<TtlvStructure> {
  const password = await pkcs12Password(ctx, obj.attributes);
  const name = findValue(obj.attributes, Tag.PKCS_12FriendlyName);
  const pfx = buildPkcs12(
    {
      privateKey: privateKeyPkcs8,
      certificates: await certificateChain(ctx, obj),
      ...(name?.type === 'TextString' ? { friendlyName: name.value } : {}),
    },
    password,
  );
  const items: TtlvItem[] = [
    enumeration(Tag.KeyFormatType, KeyFormatType.PKCS_12),
    // 1.4 sends the PFX as the Key Value itself (TC-PKCS12-1-14), 2.x as its Key Material (TC-PKCS12-1-20).
    isV2(ctx.version)
      ? structure(Tag.KeyValue, [byteString(Tag.KeyMaterial, pfx)])
      : byteString(Tag.KeyValue, pfx),
  ];
  return structure(Tag.KeyBlock, items);
}
