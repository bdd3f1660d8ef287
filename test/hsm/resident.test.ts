/**
 * Keys that stay inside the HSM (x-HSM-Resident, docs/hsm.md): generated in
 * the SoftHSM2 token, never extractable, used there by Encrypt, Decrypt and
 * Sign through a real server; Get refused; Destroy removes the token object;
 * the store holds no key material for them.
 */
import { createPublicKey, createVerify, constants as cryptoConstants, verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { type RunningServer, startServer } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import type { ModelAttribute } from '../../src/kmip/messages/attributes.js';
import {
  BlockCipherMode,
  CryptographicAlgorithm,
  DigitalSignatureAlgorithm,
  HashingAlgorithm,
  KeyFormatType,
  Operation,
  PaddingMethod,
  ResultReason,
  ResultStatus,
  RevocationReasonCode,
  Tag,
} from '../../src/kmip/spec/index.js';
import type { TtlvItem, TtlvStructure } from '../../src/kmip/ttlv/types.js';
import { silentLogger } from '../../src/log.js';
import { ensureDevPki } from '../../src/pki/index.js';
import { openStore } from '../../src/store/index.js';
import { aes256Attributes, TestKmipClient } from '../helpers/kmip-client.js';
import { B, E, S } from '../helpers/requests.js';
import { adminPki, pkcs11Hsm, writeServerConfig } from '../helpers/server-config.js';
import { createSoftHsmToken, listObjects, type SoftHsmToken } from '../helpers/softhsm.js';

const std = (value: TtlvItem): ModelAttribute => ({
  key: { kind: 'standard', tag: value.tag },
  index: undefined,
  value,
});

const RESIDENT: ModelAttribute = {
  key: { kind: 'custom', vendor: 'x', name: 'HSM-Resident' },
  index: undefined,
  value: { tag: Tag.AttributeValue, type: 'Boolean', value: true },
};
const activeNow = (): ModelAttribute =>
  std({ tag: Tag.ActivationDate, type: 'DateTime', value: BigInt(Math.floor(Date.now() / 1000) - 60) });

function field(p: TtlvStructure, tag: number): Uint8Array {
  const f = p.value.find((c) => c.tag === tag);
  if (f?.type !== 'ByteString') throw new Error(`no ${tag.toString(16)} in the response`);
  return f.value;
}

function params(items: TtlvItem[]): TtlvItem {
  return S(Tag.CryptographicParameters, items);
}

describe('keys inside the HSM (x-HSM-Resident)', function () {
  this.timeout(120_000);
  let dataDir: string;
  let server: RunningServer | undefined;
  let token: SoftHsmToken;
  let c: TestKmipClient;
  let pki: { ca: string; adminCert: string; adminKey: string };

  async function start(hsm: 'pkcs11' | 'software', version: '1.4' | '2.1' = '1.4'): Promise<void> {
    const configFile = await writeServerConfig(dataDir, hsm === 'pkcs11' ? { hsm: pkcs11Hsm(token) } : {});
    server = await startServer(loadConfig({ configFile, env: {} }), silentLogger);
    c = await TestKmipClient.connect({ host: server.address.host, port: server.address.port, pki }, version);
  }

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-hsm-res-'));
    await ensureDevPki(dataDir);
    pki = adminPki(dataDir);
    token = createSoftHsmToken();
  });

  afterEach(async () => {
    c?.close();
    await server?.close();
    server = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  async function keyPair(attrs: ModelAttribute[]): Promise<{ priv: string; pub: string }> {
    const p = await c.ok(Operation.CreateKeyPair, [
      S(Tag.CommonTemplateAttribute, c.attributesPayload(attrs).value as TtlvItem[]),
      S(Tag.PrivateKeyTemplateAttribute, c.attributesPayload([RESIDENT, activeNow()]).value as TtlvItem[]),
      S(
        Tag.PublicKeyTemplateAttribute,
        c.attributesPayload([
          activeNow(),
          std({ tag: Tag.CryptographicUsageMask, type: 'Integer', value: 0x02 /* Verify */ }),
        ]).value as TtlvItem[],
      ),
    ]);
    const text = (tag: number) => {
      const f = p.value.find((x) => x.tag === tag);
      if (f?.type !== 'TextString') throw new Error('no id');
      return f.value;
    };
    return { priv: text(Tag.PrivateKeyUniqueIdentifier), pub: text(Tag.PublicKeyUniqueIdentifier) };
  }

  async function publicKeyOf(uid: string) {
    const p = await c.ok(Operation.Get, [c.uidItem(uid), E(Tag.KeyFormatType, KeyFormatType.X_509)]);
    const der = TestKmipClient.keyMaterial(p);
    if (der === undefined) throw new Error('no public key');
    return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  }

  it('an AES key generated in the token: attributes, Get refused, GCM and CBC in the HSM, Destroy', async () => {
    await start('pkcs11');
    const uid = await c.createAes([RESIDENT, activeNow()]);
    const attrs = await c.getAttributes(uid);
    const value = (tag: number) => attrs.find((a) => a.key.kind === 'standard' && a.key.tag === tag)?.value;
    expect(value(Tag.Sensitive)).to.include({ value: true });
    expect(value(Tag.AlwaysSensitive)).to.include({ value: true });
    expect(value(Tag.Extractable)).to.include({ value: false });
    expect(value(Tag.NeverExtractable)).to.include({ value: true });
    const ref = attrs.find((a) => a.key.kind === 'custom' && a.key.name === 'HSM-Key-Reference');
    expect(ref?.value).to.include({ value: `pkcs11:${token.tokenLabel}:kmip:${uid}` });

    const get = await c.call(Operation.Get, [c.uidItem(uid)]);
    expect(get.status).to.equal(ResultStatus.OperationFailed);
    expect(get.reason).to.equal(ResultReason.Sensitive);

    // pkcs11-tool sees the token object as sensitive and never extractable.
    const listing = await listObjects(token);
    const entry = listing.split(/\n(?=Secret Key Object)/).find((b) => b.includes(`kmip:${uid}`));
    expect(entry, listing).to.match(/sensitive/);
    expect(entry).to.match(/never extractable/);

    const plain = Buffer.from('attack at dawn, attack at dawn!');
    // GCM (CKM_AES_GCM) with AAD; the IV is the server's.
    const gcm = params([E(Tag.BlockCipherMode, BlockCipherMode.GCM)]);
    const aad = Buffer.from('header');
    const enc = await c.ok(Operation.Encrypt, [
      c.uidItem(uid),
      gcm,
      B(Tag.Data, plain),
      B(Tag.AuthenticatedEncryptionAdditionalData, aad),
    ]);
    const iv = field(enc, Tag.IVCounterNonce);
    const tag = field(enc, Tag.AuthenticatedEncryptionTag);
    expect(iv).to.have.length(12);
    expect(tag).to.have.length(16);
    const decryptWith = (t: Uint8Array) => [
      c.uidItem(uid),
      gcm,
      B(Tag.Data, field(enc, Tag.Data)),
      B(Tag.IVCounterNonce, iv),
      B(Tag.AuthenticatedEncryptionAdditionalData, aad),
      B(Tag.AuthenticatedEncryptionTag, t),
    ];
    const dec = await c.ok(Operation.Decrypt, decryptWith(tag));
    expect(Buffer.from(field(dec, Tag.Data)).equals(plain)).to.equal(true);
    const bad = Buffer.from(tag);
    bad[0] = (bad[0] ?? 0) ^ 1;
    const forged = await c.call(Operation.Decrypt, decryptWith(bad));
    expect(forged.reason, forged.message).to.equal(ResultReason.CryptographicFailure);

    // The server's default (MongoDB sends no parameters): CBC with PKCS#5 padding (CKM_AES_CBC_PAD).
    const cbc = await c.ok(Operation.Encrypt, [c.uidItem(uid), B(Tag.Data, plain)]);
    expect(field(cbc, Tag.Data)).to.have.length(32);
    const back = await c.ok(Operation.Decrypt, [
      c.uidItem(uid),
      B(Tag.Data, field(cbc, Tag.Data)),
      B(Tag.IVCounterNonce, field(cbc, Tag.IVCounterNonce)),
    ]);
    expect(Buffer.from(field(back, Tag.Data)).equals(plain)).to.equal(true);

    // A mode the HSM path does not offer is refused, not done in software.
    const ctr = await c.call(Operation.Encrypt, [
      c.uidItem(uid),
      params([E(Tag.BlockCipherMode, BlockCipherMode.CTR)]),
      B(Tag.Data, plain),
    ]);
    expect(ctr.status).to.equal(ResultStatus.OperationFailed);

    // Destroy (after Revoke) removes the token object.
    await c.ok(Operation.Revoke, [
      c.uidItem(uid),
      S(Tag.RevocationReason, [E(Tag.RevocationReasonCode, RevocationReasonCode.CessationOfOperation)]),
    ]);
    await c.ok(Operation.Destroy, [c.uidItem(uid)]);
    expect(await listObjects(token)).not.to.include(`kmip:${uid}`);
    const after = await c.call(Operation.Encrypt, [c.uidItem(uid), B(Tag.Data, plain)]);
    expect(after.status).to.equal(ResultStatus.OperationFailed);

    // Nothing sealed in the store for it.
    c.close();
    await server?.close();
    server = undefined;
    const store = await openStore(`sqlite:${path.join(dataDir, 'kmip.db')}`);
    const rec = await store.get(uid);
    await store.close();
    expect(rec?.sealed).to.equal(undefined);
  });

  it('RSA and EC private keys in the token sign (PKCS#1 v1.5, PSS, ECDSA); public keys verify', async () => {
    await start('pkcs11');
    const rsa = await keyPair([
      std(E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.RSA)),
      std({ tag: Tag.CryptographicLength, type: 'Integer', value: 2048 }),
      std({ tag: Tag.CryptographicUsageMask, type: 'Integer', value: 0x01 | 0x02 }),
    ]);
    const get = await c.call(Operation.Get, [c.uidItem(rsa.priv)]);
    expect(get.reason).to.equal(ResultReason.Sensitive);
    const rsaPub = await publicKeyOf(rsa.pub);
    const data = Buffer.from('the message');

    const pkcs1 = await c.ok(Operation.Sign, [
      c.uidItem(rsa.priv),
      params([E(Tag.DigitalSignatureAlgorithm, DigitalSignatureAlgorithm.SHA_256WithRSAEncryption)]),
      B(Tag.Data, data),
    ]);
    const sig1 = field(pkcs1, Tag.SignatureData);
    expect(createVerify('sha256').update(data).verify(rsaPub, Buffer.from(sig1))).to.equal(true);

    const pss = await c.ok(Operation.Sign, [
      c.uidItem(rsa.priv),
      params([
        E(Tag.PaddingMethod, PaddingMethod.PSS),
        E(Tag.HashingAlgorithm, HashingAlgorithm.SHA_384),
        E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.RSA),
      ]),
      B(Tag.Data, data),
    ]);
    const ok = verify(
      'sha384',
      data,
      { key: rsaPub, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: 48 },
      Buffer.from(field(pss, Tag.SignatureData)),
    );
    expect(ok).to.equal(true);

    // Signature Verify through the server, with the private key's id (its public key verifies).
    const v = await c.ok(Operation.SignatureVerify, [
      c.uidItem(rsa.priv),
      params([E(Tag.DigitalSignatureAlgorithm, DigitalSignatureAlgorithm.SHA_256WithRSAEncryption)]),
      B(Tag.Data, data),
      B(Tag.SignatureData, sig1),
    ]);
    expect(v.value.find((x) => x.tag === Tag.ValidityIndicator)).to.include({ value: 1 /* Valid */ });

    const ec = await keyPair([
      std(E(Tag.CryptographicAlgorithm, CryptographicAlgorithm.ECDSA)),
      std({ tag: Tag.CryptographicLength, type: 'Integer', value: 256 }),
      std({ tag: Tag.CryptographicUsageMask, type: 'Integer', value: 0x01 | 0x02 }),
    ]);
    const ecSig = await c.ok(Operation.Sign, [c.uidItem(ec.priv), B(Tag.Data, data)]);
    const ecPub = await publicKeyOf(ec.pub);
    expect(verify('sha256', data, ecPub, Buffer.from(field(ecSig, Tag.SignatureData)))).to.equal(true);

    const listing = await listObjects(token).catch(() => '');
    expect(listing).to.be.a('string');
  });

  it('is refused on the software provider', async () => {
    await start('software');
    const r = await c.call(Operation.Create, [
      E(Tag.ObjectType, 2),
      c.attributesPayload([...aes256Attributes(), RESIDENT]),
    ]);
    expect(r.status).to.equal(ResultStatus.OperationFailed);
    expect(r.reason).to.equal(ResultReason.FeatureNotSupported);
    expect(r.message).to.include('pkcs11');
  });
});
