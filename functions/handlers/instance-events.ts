/**
 * EC2 instance state-change events (EventBridge rule) -> a reconcile of the instance's cluster within seconds,
 * rather than at the next sweep: a machine whose instance was stopped or terminated outside clusterless is
 * noticed and replaced, one that reached running moves on (DESIGN section 5).
 *
 * The event carries no tags, so the cluster comes from the instance's clusterless.dev/cluster tag
 * (`{namespace}/{cluster}`, adapters/aws/tags.ts) with one DescribeTags call, which needs no resource-level
 * permission and still answers for a terminated instance. The same call reads clusterless.dev/installation: an
 * instance without it, or of another installation in the account (whose cluster may share a name with one of
 * ours), is not ours and is ignored.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { dnsLabelError } from '../api/dns-names.js';
import { Ec2QueryClient } from '../adapters/aws/ec2-query/index.js';
import { TagKeys } from '../adapters/aws/tags.js';
import { reconcileWorkflowsFromEnv } from '../adapters/stepfunctions/sfn-workflows.js';
import { INSTALLATION_ENV, checkInstallationId } from '../installation.js';
import type { Workflows } from '../ports.js';

const logger = new Logger();
const metrics = new Metrics();

export const STATE_CHANGE_DETAIL_TYPE = 'EC2 Instance State-change Notification';
/** The states that can change what a reconcile decides about a machine. */
export const WATCHED_STATES = ['running', 'stopped', 'shutting-down', 'terminated'] as const;

export interface InstanceStateChangeDetail {
  'instance-id': string;
  state: string;
}
export type InstanceStateChangeEvent = EventBridgeEvent<typeof STATE_CHANGE_DETAIL_TYPE, InstanceStateChangeDetail>;

export interface ClusterRef {
  namespace: string;
  clusterName: string;
}

/** Reads `{namespace}/{cluster}`; undefined for anything else (a tag we did not write). */
export function parseClusterTag(value: string | undefined): ClusterRef | undefined {
  if (!value) return undefined;
  const i = value.indexOf('/');
  const namespace = value.slice(0, i);
  const clusterName = value.slice(i + 1);
  const label = (s: string) => dnsLabelError(s) === undefined;
  return i > 0 && label(namespace) && label(clusterName) ? { namespace, clusterName } : undefined;
}

/**
 * The cluster an instance of this installation belongs to, from its tags; undefined when it carries no cluster
 * tag, or not this installation's tag (not ours).
 */
export async function clusterOfInstance(ec2: Ec2QueryClient, instanceId: string, installationId: string): Promise<ClusterRef | undefined> {
  const out = await ec2.describeTags({
    Filters: [
      { Name: 'resource-id', Values: [instanceId] },
      { Name: 'key', Values: [TagKeys.cluster, TagKeys.installation] },
    ],
  });
  const tag = (key: string) => out.Tags?.find((t) => t.Key === key)?.Value;
  if (tag(TagKeys.installation) !== installationId) return undefined;
  return parseClusterTag(tag(TagKeys.cluster));
}

export interface InstanceEventsDeps {
  ec2: Ec2QueryClient;
  workflows: Workflows;
  /** This installation (INSTALLATION_ID): instances of any other are ignored. */
  installationId: string;
}

export interface InstanceEventResult {
  instanceId: string;
  state: string;
  cluster?: ClusterRef;
  started: boolean;
}

/** An event -> the cluster -> a reconcile. Errors propagate: Lambda's asynchronous retries, then the DLQ. */
export async function handleInstanceEvent(deps: InstanceEventsDeps, event: InstanceStateChangeEvent): Promise<InstanceEventResult> {
  const instanceId = event.detail?.['instance-id'];
  const state = event.detail?.state;
  if (event['detail-type'] !== STATE_CHANGE_DETAIL_TYPE || typeof instanceId !== 'string' || typeof state !== 'string')
    throw new Error(`not an ${STATE_CHANGE_DETAIL_TYPE} event: ${JSON.stringify(event).slice(0, 300)}`);
  const cluster = await clusterOfInstance(deps.ec2, instanceId, deps.installationId);
  if (!cluster) return { instanceId, state, started: false };
  await deps.workflows.start('reconcile-cluster', `instance-${randomUUID()}`, {
    namespace: cluster.namespace,
    clusterName: cluster.clusterName,
    trigger: 'instance-event',
  });
  return { instanceId, state, cluster, started: true };
}

export function createInstanceEventsHandler(deps: InstanceEventsDeps | (() => InstanceEventsDeps)) {
  let resolved: InstanceEventsDeps | undefined = typeof deps === 'function' ? undefined : deps;
  return async (event: InstanceStateChangeEvent, context?: Context): Promise<InstanceEventResult> => {
    resolved ??= (deps as () => InstanceEventsDeps)();
    if (context) logger.addContext(context);
    logger.appendKeys({ correlation_id: event.id });
    const result = await handleInstanceEvent(resolved, event);
    logger.info(result.started ? 'reconcile started' : 'instance not managed by this installation', { ...result });
    if (result.started) {
      metrics.addMetric('ReconcilesStarted', MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
    }
    return result;
  };
}

/**
 * INSTALLATION_ID is required: without it no instance could be told to be ours. (Read here rather than through
 * bootstrap-deps, whose Secrets Manager and Kubernetes clients this function's bundle has no use for.)
 */
export function instanceEventsDepsFromEnvironment(env: NodeJS.ProcessEnv = process.env): InstanceEventsDeps {
  const installationId = env[INSTALLATION_ENV.id];
  if (!installationId) throw new Error(`${INSTALLATION_ENV.id} is not set: the function starts reconciles for the instances of its own installation only`);
  return { ec2: new Ec2QueryClient({}, env), workflows: reconcileWorkflowsFromEnv(env), installationId: checkInstallationId(installationId) };
}

/** The Lambda entry point. */
export const handler = createInstanceEventsHandler(() => instanceEventsDepsFromEnvironment());
