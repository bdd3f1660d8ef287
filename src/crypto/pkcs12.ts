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
 * failure is a KmipError (Invalid Field: not a PKCS#12, or the password
 * does not open it).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  pbkdf2Sync,
  randomBytes,
} from 'node:crypto';
import * as asn1js from 'asn1js';
import { KmipError } from '../kmip/errors.js';

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbeSha1Des3: '1.2.840.113549.1.12.1.3',
  pbeSha1Des2: '1.2.840.113549.1.12.1.4',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  aes256cbc: '2.16.840.1.101.3.4.1.42',
} as const;

/** Digest OIDs of the MAC, and the PBKDF2 PRFs (RFC 8018 §B.1.2): node:crypto name and block size. */
const DIGESTS: Readonly<Record<string, { name: string; block: number }>> = {
  [OID.sha1]: { name: 'sha1', block: 64 },
  '2.16.840.1.101.3.4.2.4': { name: 'sha224', block: 64 },
  [OID.sha256]: { name: 'sha256', block: 64 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', block: 128 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', block: 128 },
};
const PRFS: Readonly<Record<string, string>> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
const PBES2_CIPHERS: Readonly<Record<string, { name: string; keyLength: number }>> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  [OID.aes256cbc]: { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
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

function invalid(message: string): KmipError {
  return new KmipError('InvalidField', message);
}

// ---------------------------------------------------------------------------
// Key derivation (RFC 7292 Appendix B)

/** The PKCS#12 password: BMPString (UTF-16BE) of the UTF-8 text, with a 2-byte NUL terminator (B.1). */
export function bmpPassword(password: Uint8Array): Uint8Array {
  const text = Buffer.from(password).toString('utf8');
  const out = Buffer.alloc(text.length * 2 + 2);
  for (let i = 0; i < text.length; i++) out.writeUInt16BE(text.charCodeAt(i), i * 2);
  return new Uint8Array(out);
}

function repeatTo(bytes: Uint8Array, v: number): Buffer {
  if (bytes.length === 0) return Buffer.alloc(0);
  const len = v * Math.ceil(bytes.length / v);
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i++) out[i] = bytes[i % bytes.length] ?? 0;
  return out;
}

/** RFC 7292 B.2: `n` bytes of key (id 1), IV (id 2) or MAC key (id 3). */
export function pkcs12Kdf(
  hash: string,
  blockSize: number,
  password: Uint8Array,
  salt: Uint8Array,
  id: 1 | 2 | 3,
  iterations: number,
  n: number,
): Uint8Array {
  const v = blockSize;
  const d = Buffer.alloc(v, id);
  const i = Buffer.concat([repeatTo(salt, v), repeatTo(bmpPassword(password), v)]);
  const chunks: Buffer[] = [];
  let produced = 0;
  while (produced < n) {
    let a = createHash(hash).update(d).update(i).digest();
    for (let r = 1; r < iterations; r++) a = createHash(hash).update(a).digest();
    chunks.push(a);
    produced += a.length;
    if (produced >= n) break;
    const b = repeatTo(a, v).subarray(0, v);
    // I_j = (I_j + B + 1) mod 2^(8v) for each v-byte block of I.
    for (let off = 0; off < i.length; off += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = (i[off + k] ?? 0) + (b[k] ?? 0) + carry;
        i[off + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return new Uint8Array(Buffer.concat(chunks).subarray(0, n));
}

// ---------------------------------------------------------------------------
// ASN.1 reading helpers

function parse(der: Uint8Array, what: string): asn1js.AsnType {
  const r = asn1js.fromBER(der);
  if (r.offset === -1) throw invalid(`${what} is not valid DER`);
  return r.result;
}

function seq(node: asn1js.AsnType | undefined, what: string): asn1js.AsnType[] {
  if (node instanceof asn1js.Sequence || node instanceof asn1js.Set) return node.valueBlock.value;
  throw invalid(`${what}: SEQUENCE expected`);
}

function oid(node: asn1js.AsnType | undefined, what: string): string {
  if (node instanceof asn1js.ObjectIdentifier) return node.valueBlock.toString();
  throw invalid(`${what}: OBJECT IDENTIFIER expected`);
}

function octets(node: asn1js.AsnType | undefined, what: string): Uint8Array {
  if (node instanceof asn1js.OctetString) {
    if (node.valueBlock.isConstructed) {
      // BER constructed OCTET STRING (some producers chunk the content).
      return new Uint8Array(Buffer.concat(node.valueBlock.value.map((c) => octets(c, what))));
    }
    return new Uint8Array(node.valueBlock.valueHexView);
  }
  // [0] IMPLICIT OCTET STRING reads as a primitive or constructed context-tagged item.
  if (node instanceof asn1js.Primitive) return new Uint8Array(node.valueBlock.valueHexView);
  if (node instanceof asn1js.Constructed) {
    return new Uint8Array(Buffer.concat(node.valueBlock.value.map((c) => octets(c, what))));
  }
  throw invalid(`${what}: OCTET STRING expected`);
}

function int(node: asn1js.AsnType | undefined, what: string): number {
  if (node instanceof asn1js.Integer) return Number(node.toBigInt());
  throw invalid(`${what}: INTEGER expected`);
}

/** The content of an [0] EXPLICIT item. */
function explicit0(node: asn1js.AsnType | undefined, what: string): asn1js.AsnType {
  if (node instanceof asn1js.Constructed && node.idBlock.tagClass === 3 && node.idBlock.tagNumber === 0) {
    const inner = node.valueBlock.value[0];
    if (inner !== undefined) return inner;
  }
  throw invalid(`${what}: [0] EXPLICIT content expected`);
}

// ---------------------------------------------------------------------------
// Decryption of PKCS#12 PBE and PBES2

function decrypt(alg: asn1js.AsnType | undefined, data: Uint8Array, password: Uint8Array): Uint8Array {
  const parts = seq(alg, 'encryption algorithm');
  const id = oid(parts[0], 'encryption algorithm');
  let cipher: string;
  let key: Uint8Array;
  let iv: Uint8Array;
  if (id === OID.pbeSha1Des3 || id === OID.pbeSha1Des2) {
    const [salt, iter] = seq(parts[1], 'PBE parameters');
    const s = octets(salt, 'PBE salt');
    const n = int(iter, 'PBE iterations');
    const three = id === OID.pbeSha1Des3;
    cipher = three ? 'des-ede3-cbc' : 'des-ede-cbc';
    key = pkcs12Kdf('sha1', 64, password, s, 1, n, three ? 24 : 16);
    iv = pkcs12Kdf('sha1', 64, password, s, 2, n, 8);
  } else if (id === OID.pbes2) {
    const [kdf, scheme] = seq(parts[1], 'PBES2 parameters');
    const kdfParts = seq(kdf, 'PBES2 key derivation');
    if (oid(kdfParts[0], 'PBES2 key derivation') !== OID.pbkdf2) {
      throw invalid('PKCS#12: only PBKDF2 is supported in PBES2');
    }
    const kp = seq(kdfParts[1], 'PBKDF2 parameters');
    const salt = octets(kp[0], 'PBKDF2 salt');
    const iterations = int(kp[1], 'PBKDF2 iterations');
    let prf = 'sha1';
    for (const extra of kp.slice(2)) {
      if (extra instanceof asn1js.Sequence) {
        const p = PRFS[oid(extra.valueBlock.value[0], 'PBKDF2 PRF')];
        if (p === undefined) throw invalid('PKCS#12: unsupported PBKDF2 PRF');
        prf = p;
      }
    }
    const sp = seq(scheme, 'PBES2 encryption scheme');
    const c = PBES2_CIPHERS[oid(sp[0], 'PBES2 encryption scheme')];
    if (c === undefined) throw invalid('PKCS#12: unsupported PBES2 cipher');
    cipher = c.name;
    iv = octets(sp[1], 'PBES2 IV');
    // RFC 8018 leaves the password encoding to the application; PKCS#12 producers use the UTF-8 bytes.
    key = new Uint8Array(pbkdf2Sync(password, salt, iterations, c.keyLength, prf));
  } else {
    throw invalid(`PKCS#12: unsupported encryption algorithm ${id}`);
  }
  try {
    const d = createDecipheriv(cipher, key, iv);
    return new Uint8Array(Buffer.concat([d.update(data), d.final()]));
  } catch {
    throw invalid('PKCS#12: the password does not decrypt the contents');
  }
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

function pbes2Encrypt(
  plain: Uint8Array,
  password: Uint8Array,
  iterations: number,
): { alg: asn1js.Sequence; data: Uint8Array } {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const c = createCipheriv('aes-256-cbc', key, iv);
  const data = new Uint8Array(Buffer.concat([c.update(plain), c.final()]));
  const alg = new asn1js.Sequence({
    value: [
      new asn1js.ObjectIdentifier({ value: OID.pbes2 }),
      new asn1js.Sequence({
        value: [
          new asn1js.Sequence({
            value: [
              new asn1js.ObjectIdentifier({ value: OID.pbkdf2 }),
              new asn1js.Sequence({
                value: [
                  new asn1js.OctetString({ valueHex: salt }),
                  new asn1js.Integer({ value: iterations }),
                  new asn1js.Sequence({
                    value: [new asn1js.ObjectIdentifier({ value: '1.2.840.113549.2.9' }), new asn1js.Null()],
                  }),
                ],
              }),
            ],
          }),
          new asn1js.Sequence({
            value: [
              new asn1js.ObjectIdentifier({ value: OID.aes256cbc }),
              new asn1js.OctetString({ valueHex: iv }),
            ],
          }),
        ],
      }),
    ],
  });
  return { alg, data };
}

function explicitTag0(inner: asn1js.AsnType): asn1js.Constructed {
  return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [inner] });
}

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

function der(node: asn1js.AsnType): Uint8Array {
  return new Uint8Array(node.toBER(false));
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
