/**
 * PKCS_12 Register/Get (operations/pkcs12.ts), Transparent DSA keys and
 * Digest of Transparent formats (register.ts, model/lifecycle.ts), each
 * checked with an independent implementation: the OpenSSL CLI reads the
 * PFX, node:crypto checks keys and signatures. (The MAC/sign Wrapping
 * Methods are in wrapping.test.ts.)
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { materialFromKey } from '../../../src/kmip/model/key-formats.js';
import {
  CryptographicAlgorithm,
  KeyFormatType,
  type KmipVersion,
  LinkType,
  ObjectType,
  Operation,
  ResultReason,
  SecretDataType,
  Tag,
  CryptographicUsageMask as U,
} from '../../../src/kmip/spec/index.js';
import { encodeTtlv } from '../../../src/kmip/ttlv/binary.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import { openssl, rsaCaAndLeaf } from '../../helpers/openssl.js';
import { aesKey, attrList, registerObject } from './fixtures.js';
import { B, D, E, type Harness, I, kid, kids, openHarness, S, T } from './harness.js';

const activeNow = (): TtlvItem => D(Tag.ActivationDate, Math.floor(Date.now() / 1000) - 60);
const link = (type: number, id: string): TtlvItem =>
  S(Tag.Link, [E(Tag.LinkType, type), T(Tag.LinkedObjectIdentifier, id)]);

const register = registerObject;

function secretData(bytes: Uint8Array): TtlvItem {
  return S(Tag.SecretData, [
    E(Tag.SecretDataType, SecretDataType.Password),
    S(Tag.KeyBlock, [
      E(Tag.KeyFormatType, KeyFormatType.Opaque),
      S(Tag.KeyValue, [B(Tag.KeyMaterial, bytes)]),
    ]),
  ]);
}

/** Every Byte String (hex) and Text String value in a tree. */
function leaves(item: TtlvItem, out: string[] = []): string[] {
  if (item.type === 'Structure') for (const c of item.value) leaves(c, out);
  if (item.type === 'ByteString') out.push(Buffer.from(item.value).toString('hex'));
  if (item.type === 'TextString') out.push(item.value);
  return out;
}

function keyBlockOf(payload: TtlvItem, tag: number): TtlvItem | undefined {
  return kid(kid(payload, tag), Tag.KeyBlock);
}

describe('key formats: PKCS_12, DSA/DH, Transparent Digest', function () {
  this.timeout(60000);
  let h: Harness;
  let dir: string;
  before(async () => {
    h = await openHarness();
    dir = mkdtempSync(path.join(tmpdir(), 'fmt-wrap-'));
    const p = (f: string) => path.join(dir, f);
    rsaCaAndLeaf(dir, '/CN=CA');
    // The TC-PKCS12 vectors' scheme: PBE-SHA1-3DES with an HMAC-SHA1 MAC.
    openssl([
      'pkcs12',
      '-export',
      '-inkey',
      p('leaf.key'),
      '-in',
      p('leaf.pem'),
      '-certfile',
      p('ca.pem'),
      '-name',
      'alias',
      '-passout',
      'pass:password',
      '-keypbe',
      'PBE-SHA1-3DES',
      '-certpbe',
      'PBE-SHA1-3DES',
      '-macalg',
      'sha1',
      '-out',
      p('in.p12'),
    ]);
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const v of ['1.4', '2.0'] as const) {
    describe(`PKCS_12 (${v})`, () => {
      it('registers a PFX as its key and certificates, and gets the key back as a PFX openssl opens', async () => {
        const pfx = readFileSync(path.join(dir, 'in.p12'));
        const password = await register(
          h,
          v,
          ObjectType.SecretData,
          [I(Tag.CryptographicUsageMask, U.DeriveKey)],
          secretData(Buffer.from('password')),
        );
        const keyAttrs = [
          I(Tag.CryptographicUsageMask, U.Sign),
          link(LinkType.PKCS_12PasswordLink, password),
          T(Tag.PKCS_12FriendlyName, 'alias'),
        ];
        const p12Key = S(Tag.PrivateKey, [
          S(Tag.KeyBlock, [E(Tag.KeyFormatType, KeyFormatType.PKCS_12), B(Tag.KeyValue, pfx)]),
        ]);
        // The password is Pre-Active: refused, nothing stored (TC-PKCS12-2).
        const [r] = await h.send(v, [
          {
            op: Operation.Register,
            payload: [E(Tag.ObjectType, ObjectType.PrivateKey), attrList(v, keyAttrs), p12Key],
          },
        ]);
        expect(r?.reason).to.equal(ResultReason.PermissionDenied);
        await h.ok(v, Operation.Activate, [T(Tag.UniqueIdentifier, password)]);
        const keyId = await register(h, v, ObjectType.PrivateKey, keyAttrs, p12Key);

        // The key is stored as PKCS#8, the PFX's own bytes, with their Digest.
        const got = await h.ok(v, Operation.Get, [T(Tag.UniqueIdentifier, keyId)]);
        const kb = keyBlockOf(got, Tag.PrivateKey);
        expect((kid(kb, Tag.KeyFormatType) as { value: number }).value).to.equal(KeyFormatType.PKCS_8);
        const km = kid(kid(kb, Tag.KeyValue), Tag.KeyMaterial);
        if (km?.type !== 'ByteString') throw new Error('no PKCS#8');
        const original = createPrivateKey(readFileSync(path.join(dir, 'leaf.key')));
        expect(
          createPrivateKey({ key: Buffer.from(km.value), format: 'der', type: 'pkcs8' }).export({
            format: 'jwk',
          }),
        ).to.deep.equal(original.export({ format: 'jwk' }));
        const ga = await h.ok(v, Operation.GetAttributes, [T(Tag.UniqueIdentifier, keyId)]);
        const values = leaves(ga);
        expect(values).to.include(createHash('sha256').update(km.value).digest('hex'));
        expect(values).to.include('alias');

        const get = await h.ok(v, Operation.Get, [
          T(Tag.UniqueIdentifier, keyId),
          E(Tag.KeyFormatType, KeyFormatType.PKCS_12),
        ]);
        const pkb = keyBlockOf(get, Tag.PrivateKey);
        expect(kids(pkb, Tag.CryptographicAlgorithm)).to.have.length(0);
        const kv = kid(pkb, Tag.KeyValue);
        const out = v === '2.0' ? kid(kv, Tag.KeyMaterial) : kv;
        expect(kv?.type).to.equal(v === '2.0' ? 'Structure' : 'ByteString');
        if (out?.type !== 'ByteString') throw new Error('no PFX');
        const file = path.join(dir, `out-${v}.p12`);
        writeFileSync(file, out.value);
        const text2 = openssl(['pkcs12', '-in', file, '-passin', 'pass:password', '-nodes', '-info']);
        expect(text2).to.match(/PBES2, PBKDF2, AES-256-CBC/);
        expect(text2).to.contain('friendlyName: alias');
        const certs = [...text2.matchAll(/-----BEGIN CERTIFICATE-----/g)];
        expect(certs).to.have.length(2);
        expect(text2).to.contain('subject=CN = leaf');
        expect(text2).to.contain('subject=CN = CA');
      });

      it('refuses a PFX whose password is wrong, and PKCS_12 for a symmetric key', async () => {
        const password = await register(
          h,
          v,
          ObjectType.SecretData,
          [activeNow()],
          secretData(Buffer.from('other')),
        );
        const [r] = await h.send(v, [
          {
            op: Operation.Register,
            payload: [
              E(Tag.ObjectType, ObjectType.PrivateKey),
              attrList(v, [link(LinkType.PKCS_12PasswordLink, password)]),
              S(Tag.PrivateKey, [
                S(Tag.KeyBlock, [
                  E(Tag.KeyFormatType, KeyFormatType.PKCS_12),
                  B(Tag.KeyValue, readFileSync(path.join(dir, 'in.p12'))),
                ]),
              ]),
            ],
          },
        ]);
        expect(r?.reason).to.equal(ResultReason.InvalidField);
        const sym = await register(
          h,
          v,
          ObjectType.SymmetricKey,
          [I(Tag.CryptographicUsageMask, U.Encrypt)],
          aesKey(randomBytes(16)),
        );
        const [g] = await h.send(v, [
          {
            op: Operation.Get,
            payload: [T(Tag.UniqueIdentifier, sym), E(Tag.KeyFormatType, KeyFormatType.PKCS_12)],
          },
        ]);
        expect(g?.reason).to.equal(ResultReason.KeyFormatTypeNotSupported);
      });
    });
  }

  it('registers a Transparent DSA Private Key and gets it as PKCS#8 (node:crypto signs with it)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 });
    const id = await register(
      h,
      '2.0',
      ObjectType.PrivateKey,
      [I(Tag.CryptographicUsageMask, U.Sign)],
      S(Tag.PrivateKey, [
        S(Tag.KeyBlock, [
          E(Tag.KeyFormatType, KeyFormatType.TransparentDSAPrivateKey),
          S(Tag.KeyValue, [materialFromKey(privateKey, KeyFormatType.TransparentDSAPrivateKey)]),
          E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.DSA),
          I(Tag.CryptographicLength, 2048),
        ]),
      ]),
    );
    const got = await h.ok('2.0', Operation.Get, [
      T(Tag.UniqueIdentifier, id),
      E(Tag.KeyFormatType, KeyFormatType.PKCS_8),
    ]);
    const km = kid(kid(keyBlockOf(got, Tag.PrivateKey), Tag.KeyValue), Tag.KeyMaterial);
    if (km?.type !== 'ByteString') throw new Error('no PKCS#8');
    const key = createPrivateKey({ key: Buffer.from(km.value), format: 'der', type: 'pkcs8' });
    const { sign } = await import('node:crypto');
    expect(verify('sha256', Buffer.from('m'), publicKey, sign('sha256', Buffer.from('m'), key))).to.equal(
      true,
    );
  });

  it('gives a Transparent RSA key the Digest of its TTLV Key Material, and in 2.x also of its PKCS#1 form', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const material = materialFromKey(privateKey, KeyFormatType.TransparentRSAPrivateKey);
    const obj = S(Tag.PrivateKey, [
      S(Tag.KeyBlock, [
        E(Tag.KeyFormatType, KeyFormatType.TransparentRSAPrivateKey),
        S(Tag.KeyValue, [material]),
        E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.RSA),
        I(Tag.CryptographicLength, 1024),
      ]),
    ]);
    const ttlvDigest = createHash('sha256').update(encodeTtlv(material)).digest('hex');
    const pkcs1Digest = createHash('sha256')
      .update(privateKey.export({ format: 'der', type: 'pkcs1' }))
      .digest('hex');
    const digests = async (v: KmipVersion) => {
      const id = await register(h, v, ObjectType.PrivateKey, [I(Tag.CryptographicUsageMask, U.Sign)], obj);
      const p = await h.ok(v, Operation.GetAttributes, [T(Tag.UniqueIdentifier, id)]);
      const found: [string, number][] = [];
      const walk = (i: TtlvItem) => {
        if (i.type !== 'Structure') return;
        if (i.value.some((c) => c.tag === Tag.DigestValue)) {
          const dv = kid(i, Tag.DigestValue);
          const f = kid(i, Tag.KeyFormatType);
          if (dv?.type === 'ByteString' && f?.type === 'Enumeration')
            found.push([Buffer.from(dv.value).toString('hex'), f.value]);
        }
        i.value.forEach(walk);
      };
      walk(p);
      return found;
    };
    expect(await digests('1.4')).to.deep.equal([[ttlvDigest, KeyFormatType.TransparentRSAPrivateKey]]);
    expect(await digests('2.0')).to.deep.equal([
      [ttlvDigest, KeyFormatType.TransparentRSAPrivateKey],
      [pkcs1Digest, KeyFormatType.PKCS_1],
    ]);
  });
});
