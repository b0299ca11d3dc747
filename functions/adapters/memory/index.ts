export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { MemoryUnavailableOfferings } from './memory-unavailable-offerings.js';
