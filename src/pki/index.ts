export { parseCrls, type RevocationList } from './crl.js';
export {
  DEV_CA_COMMON_NAME,
  type DevPkiOptions,
  type DevPkiPaths,
  devPkiPaths,
  ensureDevPki,
  type IssueClientOptions,
  issueClientCertificate,
  validateClientName,
} from './dev-pki.js';
export type { KeyType } from './x509.js';
