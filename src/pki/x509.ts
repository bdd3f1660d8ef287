import { createHash, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

/** Key algorithm of a generated key pair: ECDSA P-256 (default) or RSA-2048 for clients that lack ECDSA. */
export type KeyType = 'ec' | 'rsa';

export interface KeyPair {
  publicKey: webcrypto.CryptoKey;
  privateKey: webcrypto.CryptoKey;
}

/** The issuing side of a signature: the CA certificate and its private key. */
export interface Issuer {
  cert: pkijs.Certificate;
  privateKey: webcrypto.CryptoKey;
}

export interface CertificateProfile {
  commonName: string;
  /** validity in days from now */
  days: number;
  ca?: boolean;
  keyUsage: readonly KeyUsageBit[];
  extKeyUsage?: readonly string[];
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
}

export const KeyUsageBit = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
} as const;
export type KeyUsageBit = (typeof KeyUsageBit)[keyof typeof KeyUsageBit];

export const ExtKeyUsageOid = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

const OID = {
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
} as const;

type EngineCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];
// A private engine rather than pkijs.setEngine: no global state shared with other users of pkijs.
const engine = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as EngineCrypto });

const EC_PARAMS = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const RSA_PARAMS = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
} as const;

export async function generateKeyPair(keyType: KeyType): Promise<KeyPair> {
  const params = keyType === 'ec' ? EC_PARAMS : RSA_PARAMS;
  const pair = await webcrypto.subtle.generateKey(params, true, ['sign', 'verify']);
  return { publicKey: pair.publicKey, privateKey: pair.privateKey };
}

export async function privateKeyToPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return toPem('PRIVATE KEY', new Uint8Array(der));
}

/** Imports a PKCS#8 PEM private key (EC P-256 or RSA) for signing certificates. */
export async function privateKeyFromPem(pem: string): Promise<webcrypto.CryptoKey> {
  const keyObject = createPrivateKey(pem);
  const der = keyObject.export({ format: 'der', type: 'pkcs8' });
  const type = keyObject.asymmetricKeyType;
  if (type === 'ec') {
    const curve = keyObject.asymmetricKeyDetails?.namedCurve;
    if (curve !== 'prime256v1') throw new Error(`unsupported CA key curve ${String(curve)}`);
    return webcrypto.subtle.importKey('pkcs8', der, EC_PARAMS, false, ['sign']);
  }
  if (type === 'rsa') {
    return webcrypto.subtle.importKey('pkcs8', der, { name: RSA_PARAMS.name, hash: RSA_PARAMS.hash }, false, [
      'sign',
    ]);
  }
  throw new Error(`unsupported CA key type ${String(type)}`);
}

export function certificateToPem(cert: pkijs.Certificate): string {
  return toPem('CERTIFICATE', new Uint8Array(cert.toSchema(true).toBER(false)));
}

export function certificateFromPem(pem: string): pkijs.Certificate {
  const match = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(pem);
  if (!match?.[1]) throw new Error('no PEM certificate found');
  const der = Buffer.from(match[1].replace(/\s+/g, ''), 'base64');
  return pkijs.Certificate.fromBER(new Uint8Array(der));
}

/**
 * Builds and signs an X.509 v3 certificate. Without an issuer the certificate is self-signed
 * with `keys.privateKey`.
 */
export async function createCertificate(
  profile: CertificateProfile,
  keys: KeyPair,
  issuer?: Issuer,
): Promise<pkijs.Certificate> {
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ valueHex: serialNumber() });
  setCommonName(cert.subject, profile.commonName);
  if (issuer) {
    cert.issuer = issuer.cert.subject;
  } else {
    setCommonName(cert.issuer, profile.commonName);
  }
  // Backdated a little so that a client whose clock lags slightly still accepts a fresh certificate.
  const notBefore = new Date(Date.now() - 5 * 60 * 1000);
  const notAfter = new Date(Date.now() + profile.days * 24 * 60 * 60 * 1000);
  cert.notBefore = timeOf(notBefore);
  cert.notAfter = timeOf(notAfter);
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey, engine);

  const ski = keyIdentifier(cert.subjectPublicKeyInfo);
  const extensions: pkijs.Extension[] = [
    extension(
      OID.basicConstraints,
      true,
      new pkijs.BasicConstraints(profile.ca ? { cA: true } : {}).toSchema().toBER(false),
    ),
    extension(OID.keyUsage, true, keyUsageBits(profile.keyUsage).toBER(false)),
    extension(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: ski }).toBER(false)),
  ];
  if (issuer) {
    const aki = new pkijs.AuthorityKeyIdentifier({
      keyIdentifier: new asn1js.OctetString({ valueHex: keyIdentifier(issuer.cert.subjectPublicKeyInfo) }),
    });
    extensions.push(extension(OID.authorityKeyIdentifier, false, aki.toSchema().toBER(false)));
  }
  if (profile.extKeyUsage?.length) {
    const eku = new pkijs.ExtKeyUsage({ keyPurposes: [...profile.extKeyUsage] });
    extensions.push(extension(OID.extKeyUsage, false, eku.toSchema().toBER(false)));
  }
  const altNames = [
    ...(profile.dnsNames ?? []).map((name) => new pkijs.GeneralName({ type: 2, value: name })),
    ...(profile.ipAddresses ?? []).map(
      (ip) => new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ipBytes(ip) }) }),
    ),
  ];
  if (altNames.length > 0) {
    extensions.push(
      extension(
        OID.subjectAltName,
        false,
        new pkijs.GeneralNames({ names: altNames }).toSchema().toBER(false),
      ),
    );
  }
  cert.extensions = extensions;

  await cert.sign(issuer?.privateKey ?? keys.privateKey, 'SHA-256', engine);
  return cert;
}

export function extension(extnID: string, critical: boolean, value: ArrayBuffer): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value });
}

function setCommonName(name: pkijs.RelativeDistinguishedNames, cn: string): void {
  name.typesAndValues.push(
    new pkijs.AttributeTypeAndValue({ type: OID.commonName, value: new asn1js.Utf8String({ value: cn }) }),
  );
}

// RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
export function timeOf(date: Date): pkijs.Time {
  return new pkijs.Time({ type: date.getUTCFullYear() < 2050 ? 0 : 1, value: date });
}

// RFC 5280 4.1.2.2: positive, at most 20 octets; 16 random bytes with the top bit cleared.
export function serialNumber(): ArrayBuffer {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return new Uint8Array(bytes).buffer;
}

// RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value.
export function keyIdentifier(spki: pkijs.PublicKeyInfo): ArrayBuffer {
  const digest = createHash('sha1')
    .update(new Uint8Array(spki.subjectPublicKey.valueBlock.valueHexView))
    .digest();
  return new Uint8Array(digest).buffer;
}

// DER named bit list: trailing zero bits are dropped (X.690 11.2.2).
export function keyUsageBits(bits: readonly KeyUsageBit[]): asn1js.BitString {
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of bits) {
    const index = Math.floor(bit / 8);
    bytes[index] = (bytes[index] ?? 0) | (0x80 >> (bit % 8));
  }
  const unusedBits = 7 - (highest % 8);
  return new asn1js.BitString({ valueHex: bytes.buffer, unusedBits });
}

function ipBytes(ip: string): ArrayBuffer {
  if (isIPv4(ip)) return new Uint8Array(ip.split('.').map(Number)).buffer;
  if (!isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  const [head = '', tail] = ip.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const words = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = new Uint8Array(16);
  words.forEach((word, i) => {
    out[i * 2] = word >> 8;
    out[i * 2 + 1] = word & 0xff;
  });
  return out.buffer;
}

function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
