/**
 * Generating key pairs, reading their Common/Private/Public attributes and
 * linking the two halves, as Create Key Pair, Re-key Key Pair, Certify and
 * Derive Key do (operations/create-key-pair.ts documents the rules).
 */
import type { KeyObject } from 'node:crypto';
import { generateEcKeyPair, generateRsaKeyPair, type KeyPair } from '../../../crypto/keygen.js';
import { KmipError } from '../../errors.js';
import {
  addInstance,
  findEnum,
  findInteger,
  findValue,
  isMultiInstance,
  keysEqual,
  type ModelAttribute,
  setStandard,
  standardKey,
} from '../../model/attributes.js';
import { algorithmOf, asymmetricContent, pickCurve } from '../../model/key-formats.js';
import { checkClientAttributes, newObjectAttributes } from '../../model/lifecycle.js';
import type { ManagedObject } from '../../model/object.js';
import { checkQuantumSafe } from '../../model/quantum-safe.js';
import { serverRngAttribute } from '../../model/rng-attribute.js';
import type { KeyPairFields, KeyPairResponse } from '../../payloads/create.js';
import type { PayloadOf } from '../../payloads/schema.js';
import {
  CryptographicAlgorithm,
  enumNameOf,
  KeyFormatType,
  LinkType,
  ObjectType,
  Tag,
} from '../../spec/index.js';
import { childEnum, enumeration, structure, textString } from '../../ttlv/build.js';
import type { TtlvStructure } from '../../ttlv/types.js';
import type { OperationContext } from '../types.js';
import { checkNameUnique, isV2 } from './common.js';
import { replaceBy, setLink } from './replacement.js';

const A = CryptographicAlgorithm;
const EC_ALGORITHMS: ReadonlySet<number> = new Set([A.EC, A.ECDSA, A.ECDH, A.ECMQV]);

/** Common attributes overlaid by a key's own: a single-instance attribute given in both is the key's. */
export function mergeAttributes(
  common: readonly ModelAttribute[],
  own: readonly ModelAttribute[],
): ModelAttribute[] {
  const out = common.filter((c) => isMultiInstance(c.key) || !own.some((o) => keysEqual(o.key, c.key)));
  return [...out, ...own];
}

export interface PairRequest {
  readonly privateAttributes: readonly ModelAttribute[];
  readonly publicAttributes: readonly ModelAttribute[];
}

export interface CreatedPair {
  readonly privateId: string;
  readonly publicId: string;
}

function linkValue(type: number, id: string): TtlvStructure {
  return structure(Tag.Link, [enumeration(Tag.LinkType, type), textString(Tag.LinkedObjectIdentifier, id)]);
}

export function withLink(attrs: readonly ModelAttribute[], type: number, id: string): ModelAttribute[] {
  return addInstance(attrs, { key: standardKey(Tag.Link), index: 0, value: linkValue(type, id) }).attrs;
}

async function generatePair(
  algorithm: number | undefined,
  attrs: readonly ModelAttribute[],
): Promise<KeyPair> {
  if (algorithm === undefined) throw new KmipError('InvalidField', 'Cryptographic Algorithm is required');
  const length = findInteger(attrs, Tag.CryptographicLength);
  if (algorithm === A.RSA) {
    if (length === undefined) throw new KmipError('InvalidField', 'Cryptographic Length is required');
    return generateRsaKeyPair(length);
  }
  if (EC_ALGORITHMS.has(algorithm)) {
    const dp = findValue(attrs, Tag.CryptographicDomainParameters);
    return generateEcKeyPair(pickCurve(childEnum(dp, Tag.RecommendedCurve), length));
  }
  const name = enumNameOf('CryptographicAlgorithm', algorithm) ?? String(algorithm);
  throw new KmipError('InvalidField', `cannot generate a ${name} key pair`);
}

function storedFormat(key: KeyObject): number {
  if (key.asymmetricKeyType === 'rsa') return KeyFormatType.PKCS_1;
  return key.type === 'private' ? KeyFormatType.PKCS_8 : KeyFormatType.X_509;
}

/** The key pair a Re-key Key Pair replaces, as loaded (rekey-key-pair.ts). */
export interface ReplacedPair {
  readonly private: ManagedObject;
  readonly public: ManagedObject | undefined;
}

/**
 * Generates and stores a key pair with the given (checked) attributes: the
 * private key links to the public key, which links back. Both keys (and, for
 * Re-key Key Pair, the replaced keys' links) are one atomic write, so a crash
 * or a lost race leaves no half of a pair.
 */
export async function createKeyPairObjects(
  ctx: OperationContext,
  req: PairRequest,
  replacing?: ReplacedPair,
): Promise<CreatedPair> {
  const algorithm =
    findEnum(req.privateAttributes, Tag.CryptographicAlgorithm) ??
    findEnum(req.publicAttributes, Tag.CryptographicAlgorithm);
  checkQuantumSafe(req.privateAttributes, algorithm ?? A.RSA, undefined);
  checkQuantumSafe(req.publicAttributes, algorithm ?? A.RSA, undefined);
  const pair = await generatePair(algorithm, req.privateAttributes);
  const alg = algorithm ?? A.RSA;
  const length = algorithmOf(pair.privateKey)?.length ?? 0;
  const now = ctx.services.clock();
  const objects = ctx.services.objects;
  const privateId = objects.newId();
  const publicId = objects.newId();
  const make = (
    id: string,
    objectType: number,
    key: KeyObject,
    attrs: readonly ModelAttribute[],
    links: (all: ModelAttribute[]) => ModelAttribute[],
  ) => {
    const format = storedFormat(key);
    const content = asymmetricContent(key, format, alg, length);
    let all = newObjectAttributes({
      objectType,
      attributes: attrs,
      content,
      now,
      algorithm: alg,
      length,
      generated: true,
    });
    all = setStandard(all, serverRngAttribute());
    all = setStandard(all, enumeration(Tag.KeyFormatType, format));
    return { id, objectType, attributes: links(all), content, owner: ctx.client.commonName };
  };
  // Link order as before this was one write: Public Key Link, then Replaced Object Link (TC_133).
  const replacedLink = (old: ManagedObject | undefined) => (all: ModelAttribute[]) =>
    old === undefined ? all : setLink(all, LinkType.ReplacedObjectLink, old.id);
  const priv = make(privateId, ObjectType.PrivateKey, pair.privateKey, req.privateAttributes, (all) =>
    replacedLink(replacing?.private)(withLink(all, LinkType.PublicKeyLink, publicId)),
  );
  const pub = make(
    publicId,
    ObjectType.PublicKey,
    pair.publicKey,
    withLink(req.publicAttributes, LinkType.PrivateKeyLink, privateId),
    replacedLink(replacing?.public),
  );
  const updates = [];
  for (const [old, newId] of [
    [replacing?.private, privateId],
    [replacing?.public, publicId],
  ] as const) {
    if (old === undefined) continue;
    updates.push({ id: old.id, mutate: (obj: ManagedObject) => replaceBy(ctx, obj, newId) });
  }
  await objects.writeTogether([priv, pub], updates);
  return { privateId, publicId };
}

/** The private / public attribute lists of a Create Key Pair or Re-key Key Pair request, checked. */
export async function readPairAttributes(
  req: PayloadOf<typeof KeyPairFields>,
  ctx: OperationContext,
): Promise<PairRequest> {
  if (req.templates !== undefined) {
    throw new KmipError('FeatureNotSupported', 'Template objects are not supported; send the attributes');
  }
  const common = req.commonAttributes ?? [];
  const priv = req.privateKeyAttributes ?? [];
  const pub = req.publicKeyAttributes ?? [];
  const v2 = isV2(ctx.version);
  for (const list of [common, priv, pub]) checkClientAttributes(list, v2);
  const privateAttributes = mergeAttributes(common, priv);
  const publicAttributes = mergeAttributes(common, pub);
  await checkNameUnique(ctx, privateAttributes, undefined);
  await checkNameUnique(ctx, publicAttributes, undefined);
  return { privateAttributes, publicAttributes };
}

export function pairResponse(pair: CreatedPair): KeyPairResponse {
  return { privateKeyUniqueIdentifier: pair.privateId, publicKeyUniqueIdentifier: pair.publicId };
}
