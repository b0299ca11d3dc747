/**
 * `clusterless convert` and `apply` of Cluster API manifests as a user runs them: the CLI as a child process
 * (cli/bin.mjs) against the embedded host's HTTP API on its embedded store (no controllers, so the objects stay
 * as written).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStore, type EmbeddedStore } from '../../../local/embedded-dynamodb.js';
import { startHttpServer, type RunningHttpServer } from '../../../local/http-server.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'cli/bin.mjs');
const FIXTURES = join(ROOT, 'test/fixtures/capi');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();

function cli(args: string[], stdin = ''): Promise<Result> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CLUSTERLESS_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR') env[k] = v;
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...env, CLUSTERLESS_SERVER: host.url }, stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  child.stdin!.end(stdin);
  return new Promise((r) =>
    child.on('close', (code) => {
      running.delete(child);
      r({ code, stdout, stderr });
    }),
  );
}

async function get(path: string): Promise<{ status: number; json: any }> {
  const res = await fetch(host.url + path);
  return { status: res.status, json: await res.json() };
}

let store: EmbeddedStore;
let host: RunningHttpServer;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'clusterless-convert-'));
  store = await startEmbeddedStore(join(dataDir, 'dynamodb'), { tableName: 'clusterless' });
  host = await startHttpServer({ port: 0, deps: { store: store.store } });
});

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await host?.close();
  await store?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('clusterless convert | apply against the embedded host', () => {
  it('convert | apply creates the cluster clusterctl described; apply -f of the v1beta2 file then changes only what it spells differently', async () => {
    const converted = await cli(['convert', '-f', join(FIXTURES, 'cluster-v1beta1.yaml')]);
    expect(converted.code).toBe(0);
    expect(converted.stderr).toMatch(/^warning: /);
    const applied = await cli(['apply', '-f', '-'], converted.stdout);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout.split('\n').filter((l) => l.endsWith(' created'))).toHaveLength(10);

    const cluster = await get('/apis/clusterless.dev/v1alpha1/namespaces/default/clusters/prod');
    expect(cluster.status).toBe(200);
    expect(cluster.json.spec.provider.aws.subnets).toHaveLength(3);
    const cp = await get('/apis/clusterless.dev/v1alpha1/namespaces/default/controlplanes/prod-control-plane');
    expect(cp.json.spec).toMatchObject({ clusterName: 'prod', replicas: 3, version: 'v1.31.2', machineClassRef: { name: 'prod-control-plane' } });

    // The same cluster in v1beta2's shapes, applied directly: converted first, its warnings on stderr.
    const again = await cli(['apply', '-f', join(FIXTURES, 'cluster-v1beta2.yaml')]);
    expect(again.code).toBe(0);
    expect(
      again.stderr
        .split('\n')
        .filter(Boolean)
        .every((l) => l.startsWith('warning: ')),
    ).toBe(true);
    // Only the health checks' durations are written differently (900s for 15m, 300s for 5m).
    expect(again.stdout.split('\n').filter((l) => l.endsWith(' configured'))).toEqual([
      'machinehealthcheck.clusterless.dev/prod-md-0-unhealthy configured',
      'machinehealthcheck.clusterless.dev/prod-control-plane-unhealthy configured',
    ]);
  });

  it('apply -f of a ClusterClass file creates the class, its MachineClasses and the topology Clusters; the v1beta2 file then changes nothing', async () => {
    const applied = await cli(['apply', '-f', join(FIXTURES, 'clusterclass-v1beta1.yaml')]);
    expect(applied.code).toBe(0);
    expect(applied.stdout.split('\n').filter(Boolean)).toEqual([
      'machineclass.clusterless.dev/quick-start-control-plane created',
      'machineclass.clusterless.dev/quick-start-worker-machinetemplate created',
      'machineclass.clusterless.dev/quick-start-gpu-machinetemplate created',
      'clusterclass.clusterless.dev/quick-start created',
      'cluster.clusterless.dev/classy created',
      'cluster.clusterless.dev/classy-west created',
    ]);
    const cc = await get('/apis/clusterless.dev/v1alpha1/namespaces/default/clusterclasses/quick-start');
    expect(cc.status).toBe(200);
    expect(cc.json.spec.workers.machineDeployments.map((m: { class: string }) => m.class)).toEqual(['default-worker', 'gpu-worker']);
    const cluster = await get('/apis/clusterless.dev/v1alpha1/namespaces/default/clusters/classy');
    expect(cluster.json.spec).toMatchObject({ provider: { aws: { sshKeyName: 'ops' } }, topology: { class: 'quick-start', version: 'v1.31.2' } });

    // Both versions describe the same objects; only the health checks' start-up timeouts are spelt in seconds.
    const again = await cli(['apply', '-f', join(FIXTURES, 'clusterclass-v1beta2.yaml')]);
    expect(again.code).toBe(0);
    expect(again.stdout.split('\n').filter((l) => l.endsWith(' configured'))).toEqual(['clusterclass.clusterless.dev/quick-start configured']);
  });
});
