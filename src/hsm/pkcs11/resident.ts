import { createPublicKey } from 'node:crypto';
import {
  type HsmCipher,
  type HsmKeyPairSpec,
  type HsmKeyService,
  type HsmModuleInfo,
  type HsmSignScheme,
  MasterKeyError,
} from '../types.js';
import { type Handle, LOCKED_TOKEN_KEY, P, type Pkcs11 } from './library.js';

/** What ResidentKeys needs of the provider: its session pool, its call counter, its connection generation. */
export interface SessionRunner {
  run<T>(what: string, fn: (lib: Pkcs11, s: Handle) => Promise<T> | T): Promise<T>;
  count(): void;
  readonly generation: number;
  readonly tokenLabel: string;
}

// DER OIDs of the named curves (RFC 5480), the CKA_EC_PARAMS of a new EC key.
const CURVES = {
  'P-256': { oid: '06082a8648ce3d030107', bytes: 32 },
  'P-384': { oid: '06052b81040022', bytes: 48 },
  'P-521': { oid: '06052b81040023', bytes: 66 },
} as const;

const HASH_MECHANISMS: Readonly<Record<string, { readonly hash: number; readonly mgf: number }>> = {
  sha1: { hash: P.CKM_SHA_1, mgf: P.CKG_MGF1_SHA1 },
  sha224: { hash: P.CKM_SHA224, mgf: P.CKG_MGF1_SHA224 },
  sha256: { hash: P.CKM_SHA256, mgf: P.CKG_MGF1_SHA256 },
  sha384: { hash: P.CKM_SHA384, mgf: P.CKG_MGF1_SHA384 },
  sha512: { hash: P.CKM_SHA512, mgf: P.CKG_MGF1_SHA512 },
};

const HANDLE_CACHE_MAX = 4096;
// Attributes every resident key shares: a token object nobody can read or re-purpose.
function b64url(b: Buffer): string {
  return b.toString('base64url');
}

/** CKA_EC_POINT is a DER OCTET STRING around the point in v2.40; some modules give the bare point. */
function ecPoint(value: Buffer, bytes: number): Buffer {
  const bare = 1 + 2 * bytes;
  if (value.length === bare && value[0] === 0x04) return value;
  const point = value.subarray(value.length - bare);
  if (point.length !== bare || point[0] !== 0x04)
    throw new MasterKeyError('the HSM returned a malformed EC point');
  return point;
}

function bytesOf(v: unknown, what: string): Buffer {
  if (!Buffer.isBuffer(v)) throw new MasterKeyError(`the HSM returned no ${what}`);
  return v;
}

/**
 * Per-object keys inside the token (issue 6, option 6): AES keys for
 * Encrypt/Decrypt (CKM_AES_GCM, CKM_AES_CBC_PAD, CKM_AES_CBC, CKM_AES_ECB)
 * and RSA / EC private keys for Sign (CKM_RSA_PKCS over a host-built
 * DigestInfo, CKM_RSA_PKCS_PSS and CKM_ECDSA over a host-computed digest:
 * mechanisms that hash inside the token would move every message byte
 * through it). Object handles are cached per connection generation: after
 * warm-up a use costs one HSM round trip.
 */
export class ResidentKeys implements HsmKeyService {
  readonly #runner: SessionRunner;
  readonly #handles = new Map<string, { readonly generation: number; readonly handle: Handle }>();
  calls = 0;

  constructor(runner: SessionRunner) {
    this.#runner = runner;
  }

  get tokenLabel(): string {
    return this.#runner.tokenLabel;
  }

  async generateSecretKey(
    label: string,
    spec: { readonly algorithm: 'aes'; readonly bits: number },
  ): Promise<void> {
    if (![128, 192, 256].includes(spec.bits))
      throw new MasterKeyError(`cannot generate an AES key of ${spec.bits} bits`);
    await this.#run('generate a key', (lib, s) => {
      const handle = lib.C_GenerateKey(s, { mechanism: P.CKM_AES_KEY_GEN }, [
        { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
        { type: P.CKA_KEY_TYPE, value: P.CKK_AES },
        { type: P.CKA_VALUE_LEN, value: spec.bits / 8 },
        { type: P.CKA_LABEL, value: label },
        ...LOCKED_TOKEN_KEY,
        { type: P.CKA_ENCRYPT, value: true },
        { type: P.CKA_DECRYPT, value: true },
        { type: P.CKA_WRAP, value: false },
        { type: P.CKA_UNWRAP, value: false },
        { type: P.CKA_SIGN, value: false },
        { type: P.CKA_VERIFY, value: false },
        { type: P.CKA_DERIVE, value: false },
      ]);
      this.#remember(label, handle);
    });
  }

  async generateKeyPair(label: string, spec: HsmKeyPairSpec): Promise<Uint8Array> {
    return this.#run('generate a key pair', (lib, s) => {
      // The public half is a session object: read once into the SPKI stored as a KMIP Public Key.
      const publicCommon = [
        { type: P.CKA_TOKEN, value: false },
        { type: P.CKA_VERIFY, value: true },
        { type: P.CKA_ENCRYPT, value: false },
        { type: P.CKA_WRAP, value: false },
      ];
      const privateCommon = [
        { type: P.CKA_LABEL, value: label },
        ...LOCKED_TOKEN_KEY,
        { type: P.CKA_SIGN, value: true },
        { type: P.CKA_DECRYPT, value: false },
        { type: P.CKA_UNWRAP, value: false },
        { type: P.CKA_DERIVE, value: false },
      ];
      let jwk: Record<string, string>;
      let pair: { publicKey: Handle; privateKey: Handle };
      if (spec.kind === 'rsa') {
        if (spec.bits < 2048 || spec.bits > 8192 || spec.bits % 8 !== 0) {
          throw new MasterKeyError(`cannot generate an RSA key of ${spec.bits} bits in the HSM`);
        }
        pair = lib.C_GenerateKeyPair(
          s,
          { mechanism: P.CKM_RSA_PKCS_KEY_PAIR_GEN },
          [
            ...publicCommon,
            { type: P.CKA_MODULUS_BITS, value: spec.bits },
            { type: P.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
          ],
          [...privateCommon, { type: P.CKA_KEY_TYPE, value: P.CKK_RSA }],
        );
        const [n, e] = lib.C_GetAttributeValue(s, pair.publicKey, [
          { type: P.CKA_MODULUS },
          { type: P.CKA_PUBLIC_EXPONENT },
        ]);
        jwk = {
          kty: 'RSA',
          n: b64url(bytesOf(n?.value, 'modulus')),
          e: b64url(bytesOf(e?.value, 'exponent')),
        };
      } else {
        const curve = CURVES[spec.curve];
        pair = lib.C_GenerateKeyPair(
          s,
          { mechanism: P.CKM_EC_KEY_PAIR_GEN },
          [...publicCommon, { type: P.CKA_EC_PARAMS, value: Buffer.from(curve.oid, 'hex') }],
          [...privateCommon, { type: P.CKA_KEY_TYPE, value: P.CKK_EC }],
        );
        const [pt] = lib.C_GetAttributeValue(s, pair.publicKey, [{ type: P.CKA_EC_POINT }]);
        const point = ecPoint(bytesOf(pt?.value, 'EC point'), curve.bytes);
        jwk = {
          kty: 'EC',
          crv: spec.curve,
          x: b64url(point.subarray(1, 1 + curve.bytes)),
          y: b64url(point.subarray(1 + curve.bytes)),
        };
      }
      try {
        lib.C_DestroyObject(s, pair.publicKey);
      } catch {
        // a session object ends with its session anyway
      }
      this.#remember(label, pair.privateKey);
      return new Uint8Array(
        createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' }),
      );
    });
  }

  async encrypt(
    label: string,
    cipher: HsmCipher,
    data: Uint8Array,
  ): Promise<{ data: Uint8Array; tag?: Uint8Array }> {
    return this.#withKey('encrypt', label, P.CKO_SECRET_KEY, async (lib, s, key) => {
      lib.C_EncryptInit(s, mechanismOf(cipher), key);
      const out = await lib.C_EncryptAsync(s, Buffer.from(data), Buffer.alloc(data.length + 64));
      if (cipher.mode !== 'gcm') return { data: new Uint8Array(out) };
      const cut = out.length - cipher.tagBytes;
      return { data: new Uint8Array(out.subarray(0, cut)), tag: new Uint8Array(out.subarray(cut)) };
    });
  }

  async decrypt(label: string, cipher: HsmCipher, data: Uint8Array, tag?: Uint8Array): Promise<Uint8Array> {
    const input = cipher.mode === 'gcm' ? Buffer.concat([data, tag ?? new Uint8Array(0)]) : Buffer.from(data);
    return this.#withKey('decrypt', label, P.CKO_SECRET_KEY, async (lib, s, key) => {
      lib.C_DecryptInit(s, mechanismOf(cipher), key);
      const out = await lib.C_DecryptAsync(s, input, Buffer.alloc(input.length + 32));
      return new Uint8Array(out);
    });
  }

  async sign(label: string, scheme: HsmSignScheme, digest: Uint8Array): Promise<Uint8Array> {
    let mechanism: {
      mechanism: number;
      parameter?: { type: number; hashAlg: number; mgf: number; saltLen: number };
    };
    if (scheme.kind === 'rsa-pkcs1') mechanism = { mechanism: P.CKM_RSA_PKCS };
    else if (scheme.kind === 'ecdsa') mechanism = { mechanism: P.CKM_ECDSA };
    else {
      const h = HASH_MECHANISMS[scheme.hash];
      const m = HASH_MECHANISMS[scheme.mgf1Hash];
      if (h === undefined || m === undefined)
        throw new MasterKeyError(`the HSM cannot sign RSA-PSS with ${scheme.hash}`);
      mechanism = {
        mechanism: P.CKM_RSA_PKCS_PSS,
        parameter: { type: P.CK_PARAMS_RSA_PSS, hashAlg: h.hash, mgf: m.mgf, saltLen: scheme.saltLength },
      };
    }
    return this.#withKey('sign', label, P.CKO_PRIVATE_KEY, async (lib, s, key) => {
      lib.C_SignInit(s, mechanism, key);
      return new Uint8Array(await lib.C_SignAsync(s, Buffer.from(digest), Buffer.alloc(1024)));
    });
  }

  async destroy(label: string): Promise<number> {
    this.#handles.delete(label);
    return this.#run('destroy a key', (lib, s) => {
      const found = find(lib, s, [{ type: P.CKA_LABEL, value: label }]);
      for (const h of found) lib.C_DestroyObject(s, h);
      return found.length;
    });
  }

  async moduleInfo(): Promise<HsmModuleInfo> {
    return this.#run('describe the module', (lib) => {
      const i = lib.C_GetInfo();
      return {
        cryptokiVersion: { major: i.cryptokiVersion.major, minor: i.cryptokiVersion.minor },
        manufacturerID: i.manufacturerID,
        flags: i.flags,
        libraryDescription: i.libraryDescription,
        libraryVersion: { major: i.libraryVersion.major, minor: i.libraryVersion.minor },
      };
    });
  }

  #run<T>(what: string, fn: (lib: Pkcs11, s: Handle) => Promise<T> | T): Promise<T> {
    this.calls++;
    this.#runner.count();
    return this.#runner.run(what, fn);
  }

  /** Runs fn with the key's handle; a stale cached handle (the token was reset) is looked up once more. */
  #withKey<T>(
    what: string,
    label: string,
    objectClass: number,
    fn: (lib: Pkcs11, s: Handle, key: Handle) => Promise<T>,
  ): Promise<T> {
    return this.#run(what, async (lib, s) => {
      const generation = this.#runner.generation;
      const cached = this.#handles.get(label);
      let handle = cached?.generation === generation ? cached.handle : undefined;
      if (handle === undefined) {
        this.calls++;
        this.#runner.count();
        const [found] = find(lib, s, [
          { type: P.CKA_CLASS, value: objectClass },
          { type: P.CKA_LABEL, value: label },
        ]);
        if (found === undefined) throw new MasterKeyError(`the HSM holds no key ${label}`);
        handle = found;
        this.#remember(label, handle);
      }
      return fn(lib, s, handle);
    });
  }

  #remember(label: string, handle: Handle): void {
    this.#handles.delete(label);
    this.#handles.set(label, { generation: this.#runner.generation, handle });
    if (this.#handles.size > HANDLE_CACHE_MAX) {
      const oldest = this.#handles.keys().next();
      if (!oldest.done) this.#handles.delete(oldest.value);
    }
  }
}

function find(lib: Pkcs11, s: Handle, template: { type: number; value: number | string }[]): Handle[] {
  lib.C_FindObjectsInit(s, template);
  try {
    return lib.C_FindObjects(s, 16);
  } finally {
    lib.C_FindObjectsFinal(s);
  }
}

function mechanismOf(c: HsmCipher) {
  switch (c.mode) {
    case 'gcm':
      return {
        mechanism: P.CKM_AES_GCM,
        parameter: {
          type: P.CK_PARAMS_GCM,
          iv: Buffer.from(c.iv),
          ivBits: c.iv.length * 8,
          tagBits: c.tagBytes * 8,
          ...(c.aad === undefined ? {} : { aad: Buffer.from(c.aad) }),
        },
      };
    case 'cbc':
      return { mechanism: c.pad ? P.CKM_AES_CBC_PAD : P.CKM_AES_CBC, parameter: Buffer.from(c.iv) };
    default:
      return { mechanism: P.CKM_AES_ECB };
  }
}
