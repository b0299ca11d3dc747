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
 *
 * The same function takes EC2's spot notices, "EC2 Spot Instance Interruption Warning" and "EC2 Instance Rebalance
 * Recommendation": the same DescribeTags also reads the machine's name and uid tags, the notice is recorded on that
 * Machine (InterruptionNotice, functions/workflows/interruption.ts) and the cluster reconciled, which replaces the
 * machine before EC2 reclaims its instance (core/machine/interruption.ts). For these it needs the store.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { dnsLabelError } from '../api/dns-names.js';
import { Ec2QueryClient } from '../adapters/aws/ec2-query/index.js';
import { TagKeys } from '../adapters/aws/tags.js';
import { reconcileWorkflowsFromEnv } from '../adapters/stepfunctions/sfn-workflows.js';
import { DynamoDbStore, createDynamoDbClient } from '../adapters/dynamodb/index.js';
import { INSTALLATION_ENV, checkInstallationId } from '../installation.js';
import type { Store, Workflows } from '../ports.js';
import { InterruptionReason, type NoticeOutcome, recordInterruptionNotice } from '../workflows/interruption.js';

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

export const SPOT_INTERRUPTION_DETAIL_TYPE = 'EC2 Spot Instance Interruption Warning';
export const REBALANCE_DETAIL_TYPE = 'EC2 Instance Rebalance Recommendation';
/** The notices and the reason each is recorded with. */
export const NOTICE_DETAIL_TYPES = {
  [SPOT_INTERRUPTION_DETAIL_TYPE]: InterruptionReason.SpotInterruptionWarning,
  [REBALANCE_DETAIL_TYPE]: InterruptionReason.RebalanceRecommendation,
} as const;
export type NoticeDetailType = keyof typeof NOTICE_DETAIL_TYPES;

/** The interruption warning's detail also says what EC2 will do (`instance-action`: terminate, stop, hibernate). */
export interface InstanceNoticeDetail {
  'instance-id': string;
  'instance-action'?: string;
}
export type InstanceNoticeEvent = EventBridgeEvent<NoticeDetailType, InstanceNoticeDetail>;
export type InstanceEvent = InstanceStateChangeEvent | InstanceNoticeEvent;

/** The one EC2 call the function makes: DescribeTags (no resource-level permission needed). */
export type InstanceTagReader = Pick<Ec2QueryClient, 'describeTags'>;

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
export async function clusterOfInstance(ec2: InstanceTagReader, instanceId: string, installationId: string): Promise<ClusterRef | undefined> {
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

/** The machine an instance of this installation was launched for, from its tags; undefined when not ours. */
export async function machineOfInstance(
  ec2: InstanceTagReader,
  instanceId: string,
  installationId: string,
): Promise<(ClusterRef & { machineName: string; machineUid: string }) | undefined> {
  const out = await ec2.describeTags({
    Filters: [
      { Name: 'resource-id', Values: [instanceId] },
      { Name: 'key', Values: [TagKeys.cluster, TagKeys.installation, TagKeys.machineName, TagKeys.machineUid] },
    ],
  });
  const tag = (key: string) => out.Tags?.find((t) => t.Key === key)?.Value;
  if (tag(TagKeys.installation) !== installationId) return undefined;
  const cluster = parseClusterTag(tag(TagKeys.cluster));
  const machineName = tag(TagKeys.machineName);
  const machineUid = tag(TagKeys.machineUid);
  if (!cluster || !machineName || !machineUid) return undefined;
  return { ...cluster, machineName, machineUid };
}

export interface InstanceEventsDeps {
  ec2: InstanceTagReader;
  workflows: Workflows;
  /** Where spot notices are recorded (the Machines); state changes need none. */
  store?: Store;
  /** This installation (INSTALLATION_ID): instances of any other are ignored. */
  installationId: string;
}

export interface InstanceEventResult {
  instanceId: string;
  /** The state of a state change; for a notice, its detail-type. */
  state: string;
  cluster?: ClusterRef;
  started: boolean;
  /** For a notice: whether it was recorded on a Machine, was there already, or found no Machine of the instance. */
  notice?: NoticeOutcome;
}

const isNotice = (event: InstanceEvent): event is InstanceNoticeEvent => Object.hasOwn(NOTICE_DETAIL_TYPES, event['detail-type']);

/** A spot notice -> the machine -> the notice recorded on it -> a reconcile of its cluster. */
async function handleNotice(deps: InstanceEventsDeps, event: InstanceNoticeEvent): Promise<InstanceEventResult> {
  const instanceId = event.detail?.['instance-id'];
  const type = event['detail-type'];
  if (typeof instanceId !== 'string') throw new Error(`not an ${type} event: ${JSON.stringify(event).slice(0, 300)}`);
  if (!deps.store) throw new Error(`${type}: no store to record the notice in`);
  const target = await machineOfInstance(deps.ec2, instanceId, deps.installationId);
  if (!target) return { instanceId, state: type, started: false };
  // EC2 counts the two minutes from when it sent the warning, not from when it reached us.
  const sent = Date.parse(event.time);
  const at = Number.isNaN(sent) ? new Date() : new Date(sent);
  const notice = await recordInterruptionNotice(
    { store: deps.store, workflows: deps.workflows },
    target,
    NOTICE_DETAIL_TYPES[type],
    at,
    `notice-${randomUUID()}`,
  );
  const cluster = { namespace: target.namespace, clusterName: target.clusterName };
  return { instanceId, state: type, cluster, started: notice !== 'no-machine', notice };
}

/** An event -> the cluster -> a reconcile. Errors propagate: Lambda's asynchronous retries, then the DLQ. */
export async function handleInstanceEvent(deps: InstanceEventsDeps, event: InstanceEvent): Promise<InstanceEventResult> {
  if (isNotice(event)) return handleNotice(deps, event);
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
  return async (event: InstanceEvent, context?: Context): Promise<InstanceEventResult> => {
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
export function instanceEventsDepsFromEnvironment(env: NodeJS.ProcessEnv = process.env): InstanceEventsDeps & { ec2: Ec2QueryClient } {
  const installationId = env[INSTALLATION_ENV.id];
  if (!installationId) throw new Error(`${INSTALLATION_ENV.id} is not set: the function starts reconciles for the instances of its own installation only`);
  const tableName = env['TABLE_NAME'];
  if (!tableName) throw new Error('TABLE_NAME is not set: spot notices are recorded on the Machines in the clusterless table');
  return {
    ec2: new Ec2QueryClient({}, env),
    workflows: reconcileWorkflowsFromEnv(env),
    store: new DynamoDbStore({ client: createDynamoDbClient(), tableName }),
    installationId: checkInstallationId(installationId),
  };
}

/** The Lambda entry point. */
export const handler = createInstanceEventsHandler(() => instanceEventsDepsFromEnvironment());
