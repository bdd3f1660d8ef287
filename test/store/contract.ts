/**
 * The ObjectStore contract: every backend registers this suite with a
 * factory that opens a fresh, EMPTY store (and a cleanup that closes it,
 * tolerating a store the test closed already, and removes its data).
 * Backends must differ in nothing these tests can observe.
 */
import { auditContract } from './contract-audit.js';
import type { OpenedStore } from './contract-fixtures.js';
import { objectContract } from './contract-objects.js';

export { expectSameRecord, makeRecord, type OpenedStore } from './contract-fixtures.js';

export function storeContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(name, function () {
    this.timeout(60_000);
    objectContract(open);
    auditContract(open);
  });
}
