/**
 * The workflows' side of the etcd-aware control plane, through the real state machines and tasks on the embedded
 * host's runtime: etcd is read on each observation, and a control-plane machine's member is taken out (leadership
 * first) before its instance is terminated. The etcd here is a stand-in over the simulator (a member per
 * control-plane node, as kubeadm's stacked etcd has); the same paths on real etcd members are
 * test/integration/process/.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SimCloud } from '../../../functions/adapters/sim/index.js';
import type { ControlPlane } from '../../../functions/api/control-plane.js';
import type { Machine } from '../../../functions/api/machine.js';
import { getCondition } from '../../../functions/core/conditions.js';
import type { EtcdFact } from '../../../functions/core/observed.js';
import type { EtcdMembership, EtcdTarget, MachineProvider } from '../../../functions/ports.js';
import { SimNodeReader } from '../../../functions/adapters/sim/index.js';
import { NS_PATH, clusterManifests, startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';

const P = `${NS_PATH}/default`;

/** A member per control-plane node of a running instance, until removed; healthy while the node is Ready. */
class SimulatedEtcd implements EtcdMembership {
  readonly removed = new Set<string>();
  readonly calls: string[] = [];
  private readonly nodes: SimNodeReader;
  constructor(cloud: SimCloud) {
    this.nodes = new SimNodeReader(cloud);
  }
  async read(target: EtcdTarget): Promise<EtcdFact> {
    const running = new Set(target.instances.filter((i) => i.state === 'running').map((i) => i.providerID));
    const nodes = (await this.nodes.listNodes(target.namespace, target.clusterName)).filter((n) => n.providerID !== undefined && running.has(n.providerID));
    return {
      members: nodes
        .filter((n) => !this.removed.has(n.name))
        .map((n, i) => ({
          id: String(i + 1),
          name: n.name,
          learner: false,
          healthy: n.conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
          leader: i === 0,
          alarms: [],
        })),
    };
  }
  async forwardLeadership(_target: EtcdTarget, member: string): Promise<void> {
    this.calls.push(`forward ${member}`);
  }
  async removeMember(_target: EtcdTarget, member: string): Promise<void> {
    this.calls.push(`remove ${member}`);
    this.removed.add(member);
  }
}

let cp: TestControlPlane | undefined;
afterEach(async () => {
  await cp?.stop();
  cp = undefined;
});

describe('a control plane whose etcd the host reads', () => {
  it('converges with EtcdClusterHealthy, and a scale-down removes each member before its instance is terminated', async () => {
    // Prepare
    let etcd: SimulatedEtcd | undefined;
    const terminatedWithMember: string[] = [];
    let nodes: SimNodeReader | undefined;
    cp = await startTestControlPlane({
      timeScale: 40,
      simEtcd: (cloud) => {
        nodes = new SimNodeReader(cloud);
        etcd = new SimulatedEtcd(cloud);
        return etcd;
      },
      wrapSimMachines: (machines): MachineProvider => ({
        create: (spec, hooks) => machines.create(spec, hooks),
        describe: (ns, name) => machines.describe(ns, name),
        async delete(target) {
          const instance = (await machines.describe(target.namespace, target.clusterName)).find((i) => i.machineUid === target.machineUid);
          const node = (await nodes!.listNodes(target.namespace, target.clusterName)).find((n) => n.providerID === instance?.providerID);
          if (node && !etcd!.removed.has(node.name)) terminatedWithMember.push(node.name);
          return machines.delete(target);
        },
      }),
    });
    await cp.apply(clusterManifests({ name: 'e1', controlPlaneReplicas: 3, workers: 0, bootSeconds: 5 }).map((m) => m.object));
    const controlPlane = () => cp!.store.get<ControlPlane>('ControlPlane', 'default', 'e1-cp');
    await cp.waitFor('three control-plane machines, etcd healthy', async () => {
      const c = await controlPlane();
      return c?.status?.readyReplicas === 3 && getCondition(c.status.conditions, 'EtcdClusterHealthy')?.status === 'True';
    });
    const machines = (await cp.list<Machine>('Machine', 'default')).filter((m) => m.spec.clusterName === 'e1');
    // Assess
    for (const m of machines) expect(getCondition(m.status?.conditions, 'EtcdMemberHealthy')).toMatchObject({ status: 'True', reason: 'Healthy' });
    // Act
    expect((await cp.api('PATCH', `${P}/controlplanes/e1-cp`, { spec: { replicas: 1 } })).status).toBe(200);
    await cp.waitFor('one machine left, etcd healthy', async () => {
      const c = await controlPlane();
      return c?.status?.replicas === 1 && getCondition(c.status.conditions, 'EtcdClusterHealthy')?.status === 'True';
    });
    // Assess
    expect(etcd!.calls.filter((c) => c.startsWith('remove'))).toHaveLength(2);
    expect(etcd!.calls.filter((c) => c.startsWith('forward'))).toHaveLength(2);
    expect(terminatedWithMember).toEqual([]);
    const left = (
      await etcd!.read({ namespace: 'default', clusterName: 'e1', clusterSpec: {} as never, instances: await cp.provider.describe('default', 'e1') })
    ).members;
    expect(left).toHaveLength(1);
  });
});
