/**
 * A small KMIP client for integration tests: builds requests with the
 * project's own message and attribute layers, speaks over a real mutual-TLS
 * connection, and returns results without interpreting failures away.
 */
import { readFile } from 'node:fs/promises';
import { KmipConnection, type TlsTarget } from '../../conformance-tests/lib/client.js';
import {
  type AttributeKey,
  attributeFromV1,
  attributeReferenceToWire,
  attributeToWire,
  type ModelAttribute,
  readRequestAttributes,
} from '../../src/kmip/messages/attributes.js';
import {
  compareVersions,
  type KmipVersion,
  Operation,
  ResultStatus,
  Tag,
} from '../../src/kmip/spec/index.js';
import type { TtlvItem, TtlvStructure } from '../../src/kmip/ttlv/types.js';
import { encodeRequest, responseItems, S } from './requests.js';

export interface KmipResult {
  readonly status: number;
  readonly reason: number | undefined;
  readonly message: string | undefined;
  readonly payload: TtlvStructure | undefined;
}

export function textAttribute(name: string, value: string): ModelAttribute {
  const custom = /^([xy])-(.+)$/.exec(name);
  if (!custom) throw new Error('textAttribute takes x-/y- names');
  return {
    key: { kind: 'custom', vendor: custom[1] as string, name: custom[2] as string },
    index: undefined,
    value: { tag: Tag.AttributeValue, type: 'TextString', value },
  };
}

export function nameAttribute(name: string): ModelAttribute {
  return {
    key: { kind: 'standard', tag: Tag.Name },
    index: undefined,
    value: S(Tag.Name, [
      { tag: Tag.NameValue, type: 'TextString', value: name },
      { tag: Tag.NameType, type: 'Enumeration', value: 1 /* Uninterpreted Text String */ },
    ]),
  };
}

export function aes256Attributes(): ModelAttribute[] {
  return [
    {
      key: { kind: 'standard', tag: Tag.CryptographicAlgorithm },
      index: undefined,
      value: { tag: Tag.CryptographicAlgorithm, type: 'Enumeration', value: 3 /* AES */ },
    },
    {
      key: { kind: 'standard', tag: Tag.CryptographicLength },
      index: undefined,
      value: { tag: Tag.CryptographicLength, type: 'Integer', value: 256 },
    },
    {
      key: { kind: 'standard', tag: Tag.CryptographicUsageMask },
      index: undefined,
      value: { tag: Tag.CryptographicUsageMask, type: 'Integer', value: 0x04 | 0x08 /* Encrypt | Decrypt */ },
    },
  ];
}

export class TestKmipClient {
  /** one request at a time per connection: KMIP answers in order, the connection helper reads one frame per call */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly conn: KmipConnection,
    readonly version: KmipVersion,
  ) {}

  static async connect(
    server: { host: string; port: number; pki: { ca: string; adminCert: string; adminKey: string } },
    version: KmipVersion = '1.4',
  ): Promise<TestKmipClient> {
    const [ca, cert, key] = await Promise.all([
      readFile(server.pki.ca),
      readFile(server.pki.adminCert),
      readFile(server.pki.adminKey),
    ]);
    const target: TlsTarget = { host: server.host, port: server.port, ca, cert, key };
    return new TestKmipClient(await KmipConnection.open(target, 10_000), version);
  }

  close(): void {
    this.conn.close();
  }

  private get v2(): boolean {
    return compareVersions(this.version, '2.0') >= 0;
  }

  async batch(items: readonly { op: number; payload: TtlvItem[] }[]): Promise<KmipResult[]> {
    const request = encodeRequest(
      items.map((i) => ({ op: i.op, payload: i.payload })),
      { version: this.version },
    );
    const exchange = this.queue.then(() => this.conn.exchange(request, 30_000));
    this.queue = exchange.catch(() => undefined);
    return responseItems(await exchange).map(({ status, reason, message, payload }) => ({
      status,
      reason,
      message,
      payload,
    }));
  }

  async call(op: number, payload: TtlvItem[]): Promise<KmipResult> {
    const [r] = await this.batch([{ op, payload }]);
    if (!r) throw new Error('no batch item in the response');
    return r;
  }

  /** Throws with the server's reason and message unless the call succeeded. */
  async ok(op: number, payload: TtlvItem[]): Promise<TtlvStructure> {
    const r = await this.call(op, payload);
    if (r.status !== ResultStatus.Success || !r.payload) {
      throw new Error(`operation 0x${op.toString(16)} failed: reason ${r.reason} ${r.message ?? ''}`);
    }
    return r.payload;
  }

  attributesPayload(attrs: readonly ModelAttribute[]): TtlvItem {
    const wire = attrs
      .map((a) => attributeToWire(a, this.version))
      .filter((w): w is TtlvItem => w !== undefined);
    return S(this.v2 ? Tag.Attributes : Tag.TemplateAttribute, wire);
  }

  static uid(payload: TtlvStructure): string {
    const id = payload.value.find((c) => c.tag === Tag.UniqueIdentifier);
    if (id?.type !== 'TextString') throw new Error('no Unique Identifier in the payload');
    return id.value;
  }

  async createAes(extra: readonly ModelAttribute[] = []): Promise<string> {
    const p = await this.ok(Operation.Create, [
      { tag: Tag.ObjectType, type: 'Enumeration', value: 2 /* Symmetric Key */ },
      this.attributesPayload([...aes256Attributes(), ...extra]),
    ]);
    return TestKmipClient.uid(p);
  }

  createAesRequest(extra: readonly ModelAttribute[] = []): { op: number; payload: TtlvItem[] } {
    return {
      op: Operation.Create,
      payload: [
        { tag: Tag.ObjectType, type: 'Enumeration', value: 2 },
        this.attributesPayload([...aes256Attributes(), ...extra]),
      ],
    };
  }

  uidItem(uid: string): TtlvItem {
    return { tag: Tag.UniqueIdentifier, type: 'TextString', value: uid };
  }

  /** The Key Material bytes of a Get response. */
  static keyMaterial(payload: TtlvStructure): Uint8Array | undefined {
    let found: Uint8Array | undefined;
    const walk = (it: TtlvItem) => {
      if (it.tag === Tag.KeyMaterial && it.type === 'ByteString') found = it.value;
      else if (it.type === 'Structure') it.value.forEach(walk);
    };
    walk(payload);
    return found;
  }

  async getAttributes(uid: string, keys: readonly AttributeKey[] = []): Promise<ModelAttribute[]> {
    const p = await this.ok(Operation.GetAttributes, [
      this.uidItem(uid),
      ...keys.map((k) => attributeReferenceToWire(k, this.version)),
    ]);
    if (this.v2) return readRequestAttributes(p, [Tag.Attributes]);
    return p.value.filter((c) => c.tag === Tag.Attribute).map(attributeFromV1);
  }

  async addAttribute(uid: string, attr: ModelAttribute): Promise<void> {
    const wire = attributeToWire(attr, this.version);
    if (!wire) throw new Error('attribute not in this version');
    // 2.x wraps the attribute in New Attribute (KMIP 2.0 §6.1.2); 1.x sends the Attribute itself.
    await this.ok(Operation.AddAttribute, [this.uidItem(uid), this.v2 ? S(Tag.NewAttribute, [wire]) : wire]);
  }
}
