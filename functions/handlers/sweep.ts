/**
 * The sweep (EventBridge Scheduler, every minute by default): the safety net behind the event triggers. It
 * reads the fleet with one list per kind that sums up its machines (the kind index, not one query per cluster) and starts
 * reconcile-cluster only for clusters that show drift, so that an idle, settled fleet costs a few reads a
 * minute and no executions (DESIGN section 5).
 *
 * On AWS nothing else requeues a reconcile (an Express execution ends; the embedded host keeps timers), and a
 * node going NotReady writes nothing to the table: a MachineHealthCheck's timeouts pass unseen. So a cluster
 * whose only drift is its health checks is probed: the sweep lists its nodes (in parallel across clusters,
 * bounded) and reconciles it only when a node matches an unhealthy condition, a node is missing, or the nodes
 * cannot be read (core/healthcheck/node-probe.ts). While a condition lasts the cluster is reconciled every
 * sweep, which is how its timeout is noticed. Without a node reader (no secrets key) such clusters are
 * reconciled every sweep, as before.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { Cluster } from '../api/cluster.js';
import { Annotations } from '../api/common.js';
import type { ControlPlane } from '../api/control-plane.js';
import type { MachineDeployment } from '../api/machine-deployment.js';
import type { MachineHealthCheck } from '../api/machine-health-check.js';
import { DynamoDbStore, createDynamoDbClient } from '../adapters/dynamodb/index.js';
import { KubernetesNodeReader, type KubeconfigResolver, type KubeconfigSource } from '../adapters/kubernetes/index.js';
import { WORKLOAD_CREDENTIALS_SECONDS } from '../adapters/kubeadm/index.js';
import { reconcileWorkflowsFromEnv } from '../adapters/stepfunctions/sfn-workflows.js';
import { getCondition } from '../core/conditions.js';
import { hasAnnotation, isPaused } from '../core/cluster/objects.js';
import { RemediationAllowedReason, healthChecksNeedReconcile, type NodeProbeVerdict, type NodeRead } from '../core/healthcheck/index.js';
import { systemClock, type Clock, type NodeReader, type Store, type Workflows } from '../ports.js';
import { kubeconfigSources } from '../workflows/bootstrap-hooks.js';
import { rolloutComplete } from '../workflows/stepping.js';
import { bootstrapperFromEnvironment } from './bootstrap-deps.js';

const logger = new Logger();
const metrics = new Metrics();

/**
 * What the sweep reads: the objects whose status sums up their machines, across all namespaces.
 *
 * Note: Machines are not read. A fleet's machines outnumber everything else by far, and listing them every
 * minute was nearly all of an idle fleet's cost (BENCHMARKS.md, idle: $0.078 of $0.083 per cluster-month).
 * A machine that is not Running already shows in its owner's status (a deployment not complete, a control
 * plane short of ready replicas, a cluster not Provisioned), and a change to a machine triggers a reconcile
 * through the stream or the EC2 instance events anyway.
 */
export interface FleetSnapshot {
  clusters: Cluster[];
  controlPlanes: ControlPlane[];
  machineDeployments: MachineDeployment[];
  healthChecks: MachineHealthCheck[];
}

export interface ClusterDrift {
  namespace: string;
  clusterName: string;
  /** Why the cluster needs a reconcile, for the log. */
  reasons: string[];
  /**
   * The only reasons are health checks whose verdict depends on the nodes: one list of the cluster's nodes
   * tells whether a reconcile is needed (healthChecksNeedReconcile).
   */
  onlyHealthChecks: boolean;
}

const behind = (o: { metadata: { generation?: number | undefined }; status?: { observedGeneration?: number | undefined } | undefined }) =>
  (o.status?.observedGeneration ?? 0) < (o.metadata.generation ?? 1);


/**
 * The clusters that need a reconcile, and why: pure, so that it is tested without AWS. Objects whose cluster
 * does not exist are left to the stream (a Cluster write triggers its cluster).
 */
export function clustersWithDrift(s: FleetSnapshot): ClusterDrift[] {
  const key = (ns: string, name: string) => `${ns}/${name}`;
  const drift = new Map<string, ClusterDrift & { healthChecks: string[] }>();
  for (const c of s.clusters)
    drift.set(key(c.metadata.namespace, c.metadata.name), { namespace: c.metadata.namespace, clusterName: c.metadata.name, reasons: [], onlyHealthChecks: false, healthChecks: [] });
  const note = (ns: string, cluster: string, reason: string) => drift.get(key(ns, cluster))?.reasons.push(reason);
  const paused = new Set(s.clusters.filter((c) => isPaused(c)).map((c) => key(c.metadata.namespace, c.metadata.name)));

  for (const c of s.clusters) {
    const { namespace, name } = c.metadata;
    if (c.metadata.deletionTimestamp) note(namespace, name, 'cluster is being deleted');
    if (behind(c)) note(namespace, name, `cluster generation ${c.metadata.generation ?? 1} not observed yet`);
    // A paused cluster gets nothing but its own status (core/cluster/planner.ts): the rest is not drift.
    if (!paused.has(key(namespace, name)) && c.status?.phase !== 'Provisioned') note(namespace, name, `cluster phase is ${c.status?.phase ?? 'unset'}`);
  }
  const active = (ns: string, cluster: string) => !paused.has(key(ns, cluster));
  for (const cp of s.controlPlanes) {
    const { namespace, name } = cp.metadata;
    const cluster = cp.spec.clusterName;
    if (!active(namespace, cluster)) continue;
    if (cp.metadata.deletionTimestamp) note(namespace, cluster, `control plane ${name} is being deleted`);
    else if (behind(cp)) note(namespace, cluster, `control plane ${name} generation not observed yet`);
    else if ((cp.status?.readyReplicas ?? 0) !== cp.spec.replicas || (cp.status?.updatedReplicas ?? cp.spec.replicas) !== cp.spec.replicas)
      note(namespace, cluster, `control plane ${name} has ${cp.status?.readyReplicas ?? 0}/${cp.spec.replicas} ready replicas`);
  }
  for (const md of s.machineDeployments) {
    const { namespace, name } = md.metadata;
    const cluster = md.spec.clusterName;
    if (!active(namespace, cluster)) continue;
    if (md.metadata.deletionTimestamp) note(namespace, cluster, `machine deployment ${name} is being deleted`);
    else if (!md.spec.paused && !rolloutComplete(md)) note(namespace, cluster, `machine deployment ${name} is not complete`);
  }
  for (const h of s.healthChecks) {
    const { namespace, name } = h.metadata;
    const cluster = h.spec.clusterName;
    if (!active(namespace, cluster)) continue;
    const current = h.status?.currentHealthy ?? 0;
    const expected = h.status?.expectedMachines ?? 0;
    if (h.metadata.deletionTimestamp) note(namespace, cluster, `health check ${name} is being deleted`);
    else if (hasAnnotation(h, Annotations.paused)) continue;
    else if (behind(h)) note(namespace, cluster, `health check ${name} generation not observed yet`);
    // Its status is what the last reconcile saw; a node that recovered since writes nothing, so a status
    // that says not all is well is refreshed here, not left stale.
    else if (getCondition(h.status?.conditions, 'RemediationAllowed')?.reason === RemediationAllowedReason.InspectionFailed)
      note(namespace, cluster, `health check ${name} could not read the nodes last time`);
    else if (current < expected) note(namespace, cluster, `health check ${name} has ${current}/${expected} healthy targets`);
    else drift.get(key(namespace, cluster))?.healthChecks.push(`health check ${name} has timeouts to evaluate`);
  }
  return [...drift.values()]
    .filter((d) => d.reasons.length > 0 || d.healthChecks.length > 0)
    .map(({ healthChecks, ...d }) => ({ ...d, reasons: [...d.reasons, ...healthChecks], onlyHealthChecks: d.reasons.length === 0 }));
}

/** Reads the snapshot with one (paginated) list per kind. */
export async function readFleet(store: Store): Promise<FleetSnapshot> {
  const [clusters, controlPlanes, machineDeployments, healthChecks] = await Promise.all([
    store.list<Cluster>('Cluster'),
    store.list<ControlPlane>('ControlPlane'),
    store.list<MachineDeployment>('MachineDeployment'),
    store.list<MachineHealthCheck>('MachineHealthCheck'),
  ]);
  return { clusters, controlPlanes, machineDeployments, healthChecks };
}

/** Where the sweep logs: the function's Powertools logger, or a bench's no-op. */
export interface SweepLog {
  debug(message: string, fields: Record<string, unknown>): void;
  info(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}

export interface SweepDeps {
  store: Store;
  workflows: Workflows;
  /**
   * Reads the workload clusters' nodes: a cluster whose only drift is its health checks is then reconciled
   * only when its nodes call for it (healthChecksNeedReconcile).
   * @default - such clusters are reconciled every sweep
   */
  nodes?: NodeReader;
  /** How many clusters' nodes are read at once. @default 16 */
  probeConcurrency?: number;
  /**
   * How long the node reads may take in all (the function's timeout is 60 s; one dead workload API holds a
   * read for 10 s). A cluster whose nodes are not read by then is reconciled.
   * @default 30000
   */
  probeBudgetMs?: number;
  /** @default - the function's Powertools logger */
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
        (r) => void (expired ? undefined : (results[i] = r)),
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

/** Lists the nodes of each cluster whose only drift is its health checks and asks whether it needs a reconcile. */
async function probeHealthChecks(candidates: readonly ClusterDrift[], snapshot: FleetSnapshot, deps: SweepDeps & { nodes: NodeReader }): Promise<(NodeProbeVerdict | undefined)[]> {
  const of = (ns: string, cluster: string) => (o: { metadata: { namespace: string }; spec: { clusterName: string } }) => o.metadata.namespace === ns && o.spec.clusterName === cluster;
  return mapWithinBudget(candidates, deps.probeConcurrency ?? DEFAULT_PROBE_CONCURRENCY, deps.probeBudgetMs ?? DEFAULT_PROBE_BUDGET_MS, async (d) => {
    const cluster = snapshot.clusters.find((c) => c.metadata.namespace === d.namespace && c.metadata.name === d.clusterName)!;
    let nodes: NodeRead;
    try {
      nodes = { readable: true, nodes: await deps.nodes.listNodes(d.namespace, d.clusterName) };
    } catch (err) {
      // NodeReaderUnavailableError or anything else: the old, safe answer is a reconcile.
      nodes = { readable: false, error: errorText(err) };
    }
    const belongs = of(d.namespace, d.clusterName);
    return healthChecksNeedReconcile({
      cluster,
      healthChecks: snapshot.healthChecks.filter(belongs),
      controlPlanes: snapshot.controlPlanes.filter(belongs),
      machineDeployments: snapshot.machineDeployments.filter(belongs),
      nodes,
    });
  });
}

/** One sweep: read, find drift, probe the clusters only their health checks make drift, start a reconcile per drifting cluster. */
export async function sweep(deps: SweepDeps): Promise<SweepResult> {
  const log = deps.log ?? logger;
  const snapshot = await readFleet(deps.store);
  let drifting = clustersWithDrift(snapshot);
  let probed = 0;
  if (deps.nodes) {
    const candidates = drifting.filter((d) => d.onlyHealthChecks);
    probed = candidates.length;
    const verdicts = await probeHealthChecks(candidates, snapshot, { ...deps, nodes: deps.nodes });
    const budget = deps.probeBudgetMs ?? DEFAULT_PROBE_BUDGET_MS;
    const byCluster = new Map(candidates.map((d, i) => [d, verdicts[i]]));
    drifting = drifting.flatMap((d) => {
      if (!byCluster.has(d)) return [d];
      const v = byCluster.get(d);
      if (v === undefined) return [{ ...d, reasons: [...d.reasons, `nodes not judged within ${budget} ms: reconcile anyway`] }];
      if (!v.reconcile) {
        log.debug('health checks settled: no node needs them', { cluster: `${d.namespace}/${d.clusterName}` });
        return [];
      }
      return [{ ...d, reasons: [...d.reasons, ...v.reasons.map((r) => r.message)] }];
    });
  }
  const results = await Promise.allSettled(
    drifting.map((d) => deps.workflows.start('reconcile-cluster', `sweep-${randomUUID()}`, { namespace: d.namespace, clusterName: d.clusterName, trigger: 'sweep' })),
  );
  results.forEach((r, i) => {
    const d = drifting[i]!;
    if (r.status === 'rejected') log.error('could not start reconcile-cluster', { cluster: `${d.namespace}/${d.clusterName}`, error: r.reason as Error });
    else log.info('drift', { cluster: `${d.namespace}/${d.clusterName}`, reasons: d.reasons.slice(0, 10) });
  });
  const failed = results.filter((r) => r.status === 'rejected').length;
  return { clusters: snapshot.clusters.length, probed, started: drifting.length - failed, failed };
}

export function createSweepHandler(deps: SweepDeps | (() => SweepDeps)) {
  let resolved: SweepDeps | undefined = typeof deps === 'function' ? undefined : deps;
  return async (_event: unknown, context?: Context): Promise<SweepResult> => {
    resolved ??= (deps as () => SweepDeps)();
    if (context) logger.addContext(context);
    const result = await sweep(resolved);
    metrics.addMetric('ClustersSwept', MetricUnit.Count, result.clusters);
    metrics.addMetric('ClustersProbed', MetricUnit.Count, result.probed);
    metrics.addMetric('ReconcilesStarted', MetricUnit.Count, result.started);
    metrics.addMetric('ReconcileStartFailures', MetricUnit.Count, result.failed);
    metrics.publishStoredMetrics();
    // A failed start fails the invocation, so the asynchronous retries and then the dead-letter queue see it.
    if (result.failed > 0) throw new Error(`could not start ${result.failed} reconcile(s); see the log`);
    return result;
  };
}

/**
 * How long the sweep keeps a cluster's kubeconfig. kubeconfigFor reads the Cluster (two GetItems) on every
 * call; kept, a warm sweep reads it once per cluster per this many seconds instead of every minute.
 *
 * Note: the bootstrapper makes a kubeconfig valid for WORKLOAD_CREDENTIALS_SECONDS and renews it at half that,
 * so one kept this much longer is still valid. An endpoint or CA changed meanwhile makes the node read fail,
 * and a failed read reconciles: keeping it can cost a reconcile, never miss one.
 */
export const KUBECONFIG_KEEP_SECONDS = 300;

/** Keeps what `resolve` answers per cluster for `keepSeconds` (not an undefined answer nor an error). */
export function keptKubeconfigs(resolve: KubeconfigResolver, clock: Clock, keepSeconds = KUBECONFIG_KEEP_SECONDS): KubeconfigResolver {
  if (keepSeconds >= WORKLOAD_CREDENTIALS_SECONDS / 2) throw new RangeError(`a kubeconfig kept ${keepSeconds} s could outlive its credentials`);
  const kept = new Map<string, { source: KubeconfigSource; at: number }>();
  return async (namespace, clusterName) => {
    const key = `${namespace}/${clusterName}`;
    const now = clock.now().getTime();
    const hit = kept.get(key);
    if (hit && now - hit.at < keepSeconds * 1000) return hit.source;
    kept.delete(key);
    const source = await resolve(namespace, clusterName);
    if (source !== undefined) kept.set(key, { source, at: now });
    return source;
  };
}

/**
 * The sweep's dependencies on AWS. With the secrets key (SECRETS_KMS_KEY_ARN) it reads nodes as the tasks do,
 * through a short-lived admin kubeconfig made from the cluster's CA. Built once per container (the handler
 * keeps them): the bootstrapper keeps certificates and kubeconfigs in memory, so a warm sweep reads Secrets
 * Manager about once per half kubeconfig lifetime (30 min) per cluster, and the Cluster once per
 * KUBECONFIG_KEEP_SECONDS, not every minute.
 */
export function sweepDepsFromEnvironment(env: NodeJS.ProcessEnv = process.env): SweepDeps {
  const tableName = env['TABLE_NAME'];
  if (!tableName) throw new Error('TABLE_NAME is not set: the sweep needs the name of the clusterless table');
  const workflows = reconcileWorkflowsFromEnv(env);
  const store = new DynamoDbStore({ client: createDynamoDbClient(), tableName });
  const bootstrap = bootstrapperFromEnvironment(env);
  return {
    store,
    workflows,
    ...(bootstrap ? { nodes: new KubernetesNodeReader({ kubeconfigFor: keptKubeconfigs(kubeconfigSources(bootstrap, store).kubeconfigFor, systemClock) }) } : {}),
  };
}

/** The Lambda entry point. */
export const handler = createSweepHandler(() => sweepDepsFromEnvironment());
