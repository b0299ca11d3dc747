/**
 * What "settled" means at a checkpoint, read from the store and the simulated cloud (never from the control
 * plane's own view): status matches spec for every live cluster, every machine runs and is Ready at the
 * declared version, each Machine has exactly one live instance and no live instance lacks its Machine, and a
 * deleted cluster left nothing behind, in the store or in the cloud.
 */
import type { Cluster } from '../functions/api/cluster.js';
import type { ControlPlane } from '../functions/api/control-plane.js';
import type { MachineDeployment } from '../functions/api/machine-deployment.js';
import type { Machine } from '../functions/api/machine.js';
import type { SimCloud } from '../functions/adapters/sim/index.js';
import type { Store } from '../functions/ports.js';
import { NAMESPACE } from './manifests.js';
import { isReadyMachine, type Violation } from './watch.js';

const live = (state: string) => state !== 'terminated' && state !== 'shutting-down';

/** Why the cluster has not converged yet; undefined once it has. */
export async function notConverged(store: Store, cloud: SimCloud, name: string): Promise<string | undefined> {
  const objects = await store.listCluster(NAMESPACE, name);
  const cluster = objects.find((o) => o.kind === 'Cluster') as Cluster | undefined;
  if (!cluster) return 'the Cluster is missing';
  if (cluster.metadata.deletionTimestamp) return 'the Cluster is being deleted';
  if (cluster.status?.phase !== 'Provisioned') return `Cluster phase ${cluster.status?.phase ?? 'none'}`;
  const cp = objects.find((o) => o.kind === 'ControlPlane') as ControlPlane | undefined;
  const md = objects.find((o) => o.kind === 'MachineDeployment') as MachineDeployment | undefined;
  if (!cp || !md) return 'the ControlPlane or the MachineDeployment is missing';
  const machines = objects.filter((o) => o.kind === 'Machine') as Machine[];
  const cpMachines = machines.filter((m) => m.metadata.labels?.['clusterless.dev/control-plane'] !== undefined);
  const workers = machines.filter((m) => m.metadata.labels?.['clusterless.dev/deployment-name'] === md.metadata.name);
  if (machines.length !== cpMachines.length + workers.length) return 'machines that belong to neither the control plane nor the deployment';
  const s = cp.status;
  if ((s?.observedGeneration ?? 0) < (cp.metadata.generation ?? 0)) return 'ControlPlane generation not observed';
  if (s?.replicas !== cp.spec.replicas || s.readyReplicas !== cp.spec.replicas || s.updatedReplicas !== cp.spec.replicas)
    return `ControlPlane replicas ${s?.replicas}/${s?.readyReplicas}/${s?.updatedReplicas}, want ${cp.spec.replicas}`;
  const d = md.status;
  const want = md.spec.replicas;
  if ((d?.observedGeneration ?? 0) < (md.metadata.generation ?? 0)) return 'MachineDeployment generation not observed';
  if (d?.replicas !== want || d.updatedReplicas !== want || d.availableReplicas !== want)
    return `MachineDeployment replicas ${d?.replicas}/${d?.updatedReplicas}/${d?.availableReplicas}, want ${want}`;
  if (cpMachines.length !== cp.spec.replicas || workers.length !== want)
    return `${cpMachines.length} + ${workers.length} machines, want ${cp.spec.replicas} + ${want}`;
  const notReady = machines.filter((m) => !isReadyMachine(m) || m.status?.phase !== 'Running');
  if (notReady.length) return `machines not Running and Ready: ${notReady.map((m) => `${m.metadata.name} (${m.status?.phase ?? 'no phase'})`).join(', ')}`;
  const stale = [...cpMachines.filter((m) => m.spec.version !== cp.spec.version), ...workers.filter((m) => m.spec.version !== md.spec.template.spec.version)];
  if (stale.length) return `machines at an old version: ${stale.map((m) => m.metadata.name).join(', ')}`;
  const instances = cloud.describe(NAMESPACE, name).filter((i) => live(i.state));
  const uids = instances.map((i) => i.machineUid).sort();
  const want2 = machines.map((m) => m.metadata.uid ?? '').sort();
  if (JSON.stringify(uids) !== JSON.stringify(want2)) return `live instances ${uids.length} do not match machines ${want2.length}`;
  return undefined;
}

/** A deleted cluster: nothing in the store, nothing alive in the cloud. */
export async function notGone(store: Store, cloud: SimCloud, name: string): Promise<string | undefined> {
  const objects = await store.listCluster(NAMESPACE, name);
  if (objects.length) return `${objects.length} objects left (${[...new Set(objects.map((o) => o.kind))].join(', ')})`;
  const instances = cloud.describe(NAMESPACE, name).filter((i) => live(i.state));
  if (instances.length) return `${instances.length} live instances left`;
  return undefined;
}

/**
 * The instance invariants, over the whole cloud: at most one live instance per machine uid, and every live
 * instance owned by a Machine in the store (checked once settled: in flight, an instance briefly outlives its
 * Machine while teardown terminates it).
 */
export async function instanceViolations(store: Store, cloud: SimCloud, settled: boolean): Promise<Violation[]> {
  const out: Violation[] = [];
  const byUid = new Map<string, string[]>();
  for (const i of cloud.instances().filter((x) => live(x.state))) byUid.set(i.machineUid, [...(byUid.get(i.machineUid) ?? []), i.instanceId]);
  for (const [uid, ids] of byUid)
    if (ids.length > 1)
      out.push({
        invariant: 'one-instance-per-machine',
        message: `machine ${uid} has ${ids.length} live instances`,
        detail: { machineUid: uid, instances: ids },
      });
  if (settled) {
    const machines = await store.list<Machine>('Machine');
    const uids = new Set(machines.map((m) => m.metadata.uid));
    for (const i of cloud.instances().filter((x) => live(x.state)))
      if (!uids.has(i.machineUid))
        out.push({
          invariant: 'no-orphan-instance',
          message: `instance ${i.instanceId} of ${i.namespace}/${i.machineName} (cluster ${i.clusterName}) runs without its Machine`,
          detail: { instanceId: i.instanceId, machine: i.machineName, cluster: i.clusterName },
        });
  }
  return out;
}
