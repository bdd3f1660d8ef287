/** Records and assertions shared by the store tests. */

import { expect } from 'chai';
import { type ObjectRecord, type SealedBlob, storeErrorCode } from '../../src/store/types.js';

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Awaits `p`, expecting a rejection with the store error `code`. */
export async function expectStoreError(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (e) {
    expect(storeErrorCode(e), String(e)).to.equal(code);
    return e as Error;
  }
  expect.fail(`expected a rejection with ${code}`);
}

/** A record with every field set, for the backends' round trips; `over` replaces fields. */
export function rec(id: string, over: Partial<ObjectRecord> = {}): ObjectRecord {
  return {
    id,
    version: 1,
    objectType: 'SymmetricKey',
    state: 'PreActive',
    owner: 'alice',
    names: [`name-${id}`],
    objectGroups: ['g1'],
    algorithm: 'AES',
    length: 256,
    dates: { InitialDate: 1000 },
    custom: { 'x-app': ['payroll'] },
    attributes: new Uint8Array([0x42, 0x00, 0x01]),
    sealed: { kekId: 'kek-1', nonce: new Uint8Array(12).fill(7), ciphertext: new Uint8Array([1, 2, 3]) },
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    tombstoned: false,
    ...over,
  };
}

/** An active AES key holding `sealed`, as the sealing tests store it. */
export function sealedRecord(id: string, sealed: SealedBlob, names: readonly string[] = []): ObjectRecord {
  const now = Date.now();
  return {
    id,
    version: 1,
    objectType: 'SymmetricKey',
    state: 'Active',
    owner: undefined,
    names: [...names],
    objectGroups: [],
    algorithm: 'AES',
    length: 256,
    dates: {},
    custom: {},
    attributes: new Uint8Array(0),
    sealed,
    createdAt: now,
    updatedAt: now,
    tombstoned: false,
  };
}

let dbCounter = 0;
/** A database name not used before by this process. */
export const freshDb = (): string => `kmip_test_${process.pid}_${++dbCounter}`;
