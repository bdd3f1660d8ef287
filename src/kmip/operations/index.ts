import { activate } from './activate.js';
import { addAttribute } from './add-attribute.js';
import { adjustAttribute } from './adjust-attribute.js';
import { archive } from './archive.js';
import { certify } from './certify.js';
import { check } from './check.js';
import { create } from './create.js';
import { createKeyPair } from './create-key-pair.js';
import { createSplitKey } from './create-split-key.js';
import { decrypt } from './decrypt.js';
import { deleteAttribute } from './delete-attribute.js';
import { deriveKey } from './derive-key.js';
import { destroy } from './destroy.js';
import { discoverVersions } from './discover-versions.js';
import { encrypt } from './encrypt.js';
import { exportOperation } from './export.js';
import { get } from './get.js';
import { getAttributeList } from './get-attribute-list.js';
import { getAttributes } from './get-attributes.js';
import { getUsageAllocation } from './get-usage-allocation.js';
import { hash } from './hash.js';
import { importOperation } from './import.js';
import { interop } from './interop.js';
import { joinSplitKey } from './join-split-key.js';
import { locate } from './locate.js';
import { log } from './log.js';
import { mac } from './mac.js';
import { macVerify } from './mac-verify.js';
import { modifyAttribute } from './modify-attribute.js';
import { obtainLease } from './obtain-lease.js';
import { pkcs11 } from './pkcs11.js';
import { query } from './query.js';
import { recertify } from './recertify.js';
import { recover } from './recover.js';
import { register } from './register.js';
import { rekey } from './rekey.js';
import { rekeyKeyPair } from './rekey-key-pair.js';
import { revoke } from './revoke.js';
import { rngRetrieve } from './rng-retrieve.js';
import { rngSeed } from './rng-seed.js';
import { setAttribute } from './set-attribute.js';
import { sign } from './sign.js';
import { signatureVerify } from './signature-verify.js';
import { givingApprovalBack } from './support/common.js';
import type { OperationDefinition } from './types.js';
import { validate } from './validate.js';

export type {
  ClientIdentity,
  OperationContext,
  OperationDefinition,
  OperationServices,
  Principal,
  ServerDescription,
} from './types.js';

/**
 * Every implemented operation; one file each. Query reports exactly this
 * list. Each gives back a dual-control approval it used when it fails.
 */
export const OPERATIONS: readonly OperationDefinition[] = [
  create,
  createKeyPair,
  register,
  locate,
  get,
  getAttributes,
  getAttributeList,
  addAttribute,
  modifyAttribute,
  deleteAttribute,
  setAttribute,
  activate,
  revoke,
  destroy,
  encrypt,
  decrypt,
  query,
  discoverVersions,
  interop,
  rekey,
  certify,
  recertify,
  validate,
  deriveKey,
  check,
  obtainLease,
  getUsageAllocation,
  archive,
  recover,
  log,
  exportOperation,
  importOperation,
  adjustAttribute,
  rekeyKeyPair,
  sign,
  signatureVerify,
  mac,
  macVerify,
  hash,
  rngRetrieve,
  rngSeed,
  createSplitKey,
  joinSplitKey,
  pkcs11,
].map(givingApprovalBack);
