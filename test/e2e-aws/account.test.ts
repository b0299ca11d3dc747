/**
 * `npm run e2e:aws` inside the suite: the synthesized cloud assembly deployed into the emulated account and the seed
 * scenario run through it (e2e/aws/run.ts), then the same account with one permission taken from a role, which must
 * fail the run and name the call. Each run is a process of its own, as a user starts it. The stack has the mirror on
 * (`--mirror-kubeconfig`), into a real kube-apiserver serving crds/: the Cluster must arrive there, and leave with it.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startKube, type RunningKube } from '../support/kube.js';

const ROOT = join(import.meta.dirname, '..', '..');
let kube: RunningKube;

beforeAll(async () => {
  kube = await startKube();
  await kube.installCrds();
});

afterAll(async () => {
  await kube?.stop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runAccount(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'e2e/aws/run.ts', ...args, '--mirror-kubeconfig', kube.mirrorKubeconfig], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const summaryOf = (run: Run) => JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;

it('npm run e2e:aws: every step of the seed scenario passes, IAM denies nothing, nothing is left, and the last line says so', async () => {
  // Act
  const run = await runAccount([]);

  // Assess
  const summary = summaryOf(run);
  expect(summary, run.stderr.slice(-4000)).toMatchObject({ scenario: 'aws-account', steps: 8, passed: 8, iamDenies: 0, leftovers: 0 });
  expect(Array.isArray(summary['unusedPermissions'])).toBe(true);
  expect(run.code).toBe(0);
  // The mirror applied the Cluster into the management cluster, and removed it there once it was deleted.
  expect(run.stderr).toContain('mirrored into the management cluster');
  expect((await kube.kubectlOk(['get', 'clusters.clusterless.dev', '-A', '-o', 'name'])).trim()).toBe('');
}, 900_000);

it('a permission taken from the provision role (secretsmanager:TagResource) fails the run and names the call', async () => {
  // Act: the assembly the first test synthesized, one control-plane machine and one worker.
  const run = await runAccount(['--reuse-assembly', '--short', '--drop', 'provision:secretsmanager:TagResource']);

  // Assess
  const summary = summaryOf(run);
  expect(summary['iamDenies'], run.stderr.slice(-4000)).toBeGreaterThan(0);
  expect(run.code).toBe(1);
  const denies = run.stderr.split('\n').filter((l) => l.startsWith('IAM DENY'));
  expect(denies.some((l) => l.includes('secretsmanager:TagResource') && l.includes('provision'))).toBe(true);
  // A failed run keeps its functions' logs for the reader; this failure was on purpose.
  const kept = /the functions' logs are kept in (.+)\/logs$/m.exec(run.stderr)?.[1];
  expect(kept).toBeDefined();
  rmSync(kept!, { recursive: true, force: true });
}, 600_000);
