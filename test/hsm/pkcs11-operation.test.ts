/**
 * The KMIP PKCS#11 operation (2.0 §6.1.37) against the server's SoftHSM2
 * module: the flow of PKCS11-M-1-21 (C_Initialize, C_GetInfo, C_Finalize),
 * functions the server keeps to itself, and a server without a module.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { type RunningServer, startServer } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { encodeCkInfo } from '../../src/kmip/operations/pkcs11.js';
import {
  Operation,
  PKCS_11Function,
  PKCS_11ReturnCode,
  ResultReason,
  ResultStatus,
  Tag,
} from '../../src/kmip/spec/index.js';
import type { TtlvItem, TtlvStructure } from '../../src/kmip/ttlv/types.js';
import { silentLogger } from '../../src/log.js';
import { ensureDevPki } from '../../src/pki/index.js';
import type { TestKmipClient } from '../helpers/kmip-client.js';
import { connectAdmin, pkcs11Hsm, writeServerConfig } from '../helpers/server-config.js';
import { createSoftHsmToken } from '../helpers/softhsm.js';

const fn = (value: number): TtlvItem => ({ tag: Tag.PKCS_11Function, type: 'Enumeration', value });
const cvItem = (value: Uint8Array): TtlvItem => ({ tag: Tag.CorrelationValue, type: 'ByteString', value });

function find(p: TtlvStructure | undefined, tag: number): TtlvItem | undefined {
  return p?.value.find((c) => c.tag === tag);
}

describe('PKCS#11 operation', function () {
  this.timeout(60_000);
  let dataDir: string | undefined;
  let server: RunningServer | undefined;
  let c: TestKmipClient | undefined;

  async function start(withHsm: boolean): Promise<TestKmipClient> {
    const dir = await mkdtemp(path.join(tmpdir(), 'kmip-pkcs11-op-'));
    dataDir = dir;
    await ensureDevPki(dir);
    const token = withHsm ? createSoftHsmToken() : undefined;
    const configFile = await writeServerConfig(dir, token === undefined ? {} : { hsm: pkcs11Hsm(token) });
    server = await startServer(loadConfig({ configFile, env: {} }), silentLogger);
    c = await connectAdmin(server.address, dir, '2.1');
    return c;
  }

  afterEach(async () => {
    c?.close();
    c = undefined;
    await server?.close();
    server = undefined;
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  it('encodes CK_INFO as PKCS11-M-1-21 does', () => {
    const out = encodeCkInfo({
      cryptokiVersion: { major: 2, minor: 40 },
      manufacturerID: 'TEST      Pty Ltd',
      flags: 0,
      libraryDescription: 'TEST',
      libraryVersion: { major: 1, minor: 0 },
    });
    // PKCS_11OutputParameters of step 1 of PKCS11-M-1-21 (KMIP 2.1 mandatory test cases)
    expect(Buffer.from(out).toString('hex')).to.equal(
      '022854455354202020202020507479204c7464202020202020202020202020202020000000000000000054455354202020202020202020202020202020202020202020202020202020200100',
    );
  });

  it('C_Initialize, C_GetInfo of the server module, C_Finalize; other functions are not offered', async () => {
    const client = await start(true);
    const init = await client.ok(Operation.PKCS_11, [
      fn(PKCS_11Function.C_Initialize),
      { tag: Tag.PKCS_11InputParameters, type: 'ByteString', value: new Uint8Array([1]) },
    ]);
    expect(find(init, Tag.PKCS_11ReturnCode)).to.include({ value: PKCS_11ReturnCode.OK });
    const cv = find(init, Tag.CorrelationValue);
    if (cv?.type !== 'ByteString') throw new Error('no Correlation Value');

    const info = await client.ok(Operation.PKCS_11, [fn(PKCS_11Function.C_GetInfo), cvItem(cv.value)]);
    expect(find(info, Tag.PKCS_11ReturnCode)).to.include({ value: PKCS_11ReturnCode.OK });
    const out = find(info, Tag.PKCS_11OutputParameters);
    if (out?.type !== 'ByteString') throw new Error('no output');
    expect(out.value).to.have.length(76);
    expect(out.value[0]).to.equal(2);
    expect(Buffer.from(out.value.subarray(2, 34)).toString('latin1')).to.match(/^SoftHSM/);

    const other = await client.ok(Operation.PKCS_11, [fn(PKCS_11Function.C_OpenSession), cvItem(cv.value)]);
    expect(find(other, Tag.PKCS_11ReturnCode)).to.include({
      value: PKCS_11ReturnCode.FUNCTION_NOT_SUPPORTED,
    });

    const fin = await client.ok(Operation.PKCS_11, [fn(PKCS_11Function.C_Finalize), cvItem(cv.value)]);
    expect(find(fin, Tag.PKCS_11ReturnCode)).to.include({ value: PKCS_11ReturnCode.OK });
    const after = await client.call(Operation.PKCS_11, [fn(PKCS_11Function.C_GetInfo), cvItem(cv.value)]);
    expect(after.reason).to.equal(ResultReason.InvalidCorrelationValue);
  });

  it('is Feature Not Supported without the pkcs11 provider', async () => {
    const client = await start(false);
    const r = await client.call(Operation.PKCS_11, [fn(PKCS_11Function.C_Initialize)]);
    expect(r.status).to.equal(ResultStatus.OperationFailed);
    expect(r.reason).to.equal(ResultReason.FeatureNotSupported);
  });
});
