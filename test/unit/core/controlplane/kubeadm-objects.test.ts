/**
 * kubeadm's own objects follow the control plane's version in KCP's order: the ClusterConfiguration before a rollout
 * adds its first machine, the addons once every control-plane machine runs the version; each once per version
 * (status.kubeadmObjects), and only for clusters that bootstrap with kubeadm.
 */
import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../../../functions/api/cluster.js';
import { planControlPlane } from '../../../../functions/core/controlplane/planner.js';
import type { Plan } from '../../../../functions/core/plan.js';
import { T0, cluster, controlPlane, cpMachine, objects, observedFor } from '../cluster/fixtures.js';

/** The fixture cluster on the aws provider (kubeadm bootstrap), its zones its subnets'. */
function awsCluster(): Cluster {
  const c = cluster({ zones: ['us-east-1a', 'us-east-1b', 'us-east-1c'] });
  c.spec.provider = {
    aws: {
      region: 'us-east-1',
      subnets: ['a', 'b', 'c'].map((z, i) => ({ id: `subnet-0000000${i}`, availabilityZone: `us-east-1${z}` })),
    },
  } as Cluster['spec']['provider'];
  return c;
}

const kubeadmActions = (plan: Plan) => plan.actions.filter((a) => a.type === 'UpdateKubeadmObjects');
const created = (plan: Plan) => plan.writes.filter((w) => w.type === 'Create');

/** Three machines at v1.31.2 and a ControlPlane at `version`, with what its status records. */
function scene(version: string, recorded: { clusterConfiguration?: string; addons?: string } = {}, c = awsCluster(), machineVersion = 'v1.31.2') {
  const machines = ['m1', 'm2', 'm3'].map((n, i) => cpMachine(n, { version: machineVersion, age: 3600 - i }));
  const cp = controlPlane({ version });
  cp.status = { ...cp.status, version: machineVersion, kubeadmObjects: recorded };
  return planControlPlane(objects({ cluster: c, controlPlane: cp, machines }), observedFor(machines), T0);
}

describe('kubeadm objects and the control plane version', () => {
  it('a rollout to a new version brings the ClusterConfiguration to it before it adds a machine', () => {
    // Act
    const plan = scene('v1.32.1');
    // Assess
    expect(kubeadmActions(plan)).toEqual([
      {
        type: 'UpdateKubeadmObjects',
        cluster: expect.objectContaining({ kind: 'Cluster', name: 'demo' }),
        controlPlane: expect.objectContaining({ kind: 'ControlPlane', name: 'cp' }),
        version: 'v1.32.1',
        part: 'clusterConfiguration',
      },
    ]);
    expect(created(plan)).toEqual([]);
  });

  it('adds the machine once the ClusterConfiguration is recorded at the version', () => {
    // Act
    const plan = scene('v1.32.1', { clusterConfiguration: 'v1.32.1', addons: 'v1.31.2' });
    // Assess
    expect(created(plan)).toHaveLength(1);
    expect(kubeadmActions(plan)).toEqual([]);
  });

  it('brings the addons to the version once every machine runs it, and only then', () => {
    // Act
    const upToDate = scene('v1.32.1', { clusterConfiguration: 'v1.32.1', addons: 'v1.31.2' }, awsCluster(), 'v1.32.1');
    const done = scene('v1.32.1', { clusterConfiguration: 'v1.32.1', addons: 'v1.32.1' }, awsCluster(), 'v1.32.1');
    // Assess
    expect(kubeadmActions(upToDate)).toEqual([expect.objectContaining({ part: 'addons', version: 'v1.32.1' })]);
    expect(kubeadmActions(done)).toEqual([]);
  });

  it('does nothing of the kind for a cluster that does not bootstrap with kubeadm (the simulator)', () => {
    // Act
    const rollout = scene('v1.32.1', {}, cluster());
    const upToDate = scene('v1.31.2', {}, cluster());
    // Assess
    expect(kubeadmActions(rollout)).toEqual([]);
    expect(created(rollout)).toHaveLength(1);
    expect(kubeadmActions(upToDate)).toEqual([]);
  });
});
