/**
 * The state machines of statemachines/ (through the shared loader) on the local ASL engine, with the task code
 * and the simulated cloud: a cluster converges, scales, rolls out, recreates, rolls back, heals and goes away.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Cluster } from '../../../functions/api/cluster.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import type { Machine } from '../../../functions/api/machine.js';
import { NS_PATH, clusterManifests, startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';
import { FleetWatch, isReady, ofDeployment } from '../../support/fleet-watch.js';
import { scaledClock } from '../../../local/scaled-clock.js';

const P = `${NS_PATH}/default`;
const TIME_SCALE = 40;

let cp: TestControlPlane;
let watch: FleetWatch;

async function create(manifests: ReturnType<typeof clusterManifests>): Promise<void> {
  const applied = await cp.apply(manifests.map((m) => m.object));
  expect(applied.map((a) => a.result)).toEqual(manifests.map(() => 'created'));
}

async function machinesOf(cluster: string): Promise<Machine[]> {
  return (await cp.list<Machine>('Machine', 'default')).filter((m) => m.spec.clusterName === cluster);
}

/** Every machine of the cluster Ready, the deployment complete at `workers`, the cluster Provisioned. */
async function converged(cluster: string, workers: number, version?: string): Promise<boolean> {
  const [c, md, machines] = await Promise.all([
    cp.store.get<Cluster>('Cluster', 'default', cluster),
    cp.store.get<MachineDeployment>('MachineDeployment', 'default', `${cluster}-md`),
    machinesOf(cluster),
  ]);
  const live = machines.filter((m) => !m.metadata.deletionTimestamp);
  return (
    c?.status?.phase === 'Provisioned' &&
    md?.status?.availableReplicas === workers &&
    md.status.updatedReplicas === workers &&
    md.status.replicas === workers &&
    live.length === 3 + workers &&
    machines.length === live.length &&
    live.every(isReady) &&
    (version === undefined || live.filter(ofDeployment(`${cluster}-md`)).every((m) => m.spec.version === version))
  );
}

async function liveInstances(cluster: string) {
  return (await cp.provider.describe('default', cluster)).filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down');
}

/** Exactly one live instance per live Machine, and no live instance without its Machine. */
async function oneInstancePerMachine(cluster: string): Promise<void> {
  const machines = await machinesOf(cluster);
  const instances = await liveInstances(cluster);
  const uids = instances.map((i) => i.machineUid).sort();
  expect(new Set(uids).size, 'two instances for one machine').toBe(uids.length);
  expect(uids).toEqual(
    machines
      .filter((m) => !m.metadata.deletionTimestamp)
      .map((m) => m.metadata.uid!)
      .sort(),
  );
}

beforeEach(async () => {
  watch = new FleetWatch();
  const clock = scaledClock({ timeScale: TIME_SCALE });
  cp = await startTestControlPlane({ timeScale: TIME_SCALE, store: watch.store(clock) });
});

afterEach(async () => {
  await cp.stop();
});

describe('reconcile workflows on the simulated cloud', () => {
  it('brings a cluster with 3 control-plane machines and 5 workers to Ready, one instance per machine', async () => {
    await create(clusterManifests({ name: 'c1' }));
    await cp.waitFor('c1 converged', () => converged('c1', 5));
    await oneInstancePerMachine('c1');
    const machines = await machinesOf('c1');
    // Control-plane machines are spread over the three zones of the cluster.
    const zones = machines
      .filter((m) => m.metadata.labels?.['clusterless.dev/control-plane'] !== undefined)
      .map((m) => m.status?.infrastructure?.availabilityZone)
      .sort();
    expect(zones).toEqual(['zone-a', 'zone-b', 'zone-c']);
  });

  it('scales the workers 5 -> 8 -> 2 and converges each time', async () => {
    await create(clusterManifests({ name: 'c2' }));
    await cp.waitFor('c2 converged at 5', () => converged('c2', 5));
    for (const replicas of [8, 2]) {
      const r = await cp.api('PATCH', `${P}/machinedeployments/c2-md`, { spec: { replicas } });
      expect(r.status, r.body).toBe(200);
      await cp.waitFor(`c2 converged at ${replicas}`, () => converged('c2', replicas));
      await oneInstancePerMachine('c2');
    }
  });

  it('rolls a version change out within maxSurge and maxUnavailable at every observed step', async () => {
    const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 1 } };
    await create(clusterManifests({ name: 'c3', strategy }));
    await cp.waitFor('c3 converged', () => converged('c3', 5));
    let observed = 0;
    watch.watch((all) => {
      const mine = all.filter(ofDeployment('c3-md'));
      observed++;
      if (mine.length > 5 + 2) return `${mine.length} machines > replicas + maxSurge`;
      const available = mine.filter(isReady).length;
      if (available < 5 - 1) return `${available} available < replicas - maxUnavailable`;
      return undefined;
    });
    const r = await cp.api('PATCH', `${P}/machinedeployments/c3-md`, { spec: { template: { spec: { version: 'v1.31.3' } } } });
    expect(r.status, r.body).toBe(200);
    await cp.waitFor('c3 upgraded', () =>
      converged('c3', 5, 'v1.31.3').then((ok) => ok && cp.runtime.workflows.list('rolling-upgrade').some((e) => e.status === 'SUCCEEDED')),
    );
    expect(watch.violations).toEqual([]);
    expect(observed).toBeGreaterThan(10);
    await oneInstancePerMachine('c3');
  });

  it('Recreate removes every old machine before the first new one exists', async () => {
    await create(clusterManifests({ name: 'c4', workers: 3, strategy: { type: 'Recreate' } }));
    await cp.waitFor('c4 converged', () => converged('c4', 3));
    watch.watch((all) => {
      const versions = new Set(all.filter(ofDeployment('c4-md')).map((m) => m.spec.version));
      return versions.size > 1 ? `old and new machines together: ${[...versions].join(', ')}` : undefined;
    });
    await cp.api('PATCH', `${P}/machinedeployments/c4-md`, { spec: { template: { spec: { version: 'v1.31.3' } } } });
    await cp.waitFor('c4 recreated', () => converged('c4', 3, 'v1.31.3'));
    expect(watch.violations).toEqual([]);
  });

  it('OnDelete replaces only the machines a user deletes', async () => {
    await create(clusterManifests({ name: 'c5', workers: 3, strategy: { type: 'OnDelete' } }));
    await cp.waitFor('c5 converged', () => converged('c5', 3));
    await cp.api('PATCH', `${P}/machinedeployments/c5-md`, { spec: { template: { spec: { version: 'v1.31.3' } } } });
    // Nothing rolls by itself.
    await cp.waitFor('the new template is observed', async () => {
      const md = await cp.store.get<MachineDeployment>('MachineDeployment', 'default', 'c5-md');
      return md?.status?.observedGeneration === md?.metadata.generation && md?.status?.updatedReplicas === 0;
    });
    const before = (await machinesOf('c5')).filter(ofDeployment('c5-md'));
    expect(before.every((m) => m.spec.version === 'v1.31.2')).toBe(true);
    const victim = before[0]!;
    expect((await cp.api('DELETE', `${P}/machines/${victim.metadata.name}`)).status).toBe(200);
    await cp.waitFor('one machine replaced by the new version', async () => {
      const workers = (await machinesOf('c5')).filter(ofDeployment('c5-md')).filter((m) => !m.metadata.deletionTimestamp);
      const upgraded = workers.filter((m) => m.spec.version === 'v1.31.3' && isReady(m));
      return workers.length === 3 && upgraded.length === 1 && !workers.some((m) => m.metadata.name === victim.metadata.name);
    });
  });

  it('rolls back to the previous revision as kubectl rollout undo does', async () => {
    await create(clusterManifests({ name: 'c6', workers: 2 }));
    await cp.waitFor('c6 converged', () => converged('c6', 2));
    await cp.api('PATCH', `${P}/machinedeployments/c6-md`, { spec: { template: { spec: { version: 'v1.31.3' } } } });
    await cp.waitFor('c6 upgraded', () => converged('c6', 2, 'v1.31.3'));
    const r = await cp.api('POST', `${P}/machinedeployments/c6-md/rollback`, { toRevision: 0 });
    expect(r.status, r.body).toBeLessThan(300);
    await cp.waitFor('c6 rolled back', () => converged('c6', 2, 'v1.31.2'));
    const md = await cp.store.get<MachineDeployment>('MachineDeployment', 'default', 'c6-md');
    expect(md?.spec.template.spec.version).toBe('v1.31.2');
    expect(md?.metadata.annotations?.['clusterless.dev/revision']).toBe('3');
  });

  it('replaces a worker whose instance is killed out of band', async () => {
    await create(clusterManifests({ name: 'c7', workers: 3, healthCheck: true }));
    await cp.waitFor('c7 converged', () => converged('c7', 3));
    const victim = (await machinesOf('c7')).filter(ofDeployment('c7-md'))[0]!;
    expect(cp.cloud!.kill(victim.metadata.name, 'default')).toHaveLength(1);
    await cp.waitFor('the killed machine replaced', async () => {
      const workers = (await machinesOf('c7')).filter(ofDeployment('c7-md'));
      return !workers.some((m) => m.metadata.uid === victim.metadata.uid) && (await converged('c7', 3));
    });
    await oneInstancePerMachine('c7');
  });

  it('deletes a cluster leaving no instance and no record behind', async () => {
    await create(clusterManifests({ name: 'c8', workers: 2 }));
    await cp.waitFor('c8 converged', () => converged('c8', 2));
    expect((await cp.api('DELETE', `${P}/clusters/c8`)).status).toBe(200);
    await cp.waitFor(
      'c8 gone and its teardown finished',
      async () =>
        (await cp.store.listCluster('default', 'c8')).length === 0 && cp.runtime.workflows.list('delete-cluster').some((e) => e.status === 'SUCCEEDED'),
    );
    expect(await liveInstances('c8')).toEqual([]);
    expect(await cp.store.get('Cluster', 'default', 'c8')).toBeUndefined();
  });
});
