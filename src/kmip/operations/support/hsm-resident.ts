/**
 * Keys that stay inside the HSM (docs/hsm.md "HSM-resident keys"). A Create
 * or Create Key Pair carrying the custom attribute x-HSM-Resident = true
 * (1.x Attribute Name "x-HSM-Resident"; 2.x Vendor Attribute with Vendor
 * Identification "x" and Attribute Name "HSM-Resident") on a server with the
 * pkcs11 provider generates the AES key, or the RSA / EC private key, in the
 * token: token object, CKA_SENSITIVE, not CKA_EXTRACTABLE. The store keeps
 * no key material for it (no sealed content), only attributes: Sensitive,
 * Always Sensitive, not Extractable, Never Extractable, Protection Storage
 * Mask Hardware, and x-HSM-Key-Reference ("pkcs11:<token>:kmip:<id>").
 *
 * The token object is named by its CKA_LABEL "kmip:<object id>", not by the
 * reference attribute, which a client may change: a managed object can only
 * ever reach its own token key.
 */
import { createHash, createPublicKey, type KeyObject, randomUUID } from 'node:crypto';
import { derSignature, hashLength, type SignatureScheme } from '../../../crypto/signature.js';
import type { HsmKeyService } from '../../../hsm/types.js';
import { KmipError } from '../../errors.js';
import type { ModelAttribute } from '../../messages/attributes.js';
import { findAll, findEnum, findInteger, findValue, setSingle, setStandard } from '../../model/attributes.js';
import { algorithmOf, asymmetricContent } from '../../model/key-formats.js';
import { newObjectAttributes } from '../../model/lifecycle.js';
import type { ManagedObject } from '../../model/object.js';
import { serverRngAttribute } from '../../model/rng-attribute.js';
import {
  CryptographicAlgorithm,
  KeyFormatType,
  LinkType,
  ObjectType,
  ProtectionStorageMask,
  RecommendedCurve,
  Tag,
} from '../../spec/index.js';
import {
  boolean,
  childEnum,
  childText,
  enumeration,
  integer,
  structure,
  textString,
} from '../../ttlv/build.js';
import type { TtlvStructure } from '../../ttlv/types.js';
import { asymmetricKeyOf } from './crypto-common.js';
import { HSM_REFERENCE_KEY, hsmFailure, hsmLabel, hsmOf, isResident } from './hsm-keys.js';

export { hsmFailure, hsmLabel, hsmOf, isResident, residentRequested } from './hsm-keys.js';

import type { OperationContext } from '../types.js';

function residentAttributes(attrs: readonly ModelAttribute[], ref: string): ModelAttribute[] {
  let out = setStandard(attrs, boolean(Tag.Sensitive, true));
  out = setStandard(out, boolean(Tag.Extractable, false));
  out = setStandard(out, integer(Tag.ProtectionStorageMask, ProtectionStorageMask.Hardware));
  return setSingle(out, { key: HSM_REFERENCE_KEY, index: 0, value: textString(Tag.AttributeValue, ref) });
}

function reference(hsm: HsmKeyService, id: string): string {
  return `pkcs11:${hsm.tokenLabel}:${hsmLabel(id)}`;
}

/** Stores the object under `id`; destroys the token key when that fails, so no orphan stays behind. */
async function store(
  ctx: OperationContext,
  hsm: HsmKeyService,
  id: string,
  objectType: number,
  attributes: ModelAttribute[],
  content: TtlvStructure | undefined,
): Promise<ManagedObject> {
  try {
    return await ctx.services.objects.createWithId(
      id,
      { objectType, attributes, content, owner: ctx.client.commonName },
      false,
    );
  } catch (e: unknown) {
    await hsm.destroy(hsmLabel(id)).catch(() => 0);
    throw e;
  }
}

/** Create (create.ts) of an AES key inside the HSM. */
export async function createResidentSymmetricKey(
  ctx: OperationContext,
  attrs: readonly ModelAttribute[],
  algorithm: number | undefined,
  length: number | undefined,
): Promise<ManagedObject> {
  const hsm = hsmOf(ctx);
  if (algorithm !== CryptographicAlgorithm.AES || (length !== 128 && length !== 192 && length !== 256)) {
    throw new KmipError(
      'InvalidField',
      'a key inside the HSM is AES 128, 192 or 256 (or an RSA / EC key pair)',
    );
  }
  const id = randomUUID();
  try {
    await hsm.generateSecretKey(hsmLabel(id), { algorithm: 'aes', bits: length });
  } catch (e: unknown) {
    throw hsmFailure(e);
  }
  let all = newObjectAttributes({
    objectType: ObjectType.SymmetricKey,
    attributes: residentAttributes(attrs, reference(hsm, id)),
    content: undefined,
    now: ctx.services.clock(),
    generated: true,
  });
  all = setStandard(all, serverRngAttribute());
  return store(ctx, hsm, id, ObjectType.SymmetricKey, all, undefined);
}

function curveOf(attrs: readonly ModelAttribute[]): 'P-256' | 'P-384' | 'P-521' {
  const curve = childEnum(findValue(attrs, Tag.CryptographicDomainParameters), Tag.RecommendedCurve);
  const length = findInteger(attrs, Tag.CryptographicLength);
  if (curve === RecommendedCurve.P_384 || (curve === undefined && length === 384)) return 'P-384';
  if (curve === RecommendedCurve.P_521 || (curve === undefined && length === 521)) return 'P-521';
  if (curve === undefined || curve === RecommendedCurve.P_256) return 'P-256';
  throw new KmipError('InvalidField', 'a key pair inside the HSM uses curve P-256, P-384 or P-521');
}

const EC = new Set<number>([CryptographicAlgorithm.EC, CryptographicAlgorithm.ECDSA]);

/**
 * Create Key Pair inside the HSM: the private key stays in the token (Sign
 * only); the public key is an ordinary stored Public Key, linked both ways.
 */
export async function createResidentKeyPair(
  ctx: OperationContext,
  req: {
    readonly privateAttributes: readonly ModelAttribute[];
    readonly publicAttributes: readonly ModelAttribute[];
  },
): Promise<{ privateId: string; publicId: string }> {
  const hsm = hsmOf(ctx);
  const attrs = req.privateAttributes;
  const algorithm =
    findEnum(attrs, Tag.CryptographicAlgorithm) ?? findEnum(req.publicAttributes, Tag.CryptographicAlgorithm);
  const id = randomUUID();
  let spki: Uint8Array;
  try {
    if (algorithm === CryptographicAlgorithm.RSA) {
      const bits = findInteger(attrs, Tag.CryptographicLength);
      if (bits === undefined) throw new KmipError('InvalidField', 'Cryptographic Length is required');
      spki = await hsm.generateKeyPair(hsmLabel(id), { kind: 'rsa', bits });
    } else if (algorithm !== undefined && EC.has(algorithm)) {
      spki = await hsm.generateKeyPair(hsmLabel(id), { kind: 'ec', curve: curveOf(attrs) });
    } else {
      throw new KmipError('InvalidField', 'a key pair inside the HSM is RSA or EC (ECDSA)');
    }
  } catch (e: unknown) {
    throw hsmFailure(e);
  }
  const publicKey = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  const alg = algorithm;
  const length = algorithmOf(publicKey)?.length ?? 0;
  const now = ctx.services.clock();
  const link = (type: number, to: string): ModelAttribute => ({
    key: { kind: 'standard', tag: Tag.Link },
    index: 0,
    value: structure(Tag.Link, [enumeration(Tag.LinkType, type), textString(Tag.LinkedObjectIdentifier, to)]),
  });
  const publicId = randomUUID();
  let privAttrs = newObjectAttributes({
    objectType: ObjectType.PrivateKey,
    attributes: [...residentAttributes(attrs, reference(hsm, id)), link(LinkType.PublicKeyLink, publicId)],
    content: undefined,
    now,
    algorithm: alg,
    length,
    generated: true,
  });
  privAttrs = setStandard(privAttrs, serverRngAttribute());
  const priv = await store(ctx, hsm, id, ObjectType.PrivateKey, privAttrs, undefined);
  const format = publicKey.asymmetricKeyType === 'rsa' ? KeyFormatType.PKCS_1 : KeyFormatType.X_509;
  const content = asymmetricContent(publicKey, format, alg, length);
  let pubAttrs = newObjectAttributes({
    objectType: ObjectType.PublicKey,
    attributes: [...req.publicAttributes, link(LinkType.PrivateKeyLink, priv.id)],
    content,
    now,
    algorithm: alg,
    length,
    generated: true,
  });
  pubAttrs = setStandard(pubAttrs, serverRngAttribute());
  pubAttrs = setStandard(pubAttrs, enumeration(Tag.KeyFormatType, format));
  await ctx.services.objects.createWithId(
    publicId,
    { objectType: ObjectType.PublicKey, attributes: pubAttrs, content, owner: ctx.client.commonName },
    false,
  );
  return { privateId: priv.id, publicId };
}

/** The public key of a resident private key, through its Public Key Link. */
export async function linkedPublicKey(ctx: OperationContext, obj: ManagedObject): Promise<KeyObject> {
  for (const a of findAll(obj.attributes, { kind: 'standard', tag: Tag.Link })) {
    if (a.value.type !== 'Structure' || childEnum(a.value, Tag.LinkType) !== LinkType.PublicKeyLink) continue;
    const id = childText(a.value, Tag.LinkedObjectIdentifier);
    const pub = id === undefined ? undefined : await ctx.services.objects.get(id);
    if (pub === undefined || pub.sealed === undefined) break;
    const content = await ctx.services.objects.content(pub);
    if (content !== undefined) return asymmetricKeyOf({ obj: pub, content });
  }
  throw new KmipError('InvalidField', `the HSM key ${obj.id} has lost the link to its public key`);
}

// DigestInfo DER up to the digest (RFC 8017 §9.2 note 1): CKM_RSA_PKCS signs DigestInfo ‖ digest.
const DIGEST_INFO: Readonly<Record<string, string>> = {
  sha1: '3021300906052b0e03021a05000414',
  sha224: '302d300d06096086480165030402040500041c',
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};
const BY_LENGTH: Readonly<Record<number, string>> = {
  20: 'sha1',
  28: 'sha224',
  32: 'sha256',
  48: 'sha384',
  64: 'sha512',
};

/**
 * Signs with a private key inside the HSM: the host hashes (Data) or takes
 * the client's digest (Digested Data), the token signs it (CKM_RSA_PKCS over
 * DigestInfo, CKM_RSA_PKCS_PSS, CKM_ECDSA). ECDSA signatures are returned in
 * DER, as for keys in the store.
 */
export async function signInHsm(
  _ctx: OperationContext,
  hsm: { readonly service: HsmKeyService; readonly label: string },
  kind: 'rsa' | 'ec',
  scheme: SignatureScheme,
  input: { readonly data: Uint8Array } | { readonly digested: Uint8Array },
): Promise<Uint8Array> {
  let hash = scheme.hash;
  let digest: Uint8Array;
  if ('data' in input) {
    if (hash === undefined || DIGEST_INFO[hash] === undefined) {
      throw new KmipError(
        'UnsupportedCryptographicParameters',
        'a key inside the HSM signs with SHA-1 or SHA-2',
      );
    }
    digest = createHash(hash).update(input.data).digest();
  } else {
    digest = input.digested;
    if (hash !== undefined && hashLength(hash) !== digest.length) {
      throw new KmipError(
        'InvalidField',
        `a ${hash} digest has ${hashLength(hash)} bytes, not ${digest.length}`,
      );
    }
  }
  try {
    if (kind === 'ec') {
      const raw = await hsm.service.sign(hsm.label, { kind: 'ecdsa' }, digest);
      const half = raw.length / 2;
      const r = BigInt(`0x${Buffer.from(raw.subarray(0, half)).toString('hex')}`);
      const s = BigInt(`0x${Buffer.from(raw.subarray(half)).toString('hex')}`);
      return derSignature(r, s);
    }
    if (scheme.rsaPadding === 'pss') {
      hash ??= BY_LENGTH[digest.length];
      if (hash === undefined) throw new KmipError('InvalidField', 'cannot tell the digest from its length');
      return await hsm.service.sign(
        hsm.label,
        {
          kind: 'rsa-pss',
          hash,
          mgf1Hash: scheme.mgf1Hash ?? hash,
          saltLength: scheme.saltLength ?? digest.length,
        },
        digest,
      );
    }
    const prefix = hash === undefined ? undefined : DIGEST_INFO[hash];
    if (hash !== undefined && prefix === undefined) {
      throw new KmipError('UnsupportedCryptographicParameters', `no DigestInfo for ${hash}`);
    }
    const body = prefix === undefined ? digest : Buffer.concat([Buffer.from(prefix, 'hex'), digest]);
    return await hsm.service.sign(hsm.label, { kind: 'rsa-pkcs1' }, body);
  } catch (e: unknown) {
    throw hsmFailure(e);
  }
}

/**
 * Destroy (destroy.ts) of an object without sealed content: its token key
 * goes first, so that a failure leaves the object as it was. The token is
 * searched by label even when the reference attribute is gone (a client may
 * delete custom attributes); only an object that says it is resident fails
 * the Destroy when the HSM cannot be reached.
 */
export async function destroyHsmKey(ctx: OperationContext, obj: ManagedObject): Promise<void> {
  if (obj.sealed !== undefined) return;
  const marked = isResident(obj);
  const hsm = ctx.services.hsm;
  if (hsm === undefined) {
    if (marked) hsmOf(ctx);
    return;
  }
  try {
    await hsm.destroy(hsmLabel(obj.id));
  } catch (e: unknown) {
    if (marked) throw hsmFailure(e);
  }
}
