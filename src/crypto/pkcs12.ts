/**
 * PKCS#12 (RFC 7292) for the PKCS_12 Key Format Type (KMIP 1.4 §2.1.3,
 * §9.1.3.2.3; 2.1 §2.1.3): a private key and its certificate chain in one
 * password-protected PFX.
 *
 * Reading accepts what real producers send: the PKCS#12 PBE schemes
 * (pbeWithSHAAnd3-KeyTripleDES-CBC, the TC-PKCS12 vectors' Java keystore
 * output; 2-key 3DES) and PBES2 (PBKDF2 with AES-CBC or 3DES), bags in
 * plain or encrypted Safe Contents, and the HMAC integrity check with any
 * SHA-1/SHA-2 digest. Writing uses PBES2 AES-256-CBC + PBKDF2-HMAC-SHA256
 * for the key and the certificates and an HMAC-SHA256 MAC, as OpenSSL 3
 * does by default. The ASN.1 is asn1js; the crypto is node:crypto. Every
 * failure is a bad-input CryptoError (not a PKCS#12, or the password does
 * not open it).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import { derOf as der, explicit0, explicitTag0, int, octets, oid, parseDer as parse, seq } from './asn1.js';
import { badInput as invalid } from './errors.js';
import { decrypt, pbes2Encrypt, pkcs12Kdf } from './pkcs12-pbe.js';

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

/** Digest OIDs of the MAC: node:crypto name and block size. */
const DIGESTS: Readonly<Record<string, { name: string; block: number }>> = {
  [OID.sha1]: { name: 'sha1', block: 64 },
  '2.16.840.1.101.3.4.2.4': { name: 'sha224', block: 64 },
  [OID.sha256]: { name: 'sha256', block: 64 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', block: 128 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', block: 128 },
};

/** A private key and its certificates, the end-entity certificate first. */
export interface Pkcs12Contents {
  /** PKCS#8 PrivateKeyInfo DER */
  readonly privateKey: Uint8Array;
  /** X.509 certificate DERs: the key's certificate first, then the rest in the file's order */
  readonly certificates: Uint8Array[];
  /** the key bag's friendlyName, else the end-entity certificate's */
  readonly friendlyName?: string;
}

export interface Pkcs12Input {
  readonly privateKey: Uint8Array;
  readonly certificates: readonly Uint8Array[];
  readonly friendlyName?: string;
  /** PBKDF2 and MAC iteration count (default 10000) */
  readonly iterations?: number;
}

// ---------------------------------------------------------------------------
// Reading

interface Bag {
  readonly kind: 'key' | 'cert';
  readonly der: Uint8Array;
  readonly friendlyName?: string;
  readonly localKeyId?: string;
}

function bagAttributes(node: asn1js.AsnType | undefined): { friendlyName?: string; localKeyId?: string } {
  const out: { friendlyName?: string; localKeyId?: string } = {};
  if (!(node instanceof asn1js.Set)) return out;
  for (const attr of node.valueBlock.value) {
    const [type, values] = seq(attr, 'bag attribute');
    const id = oid(type, 'bag attribute');
    const first = values instanceof asn1js.Set ? values.valueBlock.value[0] : undefined;
    if (id === OID.friendlyName && first instanceof asn1js.BmpString) out.friendlyName = first.getValue();
    if (id === OID.localKeyId && first instanceof asn1js.OctetString) {
      out.localKeyId = Buffer.from(octets(first, 'localKeyID')).toString('hex');
    }
  }
  return out;
}

function readSafeContents(der: Uint8Array, password: Uint8Array, bags: Bag[]): void {
  for (const bag of seq(parse(der, 'PKCS#12 SafeContents'), 'SafeContents')) {
    const [type, value, attrs] = seq(bag, 'SafeBag');
    const id = oid(type, 'SafeBag');
    const inner = explicit0(value, 'SafeBag value');
    const meta = bagAttributes(attrs);
    if (id === OID.keyBag) {
      bags.push({ kind: 'key', der: new Uint8Array(inner.toBER()), ...meta });
    } else if (id === OID.shroudedKeyBag) {
      const [alg, data] = seq(inner, 'EncryptedPrivateKeyInfo');
      bags.push({ kind: 'key', der: decrypt(alg, octets(data, 'encrypted key'), password), ...meta });
    } else if (id === OID.certBag) {
      const [certType, certValue] = seq(inner, 'CertBag');
      if (oid(certType, 'CertBag') !== OID.x509Certificate) continue;
      bags.push({ kind: 'cert', der: octets(explicit0(certValue, 'CertBag value'), 'certificate'), ...meta });
    }
    // CRL, secret and nested bags carry nothing KMIP stores here.
  }
}

function checkMac(macData: asn1js.AsnType, content: Uint8Array, password: Uint8Array): void {
  const [digestInfo, saltNode, iterNode] = seq(macData, 'MacData');
  const [algNode, macNode] = seq(digestInfo, 'MAC DigestInfo');
  const digest = DIGESTS[oid(seq(algNode, 'MAC algorithm')[0], 'MAC algorithm')];
  if (digest === undefined) throw invalid('PKCS#12: unsupported MAC digest');
  const salt = octets(saltNode, 'MAC salt');
  const iterations = iterNode === undefined ? 1 : int(iterNode, 'MAC iterations');
  const expected = octets(macNode, 'MAC value');
  const size = createHash(digest.name).digest().length;
  const key = pkcs12Kdf(digest.name, digest.block, password, salt, 3, iterations, size);
  const mac = createHmac(digest.name, key).update(content).digest();
  if (!mac.equals(Buffer.from(expected))) {
    throw invalid('PKCS#12: the password does not match (integrity check failed)');
  }
}

/** The private key and certificates of a PFX opened with `password` (the Secret Data bytes). */
export function parsePkcs12(der: Uint8Array, password: Uint8Array): Pkcs12Contents {
  const [version, authSafe, macData] = seq(parse(der, 'PKCS#12'), 'PFX');
  if (int(version, 'PFX version') !== 3) throw invalid('PKCS#12: version 3 expected');
  const [ctype, cvalue] = seq(authSafe, 'PFX authSafe');
  if (oid(ctype, 'authSafe content type') !== OID.data) {
    throw invalid('PKCS#12: only password integrity mode is supported');
  }
  const content = octets(explicit0(cvalue, 'authSafe content'), 'authSafe content');
  if (macData !== undefined) checkMac(macData, content, password);
  const bags: Bag[] = [];
  for (const ci of seq(parse(content, 'AuthenticatedSafe'), 'AuthenticatedSafe')) {
    const [type, value] = seq(ci, 'ContentInfo');
    const id = oid(type, 'ContentInfo');
    if (id === OID.data) {
      readSafeContents(octets(explicit0(value, 'ContentInfo'), 'SafeContents'), password, bags);
    } else if (id === OID.encryptedData) {
      const [, eci] = seq(explicit0(value, 'EncryptedData'), 'EncryptedData');
      const [, alg, data] = seq(eci, 'EncryptedContentInfo');
      readSafeContents(decrypt(alg, octets(data, 'encrypted content'), password), password, bags);
    } else {
      throw invalid('PKCS#12: public-key privacy mode is not supported');
    }
  }
  const keys = bags.filter((b) => b.kind === 'key');
  const key = keys[0];
  if (key === undefined || keys.length > 1) throw invalid('PKCS#12: exactly one private key expected');
  const certs = bags.filter((b) => b.kind === 'cert');
  const leafIndex = certs.findIndex((c) => c.localKeyId !== undefined && c.localKeyId === key.localKeyId);
  const ordered =
    leafIndex <= 0 ? certs : [certs[leafIndex] as Bag, ...certs.filter((_, i) => i !== leafIndex)];
  const friendlyName = key.friendlyName ?? ordered[0]?.friendlyName;
  return {
    privateKey: key.der,
    certificates: ordered.map((c) => c.der),
    ...(friendlyName === undefined ? {} : { friendlyName }),
  };
}

// ---------------------------------------------------------------------------
// Writing

function attributesOf(friendlyName: string | undefined, localKeyId: Uint8Array): asn1js.Set {
  const attrs: asn1js.Sequence[] = [];
  if (friendlyName !== undefined) {
    attrs.push(
      new asn1js.Sequence({
        value: [
          new asn1js.ObjectIdentifier({ value: OID.friendlyName }),
          new asn1js.Set({ value: [new asn1js.BmpString({ value: friendlyName })] }),
        ],
      }),
    );
  }
  attrs.push(
    new asn1js.Sequence({
      value: [
        new asn1js.ObjectIdentifier({ value: OID.localKeyId }),
        new asn1js.Set({ value: [new asn1js.OctetString({ valueHex: localKeyId })] }),
      ],
    }),
  );
  return new asn1js.Set({ value: attrs });
}

function safeBag(type: string, value: asn1js.AsnType, attrs: asn1js.Set | undefined): asn1js.Sequence {
  const items: asn1js.AsnType[] = [new asn1js.ObjectIdentifier({ value: type }), explicitTag0(value)];
  if (attrs !== undefined) items.push(attrs);
  return new asn1js.Sequence({ value: items });
}

function dataContentInfo(content: Uint8Array): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [
      new asn1js.ObjectIdentifier({ value: OID.data }),
      explicitTag0(new asn1js.OctetString({ valueHex: content })),
    ],
  });
}

/**
 * A PFX holding `input.privateKey` (PKCS#8 DER) in a shrouded key bag and
 * the certificates in an encrypted Safe Contents, both under `password`,
 * with an HMAC-SHA256 integrity MAC. The key and the first certificate
 * share a localKeyID (the certificate's SHA-1) and the friendly name.
 */
export function buildPkcs12(input: Pkcs12Input, password: Uint8Array): Uint8Array {
  const iterations = input.iterations ?? 10000;
  const leaf = input.certificates[0];
  const localKeyId = new Uint8Array(
    createHash('sha1')
      .update(leaf ?? input.privateKey)
      .digest(),
  );
  const safes: asn1js.Sequence[] = [];
  if (input.certificates.length > 0) {
    const certBags = input.certificates.map((c, i) =>
      safeBag(
        OID.certBag,
        new asn1js.Sequence({
          value: [
            new asn1js.ObjectIdentifier({ value: OID.x509Certificate }),
            explicitTag0(new asn1js.OctetString({ valueHex: c })),
          ],
        }),
        i === 0 ? attributesOf(input.friendlyName, localKeyId) : undefined,
      ),
    );
    const { alg, data } = pbes2Encrypt(der(new asn1js.Sequence({ value: certBags })), password, iterations);
    safes.push(
      new asn1js.Sequence({
        value: [
          new asn1js.ObjectIdentifier({ value: OID.encryptedData }),
          explicitTag0(
            new asn1js.Sequence({
              value: [
                new asn1js.Integer({ value: 0 }),
                new asn1js.Sequence({
                  value: [
                    new asn1js.ObjectIdentifier({ value: OID.data }),
                    alg,
                    new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: data }),
                  ],
                }),
              ],
            }),
          ),
        ],
      }),
    );
  }
  const shrouded = pbes2Encrypt(input.privateKey, password, iterations);
  const keyBag = safeBag(
    OID.shroudedKeyBag,
    new asn1js.Sequence({ value: [shrouded.alg, new asn1js.OctetString({ valueHex: shrouded.data })] }),
    attributesOf(input.friendlyName, localKeyId),
  );
  safes.push(dataContentInfo(der(new asn1js.Sequence({ value: [keyBag] }))));
  const authSafe = der(new asn1js.Sequence({ value: safes }));
  const macSalt = randomBytes(16);
  const macKey = pkcs12Kdf('sha256', 64, password, macSalt, 3, iterations, 32);
  const mac = createHmac('sha256', macKey).update(authSafe).digest();
  const pfx = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 3 }),
      dataContentInfo(authSafe),
      new asn1js.Sequence({
        value: [
          new asn1js.Sequence({
            value: [
              new asn1js.Sequence({
                value: [new asn1js.ObjectIdentifier({ value: OID.sha256 }), new asn1js.Null()],
              }),
              new asn1js.OctetString({ valueHex: mac }),
            ],
          }),
          new asn1js.OctetString({ valueHex: macSalt }),
          new asn1js.Integer({ value: iterations }),
        ],
      }),
    ],
  });
  return der(pfx);
}
