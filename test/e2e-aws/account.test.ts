/**
 * `npm run e2e:aws` inside the suite: the synthesized cloud assembly deployed into the emulated account and the seed
 * scenario run through it (e2e/aws/run.ts), then the same account with one permission taken from a role, which must
 * fail the run and name the call. Each run is a process of its own, as a user starts it. The stack has the mirror on
 * (`--mirror-kubeconfig`), into a real kube-apiserver serving crds/: the Cluster must arrive there, and leave with it.
 *
 * The two runs overlap: the second reuses the assembly the first synthesized and starts as soon as the first says it
 * is written (its `assembly:` line), each with an account (moto_server) of its own and a management cluster of its
 * own (two kube-apiservers on one etcd, the second started while the first run synthesizes), so that neither can see
 * the other's objects.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEtcd, startKube, type RunningEtcd, type RunningKube } from '../support/kube.js';

const ROOT = join(import.meta.dirname, '..', '..');
let etcd: RunningEtcd;
/** The management cluster of the whole run; the run with a permission taken away starts its own while it waits. */
let kube: RunningKube;
let dropKube: Promise<RunningKube> | undefined;

async function managementCluster(): Promise<RunningKube> {
  const k = await startKube({ etcd });
  await k.installCrds();
  return k;
}

beforeAll(async () => {
  etcd = await startEtcd();
  kube = await managementCluster();
});

afterAll(async () => {
  await Promise.all([
    kube?.stop(),
    dropKube?.then(
      (k) => k.stop(),
      () => undefined,
    ),
  ]);
  await etcd?.stop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs e2e/aws/run.ts; `onStderr` sees its progress as it comes. */
function runAccount(args: string[], management: RunningKube, onStderr?: (soFar: string) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'e2e/aws/run.ts', ...args, '--mirror-kubeconfig', management.mirrorKubeconfig], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const summaryOf = (run: Run) => JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;

/** Settles once the whole run has written the assembly (its `assembly: DIR (N functions)` line), or fails if it ended first. */
let assemblyWritten!: { resolve: () => void; reject: (err: Error) => void };
const assembly = new Promise<void>((resolve, reject) => {
  assemblyWritten = { resolve, reject };
});
assembly.catch(() => undefined);

it.concurrent('npm run e2e:aws: every step of the seed scenario passes, IAM denies nothing, nothing is left, and the last line says so', async () => {
  // Act
  const run = await runAccount([], kube, (soFar) => {
    if (/^assembly: .+ \(\d+ functions\)$/m.test(soFar)) assemblyWritten.resolve();
  });
  assemblyWritten.reject(new Error(`the whole run ended before it wrote the assembly:\n${run.stderr.slice(-4000)}`));

  // Assess
  const summary = summaryOf(run);
  expect(summary, run.stderr.slice(-4000)).toMatchObject({ scenario: 'aws-account', steps: 8, passed: 8, iamDenies: 0, leftovers: 0 });
  expect(Array.isArray(summary['unusedPermissions'])).toBe(true);
  expect(run.code).toBe(0);
  // The mirror applied the Cluster into the management cluster, and removed it there once it was deleted.
  expect(run.stderr).toContain('mirrored into the management cluster');
  expect((await kube.kubectlOk(['get', 'clusters.clusterless.dev', '-A', '-o', 'name'])).trim()).toBe('');
}, 900_000);

it.concurrent('a permission taken from the provision role (secretsmanager:TagResource) fails the run and names the call', async () => {
  // Act: the assembly the whole run synthesized, one control-plane machine and one worker.
  dropKube = managementCluster();
  const [management] = await Promise.all([dropKube, assembly]);
  const run = await runAccount(['--reuse-assembly', '--short', '--drop', 'provision:secretsmanager:TagResource'], management);

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
}, 900_000);
