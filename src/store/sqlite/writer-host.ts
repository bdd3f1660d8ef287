/**
 * Where the SQLite store's batches are written: a worker thread running
 * writer-thread.ts (the default), or this thread (BatchWriter on a second
 * connection), behind one WriterHandle.
 */

import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { Logger } from '../../log.js';
import { DuplicateIdError, NotFoundError, StoreUnavailableError, VersionConflictError } from '../types.js';
import {
  type BatchResult,
  BatchWriter,
  type FromWriter,
  type ToWriter,
  type WriterBatch,
  type WriterData,
  type WriterError,
} from './writer.js';

export interface WriterHandle {
  /** writes the batch; calls back with the result (at once when inline) */
  send(batch: WriterBatch, done: (r: BatchResult) => void): void;
  close(): Promise<void>;
}

/** The error a writer reported, as the class its code names (class identity does not cross threads). */
export function fromWriterError(w: WriterError): Error {
  if (w.range === true) return new RangeError(w.message);
  switch (w.code) {
    case 'ERR_STORE_DUPLICATE_ID':
      return new DuplicateIdError(w.message);
    case 'ERR_STORE_NOT_FOUND':
      return new NotFoundError(w.message);
    case 'ERR_STORE_VERSION_CONFLICT':
      return new VersionConflictError(w.message);
    case 'ERR_STORE_UNAVAILABLE':
      return new StoreUnavailableError(w.message);
    default:
      return Object.assign(new Error(w.message), w.code === undefined ? {} : { code: w.code });
  }
}

const WRITER_THREAD = new URL(
  `./writer-thread${path.extname(fileURLToPath(import.meta.url))}`,
  import.meta.url,
);

/** tsx's ESM register API (its package exports resolve to the CommonJS build from a transpiled module). */
function tsxApi(): string {
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  return pathToFileURL(path.join(path.dirname(pkg), 'dist/esm/api/index.mjs')).href;
}

/** A worker thread running writer-thread.ts; its failure fails the pending batch and every later write. */
export async function startWriterThread(
  file: string,
  auditFile: string,
  busyTimeoutMs: number,
  log: Logger,
): Promise<WriterHandle> {
  const data: WriterData = { file, auditFile, busyTimeoutMs };
  // Under tsx (tests, `node --import tsx`) the worker's loader is not inherited: register it first.
  const worker = WRITER_THREAD.pathname.endsWith('.ts')
    ? new Worker(
        `import(${JSON.stringify(tsxApi())}).then((t) => { t.register(); return import(${JSON.stringify(WRITER_THREAD.href)}); })`,
        { eval: true, workerData: data },
      )
    : new Worker(WRITER_THREAD, { workerData: data });
  const pending = new Map<number, (r: BatchResult) => void>();
  let nextId = 1;
  let dead: WriterError | undefined;
  let onClosed: (() => void) | undefined;
  const fail = (error: WriterError) => {
    dead ??= error;
    for (const done of pending.values()) done({ committed: false, error });
    pending.clear();
  };
  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: FromWriter) => {
      if (m.type === 'ready') resolve();
      else if (m.type === 'open-failed') reject(new Error(m.error.message));
      else if (m.type === 'done') {
        const done = pending.get(m.id);
        pending.delete(m.id);
        // idle: let the process exit if nothing else holds it
        if (pending.size === 0) worker.unref();
        done?.(m);
      } else onClosed?.();
    });
    worker.on('error', (e) => {
      log.error('sqlite writer thread failed', { error: e.message });
      fail({ message: e.message, code: 'ERR_STORE_UNAVAILABLE' });
      reject(e);
    });
    worker.on('exit', () => {
      fail({ message: 'the sqlite writer thread exited', code: 'ERR_STORE_UNAVAILABLE' });
      onClosed?.();
      reject(new Error('the sqlite writer thread exited'));
    });
  });
  try {
    await ready;
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  worker.unref();
  return {
    send(batch, done) {
      if (dead !== undefined) {
        done({ committed: false, error: dead });
        return;
      }
      const id = nextId++;
      pending.set(id, done);
      worker.ref();
      const m: ToWriter = { type: 'batch', id, jobs: batch.jobs, audit: batch.audit };
      worker.postMessage(m);
    },
    async close() {
      if (dead !== undefined) return;
      const closed = new Promise<void>((resolve) => {
        onClosed = resolve;
      });
      worker.ref();
      const m: ToWriter = { type: 'close' };
      worker.postMessage(m);
      await closed;
      await worker.terminate();
    },
  };
}

export function inlineWriter(db: Database.Database): WriterHandle {
  const writer = new BatchWriter(db);
  return {
    send: (batch, done) => done(writer.run(batch)),
    close: async () => {
      db.close();
    },
  };
}
