/**
 * Plans are data. A planner reads objects, observed facts and the time, and returns what should be written
 * and done next; a workflow task applies it and records what it saw. Nothing here performs I/O.
 */
import type { ApiObject } from '../api/kind.js';
import type { KindName } from '../api/kinds.js';

export interface ObjectRef {
  kind: KindName;
  namespace: string;
  name: string;
  uid?: string;
}

/** A change to the store, applied as one conditional write (guarded by metadata.resourceVersion when set). */
export type Write =
  | { type: 'Create'; object: ApiObject }
  /** Spec and metadata; status is kept. */
  | { type: 'Update'; object: ApiObject }
  | { type: 'UpdateStatus'; object: ApiObject }
  /** Asks for deletion: sets deletionTimestamp, teardown follows. */
  | { type: 'Delete'; ref: ObjectRef; reason: string }
  /** The last step of a teardown: the object goes once no finalizer is left. */
  | { type: 'RemoveFinalizer'; ref: ObjectRef; finalizer: string };

/** An effect outside the store, carried out by a workflow. */
export type Action =
  /** Launch (or adopt) the instance of a Machine: the provision-machine workflow. */
  | { type: 'LaunchInstance'; machine: ObjectRef }
  /** Evict the pods of the Machine's node before its instance goes. */
  | { type: 'DrainNode'; machine: ObjectRef; nodeName: string; timeoutSeconds: number }
  /**
   * Delete the Node object of a deleting Machine once its instance is gone (Cluster API deletes the Node only
   * after the infrastructure, so that a kubelet still running cannot register it again). A Node already gone is
   * deleted.
   */
  | { type: 'DeleteNode'; machine: ObjectRef; nodeName: string }
  /** Terminate the instance of a deleting Machine. */
  | { type: 'TerminateInstance'; machine: ObjectRef; providerID?: string }
  /**
   * Take a member out of the cluster's etcd: leadership is handed to another healthy member if it leads, then the
   * member is removed. For a deleting control-plane machine this comes before its instance is terminated, as
   * Cluster API's KCP pre-terminate hook does (so a dead member never counts against the quorum); `machine` is
   * then the machine whose member it is. Without `machine`, a member that no machine hosts.
   */
  | { type: 'RemoveEtcdMember'; cluster: ObjectRef; member: string; machine?: ObjectRef }
  /**
   * Replace an unhealthy Machine: the remediate workflow deletes it and its owner makes a new one. Every limit
   * (short-circuit, maxInFlight, etcd quorum, retries) has been checked by the planner already. `markedAt` names
   * the remediation episode: when the machine was marked (its OwnerRemediated=False condition's
   * lastTransitionTime), so that one episode is one workflow and the next episode of the same machine another.
   */
  /**
   * Bring kubeadm's own objects in the workload cluster to the control plane's version, as `kubeadm upgrade`
   * does: the ClusterConfiguration before the first machine of a rollout joins, the addons (kube-proxy, CoreDNS)
   * once every control-plane machine runs it (KCP's order). Recorded in the ControlPlane's status.kubeadmObjects.
   */
  | { type: 'UpdateKubeadmObjects'; cluster: ObjectRef; controlPlane: ObjectRef; version: string; part: 'clusterConfiguration' | 'addons' }
  | { type: 'RemediateMachine'; machine: ObjectRef; healthCheck?: string; reason: string; markedAt?: string }
  /** Make the cluster's infrastructure (its control-plane load balancer); the planner records the endpoint once it is seen. */
  | { type: 'ProvisionInfrastructure'; cluster: ObjectRef }
  /**
   * Tear down what is left of a deleting cluster outside the store: its load balancer and any instance still
   * tagged with the cluster. The last step before the Cluster's finalizer goes.
   */
  | { type: 'DeleteInfrastructure'; cluster: ObjectRef; loadBalancer?: string; instanceIds: string[] }
  /**
   * An instance tagged with the cluster whose Machine no longer exists (a launch that lost its Machine, or a
   * Machine removed by hand): nothing owns it, so it goes.
   */
  | { type: 'TerminateOrphanInstance'; cluster: ObjectRef; instanceId: string; machineUid: string }
  /**
   * Apply the due resources of a ClusterResourceSet to the cluster's API, in order, each only if it still has the
   * planned hash, and record each result in the cluster's ClusterResourceSetBinding (core/addons).
   */
  | { type: 'ApplyClusterResourceSet'; cluster: ObjectRef; clusterResourceSet: string; resources: { name: string; hash: string }[] };

export interface Plan {
  writes: Write[];
  actions: Action[];
  /** When to look again even if nothing happens (timeouts, minReadySeconds, health-check deadlines). */
  requeueAfterSeconds?: number;
  /** Short human-readable reasons, for logs and `describe`. */
  notes: string[];
}

export const emptyPlan = (): Plan => ({ writes: [], actions: [], notes: [] });

/** Merges plans; the earliest requeue wins. */
export function mergePlans(...plans: Plan[]): Plan {
  // Each list made at its full length at once (concat), not grown by push: a 25,000-write scale-down copied into a
  // growing array left its smaller copies behind, large enough to be promoted.
  const out: Plan = {
    writes: ([] as Write[]).concat(...plans.map((p) => p.writes)),
    actions: ([] as Action[]).concat(...plans.map((p) => p.actions)),
    notes: ([] as string[]).concat(...plans.map((p) => p.notes)),
  };
  for (const p of plans) takeEarlierRequeue(out, p);
  return out;
}

/** Adds `plan` to `into` as mergePlans merges them: its writes, actions and notes after, the earlier requeue. */
export function appendPlan(into: Plan, plan: Plan): void {
  // A loop, not push(...list): a spread passes each element as an argument, and a MachineSet of 150,000 machines
  // scaled to zero (150,000 Delete writes) overflows the stack that way.
  for (const w of plan.writes) into.writes.push(w);
  for (const a of plan.actions) into.actions.push(a);
  for (const n of plan.notes) into.notes.push(n);
  takeEarlierRequeue(into, plan);
}

/** `into` asks for the earlier of its requeue and `plan`'s (none when neither asks one). */
function takeEarlierRequeue(into: Plan, plan: Plan): void {
  if (plan.requeueAfterSeconds !== undefined)
    into.requeueAfterSeconds = into.requeueAfterSeconds === undefined ? plan.requeueAfterSeconds : Math.min(into.requeueAfterSeconds, plan.requeueAfterSeconds);
}

export function refOf(obj: ApiObject): ObjectRef {
  const { namespace, name, uid } = obj.metadata;
  // No spread: a large scale-down makes one ref per machine.
  return uid ? { kind: obj.kind as KindName, namespace, name, uid } : { kind: obj.kind as KindName, namespace, name };
}
