/**
 * The sweep (EventBridge Scheduler, every minute by default): the safety net behind the event triggers. It
 * reads the fleet with one list per kind that sums up its machines (the kind index, not one query per cluster) and starts
 * reconcile-cluster only for clusters that show drift, so that an idle, settled fleet costs a few reads a
 * minute and no executions (DESIGN section 5).
 *
 * On AWS nothing else requeues a reconcile (an Express execution ends; the embedded host keeps timers), so
 * clusters with a MachineHealthCheck are always swept: their timeouts pass without any write to trigger on.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import type { Cluster } from '../api/cluster.js';
import { Annotations } from '../api/common.js';
import type { ControlPlane } from '../api/control-plane.js';
import type { MachineDeployment } from '../api/machine-deployment.js';
import type { MachineHealthCheck } from '../api/machine-health-check.js';
import { DynamoDbStore, createDynamoDbClient } from '../adapters/dynamodb/index.js';
import { SfnWorkflows, stateMachineArnsFromEnv } from '../adapters/stepfunctions/sfn-workflows.js';
import type { Store, Workflows } from '../ports.js';
import { rolloutComplete } from '../workflows/stepping.js';

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
}

const behind = (o: { metadata: { generation?: number | undefined }; status?: { observedGeneration?: number | undefined } | undefined }) =>
  (o.status?.observedGeneration ?? 0) < (o.metadata.generation ?? 1);

function isPaused(c: Cluster): boolean {
  return c.spec.paused === true || Object.hasOwn(c.metadata.annotations ?? {}, Annotations.paused);
}

/**
 * The clusters that need a reconcile, and why: pure, so that it is tested without AWS. Objects whose cluster
 * does not exist are left to the stream (a Cluster write triggers its cluster).
 */
export function clustersWithDrift(s: FleetSnapshot): ClusterDrift[] {
  const key = (ns: string, name: string) => `${ns}/${name}`;
  const drift = new Map<string, ClusterDrift>();
  for (const c of s.clusters) drift.set(key(c.metadata.namespace, c.metadata.name), { namespace: c.metadata.namespace, clusterName: c.metadata.name, reasons: [] });
  const note = (ns: string, cluster: string, reason: string) => drift.get(key(ns, cluster))?.reasons.push(reason);
  const paused = new Set(s.clusters.filter(isPaused).map((c) => key(c.metadata.namespace, c.metadata.name)));

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
    if (active(namespace, h.spec.clusterName)) note(namespace, h.spec.clusterName, `health check ${name} has timeouts to evaluate`);
  }
  return [...drift.values()].filter((d) => d.reasons.length > 0);
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

export interface SweepDeps {
  store: Store;
  workflows: Workflows;
}

export interface SweepResult {
  clusters: number;
  started: number;
  failed: number;
}

/** One sweep: read, find drift, start a reconcile per drifting cluster. */
export async function sweep(deps: SweepDeps): Promise<SweepResult> {
  const snapshot = await readFleet(deps.store);
  const drifting = clustersWithDrift(snapshot);
  const results = await Promise.allSettled(
    drifting.map((d) => deps.workflows.start('reconcile-cluster', `sweep-${randomUUID()}`, { namespace: d.namespace, clusterName: d.clusterName, trigger: 'sweep' })),
  );
  results.forEach((r, i) => {
    const d = drifting[i]!;
    if (r.status === 'rejected') logger.error('could not start reconcile-cluster', { cluster: `${d.namespace}/${d.clusterName}`, error: r.reason as Error });
    else logger.info('drift', { cluster: `${d.namespace}/${d.clusterName}`, reasons: d.reasons.slice(0, 10) });
  });
  const failed = results.filter((r) => r.status === 'rejected').length;
  return { clusters: snapshot.clusters.length, started: drifting.length - failed, failed };
}

export function createSweepHandler(deps: SweepDeps | (() => SweepDeps)) {
  let resolved: SweepDeps | undefined = typeof deps === 'function' ? undefined : deps;
  return async (_event: unknown, context?: Context): Promise<SweepResult> => {
    resolved ??= (deps as () => SweepDeps)();
    if (context) logger.addContext(context);
    const result = await sweep(resolved);
    metrics.addMetric('ClustersSwept', MetricUnit.Count, result.clusters);
    metrics.addMetric('ReconcilesStarted', MetricUnit.Count, result.started);
    metrics.addMetric('ReconcileStartFailures', MetricUnit.Count, result.failed);
    metrics.publishStoredMetrics();
    // A failed start fails the invocation, so the asynchronous retries and then the dead-letter queue see it.
    if (result.failed > 0) throw new Error(`could not start ${result.failed} reconcile(s); see the log`);
    return result;
  };
}

export function sweepDepsFromEnvironment(env: NodeJS.ProcessEnv = process.env): SweepDeps {
  const tableName = env['TABLE_NAME'];
  if (!tableName) throw new Error('TABLE_NAME is not set: the sweep needs the name of the clusterless table');
  const stateMachineArns = stateMachineArnsFromEnv(env);
  if (!stateMachineArns['reconcile-cluster']) throw new Error('RECONCILE_CLUSTER_STATE_MACHINE_ARN is not set');
  return {
    store: new DynamoDbStore({ client: createDynamoDbClient(), tableName }),
    workflows: new SfnWorkflows({ client: new SFNClient({}), stateMachineArns }),
  };
}

/** The Lambda entry point. */
export const handler = createSweepHandler(() => sweepDepsFromEnvironment());
