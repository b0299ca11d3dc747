/**
 * A managed topology on the embedded host's runtime (sim provider, fast clock): a ClusterClass and a Cluster with
 * spec.topology converge to a Ready cluster with TopologyReconciled True; a version bump rolls the control plane
 * to the end before any worker starts, then the workers; a class change rolls the workers of the cluster that uses it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../../functions/api/cluster.js';
import type { ControlPlane } from '../../../functions/api/control-plane.js';
import type { MachineDeployment } from '../../../functions/api/machine-deployment.js';
import type { Machine } from '../../../functions/api/machine.js';
import { getCondition } from '../../../functions/core/conditions.js';
import { API, startTestControlPlane, type TestControlPlane } from '../../support/control-plane.js';

const NS = 'default';
const FROM = 'v1.31.2';
const TO = 'v1.32.0';

let cp: TestControlPlane;

const machineClass = (name: string) => ({
  apiVersion: API,
  kind: 'MachineClass',
  metadata: { name, namespace: NS },
  spec: { sim: { bootSeconds: 10, nodeReadySeconds: 5 } },
});

const clusterClass = (workerClass: string) => ({
  apiVersion: API,
  kind: 'ClusterClass',
  metadata: { name: 'standard', namespace: NS },
  spec: {
    controlPlane: { machineClassRef: { name: 'cp-m5' }, replicas: 1 },
    workers: { machineDeployments: [{ class: 'default-worker', template: { machineClassRef: { name: workerClass } } }] },
  },
});

const topologyCluster = {
  apiVersion: API,
  kind: 'Cluster',
  metadata: { name: 'topo', namespace: NS },
  spec: {
    provider: { sim: { failureDomains: ['zone-a', 'zone-b', 'zone-c'] } },
    topology: {
      class: 'standard',
      version: FROM,
      workers: {
        machineDeployments: [
          { class: 'default-worker', name: 'md-0', replicas: 1 },
          { class: 'default-worker', name: 'md-1', replicas: 1 },
        ],
      },
    },
  },
};

async function state() {
  const [cluster, controlPlane, mds, machines] = await Promise.all([
    cp.store.get<Cluster>('Cluster', NS, 'topo'),
    cp.store.get<ControlPlane>('ControlPlane', NS, 'topo-control-plane'),
    cp.store.list<MachineDeployment>('MachineDeployment', NS),
    cp.store.list<Machine>('Machine', NS),
  ]);
  return { cluster, controlPlane, mds: mds.filter((m) => m.spec.clusterName === 'topo'), machines: machines.filter((m) => m.spec.clusterName === 'topo') };
}

/** TopologyReconciled True for the Cluster's current generation, and the cluster Provisioned. */
async function reconciled(): Promise<boolean> {
  const { cluster } = await state();
  const c = getCondition(cluster?.status?.conditions, 'TopologyReconciled');
  return cluster?.status?.phase === 'Provisioned' && c?.status === 'True' && (c.observedGeneration ?? 0) >= (cluster.metadata.generation ?? 1);
}

beforeAll(async () => {
  cp = await startTestControlPlane({ timeScale: 40 });
  await cp.apply([machineClass('cp-m5'), machineClass('worker-m5'), machineClass('worker-m6'), clusterClass('worker-m5'), topologyCluster]);
  await cp.waitFor('the topology cluster reconciled', reconciled, 120_000);
});

afterAll(async () => {
  await cp.stop();
});

describe('a Cluster with a managed topology on the embedded runtime', () => {
  it('generates the ControlPlane and MachineDeployments of its class and brings them to Ready', async () => {
    const { controlPlane, mds, machines } = await state();
    expect(controlPlane?.metadata.labels?.['clusterless.dev/topology-owned']).toBe('');
    expect(mds.map((m) => m.metadata.name).sort()).toEqual(['topo-md-0', 'topo-md-1']);
    expect(machines.filter((m) => !m.metadata.deletionTimestamp)).toHaveLength(3);
  });

  it('rolls a new version to the whole control plane before any worker starts rolling, then to the workers', async () => {
    let workerStartedEarly: string | undefined;
    const r = await cp.api('PATCH', `/apis/clusterless.dev/v1alpha1/namespaces/${NS}/clusters/topo`, { spec: { topology: { version: TO } } });
    expect(r.status, r.body).toBe(200);
    await cp.waitFor(
      'the upgrade reconciled',
      async () => {
        const { controlPlane, mds, machines } = await state();
        const cpDone =
          controlPlane?.status?.version === TO &&
          controlPlane.status.updatedReplicas === controlPlane.spec.replicas &&
          controlPlane.status.readyReplicas === controlPlane.spec.replicas;
        const workerMoved =
          mds.some((m) => m.spec.template.spec.version === TO) ||
          machines.some((m) => m.metadata.labels?.['clusterless.dev/control-plane'] === undefined && m.spec.version === TO);
        if (workerMoved && !cpDone) workerStartedEarly ??= `a worker moved to ${TO} while the control plane ran ${controlPlane?.status?.version}`;
        return reconciled();
      },
      120_000,
    );
    expect(workerStartedEarly).toBeUndefined();
    const { mds, machines } = await state();
    expect(mds.map((m) => m.spec.template.spec.version)).toEqual([TO, TO]);
    expect(machines.filter((m) => !m.metadata.deletionTimestamp).map((m) => m.spec.version)).toEqual([TO, TO, TO]);
  });

  it('rolls the workers of the cluster that uses a ClusterClass when the class changes', async () => {
    const applied = await cp.apply([clusterClass('worker-m6')]);
    expect(applied.map((a) => a.result)).toEqual(['configured']);
    await cp.waitFor('the class change rolled out', async () => {
      const { mds, machines } = await state();
      const workers = machines.filter((m) => !m.metadata.deletionTimestamp && m.metadata.labels?.['clusterless.dev/control-plane'] === undefined);
      return (
        mds.every((m) => m.spec.template.spec.machineClassRef.name === 'worker-m6') &&
        workers.length === 2 &&
        workers.every((m) => m.spec.machineClassRef.name === 'worker-m6') &&
        (await reconciled())
      );
    });
  });
});
