/**
 * providersByCluster: the load-balancer ports go to the provider of the cluster they are about, as the
 * MachineProvider does, and one provider is that provider's own ports, unwrapped.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../functions/adapters/memory/index.js';
import { SimCloud, SimMachineProvider, SimManagedLoadBalancers, SimNodeReader, SimTargetGroupRegistrations } from '../../../functions/adapters/sim/index.js';
import { ClusterKind, type Cluster } from '../../../functions/api/cluster.js';
import { noManagedLoadBalancers, noTargetGroups, providersByCluster, type ProviderRuntime } from '../../../functions/workflows/index.js';
import { full } from '../api/fixtures.js';
import { FakeClock } from '../../support/fake-clock.js';
import { simSpec } from '../providers/sim-fixtures.js';

const runtime = (cloud: SimCloud): ProviderRuntime => ({
  machines: new SimMachineProvider(cloud),
  nodes: new SimNodeReader(cloud),
  managedLoadBalancers: new SimManagedLoadBalancers(cloud),
  targetGroups: new SimTargetGroupRegistrations(cloud),
});

const lb = (namespace: string, clusterName: string) => ({ namespace, clusterName, scheme: 'internal' as const, subnetIds: [], port: 6443 });

describe('providersByCluster', () => {
  it("sends each cluster's load balancer and registrations to its own provider", async () => {
    // Prepare: two providers, each over a cloud of its own (the 'aws' one stands in for ELBv2 here).
    const clock = new FakeClock();
    const store = new MemoryStore({ clock });
    const [simCloud, awsCloud] = [new SimCloud({ clock }), new SimCloud({ clock })];
    await store.create(
      ClusterKind.schema.parse({
        apiVersion: 'clusterless.dev/v1alpha1',
        kind: 'Cluster',
        metadata: { name: 's', namespace: 'default' },
        spec: { provider: { sim: { controlPlaneLoadBalancer: {} } } },
      }) as Cluster,
    );
    await store.create(ClusterKind.schema.parse({ ...(full.awsCluster() as object), metadata: { name: 'a', namespace: 'default' } }) as Cluster);
    const routed = providersByCluster(store, { sim: runtime(simCloud), aws: runtime(awsCloud) });
    const instance = await routed.machines.create(simSpec({ clusterName: 's' }));
    // Act
    await routed.managedLoadBalancers.ensure(lb('default', 's'));
    await routed.managedLoadBalancers.ensure(lb('default', 'a'));
    const tg = (await routed.managedLoadBalancers.targetGroupArn('default', 's'))!;
    await routed.targetGroups.register(tg, { namespace: 'default', clusterName: 's', instanceId: instance.instanceId, port: 6443 });
    // Assess
    expect(await new SimManagedLoadBalancers(simCloud).describe('default', 's')).toBeDefined();
    expect(await new SimManagedLoadBalancers(awsCloud).describe('default', 's')).toBeUndefined();
    expect(await new SimManagedLoadBalancers(awsCloud).describe('default', 'a')).toBeDefined();
    expect(await new SimManagedLoadBalancers(simCloud).describe('default', 'a')).toBeUndefined();
    expect(simCloud.targetGroup(tg)?.targets).toEqual([{ instanceId: instance.instanceId, port: 6443 }]);
  });

  it("drains a cluster's nodes with its own provider's drainer, and those of a provider without one not at all", async () => {
    // Prepare: the aws provider drains through a drainer of its own; sim has none.
    const clock = new FakeClock();
    const store = new MemoryStore({ clock });
    await store.create(ClusterKind.schema.parse({ ...(full.awsCluster() as object), metadata: { name: 'a', namespace: 'default' } }) as Cluster);
    await store.create(
      ClusterKind.schema.parse({ apiVersion: 'clusterless.dev/v1alpha1', kind: 'Cluster', metadata: { name: 's', namespace: 'default' }, spec: {} }) as Cluster,
    );
    const drained: string[] = [];
    const aws = {
      ...runtime(new SimCloud({ clock })),
      drainer: {
        drain: async (_ns: string, _c: string, node: string) => (drained.push(node), { drained: false, message: 'evicting' }),
        deleteNode: async (_ns: string, _c: string, node: string) => (drained.push(`delete ${node}`), { deleted: false, message: 'refused' }),
      },
    };
    const routed = providersByCluster(store, { sim: runtime(new SimCloud({ clock })), aws });
    // Act
    const onAws = await routed.drainer.drain('default', 'a', 'node-a');
    const onSim = await routed.drainer.drain('default', 's', 'node-s');
    const deletedOnAws = await routed.drainer.deleteNode('default', 'a', 'node-a');
    const deletedOnSim = await routed.drainer.deleteNode('default', 's', 'node-s');
    // Assess
    expect(drained).toEqual(['node-a', 'delete node-a']);
    expect(onAws.drained).toBe(false);
    expect(onSim).toEqual({ drained: true, message: 'no workloads to evict' });
    expect(deletedOnAws.deleted).toBe(false);
    expect(deletedOnSim).toEqual({ deleted: true, message: 'no Node object to delete' });
  });

  it("labels a cluster's nodes with its own provider's labeler, and those of a provider without one not at all", async () => {
    // Prepare: the aws provider writes labels through a labeler of its own; sim has none.
    const clock = new FakeClock();
    const store = new MemoryStore({ clock });
    await store.create(ClusterKind.schema.parse({ ...(full.awsCluster() as object), metadata: { name: 'a', namespace: 'default' } }) as Cluster);
    await store.create(
      ClusterKind.schema.parse({ apiVersion: 'clusterless.dev/v1alpha1', kind: 'Cluster', metadata: { name: 's', namespace: 'default' }, spec: {} }) as Cluster,
    );
    const labelled: string[] = [];
    const aws = {
      ...runtime(new SimCloud({ clock })),
      nodeLabels: { patchLabels: async (_ns: string, c: string, node: string) => void labelled.push(`${c}/${node}`) },
    };
    const routed = providersByCluster(store, { sim: runtime(new SimCloud({ clock })), aws });
    const patch = { labels: { 'node.cluster.x-k8s.io/pool': 'a' }, annotations: {} };
    // Act
    await routed.nodeLabels.patchLabels('default', 'a', 'node-a', patch);
    await routed.nodeLabels.patchLabels('default', 's', 'node-s', patch);
    await routed.nodeLabels.patchLabels('default', 'gone', 'node-g', patch);
    // Assess
    expect(labelled).toEqual(['a/node-a']);
  });

  it('gives one provider its own ports, and the none implementations for the load balancers it lacks', () => {
    const clock = new FakeClock();
    const store = new MemoryStore({ clock });
    const own = runtime(new SimCloud({ clock }));
    const unwrapped = providersByCluster(store, { sim: own });
    expect(unwrapped.managedLoadBalancers).toBe(own.managedLoadBalancers);
    expect(unwrapped.targetGroups).toBe(own.targetGroups);
    const bare = { machines: own.machines, nodes: own.nodes };
    const routed = providersByCluster(store, { sim: bare });
    expect(routed.machines).toBe(own.machines);
    expect(routed.managedLoadBalancers).toBe(noManagedLoadBalancers);
    expect(routed.targetGroups).toBe(noTargetGroups);
  });
});
