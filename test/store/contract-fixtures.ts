/** Records, comparisons and setup shared by the ObjectStore contract parts (see contract.ts). */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { AuditRecord, ObjectRecord, ObjectStore } from '../../src/store/types.js';

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface OpenedStore {
  store: ObjectStore;
  cleanup(): Promise<void>;
}

export let serial = 0;
export const runId = randomBytes(4).toString('hex');

export function makeRecord(over: Partial<Mutable<ObjectRecord>> = {}): ObjectRecord {
  serial++;
  return {
    id: `${runId}-${serial}`,
    version: 1,
    objectType: 'SymmetricKey',
    state: 'PreActive',
    owner: 'alice',
    names: [`key-${serial}`],
    objectGroups: [],
    algorithm: 'AES',
    length: 256,
    dates: {},
    custom: {},
    attributes: new Uint8Array([0x42, 0x01, 0x25, 0x01, serial & 0xff]),
    sealed: {
      kekId: 'kek-1',
      nonce: new Uint8Array(randomBytes(12)),
      ciphertext: new Uint8Array(randomBytes(48)),
    },
    createdAt: 1_700_000_000_000 + serial,
    updatedAt: 1_700_000_000_000 + serial,
    tombstoned: false,
    ...over,
  };
}

export function hex(u: Uint8Array): string {
  expect(u).to.be.instanceOf(Uint8Array);
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('hex');
}

/** Field by field, Uint8Array contents compared byte-exact whatever subclass the backend returns. */
export function expectSameRecord(actual: ObjectRecord | undefined, expected: ObjectRecord): void {
  expect(actual, `record ${expected.id}`).to.not.equal(undefined);
  if (actual === undefined) return;
  const { attributes, sealed, ...rest } = actual;
  const { attributes: eAttributes, sealed: eSealed, ...eRest } = expected;
  expect(rest).to.deep.equal(eRest);
  expect(Object.keys(actual).sort()).to.deep.equal(Object.keys(expected).sort());
  expect(hex(attributes)).to.equal(hex(eAttributes));
  if (eSealed === undefined) {
    expect(sealed).to.equal(undefined);
  } else {
    expect(sealed).to.not.equal(undefined);
    if (sealed === undefined) return;
    expect(sealed.kekId).to.equal(eSealed.kekId);
    expect(hex(sealed.nonce)).to.equal(hex(eSealed.nonce));
    expect(hex(sealed.ciphertext)).to.equal(hex(eSealed.ciphertext));
  }
}

export async function expectRejected(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  expect.fail('expected a rejection');
}

export function bump(r: ObjectRecord, over: Partial<Mutable<ObjectRecord>> = {}): ObjectRecord {
  return { ...r, version: r.version + 1, updatedAt: r.updatedAt + 1, ...over };
}

export function audit(over: Partial<Mutable<AuditRecord>> = {}): AuditRecord {
  return {
    at: 1_700_000_000_000,
    actor: 'CN=alice',
    operation: 'Create',
    objectId: 'obj',
    outcome: 'Success',
    detail: {},
    ...over,
  };
}

/** Opens a fresh store before each test (handing it to `onOpen`) and cleans it up after. */
export function useOpenedStore(open: () => Promise<OpenedStore>, onOpen: (store: ObjectStore) => void): void {
  let opened: OpenedStore | undefined;
  beforeEach(async () => {
    opened = await open();
    onOpen(opened.store);
  });
  afterEach(async () => {
    await opened?.cleanup();
  });
}
