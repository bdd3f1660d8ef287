/** Temporary directories and the store contract for the SQLite store tests. */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite/store.js';
import { storeContract } from './contract.js';

/** An audit row as SQLite holds it. */
export interface RawAudit {
  at: number;
  actor: string | null;
  operation: string;
  object_id: string | null;
  outcome: string;
  detail: string;
}

export async function tempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'kmip-sqlite-'));
}

/** The shared store contract, each store in a fresh directory opened with `opts`. */
export function sqliteContract(name: string, opts: SqliteStoreOptions = {}): void {
  storeContract(name, async () => {
    const dir = await tempDir();
    const store = await openSqliteStore(path.join(dir, 'kmip.db'), opts);
    return {
      store,
      async cleanup() {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  });
}
