/** The SecretStore contract against the embedded host's file store, and its files' modes. */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSecretStore } from '../../../local/file-secret-store.js';
import { uniqueName } from '../../support/aws.js';
import { runSecretStoreContract } from '../../support/secret-store-contract.js';

const root = mkdtempSync(join(tmpdir(), 'clusterless-secrets-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

runSecretStoreContract('files', () => {
  const installationId = uniqueName('files');
  const store = new FileSecretStore({ dir: join(root, installationId), installationId });
  return { store, installationId, prefix: `clusterless/${uniqueName('ns')}/demo`, tagsOf: (name) => store.tagsOf(name) };
});

describe('FileSecretStore files', () => {
  it('keeps each secret in a 0600 file of a 0700 folder, and survives a new store on the folder', async () => {
    const dir = join(root, 'modes');
    const store = new FileSecretStore({ dir });
    await store.put('clusterless/default/demo/certificates', new TextEncoder().encode('pem'));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(statSync(join(dir, files[0]!)).mode & 0o777).toBe(0o600);
    const again = new FileSecretStore({ dir });
    expect(new TextDecoder().decode(await again.get('clusterless/default/demo/certificates'))).toBe('pem');
  });
});
