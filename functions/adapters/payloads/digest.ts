/** Content digests of addon payloads: `sha256:` and 64 lower-case hex digits of the bytes. */
import { createHash } from 'node:crypto';
import { PayloadDigestError } from '../../ports.js';

export const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function payloadDigest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Refuses a digest of another form (it becomes a key or a file name) before anything is read or written. */
export function checkDigestForm(digest: string): void {
  if (!DIGEST.test(digest)) throw new PayloadDigestError(`${JSON.stringify(digest.slice(0, 80))} is not a payload digest (sha256:<64 hex>)`);
}

/** Refuses bytes that are not what the digest names: a put of the wrong bytes, or a payload changed where it is kept. */
export function checkDigest(digest: string, bytes: Uint8Array): void {
  checkDigestForm(digest);
  const actual = payloadDigest(bytes);
  if (actual !== digest) throw new PayloadDigestError(`payload ${digest} holds bytes of ${actual}`);
}

/** The hex part, for keys and file names. */
export const digestHex = (digest: string) => digest.slice('sha256:'.length);
