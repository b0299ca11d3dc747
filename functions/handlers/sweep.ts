/**
 * The sweep function (EventBridge Scheduler, every minute by default): an adapter around the sweep both hosts run
 * (functions/workflows/sweep.ts, over the drift rules of functions/core/trigger/). It builds the dependencies from
 * the environment, logs through Powertools and publishes the sweep's counts as metrics.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { DynamoDbStore, createDynamoDbClient } from '../adapters/dynamodb/index.js';
// The node reader's own modules, not adapters/kubernetes/index.js: that one also exports the mirror and its @kubernetes/client-node.
import type { KubeconfigSource } from '../adapters/kubernetes-client/kubeconfig.js';
import { KubernetesNodeReader } from '../adapters/kubernetes/node-reader.js';
import type { KubeconfigResolver } from '../adapters/kubernetes/workload.js';
import { WORKLOAD_CREDENTIALS_SECONDS } from '../adapters/kubeadm/cluster-ca.js';
import { reconcileWorkflowsFromEnv } from '../adapters/stepfunctions/sfn-workflows.js';
import { systemClock, type Clock } from '../ports.js';
import { kubeconfigSources } from '../workflows/bootstrap-hooks.js';
import { sweep, type SweepDeps, type SweepResult } from '../workflows/sweep.js';
import { clusterCaFromEnvironment } from './secrets-deps.js';

const logger = new Logger();
const metrics = new Metrics();

export function createSweepHandler(deps: SweepDeps | (() => SweepDeps)) {
  let resolved: SweepDeps | undefined = typeof deps === 'function' ? undefined : deps;
  return async (_event: unknown, context?: Context): Promise<SweepResult> => {
    resolved ??= (deps as () => SweepDeps)();
    if (context) logger.addContext(context);
    const result = await sweep({ log: logger, ...resolved });
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
 * Note: ClusterCa (the kubeadm bootstrap's CAs) makes a kubeconfig valid for WORKLOAD_CREDENTIALS_SECONDS and
 * renews it at half that, so one kept this much longer is still valid. An endpoint or CA changed meanwhile makes the node read fail,
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
 * keeps them): ClusterCa keeps certificates and kubeconfigs in memory, so a warm sweep reads Secrets
 * Manager about once per half kubeconfig lifetime (30 min) per cluster, and the Cluster once per
 * KUBECONFIG_KEEP_SECONDS, not every minute.
 */
export function sweepDepsFromEnvironment(env: NodeJS.ProcessEnv = process.env): SweepDeps {
  const tableName = env['TABLE_NAME'];
  if (!tableName) throw new Error('TABLE_NAME is not set: the sweep needs the name of the clusterless table');
  const workflows = reconcileWorkflowsFromEnv(env);
  const store = new DynamoDbStore({ client: createDynamoDbClient(), tableName });
  // The CAs only (ClusterCa), not the whole kubeadm bootstrap: the sweep reads nodes and never bootstraps a machine.
  const ca = clusterCaFromEnvironment(env);
  return {
    store,
    workflows,
    // With the CAs the tasks reach workload APIs and apply addons (task-deps.ts): the sweep looks for sets not applied.
    ...(ca
      ? { nodes: new KubernetesNodeReader({ kubeconfigFor: keptKubeconfigs(kubeconfigSources(ca, store).kubeconfigFor, systemClock) }), addons: true }
      : {}),
  };
}

/** The Lambda entry point. */
export const handler = createSweepHandler(() => sweepDepsFromEnvironment());
