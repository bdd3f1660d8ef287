/**
 * Worker-thread entry of the SQLite store's writer (writer.ts): owns the
 * write connection, runs each posted batch as one group-committed
 * transaction and posts the outcomes back in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  BatchWriter,
  configureWriteConnection,
  type FromWriter,
  type ToWriter,
  toWriterError,
  type WriterData,
} from './writer.js';

const port = parentPort;
if (port === null) throw new Error('writer-thread.ts runs in a worker thread');
const post = (m: FromWriter) => port.postMessage(m);
const data = workerData as WriterData;

let db: Database.Database | undefined;
let writer: BatchWriter | undefined;
try {
  db = new Database(data.file, { timeout: data.busyTimeoutMs });
  configureWriteConnection(db, data.auditFile);
  writer = new BatchWriter(db);
  post({ type: 'ready' });
} catch (e) {
  db?.close();
  post({ type: 'open-failed', error: toWriterError(e) });
}

port.on('message', (m: ToWriter) => {
  if (m.type === 'batch') {
    const result = writer?.run(m) ?? {
      committed: false as const,
      error: { message: 'the writer connection is not open' },
    };
    post({ type: 'done', id: m.id, ...result });
  } else {
    try {
      db?.close();
    } finally {
      db = undefined;
      writer = undefined;
      post({ type: 'closed' });
      port.close();
    }
  }
});
