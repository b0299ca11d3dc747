/**
 * The reconcile of one cluster (the reconcile-cluster state machine's task, and the first half of every
 * stepping workflow's step): take the cluster's lease, read its whole object graph with one query, observe
 * its instances, nodes and etcd with one call each, ask the pure planners, apply the writes, carry out the inline
 * actions, and hand back the child workflows to start. Level-triggered: nothing is remembered between runs, except
 * the machine index's memo (indexMemoOf) and the Machine planner's (machinePlanMemoOf), which make a plan faster
 * and never different.
 */
import type { Machine } from '../api/machine.js';
import type { MachineClass } from '../api/machine-class.js';
import type { ClusterClass } from '../api/cluster-class.js';
import type { Cluster } from '../api/cluster.js';
import type { ApiObject } from '../api/kind.js';
import type { StoredClusterResourceSet } from '../api/cluster-resource-set.js';
import type { ClusterObjects } from '../core/cluster/objects.js';
import type { NodeFact, Observed } from '../core/observed.js';
import type { Action } from '../core/plan.js';
import { clusterObjectsOf, planClusterReconcile } from '../core/reconcile.js';
import { IndexMemo } from '../core/machineset/machine-health.js';
import { MachinePlanMemo } from '../core/machine/plan-memo.js';
import { eventObjectKey } from '../core/events.js';
import { isTrue } from '../core/conditions.js';
import { earliest, requeueAfter } from '../core/trigger/requeue.js';
import { NodeReaderUnavailableError } from '../ports.js';
import { applyWrites, executeActions, executionNames, revisionAnnotation, type ChildStart } from './apply-plan.js';
import { hostAppliesAddons, type WorkflowDeps } from './deps.js';
import { withDigests } from './addons.js';
import { observeLoadBalancer } from './load-balancer.js';
import { observeEtcd } from './etcd.js';
import { LeaseHeldError } from './errors.js';
import { syncNodeLabels } from './node-labels.js';
// The kubeadm bootstrap: bootstrap secrets go with their machine (or its join), join tokens are renewed while machines join.
import { releaseBeforeFinalizers, releaseJoined, renewJoinTokens } from './bootstrap-hooks.js';

/**
 * How long a reconcile holds the cluster's lease (and a reconcile that dies keeps it at most). Longer than the
 * longest task that takes it can run (reconcile-cluster's Reconcile: 240 s, the state's TimeoutSeconds and its
 * Lambda's timeout) plus a margin for clock skew, so the lease never expires under a planner that still acts:
 * the rollout planner's chained writes (chainWrites) rely on it. Renewed before a pass once half of it is gone.
 */
export const LEASE_SECONDS = 300;
/** Passes per reconcile: a pass that created parents (their uid now known) or lost a race plans again at once. */
export const MAX_PASSES = 4;

export interface ReconcileRequest {
  namespace: string;
  clusterName: string;
  /** The workflow reconciling (a stepping workflow's step reconciles too): its events' reporting controller. @default 'reconcile-cluster' */
  workflow?: string;
}

export interface ReconcileOutcome {
  /** False when the Cluster is not in the store (deleted, or never created). */
  exists: boolean;
  passes: number;
  writes: number;
  conflicts: number;
  actions: Action[];
  children: ChildStart[];
  notes: string[];
  errors: string[];
  requeueAfterSeconds?: number;
}

/** Clusters whose memos a process keeps (a warm Lambda container, the embedded host), the least recently reconciled dropped first. */
export const INDEX_MEMO_CLUSTERS = 64;
const indexMemos = new Map<string, IndexMemo>();
/** The Machine planner's memos, by the store beneath (storeBeneath): dropped with a store that is gone. */
const machinePlanMemos = new WeakMap<object, Map<string, MachinePlanMemo>>();

/**
 * The memo of one cluster in `memos` (made if absent), now the most recently used; the least recently used beyond
 * INDEX_MEMO_CLUSTERS dropped.
 */
function memoOf<T>(memos: Map<string, T>, cluster: Cluster, make: () => T): T {
  const key = `${cluster.metadata.namespace}/${cluster.metadata.name}/${cluster.metadata.uid ?? ''}`;
  let memo = memos.get(key);
  if (memo) memos.delete(key);
  else memo = make();
  memos.set(key, memo);
  if (memos.size > INDEX_MEMO_CLUSTERS) memos.delete(memos.keys().next().value!);
  return memo;
}

/**
 * The machine index's memo of one cluster (core/machineset/machine-health.ts IndexMemo): where each machine's node
 * was in the last reconcile's observation, so that a cluster of 50,000 machines does not look every node up by name
 * in every reconcile, and each machine's deletion-order key with the uid or creation time it came from. Per process
 * and per cluster uid (a cluster deleted and made again starts afresh); a reconcile
 * on another container, or after the memo was dropped, plans the same without it.
 */
function indexMemoOf(cluster: Cluster): IndexMemo {
  return memoOf(indexMemos, cluster, () => new IndexMemo());
}

/**
 * The Machine planner's memo of one cluster (core/machine/plan-memo.ts): each machine's last plan with what it read,
 * so that a reconcile plans again only the machines whose Machine, instance, node or cluster facts changed. Kept
 * as the index memo is (per cluster uid, the same LRU of clusters), in a map of its own per store: it trusts a
 * Machine's uid and resourceVersion to name its content, which holds within one store (a process has one; tests
 * make many, with the same uids and a fixed clock). A plan is the same without it.
 */
function machinePlanMemoOf(store: object, cluster: Cluster): MachinePlanMemo {
  const beneath = storeBeneath(store);
  let memos = machinePlanMemos.get(beneath);
  if (!memos) {
    memos = new Map();
    machinePlanMemos.set(beneath, memos);
  }
  return memoOf(memos, cluster, () => new MachinePlanMemo());
}

/**
 * The store at the bottom of a chain of wrappers, each keeping the one it wraps as `inner` (ForwardingStore and its
 * subclasses, MeteredStore, PayloadOffloadingStore). Each task invocation runs over a MeteredStore made for it alone
 * (metering/cluster-usage.ts meteredInvocation), so the wrapper a reconcile is given is new every time: the memo's
 * scope is the process's store beneath it, or it would never be found again.
 */
export function storeBeneath(store: object): object {
  let s = store;
  for (let depth = 0; depth < 16; depth++) {
    const inner = (s as { inner?: unknown }).inner;
    if (typeof inner !== 'object' || inner === null) break;
    s = inner;
  }
  return s;
}

async function observe(deps: WorkflowDeps, namespace: string, clusterName: string, graph: ClusterObjects | undefined): Promise<Observed> {
  const cluster = graph?.cluster;
  const [instances, loadBalancer] = await Promise.all([deps.provider.describe(namespace, clusterName), observeLoadBalancer(deps, cluster)]);
  const [nodes, etcd] = await Promise.all([
    readNodes(deps, namespace, clusterName),
    cluster ? observeEtcd(deps, cluster, graph.machines, instances) : undefined,
  ]);
  return { instances, ...(loadBalancer ? { loadBalancer } : {}), ...(nodes ? { nodes } : {}), ...(etcd ? { etcd } : {}) };
}

async function readNodes(deps: WorkflowDeps, namespace: string, clusterName: string): Promise<NodeFact[] | undefined> {
  try {
    return await deps.nodes.listNodes(namespace, clusterName);
  } catch (err) {
    // Nothing may be concluded about nodes that cannot be read (DESIGN: the planners treat undefined as unknown).
    if (!(err instanceof NodeReaderUnavailableError)) throw err;
    deps.log.warn('workload cluster nodes could not be read', { namespace, clusterName, error: (err as Error).message });
    return undefined;
  }
}

/** Child workflows the state of the cluster calls for, besides those the plan's actions ask. */
function stateChildren(graph: ClusterObjects): ChildStart[] {
  const { namespace, name: clusterName, uid } = graph.cluster.metadata;
  const out: ChildStart[] = [];
  if (graph.cluster.metadata.deletionTimestamp && uid) {
    const base = executionNames.teardown(uid);
    out.push({ workflow: 'delete-cluster', name: base, input: { namespace, clusterName, executionBase: base, continuation: 0 } });
    return out;
  }
  for (const md of graph.machineDeployments) {
    if (!md.metadata.uid || md.metadata.deletionTimestamp || md.spec.paused) continue;
    if (!isTrue(md.status?.conditions, 'RollingOut')) continue;
    const revision = revisionAnnotation(md);
    const generation = md.metadata.generation ?? 1;
    const base = executionNames.rollout(md.metadata.uid, revision, generation);
    out.push({
      workflow: 'rolling-upgrade',
      name: base,
      input: { namespace, clusterName, deploymentName: md.metadata.name, revision, generation, executionBase: base, continuation: 0 },
    });
  }
  return out;
}

/** The ClusterClass a managed topology names, read only for a Cluster that has one (as a list, for clusterObjectsOf). */
async function clusterClassOf(deps: WorkflowDeps, namespace: string, clusterName: string, objects: readonly ApiObject[]): Promise<ClusterClass[]> {
  const cluster = objects.find((o): o is Cluster => o.kind === 'Cluster' && o.metadata.name === clusterName);
  const name = cluster?.spec.topology?.class;
  const cc = name ? await deps.store.get<ClusterClass>('ClusterClass', namespace, name) : undefined;
  return cc ? [cc] : [];
}

export async function reconcileCluster(deps: WorkflowDeps, request: ReconcileRequest): Promise<ReconcileOutcome> {
  const { namespace, clusterName } = request;
  const workflow = request.workflow ?? 'reconcile-cluster';
  const holder = deps.holder();
  const lease = await deps.store.acquireLease(namespace, clusterName, 'reconcile', holder, LEASE_SECONDS);
  if (!lease) throw new LeaseHeldError(`another reconcile of ${namespace}/${clusterName} is running`);
  let leasedAt = deps.clock.now().getTime();
  const outcome: ReconcileOutcome = { exists: true, passes: 0, writes: 0, conflicts: 0, actions: [], children: [], notes: [], errors: [] };
  try {
    for (let pass = 1; pass <= MAX_PASSES; pass++) {
      // A slow reconcile (half its lease gone) renews it before it plans again; another holder can have it only
      // if ours expired, and then this reconcile stops. A fast one writes no lease on the way.
      if (pass > 1 && deps.clock.now().getTime() - leasedAt >= (LEASE_SECONDS * 1000) / 2) {
        if (!(await deps.store.acquireLease(namespace, clusterName, 'reconcile', holder, LEASE_SECONDS)))
          throw new LeaseHeldError(`the lease of ${namespace}/${clusterName} expired under this reconcile and was taken`);
        leasedAt = deps.clock.now().getTime();
      }
      outcome.passes = pass;
      // The namespace's ClusterResourceSets are read like its MachineClasses, only where the host applies addons.
      const [objects, classes, sets] = await Promise.all([
        deps.store.listCluster(namespace, clusterName),
        deps.store.list<MachineClass>('MachineClass', namespace),
        hostAppliesAddons(deps) ? deps.store.list<StoredClusterResourceSet>('ClusterResourceSet', namespace) : [],
      ]);
      const graph = clusterObjectsOf(clusterName, objects, classes, withDigests(sets), await clusterClassOf(deps, namespace, clusterName, objects));
      const observed = await observe(deps, namespace, clusterName, graph);
      if (!graph) {
        // The Cluster is gone: whatever still carries its tag has no owner.
        outcome.exists = false;
        for (const i of observed.instances.filter((x) => x.state !== 'terminated' && x.state !== 'shutting-down'))
          await deps.provider.delete({ namespace, clusterName, machineUid: i.machineUid, instanceId: i.instanceId });
        return outcome;
      }
      const plan = planClusterReconcile(graph, observed, deps.clock.now(), indexMemoOf(graph.cluster), machinePlanMemoOf(deps.store, graph.cluster));
      const machines = new Map(graph.machines.map((m): [string, Machine] => [m.metadata.name, m]));
      const released = await releaseBeforeFinalizers(deps, graph.cluster, plan.writes, machines);
      const before = new Map(objects.map((o): [string, typeof o] => [eventObjectKey(o.kind, o.metadata.name), o]));
      const written = await applyWrites(deps, released.writes, { before, workflow });
      const joinErrors = await releaseJoined(deps, graph.cluster, released.writes, machines);
      const acted = await executeActions(deps, namespace, clusterName, plan.actions, machines, graph.cluster, workflow);
      outcome.writes += written.applied;
      outcome.conflicts += written.conflicts;
      outcome.actions.push(...plan.actions);
      outcome.notes.push(...plan.notes);
      outcome.errors.push(...released.errors, ...joinErrors, ...acted.errors);
      outcome.children = [...acted.children, ...stateChildren(graph)];
      if (plan.requeueAfterSeconds !== undefined) outcome.requeueAfterSeconds = plan.requeueAfterSeconds;
      const again = written.conflicts > 0 || written.created.length > 0 || plan.writes.some((w) => w.type === 'RemoveFinalizer');
      if (!again) {
        outcome.errors.push(...(await syncNodeLabels(deps, namespace, clusterName, graph.machines, observed)));
        const renewAfter = await renewJoinTokens(deps, graph.cluster, graph.machines);
        if (renewAfter !== undefined) outcome.requeueAfterSeconds = earliest(outcome.requeueAfterSeconds, renewAfter);
        break;
      }
    }
    // A MachineSet this reconcile created gets its machines in the next pass; past the last pass, the next
    // trigger (its own write) or the requeue carries on.
    const requeue = requeueAfter({ kind: 'Succeeded', requeueAfterSeconds: outcome.requeueAfterSeconds, errors: outcome.errors.length });
    if (requeue !== undefined) outcome.requeueAfterSeconds = requeue;
    // Children asked for twice (two passes) are started once.
    outcome.children = [...new Map(outcome.children.map((c) => [`${c.workflow}/${c.name}`, c])).values()];
    return outcome;
  } finally {
    await deps.store.releaseLease(namespace, clusterName, 'reconcile', holder);
  }
}
