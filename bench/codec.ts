/**
 * Binary TTLV codec micro-benchmark: `npm run bench:codec`.
 * Options: `--seconds N` (measuring time per case, default 2), `--json` (JSON only).
 *
 * Messages are built with hard-coded tags (KMIP 1.0 §9.1.3.1 / 2.0 §9.1.3.1
 * tag tables) so that the benchmark does not depend on the spec module.
 */

import { cpus } from 'node:os';
import { decodeTtlv, encodeTtlv } from '../src/kmip/ttlv/binary.js';
import { byteString, dateTime, enumeration, integer, structure, textString } from '../src/kmip/ttlv/build.js';
import type { TtlvItem } from '../src/kmip/ttlv/types.js';

const TAG = {
  Attributes: 0x420125, // KMIP 2.0
  BatchCount: 0x42000d,
  BatchItem: 0x42000f,
  CryptographicAlgorithm: 0x420028,
  CryptographicLength: 0x42002a,
  CryptographicUsageMask: 0x42002c,
  KeyBlock: 0x420040,
  KeyFormatType: 0x420042,
  KeyMaterial: 0x420043,
  KeyValue: 0x420045,
  LocatedItems: 0x4200d5, // KMIP 1.3
  Name: 0x420053,
  NameType: 0x420054,
  NameValue: 0x420055,
  ObjectType: 0x420057,
  Operation: 0x42005c,
  ProtocolVersion: 0x420069,
  ProtocolVersionMajor: 0x42006a,
  ProtocolVersionMinor: 0x42006b,
  RequestHeader: 0x420077,
  RequestMessage: 0x420078,
  RequestPayload: 0x420079,
  ResponseHeader: 0x42007a,
  ResponseMessage: 0x42007b,
  ResponsePayload: 0x42007c,
  ResultStatus: 0x42007f,
  SymmetricKey: 0x42008f,
  TimeStamp: 0x420092,
  UniqueIdentifier: 0x420094,
} as const;

const OP_CREATE = 1;
const OP_LOCATE = 8;
const OP_GET = 10;
const OBJECT_SYMMETRIC_KEY = 2;
const KEY_FORMAT_RAW = 1;
const ALG_AES = 3;
const NAME_UNINTERPRETED_TEXT = 1;
const MASK_ENCRYPT_DECRYPT = 0x04 | 0x08;

const now = 1_700_000_000n;

function protocolVersion(major: number, minor: number): TtlvItem {
  return structure(TAG.ProtocolVersion, [
    integer(TAG.ProtocolVersionMajor, major),
    integer(TAG.ProtocolVersionMinor, minor),
  ]);
}

function responseHeader(major: number, minor: number): TtlvItem {
  return structure(TAG.ResponseHeader, [
    protocolVersion(major, minor),
    dateTime(TAG.TimeStamp, now),
    integer(TAG.BatchCount, 1),
  ]);
}

function uuid(i: number): string {
  return `1f2e3d4c-5b6a-4978-8695-${i.toString(16).padStart(12, '0')}`;
}

const getResponse = structure(TAG.ResponseMessage, [
  responseHeader(1, 4),
  structure(TAG.BatchItem, [
    enumeration(TAG.Operation, OP_GET),
    enumeration(TAG.ResultStatus, 0),
    structure(TAG.ResponsePayload, [
      enumeration(TAG.ObjectType, OBJECT_SYMMETRIC_KEY),
      textString(TAG.UniqueIdentifier, uuid(1)),
      structure(TAG.SymmetricKey, [
        structure(TAG.KeyBlock, [
          enumeration(TAG.KeyFormatType, KEY_FORMAT_RAW),
          structure(TAG.KeyValue, [byteString(TAG.KeyMaterial, new Uint8Array(32).fill(0x5a))]),
          enumeration(TAG.CryptographicAlgorithm, ALG_AES),
          integer(TAG.CryptographicLength, 256),
        ]),
      ]),
    ]),
  ]),
]);

const locateResponse = structure(TAG.ResponseMessage, [
  responseHeader(1, 4),
  structure(TAG.BatchItem, [
    enumeration(TAG.Operation, OP_LOCATE),
    enumeration(TAG.ResultStatus, 0),
    structure(TAG.ResponsePayload, [
      integer(TAG.LocatedItems, 100),
      ...Array.from({ length: 100 }, (_, i) => textString(TAG.UniqueIdentifier, uuid(i))),
    ]),
  ]),
]);

const createRequest = structure(TAG.RequestMessage, [
  structure(TAG.RequestHeader, [protocolVersion(2, 1), integer(TAG.BatchCount, 1)]),
  structure(TAG.BatchItem, [
    enumeration(TAG.Operation, OP_CREATE),
    structure(TAG.RequestPayload, [
      enumeration(TAG.ObjectType, OBJECT_SYMMETRIC_KEY),
      structure(TAG.Attributes, [
        enumeration(TAG.CryptographicAlgorithm, ALG_AES),
        integer(TAG.CryptographicLength, 256),
        integer(TAG.CryptographicUsageMask, MASK_ENCRYPT_DECRYPT),
        structure(TAG.Name, [
          textString(TAG.NameValue, 'pg_tde/principal-key/database-16384'),
          enumeration(TAG.NameType, NAME_UNINTERPRETED_TEXT),
        ]),
      ]),
    ]),
  ]),
]);

interface Result {
  message: string;
  bytes: number;
  op: 'decode' | 'encode';
  msgsPerSec: number;
  mbPerSec: number;
  nsPerMsg: number;
  iterations: number;
}

let sink = 0;

function measure(run: () => number, seconds: number): { iterations: number; ns: number } {
  const batch = 1000;
  const warmEnd = process.hrtime.bigint() + BigInt(Math.round(seconds * 0.25e9));
  while (process.hrtime.bigint() < warmEnd) for (let i = 0; i < batch; i++) sink += run();
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let iterations = 0;
  let t = start;
  while (t < end) {
    for (let i = 0; i < batch; i++) sink += run();
    iterations += batch;
    t = process.hrtime.bigint();
  }
  return { iterations, ns: Number(t - start) };
}

function main(): void {
  const args = process.argv.slice(2);
  const secondsArg = args.indexOf('--seconds');
  const seconds = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 2;
  const jsonOnly = args.includes('--json');

  const cases: [string, TtlvItem][] = [
    ['Get response, AES-256 key (1.4)', getResponse],
    ['Locate response, 100 ids (1.4)', locateResponse],
    ['Create request with Attributes (2.1)', createRequest],
  ];
  const results: Result[] = [];
  for (const [message, item] of cases) {
    const bytes = encodeTtlv(item);
    for (const op of ['decode', 'encode'] as const) {
      const run = op === 'decode' ? () => (decodeTtlv(bytes).tag & 1) + 1 : () => encodeTtlv(item).length;
      const { iterations, ns } = measure(run, seconds);
      const msgsPerSec = (iterations / ns) * 1e9;
      results.push({
        message,
        bytes: bytes.length,
        op,
        msgsPerSec: Math.round(msgsPerSec),
        mbPerSec: Math.round(((msgsPerSec * bytes.length) / 1e6) * 10) / 10,
        nsPerMsg: Math.round(ns / iterations),
        iterations,
      });
    }
  }

  const machine = {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    secondsPerCase: seconds,
  };
  if (!jsonOnly) {
    console.log(`node ${machine.node}, ${machine.cpus} x ${machine.cpu}, ${seconds} s per case\n`);
    console.log('| Message | Bytes | Op | msgs/s | MB/s | ns/msg |');
    console.log('|---|---:|---|---:|---:|---:|');
    for (const r of results) {
      console.log(
        `| ${r.message} | ${r.bytes} | ${r.op} | ${r.msgsPerSec.toLocaleString('en-US')} | ${r.mbPerSec} | ${r.nsPerMsg} |`,
      );
    }
    console.log();
  }
  console.log(JSON.stringify({ machine, results, sink: sink > 0 }, null, jsonOnly ? 2 : undefined));
}

main();
