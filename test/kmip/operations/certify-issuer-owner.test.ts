/**
 * Certify's own issuing CA is only what the server created (owner
 * kmip-server:issuing-ca, certificate and key alike): a client key linked
 * to the CA certificate, or a client's objects named like it, never sign.
 * Auth off (no tenant scope), where any client may change any object.
 */
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import { SERVER_CA_NAME, SERVER_CA_OWNER } from '../../../src/kmip/operations/support/certificates.js';
import {
  CryptographicAlgorithm,
  CryptographicUsageMask,
  LinkType,
  ObjectType,
  Operation,
  ResultReason,
  Tag,
} from '../../../src/kmip/spec/index.js';
import type { TtlvItem } from '../../../src/kmip/ttlv/types.js';
import { rsaKey } from '../../helpers/requests.js';
import { aesKey } from './fixtures.js';
import { E, type Harness, I, kid, openHarness, S, T, text } from './harness.js';

const M = CryptographicUsageMask;

async function certify(h: Harness): Promise<X509Certificate> {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const reg = await h.ok('2.0', Operation.Register, [
    E(Tag.ObjectType, ObjectType.PublicKey),
    S(Tag.Attributes, [I(Tag.CryptographicUsageMask, M.Verify)]),
    rsaKey(Tag.PublicKey, publicKey, 'pkcs1'),
  ]);
  const p = await h.ok('2.0', Operation.Certify, [
    T(Tag.UniqueIdentifier, text(reg, Tag.UniqueIdentifier) ?? ''),
  ]);
  const got = await h.ok('2.0', Operation.Get, [
    T(Tag.UniqueIdentifier, text(p, Tag.UniqueIdentifier) ?? ''),
  ]);
  const value = kid(kid(got, Tag.Certificate), Tag.CertificateValue);
  if (value?.type !== 'ByteString') throw new Error('no certificate value');
  return new X509Certificate(value.value);
}

/** An Import (2.0) of a zero AES-128 key over `id`, Replace Existing. */
function importReplacing(id: string): TtlvItem[] {
  return [
    T(Tag.UniqueIdentifier, id),
    E(Tag.ObjectType, ObjectType.SymmetricKey),
    { tag: Tag.ReplaceExisting, type: 'Boolean', value: true },
    S(Tag.Attributes, [
      E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
      I(Tag.CryptographicLength, 128),
    ]),
    aesKey(new Uint8Array(16)),
  ];
}

describe('Certify: the issuing CA is the server’s own', function () {
  this.timeout(30_000);
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness();
  });
  afterEach(async () => h.close());

  it('ignores a client key linked to the issuing CA certificate', async () => {
    const first = await certify(h);
    const [caId] = await h.objects.locate({ name: SERVER_CA_NAME, owner: SERVER_CA_OWNER });
    if (caId === undefined) throw new Error('no server CA');

    // a client's RSA key with Certificate Sign, Active
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const [reg] = await h.send('2.0', [
      {
        op: Operation.Register,
        payload: [
          E(Tag.ObjectType, ObjectType.PrivateKey),
          S(Tag.Attributes, [I(Tag.CryptographicUsageMask, M.CertificateSign)]),
          rsaKey(Tag.PrivateKey, privateKey, 'pkcs1'),
        ],
      },
      { op: Operation.Activate, payload: [] },
    ]);
    const plantedId = text(reg?.payload, Tag.UniqueIdentifier) ?? '';
    // the CA certificate's Private Key Link now leads to it (auth off: any client may change any object)
    await h.objects.update(caId, (obj) => ({
      attributes: obj.attributes.map((a) =>
        a.value.tag === Tag.Link && text(a.value, Tag.LinkedObjectIdentifier) !== undefined
          ? {
              ...a,
              value: S(Tag.Link, [
                E(Tag.LinkType, LinkType.PrivateKeyLink),
                T(Tag.LinkedObjectIdentifier, plantedId),
              ] as TtlvItem[]),
            }
          : a,
      ),
    }));

    const cert = await certify(h);
    expect(cert.verify(publicKey), 'signed by the client key').to.equal(false);
    expect(cert.issuer).to.equal(`CN=${SERVER_CA_NAME}`);
    expect(first.issuer).to.equal(cert.issuer);
  });

  it("refuses Import over the server's own objects and identifiers in its namespace", async () => {
    await certify(h);
    const [caId] = await h.objects.locate({ name: SERVER_CA_NAME, owner: SERVER_CA_OWNER });
    if (caId === undefined) throw new Error('no server CA');
    const before = await h.objects.get(caId);
    for (const id of [caId, 'kmip-server:access:tenant:x']) {
      const [r] = await h.send('2.0', [{ op: Operation.Import, payload: importReplacing(id) }]);
      expect(r?.reason, r?.message).to.equal(ResultReason.PermissionDenied);
    }
    const after = await h.objects.get(caId);
    expect(after?.owner).to.equal(SERVER_CA_OWNER);
    expect(after?.version).to.equal(before?.version);
  });

  it('keeps the owner of an object an Import replaces (auth off)', async () => {
    const created = await h.objects.create({
      objectType: ObjectType.SymmetricKey,
      attributes: [],
      content: undefined,
      owner: 'someone-else',
    });
    await h.ok('2.0', Operation.Import, importReplacing(created.id));
    expect((await h.objects.get(created.id))?.owner).to.equal('someone-else');
  });
});
