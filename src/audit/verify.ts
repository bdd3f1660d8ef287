/**
 * `audit verify`: walks the trail in store order and checks every record's
 * hash, every segment's links and numbering, and every seal's HMAC; an anchor
 * (the last seal as the writer saw it, kept outside the store) catches
 * truncation of the end. See docs/audit.md for what each check catches.
 */
import type { AuditRecord, ObjectStore } from '../store/types.js';
import { AuditKind, auditKeyObjectId, GENESIS, macMatches, recordHash } from './chain.js';
import type { AuditAnchor, AuditKeySealer } from './trail.js';

export interface VerifyProblem {
  /** store sequence number of the record, undefined for a missing one */
  readonly seq: number | undefined;
  readonly chain: string | undefined;
  readonly n: number | undefined;
  readonly message: string;
}

export interface SegmentSummary {
  readonly chain: string;
  readonly records: number;
  /** position of the last record */
  readonly last: number;
  /** position of the last valid seal, -1 when none */
  readonly sealedThrough: number;
  /** closed by its writer with a final seal */
  readonly final: boolean;
  /** its writer crashed; a later start sealed it (src/audit/recover.ts) */
  readonly crashed: boolean;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly records: number;
  readonly segments: readonly SegmentSummary[];
  /** in store order; the first is the first bad record */
  readonly errors: readonly VerifyProblem[];
  readonly warnings: readonly VerifyProblem[];
  /** records after the last seal of their segment: chain-checked, not HMAC-checked */
  readonly unsealed: number;
}

export interface VerifyOptions {
  /** unseals the segments' HMAC keys; without it seals are not checked (a warning says so) */
  readonly sealer?: AuditKeySealer;
  /** the last seal recorded outside the store (anchor file) */
  readonly anchor?: AuditAnchor;
  /** records after the last seal are errors, not warnings (e.g. after a clean shutdown) */
  readonly strict?: boolean;
  /** stop after this many errors; default 100 */
  readonly maxErrors?: number;
}

interface Segment {
  chain: string;
  n: number;
  hash: string;
  records: number;
  sealedThrough: number;
  final: boolean;
  crashed: boolean;
  key: Uint8Array | undefined;
  firstUnsealedSeq: number | undefined;
}

const PREFIX = 16;

export async function verifyAuditTrail(store: ObjectStore, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const maxErrors = opts.maxErrors ?? 100;
  const errors: VerifyProblem[] = [];
  const warnings: VerifyProblem[] = [];
  const segments = new Map<string, Segment>();
  /** hash prefixes of every record seen: a new segment must link to one of them */
  const seen = new Set<string>();
  let records = 0;
  let anchorHash: string | undefined;
  let warnedNoSealer = false;

  const problem =
    (list: VerifyProblem[], r: { seq: number } | undefined, chain?: string, n?: number) =>
    (message: string) => {
      list.push({ seq: r?.seq, chain, n, message });
    };

  for await (const r of store.readAudit()) {
    if (errors.length >= maxErrors) break;
    records++;
    const d = r.detail;
    const where = `record seq ${r.seq}`;
    const { chain, hash, prev } = d;
    const n = Number(d.n);
    if (
      chain === undefined ||
      hash === undefined ||
      prev === undefined ||
      !Number.isSafeInteger(n) ||
      n < 0
    ) {
      problem(
        errors,
        r,
      )(
        `${where} (${r.operation}) is not part of the hash chain: written outside the audit trail, or its chain fields were altered`,
      );
      continue;
    }
    const fail = problem(errors, r, chain, n);
    const label = `${where} (segment ${chain.slice(0, 8)} #${n}, ${r.operation})`;
    if (recordHash(r) !== hash) fail(`${label} was altered: its content does not match its hash`);
    let seg = segments.get(chain);
    if (n === 0) {
      if (seg !== undefined) {
        fail(`${label} opens a segment that already exists: a record was inserted or duplicated`);
      } else if (d.kind !== AuditKind.Open) {
        fail(`${label} is numbered as a segment's opening record but is not one`);
      } else if (prev === GENESIS) {
        if (seen.size > 0)
          problem(
            warnings,
            r,
            chain,
            n,
          )(`${label} starts a new trail although ${records - 1} record(s) precede it`);
      } else if (!seen.has(prev.slice(0, PREFIX))) {
        fail(
          `${label} links to a record that is not in the trail before it: records were deleted or reordered`,
        );
      }
      seg = {
        chain,
        n,
        hash,
        records: 1,
        sealedThrough: -1,
        final: false,
        crashed: false,
        key: await openKey(r, chain, opts.sealer, fail),
        firstUnsealedSeq: undefined,
      };
      segments.set(chain, seg);
    } else {
      if (seg === undefined) {
        fail(`${label} belongs to a segment whose opening record is missing: records were deleted`);
        seg = {
          chain,
          n: n - 1,
          hash: prev,
          records: 0,
          sealedThrough: -1,
          final: false,
          crashed: false,
          key: undefined,
          firstUnsealedSeq: undefined,
        };
        segments.set(chain, seg);
      } else if (n > seg.n + 1) {
        fail(
          `${label} follows #${seg.n} of its segment: ${n - seg.n - 1} record(s) before it were deleted or moved`,
        );
      } else if (n <= seg.n) {
        fail(`${label} comes after #${seg.n} of its segment: a record was inserted, duplicated or reordered`);
      } else if (prev !== seg.hash) {
        fail(
          `${label} does not link to the previous record of its segment: that record was replaced, or records were reordered`,
        );
      }
      seg.n = n;
      seg.hash = hash;
      seg.records++;
    }
    if (d.kind === AuditKind.Seal) {
      if (seg.key !== undefined) {
        if (macMatches(r, seg.key)) {
          seg.sealedThrough = n;
          seg.firstUnsealedSeq = undefined;
        } else fail(`${label}: the seal's HMAC does not verify: forged seal, or sealed records were altered`);
      } else if (opts.sealer === undefined && !warnedNoSealer) {
        warnedNoSealer = true;
        problem(warnings, r, chain, n)('no master key available: seals were not checked');
      }
      seg.final = d.final === 'true';
      seg.crashed = d.crash === 'true';
    } else if (seg.firstUnsealedSeq === undefined) {
      seg.firstUnsealedSeq = r.seq;
    }
    if (opts.anchor !== undefined && chain === opts.anchor.chain && n === opts.anchor.n) anchorHash = hash;
    seen.add(hash.slice(0, PREFIX));
  }

  let unsealed = 0;
  for (const seg of segments.values()) {
    const after = seg.sealedThrough < 0 ? seg.n : seg.n - seg.sealedThrough;
    if (after > 0 && seg.firstUnsealedSeq !== undefined) {
      unsealed += after;
      const msg = `segment ${seg.chain.slice(0, 8)}: ${after} record(s) from seq ${seg.firstUnsealedSeq} on are after its last seal: their hash links are checked, but truncation of them or a rewrite with recomputed hashes cannot be detected until the next seal`;
      const item = { seq: seg.firstUnsealedSeq, chain: seg.chain, n: seg.sealedThrough + 1, message: msg };
      (opts.strict === true ? errors : warnings).push(item);
    }
    seg.key?.fill(0);
  }

  const anchor = opts.anchor;
  if (anchor !== undefined) {
    const seg = segments.get(anchor.chain);
    if (seg === undefined || seg.n < anchor.n) {
      errors.push({
        seq: undefined,
        chain: anchor.chain,
        n: anchor.n,
        message: `the trail ends before the last seal recorded in the anchor file (segment ${anchor.chain.slice(0, 8)} #${anchor.n}): records were deleted from the end`,
      });
    } else if (anchorHash !== anchor.hash) {
      errors.push({
        seq: undefined,
        chain: anchor.chain,
        n: anchor.n,
        message: `segment ${anchor.chain.slice(0, 8)} #${anchor.n} is not the seal recorded in the anchor file: the trail was rewritten`,
      });
    }
  }

  return {
    ok: errors.length === 0,
    records,
    segments: [...segments.values()].map((s) => ({
      chain: s.chain,
      records: s.records,
      last: s.n,
      sealedThrough: s.sealedThrough,
      final: s.final,
      crashed: s.crashed,
    })),
    errors,
    warnings,
    unsealed,
  };
}

async function openKey(
  r: AuditRecord,
  chain: string,
  sealer: AuditKeySealer | undefined,
  fail: (message: string) => void,
): Promise<Uint8Array | undefined> {
  if (sealer === undefined) return undefined;
  const { kekId, nonce, sealedKey } = r.detail;
  if (kekId === undefined || nonce === undefined || sealedKey === undefined) {
    fail(`the opening record of segment ${chain.slice(0, 8)} carries no audit key`);
    return undefined;
  }
  try {
    return await sealer.unseal(auditKeyObjectId(chain), 1, {
      kekId,
      nonce: Buffer.from(nonce, 'base64'),
      ciphertext: Buffer.from(sealedKey, 'base64'),
    });
  } catch {
    fail(
      `the audit key of segment ${chain.slice(0, 8)} cannot be unsealed under the master key: forged or damaged opening record`,
    );
    return undefined;
  }
}
