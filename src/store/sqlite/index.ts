export { auditFileFor, MIGRATIONS, migrate, SCHEMA_VERSION, schemaVersion } from './schema.js';
export { openSqliteStore, SqliteStore, type SqliteStoreOptions, type SqliteStoreStats } from './store.js';
