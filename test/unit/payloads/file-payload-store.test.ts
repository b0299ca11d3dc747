import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { digestHex, payloadDigest } from '../../../functions/adapters/payloads/digest.js';
import { FilePayloadStore } from '../../../functions/adapters/payloads/file-payload-store.js';
import { runPayloadStoreContract } from '../../support/payload-store-contract.js';

const root = mkdtempSync(join(tmpdir(), 'payloads-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
const make = () => {
  const dir = join(root, String(n++));
  return { dir, store: new FilePayloadStore(dir) };
};

runPayloadStoreContract('files in the data folder', () => {
  const { dir, store } = make();
  return { store, tamper: async (digest, bytes) => writeFileSync(join(dir, 'sha256', digestHex(digest)), bytes) };
});

describe('FilePayloadStore', () => {
  it('keeps payloads readable by the owner only, in a folder of the owner only', async () => {
    const { dir, store } = make();
    const value = new TextEncoder().encode('kind: ConfigMap');
    const digest = payloadDigest(value);
    await store.put(digest, value);
    expect(statSync(join(dir, 'sha256', digestHex(digest))).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'sha256')).mode & 0o777).toBe(0o700);
  });
});
