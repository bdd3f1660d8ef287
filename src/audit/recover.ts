/**
 * Closing the segments of writers that crashed. A segment is sealed at the
 * latest when its writer stops; one killed before that keeps unsealed records
 * at its end, and `audit verify --strict` would fail on them forever. The
 * segment's own HMAC key is in its opening record (sealed under a KEK), so the
 * next server start on the same host can seal it: a final seal marked
 * `crash: true`, which verify reports. Only segments whose writer was a
 * process of this host that no longer runs are closed — a live writer's
 * segment, or another host's, is never touched.
 */
import { hostname } from 'node:os';
import type { Logger } from '../log.js';
import type { AuditRecord, ObjectStore } from '../store/types.js';
import { processAlive } from '../util/process.js';
import { AuditKind, auditKeyObjectId, recordHash, sealRecord } from './chain.js';
import type { AuditKeySealer } from './trail.js';

interface OpenSegment {
  readonly chain: string;
  readonly node: string | undefined;
  readonly open: AuditRecord;
  n: number;
  hash: string;
  sealedThrough: number;
  final: boolean;
}

/** true when `node` ("host:pid", the opening record's) names a process of this host that has exited */
export function writerIsGone(node: string | undefined, host = hostname()): boolean {
  if (node === undefined) return false;
  const at = node.lastIndexOf(':');
  const pid = Number(node.slice(at + 1));
  return at > 0 && node.slice(0, at) === host && Number.isSafeInteger(pid) && pid > 0 && !processAlive(pid);
}

/** Seals, with a final crash seal, every segment left unsealed by a dead writer of this host; returns their ids. */
export async function closeAbandonedSegments(
  store: ObjectStore,
  sealer: AuditKeySealer,
  opts: { readonly log?: Logger; readonly actor?: string; readonly now?: () => number } = {},
): Promise<string[]> {
  const segments = new Map<string, OpenSegment>();
  for await (const r of store.readAudit()) {
    const { chain, hash, kind } = r.detail;
    const n = Number(r.detail.n);
    if (chain === undefined || hash === undefined || !Number.isSafeInteger(n)) continue;
    let seg = segments.get(chain);
    if (n === 0 && kind === AuditKind.Open && seg === undefined) {
      seg = { chain, node: r.detail.node, open: r, n, hash, sealedThrough: -1, final: false };
      segments.set(chain, seg);
      continue;
    }
    // a damaged segment is verify's to report, not this code's to extend
    if (seg === undefined || n !== seg.n + 1) {
      segments.delete(chain);
      continue;
    }
    seg.n = n;
    seg.hash = hash;
    if (kind === AuditKind.Seal) {
      seg.sealedThrough = n;
      seg.final = r.detail.final === 'true';
    }
  }
  const closed: string[] = [];
  for (const seg of segments.values()) {
    if (seg.final || seg.n <= seg.sealedThrough || !writerIsGone(seg.node)) continue;
    const { kekId, nonce, sealedKey } = seg.open.detail;
    if (kekId === undefined || nonce === undefined || sealedKey === undefined) continue;
    let key: Uint8Array;
    try {
      key = await sealer.unseal(auditKeyObjectId(seg.chain), 1, {
        kekId,
        nonce: Buffer.from(nonce, 'base64'),
        ciphertext: Buffer.from(sealedKey, 'base64'),
      });
    } catch (e: unknown) {
      opts.log?.warn('could not open the key of an abandoned audit segment', {
        chain: seg.chain,
        error: e instanceof Error ? e.message : String(e),
      });
      continue;
    }
    try {
      const seal = sealRecord(
        {
          at: (opts.now ?? Date.now)(),
          actor: opts.actor ?? 'kmip-server',
          chain: seg.chain,
          n: seg.n + 1,
          prev: seg.hash,
          records: seg.n - Math.max(seg.sealedThrough, 0),
          flags: { final: 'true', crash: 'true' },
        },
        key,
      );
      const record = { ...seal, detail: { ...seal.detail, hash: recordHash(seal) } };
      await store.atomic([{ kind: 'audit', record }]);
      closed.push(seg.chain);
      opts.log?.warn('sealed an audit segment left open by a crashed writer', {
        chain: seg.chain,
        writer: seg.node,
        unsealedRecords: seg.n - Math.max(seg.sealedThrough, 0),
      });
    } finally {
      key.fill(0);
    }
  }
  return closed;
}
