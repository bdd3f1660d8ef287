/**
 * Reads just enough of a binary TTLV response to judge it: Result Status and
 * Reason of the first Batch Item and the Unique Identifiers of its payload.
 * A walk over explicit offsets; no item objects are built (cheap client).
 */

import { ResultStatus, Tag } from '../../src/kmip/spec/index.js';

export interface ResponseSummary {
  status: number;
  /** 0 when absent */
  reason: number;
  /** first Unique Identifier (or Private Key Unique Identifier) of the payload */
  uid: string | undefined;
  /** how many Unique Identifiers the payload carries (Locate hits) */
  uidCount: number;
}

const HEADER = 8;
const STRUCTURE = 0x01;
const ENUMERATION = 0x05;
const TEXT = 0x07;

/** KMIP 1.0 §9.1.1: every value is padded to a multiple of eight bytes. */
const padded = (len: number): number => (len + 7) & ~7;

/** Malformed responses throw; the caller counts that as an error. */
export function summarizeResponse(frame: Buffer): ResponseSummary {
  if (frame.length < HEADER || frame.readUIntBE(0, 3) !== Tag.ResponseMessage) {
    throw new Error('not a Response Message');
  }
  const end = Math.min(frame.length, HEADER + frame.readUInt32BE(4));
  const item = findChild(frame, HEADER, end, Tag.BatchItem);
  if (item < 0) throw new Error('no Batch Item');
  const itemEnd = item + HEADER + frame.readUInt32BE(item + 4);
  const out: ResponseSummary = { status: -1, reason: 0, uid: undefined, uidCount: 0 };
  for (let at = item + HEADER; at + HEADER <= itemEnd; ) {
    const tag = frame.readUIntBE(at, 3);
    const type = frame[at + 3];
    const len = frame.readUInt32BE(at + 4);
    if (tag === Tag.ResultStatus && type === ENUMERATION) out.status = frame.readUInt32BE(at + HEADER);
    else if (tag === Tag.ResultReason && type === ENUMERATION) out.reason = frame.readUInt32BE(at + HEADER);
    else if (tag === Tag.ResponsePayload && type === STRUCTURE) {
      for (let p = at + HEADER; p + HEADER <= at + HEADER + len; ) {
        const plen = frame.readUInt32BE(p + 4);
        const ptag = frame.readUIntBE(p, 3);
        // Create Key Pair names the private key first (KMIP 1.0 §4.2): that is the signing key.
        if (
          (ptag === Tag.UniqueIdentifier || ptag === Tag.PrivateKeyUniqueIdentifier) &&
          frame[p + 3] === TEXT
        ) {
          out.uidCount++;
          out.uid ??= frame.toString('latin1', p + HEADER, p + HEADER + plen);
        }
        p += HEADER + padded(plen);
      }
    }
    at += HEADER + padded(len);
  }
  if (out.status < 0) throw new Error('no Result Status');
  return out;
}

function findChild(buf: Buffer, start: number, end: number, wanted: number): number {
  for (let at = start; at + HEADER <= end; ) {
    if (buf.readUIntBE(at, 3) === wanted) return at;
    at += HEADER + padded(buf.readUInt32BE(at + 4));
  }
  return -1;
}

export const isSuccess = (s: ResponseSummary): boolean => s.status === ResultStatus.Success;
