/**
 * The user's path, end to end: `clusterless up` on the simulated cloud, and only the CLI (over HTTP) to
 * generate and apply a cluster, scale it, upgrade it, undo the upgrade, kill a worker and delete it all; and a
 * host stopped in the middle of a rollout that, started again, finishes it without extra machines.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Machine } from '../../functions/api/machine.js';
import type { SimSnapshot } from '../../functions/adapters/sim/index.js';
import { cli, cliOk, startHostProcess, waitUntil, type HostProcess } from '../support/host-process.js';

const TIME_SCALE = '30';
let host: HostProcess | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  await host?.stop();
  host = undefined;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

async function machines(server: string): Promise<Machine[]> {
  return (JSON.parse(await cliOk(server, ['get', 'machines', '-o', 'json'])) as { items: Machine[] }).items;
}

const workers = (ms: Machine[]) => ms.filter((m) => m.metadata.labels?.['clusterless.dev/deployment-name'] === 'e2e-md-0');
const running = (ms: Machine[]) => ms.filter((m) => m.status?.phase === 'Running' && !m.metadata.deletionTimestamp);

async function clusterReady(server: string): Promise<boolean> {
  const c = JSON.parse(await cliOk(server, ['get', 'cluster', 'e2e', '-o', 'json'])) as { status?: { conditions?: { type: string; status: string }[] } };
  return c.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false;
}

/** Live instances of the simulated cloud, from the host's own state file. */
function liveInstances(dir: string): string[] {
  const snap = JSON.parse(readFileSync(join(dir, 'sim-cloud.json'), 'utf8')) as SimSnapshot & { instances: { instanceId: string; terminatedAt?: string }[] };
  return snap.instances.filter((i) => !i.terminatedAt).map((i) => i.instanceId);
}

describe('clusterless up on sim, driven by the CLI', () => {
  it('generates, applies, scales, upgrades, undoes, heals and deletes a cluster', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'clusterless-e2e-'));
    host = await startHostProcess(['--data-dir', dataDir, '--time-scale', TIME_SCALE]);
    const s = host.url;

    // Generate and apply 3 control-plane machines and 3 workers; wait until Ready.
    const yaml = await cliOk(s, [
      'generate',
      'cluster',
      'e2e',
      '--kubernetes-version',
      'v1.31.2',
      '--control-plane-machine-count',
      '3',
      '--worker-machine-count',
      '3',
    ]);
    expect(await cliOk(s, ['apply', '-f', '-'], { input: yaml })).toMatch(/cluster\.clusterless\.dev\/e2e created/);
    await waitUntil('6 machines running and the cluster Ready', async () => (await clusterReady(s)) && running(await machines(s)).length === 6);
    const table = await cliOk(s, ['get', 'machines']);
    expect(table.split('\n')[0]).toMatch(/^NAME\s+CLUSTER\s+NODE\s+PHASE\s+VERSION\s+AGE$/);
    expect(table.match(/Running/g)).toHaveLength(6);

    // Scale to 5.
    await cliOk(s, ['scale', 'machinedeployment', 'e2e-md-0', '--replicas', '5']);
    await cliOk(s, ['rollout', 'status', 'machinedeployment', 'e2e-md-0', '--timeout', '120s']);
    // Done means 5 available; each Machine's phase is its own status write, which may come a reconcile later.
    await waitUntil('5 workers running', async () => running(workers(await machines(s))).length === 5, 60_000);

    // Upgrade: the same manifests at v1.31.3 and 5 workers, applied; watch the rollout finish.
    const upgraded = await cliOk(s, [
      'generate',
      'cluster',
      'e2e',
      '--kubernetes-version',
      'v1.31.3',
      '--control-plane-machine-count',
      '3',
      '--worker-machine-count',
      '5',
    ]);
    expect(await cliOk(s, ['apply', '-f', '-'], { input: upgraded })).toMatch(/machinedeployment\.clusterless\.dev\/e2e-md-0 configured/);
    await waitUntil('the new revision observed', async () => {
      const md = JSON.parse(await cliOk(s, ['get', 'machinedeployment', 'e2e-md-0', '-o', 'json'])) as {
        metadata: { generation: number };
        status?: { observedGeneration?: number };
      };
      return md.status?.observedGeneration === md.metadata.generation;
    });
    await cliOk(s, ['rollout', 'status', 'machinedeployment', 'e2e-md-0', '--timeout', '180s']);
    let ws = running(workers(await machines(s)));
    expect(ws.map((m) => m.spec.version)).toEqual(Array(5).fill('v1.31.3'));
    expect(await cliOk(s, ['rollout', 'history', 'machinedeployment', 'e2e-md-0'])).toMatch(/v1\.31\.2 -> v1\.31\.3/);

    // Undo: back to v1.31.2.
    await cliOk(s, ['rollout', 'undo', 'machinedeployment', 'e2e-md-0']);
    await waitUntil('the undo rolled out', async () => running(workers(await machines(s))).filter((m) => m.spec.version === 'v1.31.2').length === 5);
    await cliOk(s, ['rollout', 'status', 'machinedeployment', 'e2e-md-0', '--timeout', '180s']);

    // Kill a worker out of band: the health check replaces it.
    ws = running(workers(await machines(s)));
    const victim = ws[0]!;
    expect(await cliOk(s, ['sim', 'kill', victim.metadata.name])).toMatch(/killed/);
    await waitUntil('the killed worker replaced', async () => {
      const now = running(workers(await machines(s)));
      return now.length === 5 && !now.some((m) => m.metadata.uid === victim.metadata.uid);
    });

    // Delete: nothing left, in the store or in the cloud.
    await cliOk(s, ['delete', 'cluster', 'e2e', '--wait'], { timeoutMs: 180_000 });
    expect(await machines(s)).toEqual([]);
    const gone = await cli(s, ['get', 'cluster', 'e2e']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/not found/);
    await waitUntil('no instance left', async () => liveInstances(dataDir!).length === 0);
  }, 600_000);

  it('finishes a rollout interrupted by a host restart, without extra machines', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'clusterless-e2e-'));
    host = await startHostProcess(['--data-dir', dataDir, '--time-scale', TIME_SCALE]);
    let s = host.url;
    const yaml = await cliOk(s, [
      'generate',
      'cluster',
      'e2e',
      '--kubernetes-version',
      'v1.31.2',
      '--control-plane-machine-count',
      '1',
      '--worker-machine-count',
      '4',
    ]);
    await cliOk(s, ['apply', '-f', '-'], { input: yaml });
    await waitUntil('5 machines running', async () => running(await machines(s)).length === 5);

    const upgraded = yaml.replaceAll('v1.31.2', 'v1.31.3');
    await cliOk(s, ['apply', '-f', '-'], { input: upgraded });
    await waitUntil('the rollout under way', async () => workers(await machines(s)).some((m) => m.spec.version === 'v1.31.3'));
    expect(await host.stop()).toBe(0);

    host = await startHostProcess(['--data-dir', dataDir, '--time-scale', TIME_SCALE]);
    s = host.url;
    await cliOk(s, ['rollout', 'status', 'machinedeployment', 'e2e-md-0', '--timeout', '180s']);
    await waitUntil('settled', async () => {
      const ms = await machines(s);
      return ms.length === 5 && running(ms).length === 5;
    });
    const ms = await machines(s);
    expect(workers(ms).map((m) => m.spec.version)).toEqual(Array(4).fill('v1.31.3'));
    // One instance per machine: nothing launched twice across the restart.
    expect(liveInstances(dataDir).length).toBe(ms.length);
  }, 600_000);

  it("refuses a second `clusterless up` on a running host's data folder in one line, replacing none of its files", async () => {
    // Prepare
    dataDir = mkdtempSync(join(tmpdir(), 'clusterless-e2e-'));
    host = await startHostProcess(['--data-dir', dataDir, '--time-scale', TIME_SCALE]);
    const controllerToken = readFileSync(join(dataDir, 'controller-token'), 'utf8');
    // Act
    const second = await cli(host.url, ['up', '--port', '0', '--data-dir', dataDir], { timeoutMs: 60_000 });
    // Assess
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(`error: could not start: another clusterless is using ${dataDir}; stop it first, or give another folder with --data-dir\n`);
    expect(readFileSync(join(dataDir, 'controller-token'), 'utf8')).toBe(controllerToken);
    expect((await cli(host.url, ['get', 'clusters'])).code).toBe(0);
  });
});
