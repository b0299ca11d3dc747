export { SqliteStore, SQLITE_READ_BYTES, type SqliteStoreOptions } from './sqlite-store.js';
