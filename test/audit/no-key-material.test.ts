/**
 * DESIGN.md: "Hex-dumping requests into logs" is what we avoid. A real server,
 * debug logging to a file, every audit output on (file sink, syslog, export):
 * a realistic session (Register keys, Activate, Get, Encrypt, a password in a
 * Credential and as Secret Data, a failure) leaves neither key bytes, nor the
 * password, nor any request or response frame in any of them.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { KmipConnection } from '../../conformance-tests/lib/client.js';
import { startServer } from '../../src/app.js';
import { runCli } from '../../src/cli/main.js';
import {
  CredentialType,
  KeyFormatType,
  ObjectType,
  Operation,
  SecretDataType,
  Tag,
  versionPair,
} from '../../src/kmip/spec/index.js';
import { decodeTtlv, encodeTtlv } from '../../src/kmip/ttlv/binary.js';
import type { TtlvItem } from '../../src/kmip/ttlv/types.js';
import { createLogger } from '../../src/log.js';
import { ensureDevPki } from '../../src/pki/index.js';
import { assertNoKeyMaterial } from '../helpers/no-key-material.js';
import { symmetricKey } from '../helpers/requests.js';
import { localConfig } from '../helpers/server-config.js';
import { B, E, I, kid, kids, S, T, text } from '../kmip/operations/harness.js';

const PASSWORD = 'correct horse battery staple 42';

describe('audit: no key material, password or request bytes in logs and audit outputs', function () {
  this.timeout(60_000);
  let dataDir: string;
  let outDir: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kmip-nokey-'));
    outDir = await mkdtemp(path.join(tmpdir(), 'kmip-nokey-out-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await rm(outDir, { recursive: true, force: true });
  });

  it('runs a session and greps every output', async () => {
    const { paths } = await ensureDevPki(dataDir);
    const syslog = createSocket('udp4');
    const datagrams: Buffer[] = [];
    syslog.on('message', (m) => datagrams.push(m));
    await new Promise<void>((r) => syslog.bind(0, '127.0.0.1', () => r()));
    const logFile = path.join(outDir, 'server.log');
    const config = localConfig(dataDir, {
      audit: { file: path.join(outDir, 'audit.jsonl'), syslog: `udp://127.0.0.1:${syslog.address().port}` },
    });
    const server = await startServer(config, createLogger({ level: 'debug', file: logFile }));
    const keys = [new Uint8Array(randomBytes(32)), new Uint8Array(randomBytes(16))];
    const frames: Uint8Array[] = [];
    const conn = await KmipConnection.open(
      {
        host: server.address.host,
        port: server.address.port,
        ca: await readFile(paths.caCert),
        cert: await readFile(paths.adminCert),
        key: await readFile(paths.adminKey),
      },
      10_000,
    );
    const send = async (op: number, payload: TtlvItem[]) => {
      const pv = versionPair('1.4');
      const req = encodeTtlv(
        S(Tag.RequestMessage, [
          S(Tag.RequestHeader, [
            S(Tag.ProtocolVersion, [
              I(Tag.ProtocolVersionMajor, pv.major),
              I(Tag.ProtocolVersionMinor, pv.minor),
            ]),
            T(Tag.ClientCorrelationValue, 'INC-42 key use review'),
            S(Tag.Authentication, [
              S(Tag.Credential, [
                E(Tag.CredentialType, CredentialType.UsernameAndPassword),
                S(Tag.CredentialValue, [T(Tag.Username, 'app-user'), T(Tag.Password, PASSWORD)]),
              ]),
            ]),
            I(Tag.BatchCount, 1),
          ]),
          S(Tag.BatchItem, [E(Tag.Operation, op), S(Tag.RequestPayload, payload)]),
        ]),
      );
      frames.push(req);
      const resp = await conn.exchange(req, 10_000);
      frames.push(resp);
      const item = kids(decodeTtlv(resp), Tag.BatchItem)[0];
      return { item, payload: kid(item, Tag.ResponsePayload) };
    };
    const ids: string[] = [];
    try {
      for (const key of keys) {
        const { payload } = await send(Operation.Register, [
          E(Tag.ObjectType, ObjectType.SymmetricKey),
          S(Tag.TemplateAttribute, [
            S(Tag.Attribute, [T(Tag.AttributeName, 'Cryptographic Usage Mask'), I(Tag.AttributeValue, 12)]),
          ]),
          symmetricKey(key),
        ]);
        const id = text(payload, Tag.UniqueIdentifier) ?? '';
        expect(id).to.not.equal('');
        ids.push(id);
        await send(Operation.Activate, [T(Tag.UniqueIdentifier, id)]);
        const got = await send(Operation.Get, [T(Tag.UniqueIdentifier, id)]);
        expect(got.payload).to.not.equal(undefined);
        const enc = await send(Operation.Encrypt, [
          T(Tag.UniqueIdentifier, id),
          B(Tag.Data, new Uint8Array(randomBytes(48))),
        ]);
        expect(kid(enc.payload, Tag.Data)).to.not.equal(undefined);
      }
      await send(Operation.Register, [
        E(Tag.ObjectType, ObjectType.SecretData),
        S(Tag.TemplateAttribute, []),
        S(Tag.SecretData, [
          E(Tag.SecretDataType, SecretDataType.Password),
          S(Tag.KeyBlock, [
            E(Tag.KeyFormatType, KeyFormatType.Opaque),
            S(Tag.KeyValue, [B(Tag.KeyMaterial, Buffer.from(PASSWORD, 'utf8'))]),
          ]),
        ]),
      ]);
      // a failing item and a malformed payload: error paths log too
      await send(Operation.Encrypt, [T(Tag.UniqueIdentifier, 'nope'), B(Tag.Data, keys[0] as Uint8Array)]);
      await send(Operation.Register, [B(Tag.KeyMaterial, keys[1] as Uint8Array)]);
    } finally {
      conn.close();
      await server.close();
    }
    let exported = '';
    const code = await runCli(['audit', 'export', '--data-dir', dataDir], {
      out: (s) => {
        exported += s;
      },
      err: () => {},
    });
    expect(code).to.equal(0);
    await writeFile(path.join(outDir, 'export.jsonl'), exported);
    await new Promise((r) => setTimeout(r, 100));
    syslog.close();
    await writeFile(
      path.join(outDir, 'syslog.txt'),
      Buffer.concat(datagrams.map((d) => Buffer.concat([d, Buffer.from('\n')]))),
    );

    // the outputs are real: the session is in them
    const log = await readFile(logFile, 'utf8');
    expect(log).to.contain('KMIP server listening');
    for (const id of ids) expect(exported).to.contain(id);
    expect(exported).to.contain('INC-42 key use review');
    expect(datagrams.length).to.be.greaterThan(8);

    await assertNoKeyMaterial(outDir, [...keys, Buffer.from(PASSWORD, 'utf8'), ...frames]);
    for (const f of ['server.log', 'audit.jsonl', 'export.jsonl', 'syslog.txt']) {
      expect(await readFile(path.join(outDir, f), 'utf8'), f).to.not.contain(PASSWORD);
    }
  });
});
