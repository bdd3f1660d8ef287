/**
 * Keeps `depth` requests in flight on every connection until the job source
 * runs dry, then waits for the answers. Bounded: a deadline for the whole
 * drive and a timeout per request (the connection is dropped when exceeded).
 */

import type { PipelinedConnection } from './connection.js';
import { type ResponseSummary, summarizeResponse } from './response.js';

export interface Job {
  request: Buffer;
  /** undefined when the answer is right, otherwise the error's label */
  check(s: ResponseSummary): string | undefined;
}

/** latency in ms; error label or undefined on success */
export type ResultSink = (
  latencyMs: number,
  error: string | undefined,
  summary: ResponseSummary | undefined,
) => void;

export interface DriveOptions {
  depth: number;
  /** the drive gives up (dropping connections) after this long */
  deadlineMs: number;
  requestTimeoutMs: number;
}

export interface DriveOutcome {
  timedOut: boolean;
  /** connections lost during the drive */
  lost: number;
}

export function drive(
  conns: readonly PipelinedConnection[],
  next: () => Job | undefined,
  sink: ResultSink,
  opts: DriveOptions,
): Promise<DriveOutcome> {
  return new Promise((resolve) => {
    let exhausted = false;
    let inFlight = 0;
    let settled = false;
    const lostBefore = conns.filter((c) => c.closed).length;

    const finish = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      clearTimeout(deadline);
      resolve({ timedOut, lost: conns.filter((c) => c.closed).length - lostBefore });
    };

    const pump = (conn: PipelinedConnection) => {
      while (!exhausted && !conn.closed && conn.inFlight < opts.depth) {
        const job = next();
        if (job === undefined) {
          exhausted = true;
          break;
        }
        inFlight++;
        conn.send(job.request, (frame, sentAt) => {
          inFlight--;
          const ms = performance.now() - sentAt;
          if (frame instanceof Error) {
            sink(ms, `connection: ${frame.message}`, undefined);
          } else {
            let summary: ResponseSummary | undefined;
            let error: string | undefined;
            try {
              summary = summarizeResponse(frame);
              error = job.check(summary);
            } catch (e: unknown) {
              error = `bad response: ${e instanceof Error ? e.message : String(e)}`;
            }
            sink(ms, error, summary);
            pump(conn);
          }
          if ((exhausted || conns.every((c) => c.closed)) && inFlight === 0) finish(false);
        });
      }
    };

    const watchdog = setInterval(() => {
      const now = performance.now();
      for (const c of conns) {
        const oldest = c.oldestSentAt;
        if (oldest !== undefined && now - oldest > opts.requestTimeoutMs) {
          c.destroy(new Error(`no answer within ${opts.requestTimeoutMs} ms`));
        }
      }
    }, 1000);
    const deadline = setTimeout(() => {
      exhausted = true;
      for (const c of conns) if (c.inFlight > 0) c.destroy(new Error('drive deadline reached'));
      finish(true);
    }, opts.deadlineMs);

    for (const c of conns) pump(c);
    if (inFlight === 0) finish(false);
  });
}
