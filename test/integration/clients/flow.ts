/**
 * Shared helper for the client-flow tests (CLIENTS.md): builds raw TTLV
 * requests with exact control of the header (protocol version per message,
 * Maximum Response Size, Credential, Unique Batch Item IDs of the client's
 * length, several batch items), speaks them over a real mutual-TLS
 * connection of the test's choosing (SNI, session resumption, one connection
 * per step), and checks what every client expects of every response
 * (CLIENTS.md behaviours 1-3 and 13).
 */

import { readFile } from 'node:fs/promises';
import { connect, type TLSSocket } from 'node:tls';
import { expect } from 'chai';
import {
  attributeExistsIn,
  type KmipVersion,
  Operation,
  ResultStatus,
  Tag,
  tagExistsIn,
  tagInfo,
  versionFromPair,
} from '../../../src/kmip/spec/index.js';
import { decodeTtlv, encodeTtlv } from '../../../src/kmip/ttlv/binary.js';
import {
  byteString,
  childInteger,
  childStruct,
  childText,
  enumeration,
  integer,
  structure,
  textString,
} from '../../../src/kmip/ttlv/build.js';
import type { TtlvItem, TtlvStructure } from '../../../src/kmip/ttlv/types.js';
import {
  type RequestOptions as BaseRequestOptions,
  idBytes,
  type RequestItem,
  requestMessage,
} from '../../helpers/requests.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

export type { RequestItem };
export { byteString, enumeration, integer, structure, textString };

export type RequestOptions = Pick<BaseRequestOptions, 'maximumResponseSize' | 'credential'>;

export interface ResponseItem {
  operation: number | undefined;
  id: Uint8Array | undefined;
  status: number;
  reason: number | undefined;
  message: string | undefined;
  payload: TtlvStructure | undefined;
  /** tags of the batch item's children, in wire order */
  tags: number[];
}

export interface Response {
  version: KmipVersion | undefined;
  headerTags: number[];
  timeStamp: bigint | undefined;
  batchCount: number | undefined;
  items: ResponseItem[];
  raw: TtlvStructure;
  size: number;
}

const HEADER = 8;

export { idBytes };

export function buildRequest(
  version: KmipVersion,
  items: readonly RequestItem[],
  opts: RequestOptions = {},
): TtlvStructure {
  return requestMessage(items, { ...opts, version });
}

export function parseResponse(frame: Uint8Array): Response {
  const raw = decodeTtlv(frame);
  if (raw.type !== 'Structure' || raw.tag !== Tag.ResponseMessage) throw new Error('not a Response Message');
  const header = childStruct(raw, Tag.ResponseHeader);
  const pv = childStruct(header, Tag.ProtocolVersion);
  const major = childInteger(pv, Tag.ProtocolVersionMajor);
  const minor = childInteger(pv, Tag.ProtocolVersionMinor);
  const ts = header?.value.find((c) => c.tag === Tag.TimeStamp);
  return {
    version: major === undefined || minor === undefined ? undefined : versionFromPair(major, minor),
    headerTags: header?.value.map((c) => c.tag) ?? [],
    timeStamp: ts?.type === 'DateTime' ? ts.value : undefined,
    batchCount: childInteger(header, Tag.BatchCount),
    items: raw.value
      .filter((c): c is TtlvStructure => c.tag === Tag.BatchItem && c.type === 'Structure')
      .map((bi) => {
        const f = (tag: number) => bi.value.find((c) => c.tag === tag);
        const payload = f(Tag.ResponsePayload);
        const id = f(Tag.UniqueBatchItemID);
        const op = f(Tag.Operation);
        const reason = f(Tag.ResultReason);
        const message = f(Tag.ResultMessage);
        return {
          operation: op?.type === 'Enumeration' ? op.value : undefined,
          id: id?.type === 'ByteString' ? id.value : undefined,
          status: Number(f(Tag.ResultStatus)?.value),
          reason: reason?.type === 'Enumeration' ? reason.value : undefined,
          message: message?.type === 'TextString' ? message.value : undefined,
          payload: payload?.type === 'Structure' ? payload : undefined,
          tags: bi.value.map((c) => c.tag),
        };
      }),
    raw,
    size: frame.length,
  };
}

export interface ConnectOptions {
  /** SNI and the name checked against the server certificate (default: none for an IP host) */
  servername?: string;
  /** connect to this host instead of the server's address (e.g. 'localhost') */
  host?: string;
  /** resume this TLS session */
  session?: Buffer;
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** verify the server certificate's name (default true; Percona MySQL does not) */
  checkServerIdentity?: boolean;
}

/** One mutual-TLS connection with the server's admin client certificate (EKU clientAuth). */
export class FlowConnection {
  #buffer: Buffer = Buffer.alloc(0);
  #waiter: (() => void) | undefined;
  #closed: Error | undefined;
  #session: Buffer | undefined;

  private constructor(
    readonly socket: TLSSocket,
    resumed?: Buffer,
  ) {
    // A resumed TLS 1.2 session is not issued again: the client keeps using the one it offered.
    this.#session = resumed;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#wake();
    });
    socket.on('session', (s: Buffer) => {
      this.#session = s;
    });
    socket.on('error', (e) => {
      this.#closed ??= e;
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed ??= new Error('connection closed by the server');
      this.#wake();
    });
  }

  static async open(server: TestServer, opts: ConnectOptions = {}): Promise<FlowConnection> {
    const [ca, cert, key] = await Promise.all([
      readFile(server.pki.ca),
      readFile(server.pki.adminCert),
      readFile(server.pki.adminKey),
    ]);
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: opts.host ?? server.host,
        port: server.port,
        ca,
        cert,
        key,
        servername: opts.servername,
        session: opts.session,
        maxVersion: opts.maxVersion,
        ...(opts.checkServerIdentity === false ? { checkServerIdentity: () => undefined } : {}),
      });
      // Listen for the session before the handshake ends: TLS 1.3 tickets arrive right after it.
      const conn = new FlowConnection(socket, opts.session);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('TLS handshake timed out'));
      }, 10_000);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(conn);
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  get sessionReused(): boolean {
    return this.socket.isSessionReused();
  }

  /** The TLS session to resume, once the server sent it. */
  async session(): Promise<Buffer> {
    const deadline = Date.now() + 5_000;
    while (!this.#session) {
      if (Date.now() > deadline) throw new Error('no TLS session from the server');
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.#session;
  }

  async exchange(request: TtlvStructure): Promise<Response> {
    if (this.#closed) throw this.#closed;
    this.#buffer = Buffer.alloc(0);
    this.socket.write(encodeTtlv(request));
    const deadline = Date.now() + 20_000;
    await this.#until(() => this.#buffer.length >= HEADER, deadline);
    const length = this.#buffer.readUInt32BE(4);
    await this.#until(() => this.#buffer.length >= HEADER + length, deadline);
    const frame = Buffer.from(this.#buffer.subarray(0, HEADER + length));
    this.#buffer = this.#buffer.subarray(HEADER + length);
    return parseResponse(frame);
  }

  /** Sends one message and checks the behaviours every client relies on (see checkResponse). */
  async send(
    version: KmipVersion,
    items: readonly RequestItem[],
    opts: RequestOptions = {},
  ): Promise<Response> {
    const resp = await this.exchange(buildRequest(version, items, opts));
    checkResponse(version, items, resp);
    return resp;
  }

  /** One batch item that must succeed; returns its payload. */
  async ok(version: KmipVersion, item: RequestItem, opts: RequestOptions = {}): Promise<TtlvStructure> {
    const resp = await this.send(version, [item], opts);
    const r = resp.items[0];
    if (!r || r.status !== ResultStatus.Success) {
      throw new Error(`operation 0x${item.op.toString(16)} failed: reason ${r?.reason} ${r?.message ?? ''}`);
    }
    return r.payload ?? structure(Tag.ResponsePayload, []);
  }

  close(): void {
    this.socket.end();
    this.socket.destroySoon();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  async #until(ready: () => boolean, deadline: number): Promise<void> {
    while (!ready()) {
      if (this.#closed) throw this.#closed;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for the response');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

/** Every tag of `item` and its descendants. */
function* walk(item: TtlvItem): Generator<TtlvItem> {
  yield item;
  if (item.type === 'Structure') for (const c of item.value) yield* walk(c);
}

/** Tags and 1.x Attribute Names in the response that its version does not define (behaviour 13). */
export function outOfVersion(resp: Response, version: KmipVersion): string[] {
  const bad: string[] = [];
  for (const it of walk(resp.raw)) {
    if (it.tag >>> 16 === 0x42 && !tagExistsIn(it.tag, version))
      bad.push(tagInfo(it.tag)?.name ?? it.tag.toString(16));
    if (it.tag === Tag.AttributeName && it.type === 'TextString') {
      if (!/^[xy]-/.test(it.value) && !attributeExistsIn(it.value, version)) bad.push(it.value);
    }
  }
  return bad;
}

/**
 * Behaviours 1-3 and 13: same version as the request; header fields in spec
 * order with a Time Stamp; one answer per item with its Unique Batch Item ID
 * echoed; Result Reason and Result Message on every failure; nothing the
 * version does not define.
 */
export function checkResponse(version: KmipVersion, items: readonly RequestItem[], resp: Response): void {
  expect(resp.version, 'response version').to.equal(version);
  expect(resp.headerTags, 'response header order').to.deep.equal([
    Tag.ProtocolVersion,
    Tag.TimeStamp,
    Tag.BatchCount,
  ]);
  const now = BigInt(Math.floor(Date.now() / 1000));
  expect(Number((resp.timeStamp ?? 0n) - now), 'Time Stamp is now').to.be.within(-60, 60);
  expect(resp.batchCount).to.equal(items.length);
  expect(resp.items).to.have.length(items.length);
  items.forEach((req, i) => {
    const r = resp.items[i];
    if (!r) throw new Error('missing batch item');
    expect(r.operation, `item ${i} operation`).to.equal(req.op);
    if (req.id !== undefined) expect(r.id, `item ${i} Unique Batch Item ID`).to.deep.equal(idBytes(req.id));
    else expect(r.id).to.equal(undefined);
    if (r.status !== ResultStatus.Success) {
      expect(r.reason, `item ${i} Result Reason`).to.be.a('number');
      expect(r.message, `item ${i} Result Message`).to.be.a('string').and.not.equal('');
    }
    // KMIP 1.0 §7.2: Operation, Unique Batch Item ID, Result Status, Result Reason, Result Message, ..., Response Payload
    const order: number[] = [
      Tag.Operation,
      Tag.UniqueBatchItemID,
      Tag.ResultStatus,
      Tag.ResultReason,
      Tag.ResultMessage,
      Tag.AsynchronousCorrelationValue,
      Tag.ResponsePayload,
    ];
    const positions = r.tags.map((t) => order.indexOf(t));
    expect(positions, `item ${i} field order`).to.deep.equal([...positions].sort((a, b) => a - b));
  });
  expect(outOfVersion(resp, version), 'tags/attributes outside the version').to.deep.equal([]);
}

// ---------------------------------------------------------------------------
// 1.x payload builders

/** A 1.x Attribute: Name, [Index], Value (MySQL okv sends the index on every attribute). */
export function attr(name: string, value: Omit<TtlvItem, 'tag'>, index?: number): TtlvStructure {
  return structure(Tag.Attribute, [
    textString(Tag.AttributeName, name),
    ...(index === undefined ? [] : [integer(Tag.AttributeIndex, index)]),
    { ...value, tag: Tag.AttributeValue } as TtlvItem,
  ]);
}

export const v = {
  enum: (n: number): Omit<TtlvItem, 'tag'> => ({ type: 'Enumeration', value: n }),
  int: (n: number): Omit<TtlvItem, 'tag'> => ({ type: 'Integer', value: n }),
  text: (s: string): Omit<TtlvItem, 'tag'> => ({ type: 'TextString', value: s }),
  name: (s: string): Omit<TtlvItem, 'tag'> => ({
    type: 'Structure',
    value: [textString(Tag.NameValue, s), enumeration(Tag.NameType, 1 /* Uninterpreted Text String */)],
  }),
};

export function template(...attrs: TtlvStructure[]): TtlvStructure {
  return structure(Tag.TemplateAttribute, attrs);
}

export function uid(id: string): TtlvItem {
  return textString(Tag.UniqueIdentifier, id);
}

export function uidOf(payload: TtlvStructure | undefined): string {
  const id = childText(payload, Tag.UniqueIdentifier);
  if (id === undefined) throw new Error('no Unique Identifier in the payload');
  return id;
}

export function attrName(name: string): TtlvItem {
  return textString(Tag.AttributeName, name);
}

/** The 1.x attributes of a Get Attributes response payload, by name. */
export function attributesOf(payload: TtlvStructure | undefined): Map<string, TtlvItem[]> {
  const out = new Map<string, TtlvItem[]>();
  for (const a of payload?.value ?? []) {
    if (a.tag !== Tag.Attribute || a.type !== 'Structure') continue;
    const name = childText(a, Tag.AttributeName);
    const value = a.value.find((c) => c.tag === Tag.AttributeValue);
    if (name === undefined || value === undefined) continue;
    out.set(name, [...(out.get(name) ?? []), value]);
  }
  return out;
}

/** AES-256 Create attributes, as 1.x clients send them. */
export function aesTemplate(usageMask = 0x04 | 0x08, ...extra: TtlvStructure[]): TtlvStructure {
  return template(
    attr('Cryptographic Algorithm', v.enum(3 /* AES */)),
    attr('Cryptographic Length', v.int(256)),
    attr('Cryptographic Usage Mask', v.int(usageMask)),
    ...extra,
  );
}

/** A Symmetric Key object with a Raw AES key, for Register. */
export function symmetricKey(bytes: Uint8Array, extraKeyBlock: TtlvItem[] = []): TtlvStructure {
  return structure(Tag.SymmetricKey, [
    structure(Tag.KeyBlock, [
      enumeration(Tag.KeyFormatType, 1 /* Raw */),
      ...extraKeyBlock,
      structure(Tag.KeyValue, [byteString(Tag.KeyMaterial, bytes)]),
      enumeration(Tag.CryptographicAlgorithm, 3 /* AES */),
      integer(Tag.CryptographicLength, bytes.length * 8),
    ]),
  ]);
}

/**
 * Behaviour 9: a symmetric key comes back Raw, unwrapped, with Cryptographic
 * Algorithm and Length after the Key Value. Returns the key bytes.
 */
export function expectRawSymmetricKey(payload: TtlvStructure | undefined, bits = 256): Uint8Array {
  const key = childStruct(payload, Tag.SymmetricKey);
  const block = childStruct(key, Tag.KeyBlock);
  expect(block, 'Key Block').to.not.equal(undefined);
  const tags = block?.value.map((c) => c.tag) ?? [];
  expect(tags, 'Key Block fields').to.deep.equal([
    Tag.KeyFormatType,
    Tag.KeyValue,
    Tag.CryptographicAlgorithm,
    Tag.CryptographicLength,
  ]);
  expect(block?.value[0]?.value, 'Key Format Type Raw').to.equal(1);
  expect(block?.value[2]?.value, 'AES').to.equal(3);
  expect(block?.value[3]?.value, 'Cryptographic Length').to.equal(bits);
  const kv = childStruct(block, Tag.KeyValue);
  const material = kv?.value.find((c) => c.tag === Tag.KeyMaterial);
  if (material?.type !== 'ByteString') throw new Error('Key Material is not a Byte String');
  expect(material.value.length * 8).to.equal(bits);
  return material.value;
}

export function expectSuccess(r: ResponseItem | undefined, what: string): TtlvStructure {
  expect(r, what).to.not.equal(undefined);
  expect(r?.status, `${what}: ${r?.message ?? ''}`).to.equal(ResultStatus.Success);
  return r?.payload ?? structure(Tag.ResponsePayload, []);
}

export function eightByteId(n: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** Get Attributes "State" on one message; the value must be one Enumeration (behaviour 5). */
export async function stateOf(
  conn: FlowConnection,
  version: KmipVersion,
  id: string,
  batchId?: string,
): Promise<number> {
  const r = await conn.send(version, [
    {
      op: Operation.GetAttributes,
      payload: [uid(id), attrName('State')],
      ...(batchId ? { id: batchId } : {}),
    },
  ]);
  const values = attributesOf(expectSuccess(r.items[0], 'Get Attributes State')).get('State') ?? [];
  expect(values, 'one State value').to.have.length(1);
  expect(values[0]?.type, 'State type').to.equal('Enumeration');
  return Number(values[0]?.value);
}

/** The bytes of a ByteString child of a payload; fails the test when absent. */
export function bytesOf(payload: TtlvStructure | undefined, tag: number): Uint8Array {
  const item = payload?.value.find((c) => c.tag === tag);
  if (item?.type !== 'ByteString') throw new Error(`no ByteString ${tag.toString(16)} in the payload`);
  return item.value;
}

/**
 * Starts a test server and opens one connection to it (with `opts`) before
 * the suite's tests, hands both to `opened`, and closes them after the tests.
 */
export function useFlowServer(
  opened: (server: TestServer, conn: FlowConnection) => void,
  opts: ConnectOptions = {},
): void {
  let server: TestServer | undefined;
  let conn: FlowConnection | undefined;
  before(async () => {
    server = await startTestServer();
    conn = await FlowConnection.open(server, opts);
    opened(server, conn);
  });
  after(async () => {
    conn?.close();
    await server?.close();
  });
}
