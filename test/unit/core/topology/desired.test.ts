/** The intents the topology planner lays over the stored objects: what each field of the class and topology becomes. */
import { describe, expect, it } from 'vitest';
import type { ClusterClass } from '../../../../functions/api/cluster-class.js';
import type { Cluster } from '../../../../functions/api/cluster.js';
import { builtinVariables, desiredControlPlane, desiredHealthChecks, desiredMachineDeployment } from '../../../../functions/core/topology/desired.js';
import { withValue } from '../../api/fixtures.js';
import { standardClass, topologyCluster } from '../../api/cluster-class-fixtures.js';
import { parsed } from './world.js';

const cluster = (topology: Record<string, unknown> = {}) => parsed<Cluster>(topologyCluster(topology));
const cc = (manifest = standardClass()) => parsed<ClusterClass>(manifest);
const mdClass = (c: ClusterClass) => c.spec.workers.machineDeployments[0]!;
const ok = <T>(r: { ok: true; object: T } | { ok: false; error: string }): T => {
  if (!r.ok) throw new Error(r.error);
  return r.object;
};

describe('builtinVariables', () => {
  it("holds the cluster's, and for a MachineDeployment its own, values under Cluster API's names", () => {
    const c = cluster();
    expect(Object.fromEntries(builtinVariables(c, 3))).toStrictEqual({
      'builtin.cluster.name': 'prod',
      'builtin.cluster.namespace': 'default',
      'builtin.cluster.topology.version': 'v1.31.2',
      'builtin.controlPlane.replicas': 3,
    });
    const md = c.spec.topology!.workers!.machineDeployments![0]!;
    expect(Object.fromEntries(builtinVariables(c, 3, md, 2))).toMatchObject({
      'builtin.machineDeployment.name': 'md-0',
      'builtin.machineDeployment.class': 'default-worker',
      'builtin.machineDeployment.replicas': 2,
    });
    expect(builtinVariables(c, 3, md).has('builtin.machineDeployment.replicas')).toBe(false);
  });
});

describe('desiredControlPlane', () => {
  it("merges the class's and the topology's metadata, and applies control-plane patches with built-ins", () => {
    const manifest = withValue(
      withValue(standardClass(), 'spec.controlPlane.metadata', { labels: { tier: 'cp' }, annotations: { a: 'class' } }),
      'spec.patches[1]',
      {
        name: 'cp',
        definitions: [
          {
            selector: { kind: 'ControlPlane', matchResources: { controlPlane: true } },
            jsonPatches: [{ op: 'add', path: '/metadata/annotations/cluster', valueFrom: { variable: 'builtin.cluster.name' } }],
          },
        ],
      },
    );
    const c = cluster({ controlPlane: { replicas: 5, metadata: { annotations: { a: 'topology' } } } });
    const cp = ok(desiredControlPlane(c, cc(manifest), 'v1.31.2')) as { metadata: { labels: object; annotations: object }; spec: { replicas: number } };
    expect(cp.metadata.labels).toMatchObject({ tier: 'cp', 'clusterless.dev/topology-owned': '' });
    expect(cp.metadata.annotations).toStrictEqual({ a: 'topology', cluster: 'prod' });
    expect(cp.spec.replicas).toBe(5);
  });
});

describe('desiredMachineDeployment', () => {
  it("takes a variable's value from the Cluster over its default", () => {
    const c = cluster({
      variables: [
        { name: 'settings', value: { drain: 1 } },
        { name: 'workerMachineClass', value: 'worker-g5' },
      ],
    });
    const md = ok(desiredMachineDeployment(c, cc(), c.spec.topology!.workers!.machineDeployments![0]!, mdClass(cc()), 'v1.31.2', false)) as {
      spec: { template: { spec: { machineClassRef: { name: string } } } };
    };
    expect(md.spec.template.spec.machineClassRef.name).toBe('worker-g5');
  });

  it("carries the class's taints, the topology's failure domain and metadata onto the template, and no replicas for an existing one without", () => {
    const manifest = withValue(standardClass(), 'spec.workers.machineDeployments[0].template.taints', [{ key: 'gpu', effect: 'NoSchedule' }]);
    const c = cluster({
      workers: { machineDeployments: [{ class: 'default-worker', name: 'md-0', failureDomain: 'zone-a', metadata: { labels: { team: 'a' } } }] },
    });
    const topo = c.spec.topology!.workers!.machineDeployments![0]!;
    const md = ok(desiredMachineDeployment(c, cc(manifest), topo, mdClass(cc(manifest)), 'v1.31.2', true)) as {
      metadata: { labels: object };
      spec: { replicas?: number; template: { metadata: { labels: object }; spec: { taints: unknown[]; failureDomain: string } } };
    };
    expect(md.spec.template.spec).toMatchObject({ taints: [{ key: 'gpu', effect: 'NoSchedule' }], failureDomain: 'zone-a' });
    expect(md.spec.template.metadata.labels).toStrictEqual({ team: 'a', 'clusterless.dev/topology-machine-deployment-name': 'md-0' });
    expect(md.metadata.labels).toMatchObject({ team: 'a' });
    expect(md.spec).not.toHaveProperty('replicas');
    const fresh = ok(desiredMachineDeployment(c, cc(manifest), topo, mdClass(cc(manifest)), 'v1.31.2', false)) as { spec: { replicas: number } };
    expect(fresh.spec.replicas).toBe(1);
  });
});

describe('desiredHealthChecks', () => {
  it('makes none where the class asks for none', () => {
    const manifest = withValue(
      withValue(standardClass(), 'spec.controlPlane.machineHealthCheck', undefined),
      'spec.workers.machineDeployments[0].machineHealthCheck',
      undefined,
    );
    expect(desiredHealthChecks(cluster(), cc(manifest))).toEqual([]);
  });

  it('makes one for the control plane and one per MachineDeployment of a class that has one', () => {
    const c = cluster();
    expect(desiredHealthChecks(c, cc()).map((h) => (h['metadata'] as { name: string }).name)).toEqual(['prod-control-plane', 'prod-md-0']);
  });
});
