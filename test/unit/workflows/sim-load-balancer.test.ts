/**
 * The control-plane load balancer of a sim cluster (spec.provider.sim.controlPlaneLoadBalancer) through the real
 * state machines and tasks on the embedded host's runtime: workflows/load-balancer.ts makes it, the planner
 * records its endpoint, control-plane machines are its targets, and teardown deletes it. A sim cluster without
 * the opt-in gets none, as before.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimManagedLoadBalancers } from '../../../functions/adapters/sim/index.js';
import type { Cluster } from '../../../functions/api/cluster.js';
import type { Machine } from '../../../functions/api/machine.js';
import { NS_PATH, clusterManifests, startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';

const P = `${NS_PATH}/default`;

let cp: TestControlPlane;
let lbs: SimManagedLoadBalancers;

beforeEach(async () => {
  cp = await startTestControlPlane({ timeScale: 40 });
  lbs = new SimManagedLoadBalancers(cp.cloud!);
});

afterEach(async () => {
  await cp.stop();
});

const cluster = (name: string) => cp.store.get<Cluster>('Cluster', 'default', name);

/** The instance ids of the cluster's running control-plane machines, sorted. */
async function controlPlaneInstances(name: string): Promise<string[]> {
  const machines = (await cp.list<Machine>('Machine', 'default')).filter(
    (m) => m.spec.clusterName === name && m.metadata.labels?.['clusterless.dev/control-plane'] !== undefined,
  );
  const uids = new Set(machines.map((m) => m.metadata.uid));
  return (await cp.provider.describe('default', name))
    .filter((i) => uids.has(i.machineUid) && i.state === 'running')
    .map((i) => i.instanceId)
    .sort();
}

async function deleted(name: string): Promise<void> {
  expect((await cp.api('DELETE', `${P}/clusters/${name}`)).status).toBe(200);
  await cp.waitFor(`${name} gone`, async () => (await cp.store.listCluster('default', name)).length === 0);
}

describe('a sim cluster with a control-plane load balancer', () => {
  it('gets its endpoint, its control-plane machines registered, and its load balancer deleted at teardown', async () => {
    // Prepare
    await cp.apply(clusterManifests({ name: 'lb1', controlPlaneReplicas: 3, workers: 1, bootSeconds: 5, controlPlaneLoadBalancer: true }).map((m) => m.object));
    // Act: it converges
    const endpoint = await cp.waitFor('lb1 endpoint recorded and provisioned', async () => {
      const c = await cluster('lb1');
      return c?.status?.phase === 'Provisioned' && c.spec.controlPlaneEndpoint;
    });
    const tg = (await lbs.targetGroupArn('default', 'lb1'))!;
    const registered = await cp.waitFor('three control-plane targets', async () => {
      const [targets, instances] = [cp.cloud!.targetsOf(tg).map((t) => t.instanceId), await controlPlaneInstances('lb1')];
      return instances.length === 3 && JSON.stringify(targets) === JSON.stringify(instances) && targets;
    });
    // Assess
    expect(endpoint).toEqual({ host: (await lbs.describe('default', 'lb1'))!.dnsName, port: 6443 });
    expect(endpoint.host).toMatch(/^lb1-[0-9a-f]{16}\.elb\.sim\.local$/);
    expect(cp.cloud!.targetsOf(tg).every((t) => t.port === 6443)).toBe(true);
    expect(registered).toHaveLength(3);
    // Act: teardown
    await deleted('lb1');
    // Assess
    expect(await lbs.describe('default', 'lb1')).toBeUndefined();
    expect(await lbs.hasLeftovers('default', 'lb1')).toBe(false);
  });

  it('finishes a teardown that stopped after the load balancer went, deleting the target group left behind', async () => {
    // Prepare
    await cp.apply(clusterManifests({ name: 'lb2', controlPlaneReplicas: 1, workers: 0, bootSeconds: 5, controlPlaneLoadBalancer: true }).map((m) => m.object));
    await cp.waitFor('lb2 provisioned', async () => (await cluster('lb2'))?.status?.phase === 'Provisioned');
    cp.cloud!.failTargetGroupDeletes(1);
    // Act
    await deleted('lb2');
    // Assess
    expect(await lbs.describe('default', 'lb2')).toBeUndefined();
    expect(await lbs.hasLeftovers('default', 'lb2')).toBe(false);
  });
});

describe('a sim cluster without the opt-in', () => {
  it('gets no load balancer and no endpoint, as before', async () => {
    // Prepare
    await cp.apply(clusterManifests({ name: 'plain', controlPlaneReplicas: 3, workers: 1, bootSeconds: 5 }).map((m) => m.object));
    // Act
    await cp.waitFor(
      'plain provisioned with its control plane running',
      async () => (await cluster('plain'))?.status?.phase === 'Provisioned' && (await controlPlaneInstances('plain')).length === 3,
    );
    // Assess
    expect((await cluster('plain'))?.spec.controlPlaneEndpoint).toBeUndefined();
    expect(await lbs.describe('default', 'plain')).toBeUndefined();
    expect(cp.cloud!.toJSON()).not.toHaveProperty('loadBalancers');
    expect(cp.cloud!.toJSON()).not.toHaveProperty('targetGroups');
    await deleted('plain');
    expect(cp.cloud!.toJSON()).not.toHaveProperty('targetGroups');
  });
});
