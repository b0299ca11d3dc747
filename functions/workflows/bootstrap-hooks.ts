/**
 * Where the bootstrap meets the workflows: which machine initialises the control plane, which machines are still
 * joining, and the cleanups that go with the reconcile's own writes. Kept here so that the workflow files only
 * call in. Every hook is a no-op when the host has no bootstrap (the simulator). They see the bootstrap through
 * the MachineBootstrapper port only (the kubeadm adapter: adapters/kubeadm/).
 */
import type { ApiObject } from '../api/kind.js';
import type { Cluster, ClusterSpec } from '../api/cluster.js';
import type { ControlPlane } from '../api/control-plane.js';
import type { Machine } from '../api/machine.js';
import { API_SERVER_BIND_PORT } from '../bootstrap/kubeadm-config.js';
import { isControlPlaneMachine } from '../core/cluster/objects.js';
import { isTrue } from '../core/conditions.js';
import type { Write } from '../core/plan.js';
import { ProviderError, type MachineRole, type Store } from '../ports.js';
import type { WorkflowDeps } from './deps.js';
import { targetGroupArnOf } from './load-balancer.js';

const roleOf = (m: Machine): MachineRole => (isControlPlaneMachine(m) ? 'control-plane' : 'worker');

/** Whether clusterless bootstraps this cluster's machines with kubeadm on this host. */
export const bootstrapsCluster = (deps: WorkflowDeps, cluster: Cluster | undefined): boolean => deps.bootstrap !== undefined && cluster?.spec.provider.aws !== undefined;

/**
 * The machine that initialises the control plane runs kubeadm init; every other one joins. A control plane is
 * initialised once it says so, the Cluster says so, or another control-plane machine has a node. Note: the
 * control plane creates its second machine only once the first has a Ready node (core/controlplane/scale.ts),
 * so two machines never both initialise; Cluster API needs its init lock only because it lacks that order.
 */
export function initialisesControlPlane(machine: Machine, cluster: Cluster, objects: readonly ApiObject[]): boolean {
  if (!isControlPlaneMachine(machine)) return false;
  if (isTrue(cluster.status?.conditions, 'ControlPlaneInitialized')) return false;
  const cp = objects.find((o): o is ControlPlane => o.kind === 'ControlPlane' && (o as ControlPlane).spec.clusterName === cluster.metadata.name);
  if (cp?.status?.initialized) return false;
  return !objects.some(
    (o) => o.kind === 'Machine' && o.metadata.uid !== machine.metadata.uid && isControlPlaneMachine(o as Machine) && (o as Machine).status?.nodeRef !== undefined,
  );
}

/** Machines that may still join: not deleting, not failed, no node yet (those not launched yet included). */
export function joiningMachines(machines: readonly Machine[]): { machineUid: string; role: MachineRole }[] {
  return machines
    .filter((m) => m.metadata.uid && !m.metadata.deletionTimestamp && !m.status?.failureReason && !m.status?.nodeRef)
    .map((m) => ({ machineUid: m.metadata.uid!, role: roleOf(m) }));
}

/**
 * Binds the machine's bootstrap secret to its instance once the instance id is known (idempotent; a secret the
 * node already fetched and deleted is no error). The node roles may read only a secret whose instance-ARN tag is
 * their own instance's (infra/constructs/bootstrap-secrets.ts): unbound, it is readable by no node, and the
 * machine's node cannot fetch its bootstrap data until it is bound.
 */
export async function bindSecretToInstance(deps: WorkflowDeps, cluster: Cluster | undefined, target: { namespace: string; clusterName: string; machineUid: string }, instanceId: string): Promise<void> {
  if (!bootstrapsCluster(deps, cluster)) return;
  await deps.bootstrap!.bindToInstance(target, instanceId);
}

/**
 * Registers a running control-plane instance with the cluster's target group (idempotent). A target group the
 * cluster names is used only when tagged as this cluster's (targetGroupArnOf): InvalidSpecError otherwise.
 */
export async function registerControlPlaneTarget(deps: WorkflowDeps, cluster: Cluster | undefined, machine: Machine, instanceId: string): Promise<void> {
  if (!deps.targetGroups || !isControlPlaneMachine(machine)) return;
  const tg = await targetGroupArnOf(deps, cluster);
  if (!tg) return;
  await deps.targetGroups.register(tg, { instanceId, port: API_SERVER_BIND_PORT });
}

/**
 * Takes an instance out of the cluster's target group before it is terminated (no error when it was never in). A
 * named target group not tagged as this cluster's is left alone: InvalidSpecError, as for registering.
 */
export async function deregisterTarget(deps: WorkflowDeps, cluster: Cluster | undefined, instanceId: string | undefined, machine?: Machine): Promise<void> {
  if (!deps.targetGroups || !instanceId || (machine && !isControlPlaneMachine(machine))) return;
  const tg = await targetGroupArnOf(deps, cluster);
  if (!tg) return;
  await deps.targetGroups.deregister(tg, { instanceId, port: API_SERVER_BIND_PORT });
}

/**
 * Before the reconcile removes the last finalizer of a Machine (it is gone) or of the Cluster, their secrets go.
 * A write whose cleanup failed is held back (and reported), so the next reconcile tries again.
 */
export async function releaseBeforeFinalizers(
  deps: WorkflowDeps,
  cluster: Cluster,
  writes: readonly Write[],
  machines: ReadonlyMap<string, Machine>,
): Promise<{ writes: Write[]; errors: string[] }> {
  if (!bootstrapsCluster(deps, cluster)) return { writes: [...writes], errors: [] };
  const { namespace, name: clusterName } = cluster.metadata;
  const kept: Write[] = [];
  const errors: string[] = [];
  for (const w of writes) {
    try {
      if (w.type === 'RemoveFinalizer' && w.ref.kind === 'Machine') {
        const uid = w.ref.uid ?? machines.get(w.ref.name)?.metadata.uid;
        if (uid) await deps.bootstrap!.release({ namespace, clusterName, machineUid: uid });
      } else if (w.type === 'RemoveFinalizer' && w.ref.kind === 'Cluster') {
        await deps.bootstrap!.releaseCluster(namespace, clusterName);
      }
      kept.push(w);
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      errors.push(`release bootstrap secrets of ${w.type === 'RemoveFinalizer' ? `${w.ref.kind} ${w.ref.name}` : 'an object'}: ${err.name}: ${err.message}`);
    }
  }
  return { writes: kept, errors };
}

/** Machines the reconcile just gave a nodeRef (their node joined): what is left of their bootstrap goes. */
export async function releaseJoined(deps: WorkflowDeps, cluster: Cluster, writes: readonly Write[], machines: ReadonlyMap<string, Machine>): Promise<string[]> {
  if (!bootstrapsCluster(deps, cluster)) return [];
  const errors: string[] = [];
  for (const w of writes) {
    if (w.type !== 'UpdateStatus' || w.object.kind !== 'Machine') continue;
    const before = machines.get(w.object.metadata.name);
    const after = w.object as Machine;
    if (!after.status?.nodeRef || before?.status?.nodeRef || !after.metadata.uid) continue;
    try {
      await deps.bootstrap!.release({ namespace: cluster.metadata.namespace, clusterName: cluster.metadata.name, machineUid: after.metadata.uid, clusterSpec: cluster.spec });
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      errors.push(`release bootstrap secret of Machine ${after.metadata.name}: ${err.name}: ${err.message}`);
    }
  }
  return errors;
}

const RENEW_RETRY_SECONDS = 30;

/** Renews the join tokens of the cluster's machines that still join, once its control plane answers. */
export async function renewJoinTokens(deps: WorkflowDeps, cluster: Cluster, machines: readonly Machine[]): Promise<number | undefined> {
  if (!bootstrapsCluster(deps, cluster) || cluster.metadata.deletionTimestamp) return undefined;
  if (!isTrue(cluster.status?.conditions, 'ControlPlaneInitialized')) return undefined;
  const joining = joiningMachines(machines.filter((m) => m.spec.clusterName === cluster.metadata.name));
  try {
    const r = await deps.bootstrap!.renew(cluster.metadata.namespace, cluster.metadata.name, cluster.spec, joining);
    return r.requeueAfterSeconds;
  } catch (err) {
    // The certificates could not be read now (Secrets Manager throttled): the reconcile itself carries on.
    if (!(err instanceof ProviderError)) throw err;
    deps.log.warn('join tokens not renewed now', { namespace: cluster.metadata.namespace, clusterName: cluster.metadata.name, error: err.name });
    return RENEW_RETRY_SECONDS;
  }
}

/**
 * What kubeconfigSources needs of a bootstrapper (the kubeadm adapter's KubeadmBootstrapper has both): `Source` is
 * whatever the host's Kubernetes clients load (a kubeconfig's text, or a loaded one).
 */
export interface KubeconfigIssuer<Source> {
  adminKubeconfig(namespace: string, clusterName: string, clusterSpec: ClusterSpec, validitySeconds?: number): Promise<string | undefined>;
  workloadKubeconfig(namespace: string, clusterName: string, clusterSpec: ClusterSpec | undefined): Promise<Source | undefined>;
}

/** What a host gives the HTTP router (RouterDeps.kubeconfig) and the Kubernetes node adapters (kubeconfigFor). */
export function kubeconfigSources<Source>(bootstrap: KubeconfigIssuer<Source>, store: Store) {
  const specOf = async (namespace: string, clusterName: string) => (await store.get<Cluster>('Cluster', namespace, clusterName))?.spec;
  return {
    /** The admin kubeconfig a person downloads (`clusterless get kubeconfig`), valid `expirationSeconds` (an hour by default). */
    adminKubeconfig: async (namespace: string, clusterName: string, expirationSeconds?: number): Promise<string | undefined> => {
      const spec = await specOf(namespace, clusterName);
      return spec && spec.provider.aws ? bootstrap.adminKubeconfig(namespace, clusterName, spec, expirationSeconds) : undefined;
    },
    /** The control plane's own short-lived kubeconfig for a workload cluster (node reads, drains). */
    kubeconfigFor: async (namespace: string, clusterName: string): Promise<Source | undefined> => {
      const spec = await specOf(namespace, clusterName);
      return spec && spec.provider.aws ? bootstrap.workloadKubeconfig(namespace, clusterName, spec) : undefined;
    },
  };
}
