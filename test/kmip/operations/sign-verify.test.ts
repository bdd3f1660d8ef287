import {
  constants,
  createHash,
  generateKeyPairSync,
  KeyObject,
  publicDecrypt,
  sign,
  verify,
} from 'node:crypto';
import { expect } from 'chai';
import {
  BatchErrorContinuationOption,
  CertificateType,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  DigitalSignatureAlgorithm,
  HashingAlgorithm,
  KeyFormatType,
  type KmipVersion,
  ObjectType,
  Operation,
  PaddingMethod,
  ResultReason,
  RevocationReasonCode,
  Tag,
  UsageLimitsUnit,
  ValidityIndicator,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem, TtlvStructure } from '../../../src/kmip/ttlv/types.js';
import { createCertificate, generateKeyPair, KeyUsageBit } from '../../../src/pki/x509.js';
import { attrList } from './fixtures.js';
import { B, D, E, type Harness, I, kid, openHarness, S, T, text } from './harness.js';

const U = CryptographicUsageMask;
const A = CryptographicAlgorithm;
const MESSAGE = Buffer.from('01020304050607080910111213141516', 'hex');
const now = (): number => Math.floor(Date.now() / 1000);

function algorithmOf(key: KeyObject): [number, number] {
  const d = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return [A.RSA, d?.modulusLength ?? 0];
    case 'ec':
      return [A.EC, d?.namedCurve === 'secp384r1' ? 384 : 256];
    case 'ed25519':
      return [A.Ed25519, 256];
    default:
      return [A.Ed448, 448];
  }
}

interface RegisterOptions {
  readonly mask: number;
  readonly params?: TtlvItem[];
  readonly attrs?: TtlvItem[];
  /** registered Pre-Active when false */
  readonly active?: boolean;
}

async function register(
  h: Harness,
  version: KmipVersion,
  key: KeyObject,
  opts: RegisterOptions,
): Promise<string> {
  const isPrivate = key.type === 'private';
  const der = isPrivate
    ? key.export({ format: 'der', type: 'pkcs8' })
    : key.export({ format: 'der', type: 'spki' });
  const [alg, len] = algorithmOf(key);
  const attrs = [
    I(Tag.CryptographicUsageMask, opts.mask),
    ...(opts.active === false ? [] : [D(Tag.ActivationDate, now() - 3600)]),
    ...(opts.params ? [S(Tag.CryptographicParameters, opts.params)] : []),
    ...(opts.attrs ?? []),
  ];
  const p = await h.ok(version, Operation.Register, [
    E(Tag.ObjectType, isPrivate ? ObjectType.PrivateKey : ObjectType.PublicKey),
    attrList(version, attrs),
    S(isPrivate ? Tag.PrivateKey : Tag.PublicKey, [
      S(Tag.KeyBlock, [
        E(Tag.KeyFormatType, isPrivate ? KeyFormatType.PKCS_8 : KeyFormatType.X_509),
        S(Tag.KeyValue, [B(Tag.KeyMaterial, new Uint8Array(der))]),
        E(Tag.CryptographicAlgorithm, alg),
        I(Tag.CryptographicLength, len),
      ]),
    ]),
  ]);
  const id = text(p, Tag.UniqueIdentifier);
  if (id === undefined) throw new Error('Register returned no identifier');
  return id;
}

function bytesOf(p: TtlvStructure | undefined, tag: number): Uint8Array {
  const c = kid(p, tag);
  if (c?.type !== 'ByteString') throw new Error(`no byte string ${tag.toString(16)}`);
  return c.value;
}

function validity(p: TtlvStructure | undefined): string {
  const c = kid(p, Tag.ValidityIndicator);
  if (c?.type !== 'Enumeration') throw new Error('no Validity Indicator');
  return c.value === ValidityIndicator.Valid
    ? 'Valid'
    : c.value === ValidityIndicator.Invalid
      ? 'Invalid'
      : '?';
}

const CONTINUE = [E(Tag.BatchErrorContinuationOption, BatchErrorContinuationOption.Continue)];
const params = (items: TtlvItem[]): TtlvItem => S(Tag.CryptographicParameters, items);
const PSS = [E(Tag.PaddingMethod, PaddingMethod.PSS), E(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256)];

describe('kmip/operations sign, signature-verify', () => {
  let h: Harness;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });

  beforeEach(async () => {
    h = await openHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  async function signWith(version: KmipVersion, id: string, payload: TtlvItem[]): Promise<Uint8Array> {
    const p = await h.ok(version, Operation.Sign, [T(Tag.UniqueIdentifier, id), ...payload]);
    expect(p.value.map((c) => c.tag)).to.deep.equal([Tag.UniqueIdentifier, Tag.SignatureData]);
    return bytesOf(p, Tag.SignatureData);
  }

  async function verifyWith(version: KmipVersion, id: string, payload: TtlvItem[]): Promise<string> {
    const p = await h.ok(version, Operation.SignatureVerify, [T(Tag.UniqueIdentifier, id), ...payload]);
    expect(p.value.map((c) => c.tag)).to.deep.equal([Tag.UniqueIdentifier, Tag.ValidityIndicator]);
    return validity(p);
  }

  for (const version of ['1.4', '2.1'] as const) {
    describe(`KMIP ${version}`, () => {
      it('RSA PKCS#1 v1.5 by default: node:crypto verifies ours, we verify node:crypto’s, tampered is Invalid', async () => {
        const priv = await register(h, version, rsa.privateKey, { mask: U.Sign });
        const pub = await register(h, version, rsa.publicKey, { mask: U.Verify });
        const sig = await signWith(version, priv, [B(Tag.Data, MESSAGE)]);
        expect(Buffer.from(sig).equals(sign('sha256', MESSAGE, rsa.privateKey))).to.equal(true);
        const theirs = sign('sha256', MESSAGE, rsa.privateKey);
        expect(await verifyWith(version, pub, [B(Tag.Data, MESSAGE), B(Tag.SignatureData, theirs)])).to.equal(
          'Valid',
        );
        const bad = Uint8Array.from(theirs);
        bad[0] = (bad[0] ?? 0) ^ 0xff;
        expect(await verifyWith(version, pub, [B(Tag.Data, MESSAGE), B(Tag.SignatureData, bad)])).to.equal(
          'Invalid',
        );
        expect(
          await verifyWith(version, pub, [B(Tag.Data, Buffer.from('other')), B(Tag.SignatureData, theirs)]),
        ).to.equal('Invalid');
        expect(
          await verifyWith(version, pub, [
            B(Tag.Data, MESSAGE),
            B(Tag.SignatureData, new Uint8Array([1, 2, 3])),
          ]),
        ).to.equal('Invalid');
      });

      it('RSA-PSS from the key’s Cryptographic Parameters, salt = hash length', async () => {
        const priv = await register(h, version, rsa.privateKey, { mask: U.Sign, params: PSS });
        const pub = await register(h, version, rsa.publicKey, { mask: U.Verify, params: PSS });
        const sig = await signWith(version, priv, [B(Tag.Data, MESSAGE)]);
        const opts = { key: rsa.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
        expect(verify('sha256', MESSAGE, opts, sig)).to.equal(true);
        expect(await verifyWith(version, pub, [B(Tag.Data, MESSAGE), B(Tag.SignatureData, sig)])).to.equal(
          'Valid',
        );
        // Request parameters override the key's: PKCS#1 v1.5 does not verify a PSS signature.
        const v15 = params([E(Tag.PaddingMethod, PaddingMethod.PKCS1V1_5)]);
        expect(
          await verifyWith(version, pub, [v15, B(Tag.Data, MESSAGE), B(Tag.SignatureData, sig)]),
        ).to.equal('Invalid');
      });

      it('Digital Signature Algorithm and Salt Length in the request', async () => {
        const priv = await register(h, version, rsa.privateKey, { mask: U.Sign });
        const sha512 = params([
          E(Tag.DigitalSignatureAlgorithm, DigitalSignatureAlgorithm.SHA_512WithRSAEncryption),
        ]);
        const sig = await signWith(version, priv, [sha512, B(Tag.Data, MESSAGE)]);
        expect(verify('sha512', MESSAGE, rsa.publicKey, sig)).to.equal(true);
        const pss = params([
          E(Tag.DigitalSignatureAlgorithm, DigitalSignatureAlgorithm.RSASSA_PSS),
          E(Tag.HashingAlgorithm, HashingAlgorithm.SHA_384),
          I(Tag.SaltLength, 5),
        ]);
        const sig2 = await signWith(version, priv, [pss, B(Tag.Data, MESSAGE)]);
        const opts = { key: rsa.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 5 };
        expect(verify('sha384', MESSAGE, opts, sig2)).to.equal(true);
      });

      it('an encryption padding in the key’s own parameters does not stop it signing (PKCS#1 v1.5)', async () => {
        const oaep = [
          E(Tag.PaddingMethod, PaddingMethod.OAEP),
          E(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256),
        ];
        const priv = await register(h, version, rsa.privateKey, { mask: U.Sign | U.Decrypt, params: oaep });
        const sig = await signWith(version, priv, [B(Tag.Data, MESSAGE)]);
        expect(verify('sha256', MESSAGE, rsa.publicKey, sig)).to.equal(true);
        const [r] = await h.send(version, [
          {
            op: Operation.Sign,
            payload: [T(Tag.UniqueIdentifier, priv), params(oaep), B(Tag.Data, MESSAGE)],
          },
        ]);
        expect(r?.reason).to.equal(
          version === '2.1'
            ? ResultReason.UnsupportedCryptographicParameters
            : ResultReason.FeatureNotSupported,
        );
      });

      it('ECDSA: DER signatures, SHA-256 on P-256 and SHA-384 on P-384 by default', async () => {
        for (const [pair, hash] of [
          [p256, 'sha256'],
          [p384, 'sha384'],
        ] as const) {
          const priv = await register(h, version, pair.privateKey, { mask: U.Sign });
          const pub = await register(h, version, pair.publicKey, { mask: U.Verify });
          const sig = await signWith(version, priv, [B(Tag.Data, MESSAGE)]);
          expect(verify(hash, MESSAGE, { key: pair.publicKey, dsaEncoding: 'der' }, sig), hash).to.equal(
            true,
          );
          const theirs = sign(hash, MESSAGE, { key: pair.privateKey, dsaEncoding: 'der' });
          expect(
            await verifyWith(version, pub, [B(Tag.Data, MESSAGE), B(Tag.SignatureData, theirs)]),
          ).to.equal('Valid');
        }
      });

      it('ECDSA verify takes only the digest of RSA parameters (CS-AC-M-3-ECC-13)', async () => {
        const pub = await register(h, version, p256.publicKey, { mask: U.Verify });
        const sig = sign('sha256', MESSAGE, { key: p256.privateKey, dsaEncoding: 'der' });
        const rsaPss = (hash: number) =>
          params([
            E(Tag.PaddingMethod, PaddingMethod.PSS),
            E(Tag.HashingAlgorithm, hash),
            E(Tag.CryptographicAlgorithm, A.RSA),
          ]);
        const body = [B(Tag.Data, MESSAGE), B(Tag.SignatureData, sig)];
        expect(await verifyWith(version, pub, [rsaPss(HashingAlgorithm.SHA_256), ...body])).to.equal('Valid');
        expect(await verifyWith(version, pub, [rsaPss(HashingAlgorithm.SHA_1), ...body])).to.equal('Invalid');
      });

      it('Digested Data: RSA with DigestInfo when the hash is named, as given otherwise; ECDSA', async () => {
        const priv = await register(h, version, rsa.privateKey, { mask: U.Sign });
        const pub = await register(h, version, rsa.publicKey, { mask: U.Verify });
        const digest = createHash('sha256').update(MESSAGE).digest();
        const named = params([E(Tag.HashingAlgorithm, HashingAlgorithm.SHA_256)]);
        const sig = await signWith(version, priv, [named, B(Tag.DigestedData, digest)]);
        expect(Buffer.from(sig).equals(sign('sha256', MESSAGE, rsa.privateKey))).to.equal(true);
        expect(
          await verifyWith(version, pub, [named, B(Tag.DigestedData, digest), B(Tag.SignatureData, sig)]),
        ).to.equal('Valid');
        // Verifying the same signature over Data agrees.
        expect(
          await verifyWith(version, pub, [named, B(Tag.Data, MESSAGE), B(Tag.SignatureData, sig)]),
        ).to.equal('Valid');
        const raw = await signWith(version, priv, [B(Tag.DigestedData, MESSAGE)]);
        const recovered = publicDecrypt({ key: rsa.publicKey, padding: constants.RSA_PKCS1_PADDING }, raw);
        expect(recovered.equals(MESSAGE)).to.equal(true);
        expect(
          await verifyWith(version, pub, [B(Tag.DigestedData, MESSAGE), B(Tag.SignatureData, raw)]),
        ).to.equal('Valid');

        const ecPriv = await register(h, version, p256.privateKey, { mask: U.Sign });
        const ecPub = await register(h, version, p256.publicKey, { mask: U.Verify });
        const ecSig = await signWith(version, ecPriv, [B(Tag.DigestedData, digest)]);
        expect(verify('sha256', MESSAGE, { key: p256.publicKey, dsaEncoding: 'der' }, ecSig)).to.equal(true);
        expect(
          await verifyWith(version, ecPub, [B(Tag.DigestedData, digest), B(Tag.SignatureData, ecSig)]),
        ).to.equal('Valid');
        expect(
          await verifyWith(version, ecPub, [B(Tag.DigestedData, MESSAGE), B(Tag.SignatureData, ecSig)]),
        ).to.equal('Invalid');
      });

      it('multi-part Sign and Signature Verify equal the one-shot operations', async () => {
        const priv = await register(h, version, rsa.privateKey, { mask: U.Sign });
        const pub = await register(h, version, rsa.publicKey, { mask: U.Verify });
        const parts = [MESSAGE.subarray(0, 2), MESSAGE.subarray(2, 14), MESSAGE.subarray(14)];
        const first = await h.ok(version, Operation.Sign, [
          T(Tag.UniqueIdentifier, priv),
          B(Tag.Data, parts[0] ?? MESSAGE),
          { tag: Tag.InitIndicator, type: 'Boolean', value: true },
        ]);
        expect(first.value.map((c) => c.tag)).to.deep.equal([Tag.UniqueIdentifier, Tag.CorrelationValue]);
        const cv = bytesOf(first, Tag.CorrelationValue);
        const mid = await h.ok(version, Operation.Sign, [
          T(Tag.UniqueIdentifier, priv),
          B(Tag.Data, parts[1] ?? MESSAGE),
          B(Tag.CorrelationValue, cv),
        ]);
        expect(Buffer.from(bytesOf(mid, Tag.CorrelationValue)).equals(Buffer.from(cv))).to.equal(true);
        const sig = await signWith(version, priv, [
          B(Tag.Data, parts[2] ?? MESSAGE),
          B(Tag.CorrelationValue, cv),
          { tag: Tag.FinalIndicator, type: 'Boolean', value: true },
        ]);
        expect(Buffer.from(sig).equals(sign('sha256', MESSAGE, rsa.privateKey))).to.equal(true);

        // The stream is gone once finished.
        const [again] = await h.send(version, [
          {
            op: Operation.Sign,
            payload: [T(Tag.UniqueIdentifier, priv), B(Tag.Data, MESSAGE), B(Tag.CorrelationValue, cv)],
          },
        ]);
        expect(again?.reason).to.equal(
          version === '2.1' ? ResultReason.InvalidCorrelationValue : ResultReason.InvalidField,
        );

        for (const [signature, expected] of [
          [sig, 'Valid'],
          [sign('sha256', Buffer.from('other'), rsa.privateKey), 'Invalid'],
        ] as const) {
          const v1 = await h.ok(version, Operation.SignatureVerify, [
            T(Tag.UniqueIdentifier, pub),
            B(Tag.Data, parts[0] ?? MESSAGE),
            B(Tag.SignatureData, signature),
            { tag: Tag.InitIndicator, type: 'Boolean', value: true },
          ]);
          const vcv = bytesOf(v1, Tag.CorrelationValue);
          await h.ok(version, Operation.SignatureVerify, [
            T(Tag.UniqueIdentifier, pub),
            B(Tag.Data, parts[1] ?? MESSAGE),
            B(Tag.CorrelationValue, vcv),
          ]);
          expect(
            await verifyWith(version, pub, [
              B(Tag.Data, parts[2] ?? MESSAGE),
              B(Tag.CorrelationValue, vcv),
              { tag: Tag.FinalIndicator, type: 'Boolean', value: true },
            ]),
          ).to.equal(expected);
        }
      });

      it('refuses a key outside its lifecycle window or without the usage (CS-AC-M-8)', async () => {
        const lifecycle =
          version === '2.1' ? ResultReason.WrongKeyLifecycleState : ResultReason.PermissionDenied;
        const mask =
          version === '2.1' ? ResultReason.IncompatibleCryptographicUsageMask : ResultReason.PermissionDenied;
        const stopped = await register(h, version, rsa.privateKey, {
          mask: U.Sign,
          attrs: [D(Tag.ProtectStopDate, now() - 3600)],
        });
        const notYet = await register(h, version, rsa.publicKey, {
          mask: U.Verify,
          attrs: [D(Tag.ProcessStartDate, now() + 3600)],
        });
        const preActive = await register(h, version, rsa.privateKey, { mask: U.Sign, active: false });
        const verifyOnly = await register(h, version, rsa.privateKey, { mask: U.Verify });
        const sig = sign('sha256', MESSAGE, rsa.privateKey);
        const results = await h.send(
          version,
          [
            { op: Operation.Sign, payload: [T(Tag.UniqueIdentifier, stopped), B(Tag.Data, MESSAGE)] },
            {
              op: Operation.SignatureVerify,
              payload: [T(Tag.UniqueIdentifier, notYet), B(Tag.Data, MESSAGE), B(Tag.SignatureData, sig)],
            },
            { op: Operation.Sign, payload: [T(Tag.UniqueIdentifier, preActive), B(Tag.Data, MESSAGE)] },
            { op: Operation.Sign, payload: [T(Tag.UniqueIdentifier, verifyOnly), B(Tag.Data, MESSAGE)] },
          ],
          CONTINUE,
        );
        expect(results.map((r) => r.reason)).to.deep.equal([lifecycle, lifecycle, lifecycle, mask]);
      });

      it('a Deactivated (revoked) public key still verifies; a revoked private key no longer signs', async () => {
        const priv = await register(h, version, rsa.privateKey, { mask: U.Sign });
        const pub = await register(h, version, rsa.publicKey, { mask: U.Verify });
        for (const id of [priv, pub]) {
          await h.ok(version, Operation.Revoke, [
            T(Tag.UniqueIdentifier, id),
            S(Tag.RevocationReason, [E(Tag.RevocationReasonCode, RevocationReasonCode.CessationOfOperation)]),
          ]);
        }
        const sig = sign('sha256', MESSAGE, rsa.privateKey);
        expect(await verifyWith(version, pub, [B(Tag.Data, MESSAGE), B(Tag.SignatureData, sig)])).to.equal(
          'Valid',
        );
        const [r] = await h.send(version, [
          { op: Operation.Sign, payload: [T(Tag.UniqueIdentifier, priv), B(Tag.Data, MESSAGE)] },
        ]);
        expect(r?.status).to.equal(1);
      });

      it('fails cleanly on bad requests', async () => {
        const priv = await register(h, version, rsa.privateKey, { mask: U.Sign | U.Verify });
        const pub = await register(h, version, rsa.publicKey, { mask: U.Sign | U.Verify });
        const v2 = version === '2.1';
        const results = await h.send(
          version,
          [
            { op: Operation.Sign, payload: [T(Tag.UniqueIdentifier, priv)] },
            {
              op: Operation.Sign,
              payload: [T(Tag.UniqueIdentifier, priv), B(Tag.Data, MESSAGE), B(Tag.DigestedData, MESSAGE)],
            },
            { op: Operation.Sign, payload: [T(Tag.UniqueIdentifier, pub), B(Tag.Data, MESSAGE)] },
            {
              op: Operation.Sign,
              payload: [
                T(Tag.UniqueIdentifier, priv),
                params([E(Tag.HashingAlgorithm, HashingAlgorithm.MD2)]),
                B(Tag.Data, MESSAGE),
              ],
            },
            {
              op: Operation.Sign,
              payload: [
                T(Tag.UniqueIdentifier, priv),
                params([E(Tag.CryptographicAlgorithm, A.ECDSA)]),
                B(Tag.Data, MESSAGE),
              ],
            },
            { op: Operation.SignatureVerify, payload: [T(Tag.UniqueIdentifier, pub), B(Tag.Data, MESSAGE)] },
            {
              op: Operation.Sign,
              payload: [
                T(Tag.UniqueIdentifier, priv),
                B(Tag.Data, MESSAGE),
                B(Tag.CorrelationValue, new Uint8Array(16)),
              ],
            },
            {
              op: Operation.Sign,
              payload: [
                T(Tag.UniqueIdentifier, priv),
                params([E(Tag.PaddingMethod, PaddingMethod.PSS), I(Tag.SaltLength, 1000)]),
                B(Tag.Data, MESSAGE),
              ],
            },
          ],
          CONTINUE,
        );
        expect(results.map((r) => r.status)).to.deep.equal([1, 1, 1, 1, 1, 1, 1, 1]);
        const R = ResultReason;
        expect(results.map((r) => r.reason)).to.deep.equal([
          R.InvalidField,
          R.InvalidField,
          v2 ? R.InvalidObjectType : R.InvalidField,
          v2 ? R.UnsupportedCryptographicParameters : R.FeatureNotSupported,
          v2 ? R.BadCryptographicParameters : R.InvalidField,
          R.InvalidField,
          v2 ? R.InvalidCorrelationValue : R.InvalidField,
          R.InvalidField,
        ]);
        for (const r of results) expect(r.message).to.be.a('string').and.not.equal('');
      });

      it('counts Usage Limits once per signature', async () => {
        const priv = await register(h, version, rsa.privateKey, {
          mask: U.Sign,
          attrs: [
            S(Tag.UsageLimits, [
              { tag: Tag.UsageLimitsTotal, type: 'LongInteger', value: 1n },
              E(Tag.UsageLimitsUnit, UsageLimitsUnit.Object),
            ]),
          ],
        });
        await signWith(version, priv, [B(Tag.Data, MESSAGE)]);
        const [r] = await h.send(version, [
          { op: Operation.Sign, payload: [T(Tag.UniqueIdentifier, priv), B(Tag.Data, MESSAGE)] },
        ]);
        expect(r?.status).to.equal(1);
      });
    });
  }

  it('a Certificate verifies with its public key', async () => {
    const keys = await generateKeyPair('ec');
    const cert = await createCertificate(
      { commonName: 'signer', days: 1, keyUsage: [KeyUsageBit.digitalSignature] },
      keys,
    );
    const der = new Uint8Array(cert.toSchema(true).toBER(false));
    const p = await h.ok('2.1', Operation.Register, [
      E(Tag.ObjectType, ObjectType.Certificate),
      S(Tag.Attributes, [I(Tag.CryptographicUsageMask, U.Verify), D(Tag.ActivationDate, now() - 3600)]),
      S(Tag.Certificate, [E(Tag.CertificateType, CertificateType.X_509), B(Tag.CertificateValue, der)]),
    ]);
    const id = text(p, Tag.UniqueIdentifier) ?? '';
    const sig = sign('sha256', MESSAGE, { key: KeyObject.from(keys.privateKey), dsaEncoding: 'der' });
    expect(await verifyWith('2.1', id, [B(Tag.Data, MESSAGE), B(Tag.SignatureData, sig)])).to.equal('Valid');
    expect(await verifyWith('2.1', id, [B(Tag.Data, Buffer.from('x')), B(Tag.SignatureData, sig)])).to.equal(
      'Invalid',
    );
  });

  it('Ed25519 signs and verifies in KMIP 2.1', async () => {
    const ed = generateKeyPairSync('ed25519');
    const priv = await register(h, '2.1', ed.privateKey, { mask: U.Sign });
    const pub = await register(h, '2.1', ed.publicKey, { mask: U.Verify });
    const sig = await signWith('2.1', priv, [B(Tag.Data, MESSAGE)]);
    expect(verify(null, MESSAGE, ed.publicKey, sig)).to.equal(true);
    expect(await verifyWith('2.1', pub, [B(Tag.Data, MESSAGE), B(Tag.SignatureData, sig)])).to.equal('Valid');
  });
});
