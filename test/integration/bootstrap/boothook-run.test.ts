/**
 * The boothook as an instance runs it, for real: bash, curl and openssl against moto_server's instance metadata
 * (IMDSv2 token, the instance role's credentials) and Secrets Manager behind a proxy that checks every
 * SigV4 signature with the SDK's signer. It writes the bootstrap data, deletes the secret, and on the next boot
 * does nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { SecretsManagerSecretStore, createSecretsManagerClient } from '../../../functions/adapters/secrets/index.js';
import { boothookScript } from '../../../functions/bootstrap/boothook.js';
import { emulatorClientConfig, uniqueName } from '../../support/aws.js';
import { requireTool } from '../../unit/bootstrap/tools.js';
import { startSigV4Proxy, type SigV4Proxy } from './sigv4-proxy.js';

// moto_server's instance metadata hands out these credentials for its one role.
const INSTANCE_ROLE = { accessKeyId: 'test-key', secretAccessKey: 'test-secret-key', sessionToken: 'test-session-token' };

let proxy: SigV4Proxy;
let dir: string;
const moto = () => motoEndpoint();

beforeAll(async () => {
  proxy = await startSigV4Proxy(moto(), INSTANCE_ROLE, 'us-east-1', 'secretsmanager');
  dir = mkdtempSync(join(tmpdir(), 'clusterless-boothook-'));
});

afterAll(async () => {
  await proxy?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the boothook as cloud-init would, asynchronously: the SigV4 proxy answers from this same process. */
function runBoothook(secretId: string, file: string): Promise<{ status: number | null; stderr: string }> {
  for (const tool of ['bash', 'curl', 'openssl']) requireTool(tool);
  const script = join(dir, 'boothook.sh');
  writeFileSync(script, boothookScript({ secretId, region: 'us-east-1' }));
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], {
      // cloud-init runs it with no terminal; stdin closed (a socket would make bash read ~/.bashrc).
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        PATH: process.env.PATH,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: proxy.endpoint,
        AWS_EC2_METADATA_SERVICE_ENDPOINT: moto(),
        CLUSTERLESS_BOOTSTRAP_FILE: file,
      },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    });
  });
}

it('fetches the bootstrap data with signed requests, writes it root-only, deletes the secret, and skips on the next boot', async () => {
  // Prepare: the secret the control plane wrote before the launch
  const store = new SecretsManagerSecretStore({
    client: createSecretsManagerClient(emulatorClientConfig(moto())),
    kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/x',
    installationId: 'boothook-test',
  });
  const secretId = `clusterless/${uniqueName('ns')}/demo/machines/2b5f0d3e`;
  const data = `#cloud-config\nwrite_files:\n  - path: /run/kubeadm/kubeadm.yaml\n    content: "token: abcdef.0123456789abcdef / slash\\\\ and quote\\""\n`;
  await store.put(secretId, new TextEncoder().encode(data));
  const file = join(dir, 'bootstrap-userdata.txt');
  // Act
  const first = await runBoothook(secretId, file);
  // Assess
  expect(proxy.seen[0], first.stderr).toEqual({ target: 'secretsmanager.GetSecretValue', verified: true });
  expect(first.stderr).toContain('bootstrap data written');
  expect(first.status).toBe(0);
  expect(readFileSync(file, 'utf8')).toBe(data);
  expect(spawnSync('stat', ['-c', '%a', file], { encoding: 'utf8' }).stdout.trim()).toBe('600');
  expect(await store.get(secretId)).toBeUndefined();
  expect(proxy.seen).toEqual([
    { target: 'secretsmanager.GetSecretValue', verified: true },
    { target: 'secretsmanager.DeleteSecret', verified: true },
  ]);
  // Act 2: the next boot
  const second = await runBoothook(secretId, file);
  expect(second.status).toBe(0);
  expect(second.stderr).toContain('already on disk');
  expect(proxy.seen).toHaveLength(2);
  expect(existsSync(`${file}.tmp`)).toBe(false);
}, 90_000);

it('the proxy refuses a request signed with other credentials (so the signatures above were checked)', async () => {
  const client = createSecretsManagerClient({
    ...emulatorClientConfig(proxy.endpoint),
    credentials: { accessKeyId: 'test-key', secretAccessKey: 'not-the-secret', sessionToken: 'test-session-token' },
    maxAttempts: 1,
  });
  await expect(client.send(new GetSecretValueCommand({ SecretId: 'anything' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
  expect(proxy.seen.at(-1)).toEqual({ target: 'secretsmanager.GetSecretValue', verified: false });
});
