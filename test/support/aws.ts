import { randomBytes } from 'node:crypto';

/** SDK client settings for an emulator: region us-east-1, dummy static credentials, the emulator's endpoint. */
export function emulatorClientConfig(endpoint: string) {
  return {
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
}

/**
 * A name no other test file uses (test files run in parallel against one moto_server, which is never reset):
 * tables, tags and the like.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
