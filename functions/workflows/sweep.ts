/**
 * The sweep, the same on both hosts: the safety net behind the event triggers. It reads the fleet with one list
 * per kind that sums up its machines (the kind index, not one query per cluster) and starts reconcile-cluster
 * only for clusters that show drift (core/trigger/drift.ts), so that an idle, settled fleet costs a few reads a
 * minute and no executions (DESIGN section 5). The AWS sweep function (handlers/sweep.ts) runs it every minute;
 * the embedded host's runtime runs it on a timer (local/runtime.ts), after a first pass at start that reconciles
 * every cluster.
 *
 * A node going NotReady writes nothing to the table: a MachineHealthCheck's timeouts pass unseen. So a cluster
 * whose only drift is its health checks is probed: the sweep lists its nodes (in parallel across clusters,
 * bounded) and reconciles it only when a node matches an unhealthy condition, a node is missing, or the nodes
 * cannot be read (core/healthcheck/node-probe.ts). While a condition lasts the cluster is reconciled every
 * sweep, which is how its timeout is noticed. Without a node reader such clusters are reconciled every sweep.
 */
import type { ClusterResourceSetBinding, StoredClusterResourceSet } from '../api/cluster-resource-set.js';
import { withDigests } from './addons.js';
import { randomUUID } from 'node:crypto';
import type { Cluster } from '../api/cluster.js';
import type { ClusterClass } from '../api/cluster-class.js';
import type { ControlPlane } from '../api/control-plane.js';
import type { MachineDeployment } from '../api/machine-deployment.js';
import type { MachineHealthCheck } from '../api/machine-health-check.js';
import { healthChecksNeedReconcile, type NodeProbeVerdict, type NodeRead } from '../core/healthcheck/node-probe.js';
import { clustersWithDrift, type ClusterDrift, type FleetSnapshot } from '../core/trigger/drift.js';
import { decideSweep, planSweep, probeInputOf } from '../core/trigger/sweep.js';
import type { NodeReader, Store, Workflows } from '../ports.js';

export type { ClusterDrift, FleetSnapshot } from '../core/trigger/drift.js';

/**
 * Reads the snapshot with one (paginated) list per kind.
 *
 * Note: Machines are not read. A fleet's machines outnumber everything else by far, and listing them every
 * minute was nearly all of an idle fleet's cost (BENCHMARKS.md, idle: $0.078 of $0.083 per cluster-month).
 */
export async function readFleet(store: Store, options: { addons?: boolean } = {}): Promise<FleetSnapshot> {
  const [clusters, controlPlanes, machineDeployments, healthChecks, sets, bindings] = await Promise.all([
    store.list<Cluster>('Cluster'),
    store.list<ControlPlane>('ControlPlane'),
    store.list<MachineDeployment>('MachineDeployment'),
    store.list<MachineHealthCheck>('MachineHealthCheck'),
    options.addons ? store.list<StoredClusterResourceSet>('ClusterResourceSet') : undefined,
    options.addons ? store.list<ClusterResourceSetBinding>('ClusterResourceSetBinding') : undefined,
  ]);
  // ClusterClasses only where some cluster has a topology: a fleet without one pays no extra read.
  const clusterClasses = clusters.some((c) => c.spec.topology) ? await store.list<ClusterClass>('ClusterClass') : undefined;
  return {
    clusters,
    controlPlanes,
    machineDeployments,
    healthChecks,
    ...(clusterClasses ? { clusterClasses } : {}),
    ...(sets ? { clusterResourceSets: withDigests(sets) } : {}),
    ...(bindings ? { clusterResourceSetBindings: bindings } : {}),
  };
}

/** Where the sweep logs: the function's Powertools logger, the embedded host's log, or a bench's no-op. */
export interface SweepLog {
  debug(message: string, fields: Record<string, unknown>): void;
  info(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}

export const silentSweepLog: SweepLog = { debug: () => {}, info: () => {}, error: () => {} };

export interface SweepDeps {
  store: Store;
  /** Starts reconcile-cluster: Step Functions on AWS, the runtime's per-cluster trigger on the embedded host. */
  workflows: Workflows;
  /**
   * Reads the workload clusters' nodes: a cluster whose only drift is its health checks is then reconciled
   * only when its nodes call for it (healthChecksNeedReconcile).
   * @default - such clusters are reconciled every sweep
   */
  nodes?: NodeReader;
  /** The reconcile applies addons: the sweep also looks for ClusterResourceSets not applied yet. @default false */
  addons?: boolean;
  /** How many clusters' nodes are read at once. @default 16 */
  probeConcurrency?: number;
  /**
   * How long the node reads may take in all (the function's timeout is 60 s; one dead workload API holds a
   * read for 10 s). A cluster whose nodes are not read by then is reconciled.
   * @default 30000
   */
  probeBudgetMs?: number;
  /** @default - nothing is logged */
  log?: SweepLog;
}

export interface SweepResult {
  clusters: number;
  /** Clusters whose nodes were read (or tried) because only their health checks drifted. */
  probed: number;
  started: number;
  failed: number;
}

export const DEFAULT_PROBE_CONCURRENCY = 16;
export const DEFAULT_PROBE_BUDGET_MS = 30_000;

/**
 * Runs `fn` over the items, at most `concurrency` at a time, until `budgetMs` has passed: an item not done by
 * then, or whose `fn` rejected, gets undefined.
 */
async function mapWithinBudget<T, R>(items: readonly T[], concurrency: number, budgetMs: number, fn: (item: T) => Promise<R>): Promise<(R | undefined)[]> {
  const results: (R | undefined)[] = items.map(() => undefined);
  let next = 0;
  let expired = false;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      expired = true;
      resolve();
    }, budgetMs);
  });
  const worker = async () => {
    while (!expired && next < items.length) {
      const i = next++;
      const done = fn(items[i]!).then(
        (r) => {
          if (!expired) results[i] = r;
        },
        () => undefined,
      );
      await Promise.race([done, deadline]);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), items.length) }, worker));
  } finally {
    clearTimeout(timer);
  }
  return results;
}

const errorText = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/** Lists the nodes of each cluster to probe and asks whether it needs a reconcile. */
async function probeHealthChecks(
  candidates: readonly ClusterDrift[],
  snapshot: FleetSnapshot,
  nodes: NodeReader,
  deps: SweepDeps,
): Promise<(NodeProbeVerdict | undefined)[]> {
  return mapWithinBudget(candidates, deps.probeConcurrency ?? DEFAULT_PROBE_CONCURRENCY, deps.probeBudgetMs ?? DEFAULT_PROBE_BUDGET_MS, async (d) => {
    const input = probeInputOf(snapshot, d);
    if (!input) return undefined;
    let read: NodeRead;
    try {
      read = { readable: true, nodes: await nodes.listNodes(d.namespace, d.clusterName) };
    } catch (err) {
      // NodeReaderUnavailableError or anything else: the old, safe answer is a reconcile.
      read = { readable: false, error: errorText(err) };
    }
    return healthChecksNeedReconcile({ ...input, nodes: read });
  });
}

/** One sweep: read, find drift, probe the clusters only their health checks make drift, start a reconcile per drifting cluster. */
export async function sweep(deps: SweepDeps): Promise<SweepResult> {
  const log = deps.log ?? silentSweepLog;
  const snapshot = await readFleet(deps.store, { addons: deps.addons ?? false });
  const plan = planSweep(clustersWithDrift(snapshot), deps.nodes !== undefined);
  const verdicts = deps.nodes && plan.probe.length > 0 ? await probeHealthChecks(plan.probe, snapshot, deps.nodes, deps) : [];
  const decision = decideSweep(plan, verdicts, deps.probeBudgetMs ?? DEFAULT_PROBE_BUDGET_MS);
  for (const d of decision.settled) log.debug('health checks settled: no node needs them', { cluster: `${d.namespace}/${d.clusterName}` });
  const drifting = decision.reconcile;
  const results = await Promise.allSettled(
    drifting.map((d) =>
      deps.workflows.start('reconcile-cluster', `sweep-${randomUUID()}`, { namespace: d.namespace, clusterName: d.clusterName, trigger: 'sweep' }),
    ),
  );
  results.forEach((r, i) => {
    const d = drifting[i]!;
    if (r.status === 'rejected') log.error('could not start reconcile-cluster', { cluster: `${d.namespace}/${d.clusterName}`, error: r.reason as Error });
    else log.info('drift', { cluster: `${d.namespace}/${d.clusterName}`, reasons: d.reasons.slice(0, 10) });
  });
  const failed = results.filter((r) => r.status === 'rejected').length;
  return { clusters: snapshot.clusters.length, probed: plan.probe.length, started: drifting.length - failed, failed };
}
