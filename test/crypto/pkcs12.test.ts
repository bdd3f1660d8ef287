/**
 * PKCS#12 (src/crypto/pkcs12.ts) against the OpenSSL CLI, which produces
 * the inputs (legacy PBE-SHA1-3DES as the TC-PKCS12 vectors use, and
 * OpenSSL 3's default PBES2/AES-256) and reads our output; and the
 * Transparent DSA/DH formats (src/kmip/model/key-formats.ts over src/crypto/formats.ts) against node:crypto.
 */
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
  X509Certificate,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { CryptoError } from '../../src/crypto/errors.js';
import { buildPkcs12, parsePkcs12 } from '../../src/crypto/pkcs12.js';
import { KmipError } from '../../src/kmip/errors.js';
import { algorithmOf, keyFromMaterial, materialFromKey } from '../../src/kmip/model/key-formats.js';
import { CryptographicAlgorithm, KeyFormatType as F, ObjectType, Tag } from '../../src/kmip/spec/index.js';
import { openssl, rsaCaAndLeaf } from '../helpers/openssl.js';

// @types/node has no overload for 'dh' key pairs, which node:crypto generates.
const dhPair = generateKeyPairSync as unknown as (
  type: 'dh',
  options: { group: string },
) => { privateKey: KeyObject; publicKey: KeyObject };

const PASSWORD = new Uint8Array(Buffer.from('s3cret-pässword'));

function pemBlocks(text: string, label: string): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  return [...text.matchAll(re)].map((m) => Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'));
}

describe('crypto/pkcs12', function () {
  this.timeout(60000);
  let dir: string;
  let leafKey: KeyObject;
  let leafDer: Buffer;
  let caDer: Buffer;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'pkcs12-test-'));
    const p = (f: string) => path.join(dir, f);
    rsaCaAndLeaf(dir, '/CN=Test CA');
    leafKey = createPrivateKey(readFileSync(p('leaf.key')));
    leafDer = Buffer.from(new X509Certificate(readFileSync(p('leaf.pem'))).raw);
    caDer = Buffer.from(new X509Certificate(readFileSync(p('ca.pem'))).raw);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  const exportArgs = (out: string, extra: string[]) => [
    'pkcs12',
    '-export',
    '-inkey',
    path.join(dir, 'leaf.key'),
    '-in',
    path.join(dir, 'leaf.pem'),
    '-certfile',
    path.join(dir, 'ca.pem'),
    '-name',
    'my key',
    '-passout',
    `pass:${Buffer.from(PASSWORD).toString()}`,
    '-out',
    out,
    ...extra,
  ];

  for (const [label, extra] of [
    ['OpenSSL 3 default (PBES2 AES-256-CBC, HMAC-SHA256)', []],
    [
      'legacy PBE-SHA1-3DES with an HMAC-SHA1 MAC (the TC-PKCS12 vectors)',
      ['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'],
    ],
    [
      'PBES2 AES-128 with PBKDF2-HMAC-SHA512',
      ['-keypbe', 'AES-128-CBC', '-certpbe', 'AES-128-CBC', '-macalg', 'sha512'],
    ],
  ] as const) {
    it(`reads a PFX made by openssl pkcs12: ${label}`, () => {
      const file = path.join(dir, `in-${label.length}.p12`);
      openssl(exportArgs(file, [...extra]));
      const c = parsePkcs12(readFileSync(file), PASSWORD);
      expect(
        createPrivateKey({ key: Buffer.from(c.privateKey), format: 'der', type: 'pkcs8' }).export({
          format: 'jwk',
        }),
      ).to.deep.equal(leafKey.export({ format: 'jwk' }));
      expect(c.certificates.map((d) => Buffer.from(d).toString('hex'))).to.deep.equal([
        leafDer.toString('hex'),
        caDer.toString('hex'),
      ]);
      expect(c.friendlyName).to.equal('my key');
    });
  }

  it('refuses a wrong password with Invalid Field', () => {
    const file = path.join(dir, 'wrong.p12');
    openssl(exportArgs(file, []));
    expect(() => parsePkcs12(readFileSync(file), new Uint8Array(Buffer.from('nope'))))
      .to.throw(CryptoError)
      .with.property('reason', 'InvalidField');
    expect(() => parsePkcs12(new Uint8Array([1, 2, 3]), PASSWORD)).to.throw(CryptoError);
  });

  it('writes a PFX that openssl pkcs12 opens (PBES2 AES-256-CBC, PBKDF2-HMAC-SHA256, HMAC-SHA256 MAC)', () => {
    const pkcs8 = new Uint8Array(leafKey.export({ format: 'der', type: 'pkcs8' }));
    const pfx = buildPkcs12(
      { privateKey: pkcs8, certificates: [leafDer, caDer], friendlyName: 'my key', iterations: 2048 },
      PASSWORD,
    );
    const file = path.join(dir, 'out.p12');
    writeFileSync(file, pfx);
    const pass = `pass:${Buffer.from(PASSWORD).toString()}`;
    const info = openssl(['pkcs12', '-in', file, '-passin', pass, '-info', '-noout']);
    expect(info).to.match(/MAC: sha256/);
    expect(info).to.match(/PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256/);
    const text = openssl(['pkcs12', '-in', file, '-passin', pass, '-nodes']);
    const keys = pemBlocks(text, 'PRIVATE KEY');
    expect(keys).to.have.length(1);
    expect(
      createPrivateKey({ key: keys[0] as Buffer, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' }),
    ).to.deep.equal(leafKey.export({ format: 'jwk' }));
    const certs = pemBlocks(text, 'CERTIFICATE').map((b) => b.toString('hex'));
    expect(certs).to.have.members([leafDer.toString('hex'), caDer.toString('hex')]);
    expect(text).to.contain('friendlyName: my key');
    expect(() => openssl(['pkcs12', '-in', file, '-passin', 'pass:other', '-noout'])).to.throw();
    // and our reader takes it back
    expect(Buffer.from(parsePkcs12(pfx, PASSWORD).privateKey).equals(Buffer.from(pkcs8))).to.equal(true);
  });
});

describe('kmip/model/key-formats: Transparent DSA and DH keys', () => {
  it('DSA private and public keys round-trip and still sign/verify (node:crypto)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 });
    const pm = materialFromKey(privateKey, F.TransparentDSAPrivateKey);
    expect(pm.type === 'Structure' && pm.value.map((c) => c.tag)).to.deep.equal([Tag.P, Tag.Q, Tag.G, Tag.X]);
    const priv = keyFromMaterial(ObjectType.PrivateKey, F.TransparentDSAPrivateKey, pm);
    expect(
      priv
        .export({ format: 'der', type: 'pkcs8' })
        .equals(privateKey.export({ format: 'der', type: 'pkcs8' })),
    ).to.equal(true);
    const um = materialFromKey(publicKey, F.TransparentDSAPublicKey);
    const pub = keyFromMaterial(ObjectType.PublicKey, F.TransparentDSAPublicKey, um);
    const sig = sign('sha256', Buffer.from('data'), priv);
    expect(verify('sha256', Buffer.from('data'), pub, sig)).to.equal(true);
    expect(
      verify('sha256', Buffer.from('data'), publicKey, sign('sha256', Buffer.from('data'), privateKey)),
    ).to.equal(true);
    expect(algorithmOf(priv)).to.deep.equal({ algorithm: CryptographicAlgorithm.DSA, length: 2048 });
    // PKCS#8 / X.509 of a DSA key given transparently
    expect(materialFromKey(pub, F.X_509).type).to.equal('ByteString');
    expect(() => materialFromKey(privateKey, F.TransparentDHPrivateKey)).to.throw(KmipError);
  });

  it('DH (PKCS#3) keys round-trip and agree on the same secret', () => {
    const a = dhPair('dh', { group: 'modp14' });
    const b = dhPair('dh', { group: 'modp14' });
    const aPriv = keyFromMaterial(
      ObjectType.PrivateKey,
      F.TransparentDHPrivateKey,
      materialFromKey(a.privateKey, F.TransparentDHPrivateKey),
    );
    const bPub = keyFromMaterial(
      ObjectType.PublicKey,
      F.TransparentDHPublicKey,
      materialFromKey(b.publicKey, F.TransparentDHPublicKey),
    );
    expect(
      diffieHellman({ privateKey: aPriv, publicKey: bPub }).equals(
        diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey }),
      ),
    ).to.equal(true);
    expect(algorithmOf(aPriv)).to.deep.equal({ algorithm: CryptographicAlgorithm.DH, length: 2048 });
  });

  it('X9.42 DH keys (with Q) made by openssl keep P, Q, G', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dhx-test-'));
    try {
      openssl([
        'genpkey',
        '-genparam',
        '-algorithm',
        'DHX',
        '-pkeyopt',
        'dh_rfc5114:2',
        '-out',
        path.join(dir, 'p.pem'),
      ]);
      openssl(['genpkey', '-paramfile', path.join(dir, 'p.pem'), '-out', path.join(dir, 'k.pem')]);
      const key = createPrivateKey(readFileSync(path.join(dir, 'k.pem')));
      const m = materialFromKey(key, F.TransparentDHPrivateKey);
      expect(m.type === 'Structure' && m.value.map((c) => c.tag)).to.deep.equal([Tag.P, Tag.Q, Tag.G, Tag.X]);
      const back = keyFromMaterial(ObjectType.PrivateKey, F.TransparentDHPrivateKey, m);
      expect(
        back.export({ format: 'der', type: 'pkcs8' }).equals(key.export({ format: 'der', type: 'pkcs8' })),
      ).to.equal(true);
      const pub = materialFromKey(createPublicKey(key), F.TransparentDHPublicKey);
      expect(pub.type === 'Structure' && pub.value.map((c) => c.tag)).to.deep.equal([
        Tag.P,
        Tag.Q,
        Tag.G,
        Tag.Y,
      ]);
      expect(algorithmOf(key)).to.deep.equal({ algorithm: CryptographicAlgorithm.DH, length: 2048 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses incomplete or inconsistent DSA material', () => {
    const { privateKey } = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 });
    const m = materialFromKey(privateKey, F.TransparentDSAPrivateKey);
    const noQ = m.type === 'Structure' ? { ...m, value: m.value.filter((c) => c.tag !== Tag.Q) } : m;
    expect(() => keyFromMaterial(ObjectType.PrivateKey, F.TransparentDSAPrivateKey, noQ))
      .to.throw(KmipError)
      .with.property('reason', 'InvalidField');
  });
});
