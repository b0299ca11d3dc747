export { DIGEST, checkDigest, payloadDigest } from './digest.js';
export { FilePayloadStore } from './file-payload-store.js';
export { MemoryPayloadStore } from './memory-payload-store.js';
export { PayloadMissingError, PayloadOffloadingStore } from './offloading-store.js';
export { PAYLOAD_KEY_PREFIX, PayloadStoreError, S3PayloadStore, type S3PayloadStoreOptions } from './s3-payload-store.js';
