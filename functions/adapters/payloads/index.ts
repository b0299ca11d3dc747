export { DIGEST, checkDigest, payloadDigest } from './digest.js';
export { FilePayloadStore } from './file-payload-store.js';
export { MemoryPayloadStore } from './memory-payload-store.js';
export { PayloadMissingError, PayloadOffloadingStore } from './offloading-store.js';
export { restoredChanges } from './restored-changes.js';
export { PAYLOAD_KEY_PREFIX, PayloadStoreError, S3PayloadStore, type S3PayloadStoreOptions } from './s3-payload-store.js';

import { S3PayloadStore as S3Store } from './s3-payload-store.js';

/** The environment variables the stack sets on the functions that keep or read addon payloads. */
export const PAYLOAD_BUCKET_ENV = 'PAYLOAD_BUCKET';
export const PAYLOAD_KMS_KEY_ENV = 'PAYLOAD_KMS_KEY_ARN';

/** The S3 payload store the stack gave this function, or undefined when it gave none. */
export function payloadStoreFromEnvironment(env: NodeJS.ProcessEnv): S3Store | undefined {
  const bucket = env[PAYLOAD_BUCKET_ENV];
  if (!bucket) return undefined;
  const region = env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'];
  if (!region) throw new Error(`${PAYLOAD_BUCKET_ENV} is set but AWS_REGION is not`);
  const kmsKeyId = env[PAYLOAD_KMS_KEY_ENV];
  const endpoint = env['AWS_ENDPOINT_URL_S3'] ?? env['AWS_ENDPOINT_URL'];
  return new S3Store({ bucket, region, ...(kmsKeyId ? { kmsKeyId } : {}), ...(endpoint ? { endpoint } : {}) });
}
